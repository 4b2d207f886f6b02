package sdkbridge

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/pctx-dev/pctx/catalog"
)

// TestDocTranscripts replays the example transcripts of docs/protocol.md §9 against the
// bridge, so the document cannot drift from the implementation. The examples form one
// conversation; §9.3 (a 60 s timeout) and §9.5 (needs the real runtime) are skipped.
// timeoutMs and deadline vary from run to run and are not compared.
func TestDocTranscripts(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, &Options{ServerVersion: "0.9.0"})
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
	for _, ex := range transcripts(string(doc)) {
		if ex.section == "9.3" || ex.section == "9.5" {
			continue
		}
		for _, line := range ex.lines {
			msg := line[len("→ "):]
			if i := strings.Index(msg, "}   ("); i >= 0 { // a trailing "(ignored)" note
				msg = msg[:i+1]
			}
			if strings.HasPrefix(line, "→") {
				if err := ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
					t.Fatalf("§%s: write %s: %v", ex.section, msg, err)
				}
				continue
			}
			want := decodeJSON(t, msg)
			if want["method"] == "execute_tool" { // the agent's call that makes the server send it
				p := want["params"].(map[string]any)
				fn := h.fn(t, p["namespace"].(string)+"."+p["name"].(string))
				args := []any{p["args"]}
				agents.Go(func() { _, err := fn(context.Background(), args); calls <- err })
			}
			_, data, err := ws.Read(context.Background())
			if err != nil {
				t.Fatalf("§%s: waiting for %s: %v", ex.section, msg, err)
			}
			got := decodeJSON(t, string(data))
			for _, m := range []map[string]any{want, got} {
				if p, ok := m["params"].(map[string]any); ok && m["method"] == "execute_tool" {
					delete(p, "timeoutMs")
					delete(p, "deadline")
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("§%s:\n got %s\nwant %s", ex.section, data, msg)
			}
			replayed++
		}
	}
	if replayed < 6 {
		t.Fatalf("replayed only %d server frames: did the examples move?", replayed)
	}
	agents.Wait()
	close(calls)
	for err := range calls {
		if err != nil && !strings.Contains(err.Error(), "KeyError: unknown customer nope") {
			t.Errorf("agent call: %v", err)
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
