package sdkbridge

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// servedBy answers every call with the worker's label.
func servedBy(label string) toolHandler {
	return func(w *fakeWorker, c toolCall) { w.answer(c.ID, map[string]any{"value": label}) }
}

func TestPoolSpreadsCalls(t *testing.T) {
	h := newHarness(t, nil)
	labels := []string{"a", "b", "c"}
	for _, l := range labels {
		w := connectWorker(t, h.srv.URL, servedBy(l))
		w.register("data", "", positional("fetch", "id"))
	}
	if ns := h.cat.Snapshot().Namespaces(); len(ns) != 1 || ns[0].Owner != "pool:data" {
		t.Fatalf("catalog namespaces %+v, want data once, owned by pool:data", ns)
	}
	fn := h.fn(t, "data.fetch")
	counts := map[any]int{}
	for range 30 { // sequential: every member is idle, so ties rotate
		v, err := fn(context.Background(), []any{"x"})
		if err != nil {
			t.Fatal(err)
		}
		counts[v]++
	}
	for _, l := range labels {
		if counts[l] != 10 {
			t.Errorf("calls per worker %v, want 10 each", counts)
			break
		}
	}
}

func TestPoolPrefersLeastBusy(t *testing.T) {
	h := newHarness(t, nil)
	busy := connectWorker(t, h.srv.URL, nil) // holds every call
	busy.calls = make(chan toolCall, 10)
	busy.register("data", "", positional("fetch", "id"))
	idle := connectWorker(t, h.srv.URL, servedBy("idle"))
	idle.register("data", "", positional("fetch", "id"))
	fn := h.fn(t, "data.fetch")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	held := make(chan error, 1)
	go func() {
		_, err := fn(ctx, []any{"x"}) // the first call goes to the first member
		held <- err
	}()
	<-busy.calls
	for range 5 {
		if v, err := fn(context.Background(), []any{"x"}); err != nil || v != "idle" {
			t.Fatalf("= %v, %v; want the idle worker while the other holds a call", v, err)
		}
	}
	cancel()
	<-held
}

func TestPoolMemberLeavesMidCall(t *testing.T) {
	h := newHarness(t, nil)
	leaving := connectWorker(t, h.srv.URL, nil) // never answers
	leaving.calls = make(chan toolCall, 10)
	leaving.register("data", "", positional("fetch", "id"))
	release := make(chan struct{})
	staying := connectWorker(t, h.srv.URL, func(w *fakeWorker, c toolCall) {
		<-release
		servedBy("staying")(w, c)
	})
	staying.calls = make(chan toolCall, 10)
	staying.register("data", "", positional("fetch", "id"))
	fn := h.fn(t, "data.fetch")

	// Six concurrent calls: least-in-flight puts three on each member.
	type outcome struct {
		v   any
		err error
	}
	results := make(chan outcome, 6)
	for range 6 {
		go func() {
			v, err := fn(context.Background(), []any{"x"})
			results <- outcome{v, err}
		}()
	}
	for range 3 {
		<-leaving.calls
		<-staying.calls
	}
	leaving.ws.Close(websocket.StatusNormalClosure, "bye")
	for range 3 { // the leaving worker's own calls reject, by name
		r := <-results
		if !errors.Is(r.err, ErrWorkerGone) || r.err.Error() != `data.fetch: worker for namespace "data" disconnected` {
			t.Errorf("in-flight call on the leaving worker: %v, %v; want the named disconnect error", r.v, r.err)
		}
	}
	close(release)
	for range 3 {
		if r := <-results; r.err != nil || r.v != "staying" {
			t.Errorf("in-flight call on the staying worker: %v, %v", r.v, r.err)
		}
	}
	// The namespace stays; later calls go to the remaining member.
	for range 5 {
		if v, err := fn(context.Background(), []any{"x"}); err != nil || v != "staying" {
			t.Fatalf("after the member left: %v, %v", v, err)
		}
	}
	if !h.has("data") {
		t.Fatal("data left the catalog while a member remains")
	}
	staying.ws.Close(websocket.StatusNormalClosure, "bye")
	h.waitGone("data")
}

func TestPoolConflicts(t *testing.T) {
	schema := func(typ string) map[string]any {
		return map[string]any{"type": "object", "properties": map[string]any{"x": map[string]any{"type": typ}}, "required": []any{"x"}}
	}
	tool := func(name string, in map[string]any, params ...string) map[string]any {
		t := map[string]any{"name": name, "inputSchema": in}
		if params != nil {
			t["params"] = params
		}
		return t
	}
	first := []map[string]any{tool("predict", schema("integer"), "x"), tool("train", schema("string"))}
	tests := []struct {
		name  string
		tools []map[string]any
		want  []string
	}{
		{"same tools, other order, other descriptions", []map[string]any{
			{"name": "train", "description": "Other text.", "inputSchema": map[string]any{"required": []any{"x"}, "properties": map[string]any{"x": map[string]any{"type": "string"}}, "type": "object"}},
			tool("predict", schema("integer"), "x"),
		}, nil},
		{"input schema", []map[string]any{tool("predict", schema("string"), "x"), tool("train", schema("string"))},
			[]string{`tool "predict" input schema differs: property "x" type is "integer" in the pool, "string" in yours`}},
		{"missing tool", []map[string]any{tool("predict", schema("integer"), "x")},
			[]string{`tool "train" is missing (the pool has it)`}},
		{"extra tool", append([]map[string]any{tool("score", schema("integer"))}, first...),
			[]string{`tool "score" is extra (the pool has no such tool)`}},
		{"params", []map[string]any{tool("predict", schema("integer")), tool("train", schema("string"))},
			[]string{`tool "predict" params differ: the pool has ["x"], yours absent`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			w1 := connectWorker(t, h.srv.URL, servedBy("1"))
			w1.register("data", "", first...)
			w2 := connectWorker(t, h.srv.URL, servedBy("2"))
			f := w2.request("register", map[string]any{"namespace": "data", "tools": tt.tools})
			if tt.want == nil {
				if f.Error != nil {
					t.Fatalf("identical definition refused: %+v", f.Error)
				}
				return
			}
			if f.Error == nil || f.Error.Code != CodeNamespaceTaken {
				t.Fatalf("register: %s %+v, want code %d", f.Result, f.Error, CodeNamespaceTaken)
			}
			for _, want := range append(tt.want, `namespace "data" is taken by pool:data (worker:c1), whose tools differ`, `scope "session"`) {
				if !strings.Contains(f.Error.Message, want) {
					t.Errorf("message %q\nlacks %q", f.Error.Message, want)
				}
			}
			if f.Error.Data["owner"] != "pool:data" {
				t.Errorf("data %v, want owner pool:data", f.Error.Data)
			}
			// The refused worker may still use the name in its session.
			w2.register("data", "session", tt.tools...)
		})
	}
}

func TestPoolDefinitionReplacement(t *testing.T) {
	h := newHarness(t, nil)
	w1 := connectWorker(t, h.srv.URL, servedBy("1"))
	w1.register("data", "", objectTool("a"))
	w1.register("data", "", objectTool("b")) // alone: it may change its tools
	if fns := h.cat.Snapshot().Functions(); fns["data.a"] != nil || fns["data.b"] == nil {
		t.Fatalf("after replace: %v", keys(fns))
	}
	w2 := connectWorker(t, h.srv.URL, servedBy("2"))
	w2.register("data", "", objectTool("b"))
	if f := w1.request("register", map[string]any{"namespace": "data", "tools": []any{objectTool("c")}}); f.Error == nil {
		t.Fatal("a member changed the tools of a pool of two")
	}
	// Moving to session scope leaves the pool; the other member keeps serving.
	w1.register("data", "session", objectTool("c"))
	if v, err := h.fn(t, "data.b")(context.Background(), nil); err != nil || v != "2" {
		t.Fatalf("= %v, %v; want the remaining member", v, err)
	}
	if f := w2.request("unregister", map[string]any{"namespace": "data"}); f.Error != nil {
		t.Fatal(f.Error)
	}
	if h.has("data") {
		t.Error("data still in the catalog after its last member unregistered")
	}
}

func TestSessionScopeSameName(t *testing.T) {
	h := newHarness(t, nil)
	a := connectWorker(t, h.srv.URL, servedBy("a"))
	a.register("data", "session", objectTool("rows"))
	b := connectWorker(t, h.srv.URL, servedBy("b"))
	b.register("data", "session", objectTool("rows"), objectTool("cols"))
	for _, tt := range []struct {
		w    *fakeWorker
		want string
	}{{a, `"value":"a"`}, {b, `"value":"b"`}} {
		f := tt.w.request("execute_typescript", map[string]any{"code": `call data.rows []`})
		if f.Error != nil || !strings.Contains(string(f.Result), tt.want) {
			t.Errorf("execute: %s %+v, want %s", f.Result, f.Error, tt.want)
		}
	}
	if h.has("data") {
		t.Error("a session namespace reached the catalog")
	}
}
