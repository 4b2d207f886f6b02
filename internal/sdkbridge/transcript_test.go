package sdkbridge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
)

// TestDocTranscripts replays the example transcripts of docs/protocol.md §9 against the
// bridge with the real Code Mode service, so the document cannot drift from the
// implementation. The examples form one conversation. What varies from run to run is not
// compared: timeoutMs, deadline, durationMs and the stats line of text. The §9.3 call's
// deadline passes once the worker has received it, instead of after the 60 s the document
// shows.
func TestDocTranscripts(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New()
	b := New(cat, codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t)}), &Options{ServerVersion: "0.9.0", Logger: quietLogger(), FormatResult: codemode.FormatResult})
	srv := httptest.NewServer(b)
	defer srv.Close()
	defer b.Close()
	h := &harness{cat: cat, bridge: b, srv: srv}
	if err := h.cat.Put("upstream:github", catalog.Namespace{Name: "github", Tools: []catalog.Tool{{Name: "x", Call: noCall}}}); err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.Dial(context.Background(), strings.Replace(h.srv.URL, "http", "ws", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	calls := make(chan error, 10)
	var agents sync.WaitGroup

	replayed := 0
	var expire func() // ends the §9.3 call's deadline once the worker has it
	for _, ex := range transcripts(string(doc)) {
		for _, line := range ex.lines {
			msg := line[len("→ "):]
			if i := strings.LastIndex(msg, "}"); strings.HasPrefix(strings.TrimSpace(msg[i+1:]), "(") {
				msg = msg[:i+1] // a trailing "(ignored)" note
			}
			if strings.HasPrefix(line, "→") {
				if err := ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
					t.Fatalf("§%s: write %s: %v", ex.section, msg, err)
				}
				continue
			}
			want := decodeJSON(t, msg)
			// A call to a global function comes from an agent: make it. (A session
			// function's call comes from the worker's own execute_typescript.)
			if p, ok := want["params"].(map[string]any); ok && want["method"] == "execute_tool" && h.has(p["namespace"].(string)) {
				fn := h.fn(t, p["namespace"].(string)+"."+p["name"].(string))
				args := []any{p["args"]}
				var ctx context.Context = context.Background()
				if ex.section == "9.3" {
					e := newExpiringCtx()
					ctx, expire = e, e.expire
				}
				agents.Go(func() {
					_, err := fn(ctx, args)
					calls <- err
				})
			}
			_, data, err := ws.Read(context.Background())
			if err != nil {
				t.Fatalf("§%s: waiting for %s: %v", ex.section, msg, err)
			}
			if expire != nil && want["method"] == "execute_tool" {
				expire() // the call has reached the worker: now let the agent's deadline pass
				expire = nil
			}
			got := decodeJSON(t, string(data))
			for _, m := range []map[string]any{want, got} {
				maskVarying(m)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("§%s:\n got %s\nwant %s", ex.section, data, msg)
			}
			replayed++
		}
	}
	if replayed < 10 {
		t.Fatalf("replayed only %d server frames: did the examples move?", replayed)
	}
	agents.Wait()
	close(calls)
	for err := range calls {
		if err != nil && !strings.Contains(err.Error(), "KeyError: unknown customer nope") && !errors.Is(err, ErrCallTimeout) {
			t.Errorf("agent call: %v", err)
		}
	}
}

// maskVarying drops from a message what changes from run to run.
func maskVarying(m map[string]any) {
	if p, ok := m["params"].(map[string]any); ok && m["method"] == "execute_tool" {
		delete(p, "timeoutMs")
		delete(p, "deadline")
	}
	if r, ok := m["result"].(map[string]any); ok {
		delete(r, "durationMs")
		if text, ok := r["text"].(string); ok {
			if i := strings.LastIndex(text, "\n--- "); i >= 0 {
				r["text"] = text[:i]
			}
		}
	}
}

type transcript struct {
	section string
	lines   []string
}

// transcripts extracts the → and ← lines of each "### 9.N" section.
func transcripts(doc string) []transcript {
	start := strings.Index(doc, "## 9.")
	end := strings.Index(doc, "## 10.")
	if start < 0 || end < start {
		return nil
	}
	var out []transcript
	for _, line := range strings.Split(doc[start:end], "\n") {
		switch {
		case strings.HasPrefix(line, "### 9."):
			out = append(out, transcript{section: strings.Fields(line)[1]})
		case len(out) > 0 && (strings.HasPrefix(line, "→ ") || strings.HasPrefix(line, "← ")):
			out[len(out)-1].lines = append(out[len(out)-1].lines, line)
		}
	}
	return out
}

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %s: %v", s, err)
	}
	return m
}
