package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
	"github.com/pctx-dev/pctx/internal/server"
)

const (
	initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	listBody       = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	executeBody    = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"execute_typescript","arguments":{"code":"return await probe.session({})"}}}`
)

// mcpRequest sends one request to url with the session id (if any) and returns the
// status and body.
func mcpRequest(t testing.TB, method, url, id, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if id != "" {
		req.Header.Set("Mcp-Session-Id", id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// sessionProbe is a namespace whose one function reports the calling execution's
// client session and records when that session ends.
type sessionProbe struct {
	mu    sync.Mutex
	ended map[string]bool // by session key
}

func newSessionProbe(t testing.TB, cat *catalog.Catalog) *sessionProbe {
	p := &sessionProbe{ended: map[string]bool{}}
	err := cat.Put("go:probe", catalog.Namespace{Name: "probe", Tools: []catalog.Tool{{
		Name: "session",
		Call: func(ctx context.Context, _ map[string]any) (any, error) {
			cs := clientsession.FromContext(ctx)
			if cs == nil {
				return "none", nil
			}
			cs.OnEnd(func() {
				p.mu.Lock()
				p.ended[cs.Key()] = true
				p.mu.Unlock()
			})
			return cs.Key(), nil
		},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *sessionProbe) hasEnded(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ended[key]
}

// TestSessionIDs: ids are issued on initialize and validated on every later request; an
// unknown id, and one after DELETE, get 404 as the MCP spec requires; DELETE ends the
// session's client session before it is answered.
func TestSessionIDs(t *testing.T) {
	cat := catalog.New()
	probe := newSessionProbe(t, cat)
	url := startHTTP(t, server.New(codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t)}), nil)) + "/mcp"
	resp, body := mcpRequest(t, http.MethodPost, url, "", initializeBody)
	id := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("initialize: %d %q %s", resp.StatusCode, id, body)
	}
	if resp, body := mcpRequest(t, http.MethodPost, url, id, listBody); resp.StatusCode != 200 || !strings.Contains(body, "execute_typescript") {
		t.Fatalf("tools/list in the session: %d %s", resp.StatusCode, body)
	}
	if resp, body := mcpRequest(t, http.MethodPost, url, id, executeBody); resp.StatusCode != 200 || !strings.Contains(body, `mcp:`+id) {
		t.Fatalf("an execution does not run in the MCP session's client session: %d %s", resp.StatusCode, body)
	}

	for _, tt := range []struct {
		method, id string
		want       int
	}{
		{http.MethodPost, "pctx-NOTISSUED", http.StatusNotFound},
		{http.MethodGet, "pctx-NOTISSUED", http.StatusNotFound},
		{http.MethodDelete, "pctx-NOTISSUED", http.StatusNotFound},
		{http.MethodGet, "", http.StatusBadRequest},
		{http.MethodDelete, "", http.StatusBadRequest},
	} {
		if resp, body := mcpRequest(t, tt.method, url, tt.id, listBody); resp.StatusCode != tt.want {
			t.Errorf("%s with id %q: %d %s, want %d", tt.method, tt.id, resp.StatusCode, body, tt.want)
		}
	}

	if probe.hasEnded("mcp:" + id) {
		t.Fatal("the client session ended before DELETE")
	}
	if del, body := mcpRequest(t, http.MethodDelete, url, id, ""); del.StatusCode != 200 {
		t.Fatalf("DELETE: %d %s", del.StatusCode, body)
	}
	if !probe.hasEnded("mcp:" + id) {
		t.Error("DELETE was answered before the client session ended")
	}
	for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
		if resp, body := mcpRequest(t, method, url, id, listBody); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s with the id after DELETE: %d %s, want 404", method, resp.StatusCode, body)
		}
	}
}

// TestSessionIdleTTL: a session idle past its TTL ends like one deleted.
func TestSessionIdleTTL(t *testing.T) {
	cat := catalog.New()
	probe := newSessionProbe(t, cat)
	cm := codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t)})
	// A sandbox worker started before the session: the execution that registers the probe
	// must land well within the TTL, however slow the machine is to start a process.
	if res, err := cm.Execute(context.Background(), "return 1"); err != nil || res.Error != nil {
		t.Fatalf("warm-up: %v %+v", err, res)
	}
	url := startHTTP(t, server.New(cm, &server.Options{SessionIdleTTL: 2 * time.Second})) + "/mcp"
	resp, _ := mcpRequest(t, http.MethodPost, url, "", initializeBody)
	id := resp.Header.Get("Mcp-Session-Id")
	if resp, body := mcpRequest(t, http.MethodPost, url, id, executeBody); resp.StatusCode != http.StatusOK || !strings.Contains(body, "mcp:"+id) {
		t.Fatalf("execute in the new session: %d %s", resp.StatusCode, body)
	}
	deadline := time.Now().Add(60 * time.Second) // a hang catcher; the sweep comes within a few seconds
	for !probe.hasEnded("mcp:" + id) {
		if time.Now().After(deadline) {
			t.Fatal("the idle session never ended")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp, _ := mcpRequest(t, http.MethodPost, url, id, listBody); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the idled-out id: %d, want 404", resp.StatusCode)
	}
}

// TestStdioIsOneSession: every execution over one stdio pipe runs in the same client
// session, which ends when the pipe closes, before ServeStdio returns.
func TestStdioIsOneSession(t *testing.T) {
	cat := catalog.New()
	probe := newSessionProbe(t, cat)
	srv := server.New(codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t)}), nil)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.ServeStdio(context.Background(), inR, outW); outW.Close() }()
	lines := make(chan string)
	go func() {
		defer close(lines)
		buf := make([]byte, 1<<16)
		var acc string
		for {
			n, err := outR.Read(buf)
			acc += string(buf[:n])
			for {
				i := strings.IndexByte(acc, '\n')
				if i < 0 {
					break
				}
				lines <- acc[:i]
				acc = acc[i+1:]
			}
			if err != nil {
				return
			}
		}
	}()
	send := func(body string) string {
		t.Helper()
		if _, err := io.WriteString(inW, body+"\n"); err != nil {
			t.Fatal(err)
		}
		return <-lines
	}
	send(initializeBody)
	first, second := send(executeBody), send(strings.Replace(executeBody, `"id":3`, `"id":4`, 1))
	key := first[strings.Index(first, "stdio:") : strings.Index(first, "stdio:")+len("stdio:")+26]
	if !strings.Contains(second, key) {
		t.Fatalf("two executions over one pipe in different sessions:\n%s\n%s", first, second)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !probe.hasEnded(key) {
		t.Error("ServeStdio returned before the stdio session ended")
	}
}
