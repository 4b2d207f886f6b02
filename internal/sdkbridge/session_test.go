package sdkbridge

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
)

// TestConnectionIsASession: a worker connection's executions run in one client session
// of its own, which ends when the connection does.
func TestConnectionIsASession(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	ended := map[string]bool{}
	err := h.cat.Put("go:probe", catalog.Namespace{Name: "probe", Tools: []catalog.Tool{{
		Name: "session",
		Call: func(ctx context.Context, _ map[string]any) (any, error) {
			cs := clientsession.FromContext(ctx)
			cs.OnEnd(func() {
				mu.Lock()
				ended[cs.Key()] = true
				mu.Unlock()
			})
			return cs.Key(), nil
		},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	key := func(w *fakeWorker) string {
		t.Helper()
		f := w.request("execute_typescript", map[string]any{"code": "call probe.session []"})
		var res struct{ Value string }
		if f.Error != nil || json.Unmarshal(f.Result, &res) != nil || res.Value == "" {
			t.Fatalf("execute_typescript: %s %+v", f.Result, f.Error)
		}
		return res.Value
	}
	w, other := connectWorker(t, h.srv.URL, echoArgs), connectWorker(t, h.srv.URL, echoArgs)
	k1, k2, k3 := key(w), key(w), key(other)
	if k1 != k2 || k1 == k3 {
		t.Fatalf("session keys %q, %q (one connection) and %q (another): want one per connection", k1, k2, k3)
	}
	w.close()
	deadline := time.Now().Add(30 * time.Second) // a hang catcher
	for {
		mu.Lock()
		done, otherDone := ended[k1], ended[k3]
		mu.Unlock()
		if otherDone {
			t.Fatal("closing one connection ended another's session")
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the closed connection's session never ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSessionScopedRegistrations: the namespaces a connection's requests see follow its
// session-scoped registrations as they are replaced, move between scopes and go, and two
// names that would be one namespace are refused at registration.
func TestSessionScopedRegistrations(t *testing.T) {
	h := newHarness(t, nil)
	w := connectWorker(t, h.srv.URL, func(w *fakeWorker, c toolCall) { w.answer(c.ID, map[string]any{"value": c.Namespace + "." + c.Name}) })
	list := func() string {
		t.Helper()
		f := w.request("list_functions", nil)
		if f.Error != nil {
			t.Fatalf("list_functions: %+v", f.Error)
		}
		var res struct{ Text string }
		_ = json.Unmarshal(f.Result, &res)
		return res.Text
	}
	call := func(name string) string {
		t.Helper()
		f := w.request("execute_typescript", map[string]any{"code": "call " + name + " []"})
		var res struct {
			Value string
			Error *struct{ Message string }
		}
		if f.Error != nil || json.Unmarshal(f.Result, &res) != nil {
			t.Fatalf("execute_typescript: %s %+v", f.Result, f.Error)
		}
		if res.Error != nil {
			return "error: " + res.Error.Message
		}
		return res.Value
	}

	w.register("my-ns", "session", objectTool("x"))
	if got := call("my_ns.x"); got != "my-ns.x" {
		t.Errorf("my_ns.x = %q", got)
	}
	f := w.request("register", map[string]any{"namespace": "my_ns", "scope": "session", "tools": []any{objectTool("y")}})
	if f.Error == nil || f.Error.Code != CodeNamespaceTaken || f.Error.Data["namespace"] != "my_ns" || !strings.Contains(f.Error.Message, `"my-ns" and "my_ns" would both be called my_ns`) {
		t.Fatalf("registering my_ns beside my-ns: %s %+v, want code %d", f.Result, f.Error, CodeNamespaceTaken)
	}
	if got := call("my_ns.x"); got != "my-ns.x" {
		t.Errorf("after the refused registration, my_ns.x = %q", got)
	}

	w.register("my-ns", "session", objectTool("z")) // replaces x
	if l := list(); !strings.Contains(l, "z(") || strings.Contains(l, "x(") {
		t.Errorf("after replacing x by z:\n%s", l)
	}
	w.register("my-ns", "global", objectTool("z")) // in the catalog now: no clash with itself
	if got := call("my_ns.z"); got != "my-ns.z" || !h.has("my_ns") {
		t.Errorf("global my_ns.z = %q (in the catalog: %v)", got, h.has("my_ns"))
	}
	w.register("my-ns", "session", objectTool("z"))
	if f := w.request("unregister", map[string]any{"namespace": "my-ns"}); f.Error != nil {
		t.Fatalf("unregister: %+v", f.Error)
	}
	if got := call("my_ns.z"); !strings.Contains(got, "not defined") || h.has("my_ns") {
		t.Errorf("after unregister, my_ns.z = %q (in the catalog: %v)", got, h.has("my_ns"))
	}
}
