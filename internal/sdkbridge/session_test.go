package sdkbridge

import (
	"context"
	"encoding/json"
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
