package sdkbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCallRoundTrip(t *testing.T) {
	h := newHarness(t, nil)
	w := connectWorker(t, h.srv.URL, echoArgs)
	w.register("ml", "", positional("predict_churn", "customer_id"), objectTool("score"))

	tests := []struct {
		fn   string
		args []any
		want any
	}{
		{"ml.predict_churn", []any{"cust_1"}, map[string]any{"customer_id": "cust_1"}},
		{"ml.score", []any{map[string]any{"x": 1.5, "tags": []any{"a"}}}, map[string]any{"x": 1.5, "tags": []any{"a"}}},
		{"ml.score", nil, map[string]any{}},
	}
	for _, tt := range tests {
		got, err := h.fn(t, tt.fn)(context.Background(), tt.args)
		if err != nil {
			t.Fatalf("%s(%v): %v", tt.fn, tt.args, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s(%v) = %#v, want %#v", tt.fn, tt.args, got, tt.want)
		}
	}
}

func TestCallResults(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(w *fakeWorker, c toolCall)
		want    any
		wantErr string
		check   func(t *testing.T, err error)
	}{
		{name: "value", answer: func(w *fakeWorker, c toolCall) { w.answer(c.ID, map[string]any{"value": 0.82}) }, want: 0.82},
		{name: "legacy output", answer: func(w *fakeWorker, c toolCall) { w.answer(c.ID, map[string]any{"output": "x"}) }, want: "x"},
		{name: "no value", answer: func(w *fakeWorker, c toolCall) { w.answer(c.ID, map[string]any{}) }, want: nil},
		{name: "null result", answer: func(w *fakeWorker, c toolCall) { w.answer(c.ID, nil) }, want: nil},
		{name: "result not an object", answer: func(w *fakeWorker, c toolCall) { w.answer(c.ID, 3) },
			wantErr: `ml.f: invalid answer from the worker: result must be an object {"value": ...}`},
		{name: "tool error with type",
			answer: func(w *fakeWorker, c toolCall) {
				w.fail(c.ID, wireError{Code: -32000, Message: "unknown customer nope", Data: map[string]any{"type": "KeyError", "traceback": "tb"}})
			},
			wantErr: "ml.f: KeyError: unknown customer nope",
			check: func(t *testing.T, err error) {
				var te *ToolError
				if !errors.As(err, &te) || te.Type != "KeyError" || te.Code != -32000 || te.Namespace != "ml" || te.Tool != "f" {
					t.Errorf("error %#v is not the worker's ToolError", err)
				}
			}},
		{name: "tool error without type",
			answer: func(w *fakeWorker, c toolCall) {
				w.fail(c.ID, wireError{Code: -32603, Message: "Failed executing tool: boom"})
			},
			wantErr: "ml.f: Failed executing tool: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			w := connectWorker(t, h.srv.URL, tt.answer)
			w.register("ml", "global", objectTool("f"))
			got, err := h.fn(t, "ml.f")(context.Background(), nil)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if tt.check != nil {
					tt.check(t, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("= %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

func TestExecuteToolParams(t *testing.T) {
	h := newHarness(t, &Options{CallTimeout: 5 * time.Second})
	w := connectWorker(t, h.srv.URL, echoArgs)
	w.calls = make(chan toolCall, 1)
	w.register("my-ns", "", positional("get-sum", "a"))
	if _, err := h.fn(t, "my_ns.get_sum")(context.Background(), []any{"1"}); err != nil {
		t.Fatal(err)
	}
	c := <-w.calls
	if c.Namespace != "my-ns" || c.Name != "get-sum" {
		t.Errorf("execute_tool names %s.%s, want the registered my-ns.get-sum", c.Namespace, c.Name)
	}
	if c.TimeoutMs <= 0 || c.TimeoutMs > 5000 || c.Deadline <= time.Now().Add(-time.Minute).UnixMilli() {
		t.Errorf("timeoutMs %d, deadline %d: want (0, 5000] and a current time", c.TimeoutMs, c.Deadline)
	}
	if string(c.ID) != "1" {
		t.Errorf("first call id = %s, want 1", c.ID)
	}
}

func TestDisconnectMidCall(t *testing.T) {
	h := newHarness(t, nil)
	w := connectWorker(t, h.srv.URL, nil) // never answers
	w.calls = make(chan toolCall, 1)
	w.register("ml", "", objectTool("slow"))
	fn := h.fn(t, "ml.slow")

	errc := make(chan error, 1)
	go func() {
		_, err := fn(context.Background(), nil)
		errc <- err
	}()
	<-w.calls
	w.ws.Close(websocket.StatusNormalClosure, "bye")
	err := <-errc
	if !errors.Is(err, ErrWorkerGone) || !strings.Contains(err.Error(), `worker for namespace "ml" disconnected`) {
		t.Fatalf("error = %v, want ErrWorkerGone naming the namespace", err)
	}
	h.waitGone("ml")
	// A call through a binding taken before the disconnect fails the same way.
	if _, err := fn(context.Background(), nil); !errors.Is(err, ErrWorkerGone) {
		t.Errorf("call after disconnect: %v, want ErrWorkerGone", err)
	}
}

func TestNamespaceTaken(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.cat.Put("upstream:github", catalog.Namespace{Name: "github", Tools: []catalog.Tool{{Name: "x", Call: noCall}}}); err != nil {
		t.Fatal(err)
	}
	w1 := connectWorker(t, h.srv.URL, echoArgs)
	w1.register("ml", "", objectTool("f"))
	w2 := connectWorker(t, h.srv.URL, echoArgs)

	tests := []struct{ ns, owner string }{
		{"github", "upstream:github"},
		{"ml", "pool:ml"},
	}
	for _, tt := range tests {
		f := w2.request("register", map[string]any{"namespace": tt.ns, "tools": []any{objectTool("g")}})
		if f.Error == nil || f.Error.Code != CodeNamespaceTaken {
			t.Fatalf("register %s: %+v, want code %d", tt.ns, f.Error, CodeNamespaceTaken)
		}
		if f.Error.Data["owner"] != tt.owner || f.Error.Data["namespace"] != tt.ns || !strings.Contains(f.Error.Message, tt.owner) || !strings.Contains(f.Error.Message, `scope "session"`) {
			t.Errorf("register %s: %+v, want the owner %s named", tt.ns, f.Error, tt.owner)
		}
	}
	// The same name session-scoped is fine.
	w2.register("ml", "session", objectTool("g"))
	// The first worker's tool is untouched.
	if _, err := h.fn(t, "ml.f")(context.Background(), nil); err != nil {
		t.Errorf("ml.f after refused hijack: %v", err)
	}
}

func TestMalformedFrames(t *testing.T) {
	tests := []struct {
		name   string
		frame  string
		binary bool
		code   int
		status websocket.StatusCode
	}{
		{"not json", `{"jsonrpc":"2.0","id":5,"method":`, false, CodeParseError, websocket.StatusPolicyViolation},
		{"not an object", `"hello"`, false, CodeParseError, websocket.StatusPolicyViolation},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, false, CodeInvalidRequest, websocket.StatusPolicyViolation},
		{"no jsonrpc", `{"id":1,"method":"ping"}`, false, CodeInvalidRequest, websocket.StatusPolicyViolation},
		{"method not a string", `{"jsonrpc":"2.0","id":1,"method":7}`, false, CodeInvalidRequest, websocket.StatusPolicyViolation},
		{"neither method nor result", `{"jsonrpc":"2.0","id":1}`, false, CodeInvalidRequest, websocket.StatusPolicyViolation},
		{"binary", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, true, CodeInvalidRequest, websocket.StatusUnsupportedData},
	}
	h := newHarness(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := connectWorker(t, h.srv.URL, echoArgs)
			w.register("bad", "", objectTool("f"))
			typ := websocket.MessageText
			if tt.binary {
				typ = websocket.MessageBinary
			}
			if err := w.ws.Write(context.Background(), typ, []byte(tt.frame)); err != nil {
				t.Fatal(err)
			}
			f := <-w.errs
			if f.Error == nil || f.Error.Code != tt.code {
				t.Errorf("error response %+v, want code %d", f.Error, tt.code)
			}
			<-w.done
			if w.closeSt != tt.status {
				t.Errorf("close status %d, want %d", w.closeSt, tt.status)
			}
			h.waitGone("bad")
		})
	}
	// The server is fine: a new worker works.
	w := connectWorker(t, h.srv.URL, echoArgs)
	w.register("good", "", objectTool("f"))
	if _, err := h.fn(t, "good.f")(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestOversizedFrame(t *testing.T) {
	h := newHarness(t, &Options{MaxMessageBytes: 1024})
	w := connectWorker(t, h.srv.URL, echoArgs)
	if f := w.request("ping", map[string]any{"pad": strings.Repeat("x", 900)}); f.Error != nil {
		t.Fatalf("a frame under the limit: %+v", f.Error)
	}
	w.mustWrite(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": map[string]any{"pad": strings.Repeat("x", 2048)}})
	<-w.done
	if w.closeSt != websocket.StatusMessageTooBig {
		t.Errorf("close status %d, want %d", w.closeSt, websocket.StatusMessageTooBig)
	}
}

func TestOversizedCallArgs(t *testing.T) {
	h := newHarness(t, &Options{MaxMessageBytes: 1024})
	w := connectWorker(t, h.srv.URL, echoArgs)
	w.register("ml", "", objectTool("f"))
	_, err := h.fn(t, "ml.f")(context.Background(), []any{map[string]any{"pad": strings.Repeat("x", 2048)}})
	if err == nil || !strings.Contains(err.Error(), "exceeds the 1024-byte limit") {
		t.Fatalf("error = %v, want the size limit named", err)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	// end: how the agent's context ends once the call has reached the worker (so that
	// it cannot end before the call is sent, on a slow machine): "" never (the bridge's
	// own timer ends the call), "deadline" its deadline passes, "cancel" it is cancelled.
	tests := []struct {
		name       string
		opts       Options
		end        string
		reason     string
		wantErr    error
		wantSubstr string
	}{
		{"call timeout", Options{CallTimeout: 30 * time.Millisecond}, "", "timeout", ErrCallTimeout, "timed out after 30ms waiting for the worker"},
		{"context deadline", Options{}, "deadline", "timeout", ErrCallTimeout, "timed out after"},
		{"execution cancelled", Options{}, "cancel", "cancelled", context.Canceled, "call cancelled: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, &tt.opts)
			w := connectWorker(t, h.srv.URL, nil) // never answers
			w.calls = make(chan toolCall, 1)
			w.register("ml", "", objectTool("hang"))
			var ctx context.Context = context.Background()
			end := func() {}
			switch tt.end {
			case "deadline":
				e := newExpiringCtx()
				ctx, end = e, e.expire
			case "cancel":
				c, cancel := context.WithCancel(context.Background())
				defer cancel()
				ctx, end = c, cancel
			}
			fn := h.fn(t, "ml.hang")
			errc := make(chan error, 1)
			go func() {
				_, err := fn(ctx, nil)
				errc <- err
			}()
			call := <-w.calls
			end()
			if err := <-errc; !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantSubstr) || !strings.HasPrefix(err.Error(), "ml.hang: ") {
				t.Fatalf("error = %v, want %v with %q", err, tt.wantErr, tt.wantSubstr)
			}
			n := <-w.cancels
			var p struct {
				ID     json.RawMessage `json:"id"`
				Reason string          `json:"reason"`
			}
			if err := json.Unmarshal(n.Params, &p); err != nil {
				t.Fatal(err)
			}
			if string(p.ID) != string(call.ID) || p.Reason != tt.reason {
				t.Errorf("cancel %s, want id %s reason %s", n.Params, call.ID, tt.reason)
			}
			// The late answer is ignored and the connection still works.
			w.answer(call.ID, map[string]any{"value": "late"})
			if f := w.request("ping", nil); f.Error != nil {
				t.Errorf("ping after late answer: %+v", f.Error)
			}
		})
	}
}

func TestStrayAnswersIgnored(t *testing.T) {
	h := newHarness(t, nil)
	var once sync.Once
	// The first call's handler answers, then sends the strays; later calls are answered
	// only after that (Once blocks them), so their answers follow the strays on the wire.
	w := connectWorker(t, h.srv.URL, func(w *fakeWorker, c toolCall) {
		first := false
		once.Do(func() {
			first = true
			w.answer(c.ID, map[string]any{"value": "first"})
			w.answer(c.ID, map[string]any{"value": "duplicate"})
			w.answer(json.RawMessage(`999`), map[string]any{"value": "unknown id"})
			w.answer(json.RawMessage(`"s1"`), map[string]any{"value": "string id"})
			w.fail(json.RawMessage(`-4`), wireError{Code: -32000, Message: "negative id"})
			w.fail(json.RawMessage(`null`), wireError{Code: -32700, Message: "worker could not parse"})
		})
		if !first {
			w.answer(c.ID, map[string]any{"value": "first"})
		}
	})
	w.register("ml", "", objectTool("f"))
	for i := range 3 {
		got, err := h.fn(t, "ml.f")(context.Background(), nil)
		if err != nil || got != "first" {
			t.Fatalf("call %d = %v, %v; want first", i, got, err)
		}
	}
}

func TestManyConcurrentCalls(t *testing.T) {
	h := newHarness(t, nil)
	w := connectWorker(t, h.srv.URL, echoArgs)
	w.register("ml", "", map[string]any{"name": "f", "inputSchema": map[string]any{"type": "object", "properties": map[string]any{"i": map[string]any{"type": "integer"}}}})
	fn := h.fn(t, "ml.f")
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			got, err := fn(context.Background(), []any{map[string]any{"i": int64(i)}})
			if err != nil {
				errs <- err
				return
			}
			if m, ok := got.(map[string]any); !ok || m["i"] != float64(i) {
				errs <- fmt.Errorf("call %d got %v", i, got)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestNoHeadOfLineBlocking: a call the worker holds does not delay the calls after it.
func TestNoHeadOfLineBlocking(t *testing.T) {
	h := newHarness(t, nil)
	release := make(chan struct{})
	w := connectWorker(t, h.srv.URL, func(w *fakeWorker, c toolCall) {
		if c.Name == "slow" {
			<-release
		}
		w.answer(c.ID, map[string]any{"value": c.Name})
	})
	w.register("ml", "", objectTool("slow"), objectTool("fast"))
	slow := make(chan any, 1)
	go func() {
		v, _ := h.fn(t, "ml.slow")(context.Background(), nil)
		slow <- v
	}()
	for range 10 {
		if v, err := h.fn(t, "ml.fast")(context.Background(), nil); err != nil || v != "fast" {
			t.Fatalf("fast = %v, %v", v, err)
		}
	}
	close(release)
	if v := <-slow; v != "slow" {
		t.Errorf("slow = %v", v)
	}
}

func TestRequests(t *testing.T) {
	h := newHarness(t, nil)
	tests := []struct {
		name   string
		init   bool
		method string
		params any
		code   int    // 0: success
		substr string // in the error message, or in the result
	}{
		{"ping before initialize", false, "ping", nil, 0, "{}"},
		{"register before initialize", false, "register", map[string]any{"namespace": "x", "tools": []any{objectTool("f")}}, CodeNotInitialized, "not initialized"},
		{"wrong version", false, "initialize", map[string]any{"protocolVersion": "pctx/9"}, CodeInvalidParams, `unsupported protocolVersion "pctx/9"`},
		{"second initialize", true, "initialize", map[string]any{"protocolVersion": "pctx/1"}, CodeInvalidRequest, "already initialized"},
		{"unknown method", true, "frobnicate", nil, CodeMethodNotFound, `"frobnicate"`},
		{"params of the wrong type", true, "register", map[string]any{"namespace": 5}, CodeInvalidParams, "params.namespace must be a string"},
		{"no namespace", true, "register", map[string]any{"tools": []any{objectTool("f")}}, CodeInvalidParams, "params.namespace is required"},
		{"no tools", true, "register", map[string]any{"namespace": "x"}, CodeInvalidParams, "at least one tool"},
		{"bad scope", true, "register", map[string]any{"namespace": "x", "scope": "world", "tools": []any{objectTool("f")}}, CodeInvalidParams, `"global" or "session"`},
		{"unnamed tool", true, "register", map[string]any{"namespace": "x", "tools": []any{map[string]any{}}}, CodeInvalidParams, "tools[0].name is required"},
		{"duplicate tool", true, "register", map[string]any{"namespace": "x", "tools": []any{objectTool("f"), objectTool("f")}}, CodeInvalidParams, `tool "f" is listed twice`},
		{"schema not an object", true, "register", map[string]any{"namespace": "x", "tools": []any{map[string]any{"name": "f", "inputSchema": map[string]any{"type": "string"}}}}, CodeInvalidParams, `inputSchema.type must be "object"`},
		{"param not in schema", true, "register", map[string]any{"namespace": "x", "tools": []any{map[string]any{"name": "f", "inputSchema": map[string]any{"type": "object"}, "params": []any{"a"}}}}, CodeInvalidParams, `params entry "a" is not a property`},
		{"long name", true, "register", map[string]any{"namespace": strings.Repeat("n", 129), "tools": []any{objectTool("f")}}, CodeInvalidParams, "longer than 128 bytes"},
		{"unregister unknown", true, "unregister", map[string]any{"namespace": "zz"}, CodeInvalidParams, `"zz" is not registered by this connection`},
		{"details of nothing", true, "get_function_details", map[string]any{"functions": []any{}}, CodeInvalidParams, "at least one function"},
		{"details of unknown", true, "get_function_details", map[string]any{"functions": []any{"nope.x"}}, CodeInvalidParams, "nope.x"},
		{"execute without code", true, "execute_typescript", map[string]any{}, CodeInvalidParams, "params.code is required"},
		{"code mode tools", true, "code_mode_tools", nil, 0, `{"tools":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w *fakeWorker
			if tt.init {
				w = connectWorker(t, h.srv.URL, echoArgs)
			} else {
				w = dialWorker(t, h.srv.URL, echoArgs, nil)
			}
			f := w.request(tt.method, tt.params)
			if tt.code == 0 {
				if f.Error != nil || !strings.Contains(string(f.Result), tt.substr) {
					t.Fatalf("result %s, error %+v; want %s", f.Result, f.Error, tt.substr)
				}
				return
			}
			if f.Error == nil || f.Error.Code != tt.code || !strings.Contains(f.Error.Message, tt.substr) {
				t.Fatalf("error %+v, want code %d with %q", f.Error, tt.code, tt.substr)
			}
		})
	}
}

func TestInitializeResult(t *testing.T) {
	h := newHarness(t, &Options{ServerName: "pctx", ServerVersion: "1.2.3", CallTimeout: 7 * time.Second, PingInterval: 9 * time.Second})
	w := dialWorker(t, h.srv.URL, nil, nil)
	f := w.request("initialize", map[string]any{"protocolVersion": "pctx/1", "client": map[string]any{"name": "fake", "version": "0.1"}})
	want := `{"protocolVersion":"pctx/1","server":{"name":"pctx","version":"1.2.3"},"connectionId":"c1","maxMessageBytes":16777216,"callTimeoutMs":7000,"pingIntervalMs":9000}`
	if string(f.Result) != want {
		t.Errorf("initialize result\n got %s\nwant %s", f.Result, want)
	}
	if ws := h.bridge.Workers(); len(ws) != 1 || ws[0].Client != "fake/0.1" || ws[0].ID != "c1" {
		t.Errorf("Workers() = %+v", ws)
	}
}

func TestRegisterReplaceUnregister(t *testing.T) {
	h := newHarness(t, nil)
	w := connectWorker(t, h.srv.URL, func(w *fakeWorker, c toolCall) { w.answer(c.ID, map[string]any{"value": c.Name}) })
	f := w.request("register", map[string]any{"namespace": "ml", "tools": []any{objectTool("a")}})
	if string(f.Result) != `{"namespace":"ml","scope":"global","functions":["a"]}` {
		t.Errorf("register result %s", f.Result)
	}
	w.register("ml", "", objectTool("b"), objectTool("c"))
	if fns := h.cat.Snapshot().Functions(); fns["ml.a"] != nil || fns["ml.b"] == nil || fns["ml.c"] == nil {
		t.Errorf("after replace: functions %v", keys(fns))
	}
	if got := h.bridge.Workers()[0].Namespaces; !reflect.DeepEqual(got, []string{"ml"}) {
		t.Errorf("Workers().Namespaces = %v", got)
	}
	// Moving to session scope takes it out of the catalog.
	w.register("ml", "session", objectTool("b"))
	if h.has("ml") {
		t.Error("session-scoped ml is still in the catalog")
	}
	if got := h.bridge.Workers()[0]; len(got.Namespaces) != 0 || !reflect.DeepEqual(got.Session, []string{"ml"}) {
		t.Errorf("Workers() = %+v", got)
	}
	w.register("ml", "global", objectTool("b"))
	if f := w.request("unregister", map[string]any{"namespace": "ml"}); f.Error != nil || string(f.Result) != "{}" {
		t.Fatalf("unregister: %s %+v", f.Result, f.Error)
	}
	if h.has("ml") {
		t.Error("ml still in the catalog after unregister")
	}
}

func TestCodeModeMethods(t *testing.T) {
	h := newHarness(t, &Options{CodeModeTools: []CodeModeTool{{Name: "list_functions", Description: "List.", InputSchema: json.RawMessage(`{"type":"object"}`)}}})
	if err := h.cat.Put("upstream:github", catalog.Namespace{Name: "github", Tools: []catalog.Tool{{Name: "list_issues", Description: "Issues.", Call: noCall}}}); err != nil {
		t.Fatal(err)
	}
	w := connectWorker(t, h.srv.URL, func(w *fakeWorker, c toolCall) {
		w.answer(c.ID, map[string]any{"value": []any{c.Args["n"], "rows"}})
	})
	w.register("data", "session", map[string]any{"name": "rows", "description": "Rows of the table.",
		"inputSchema": map[string]any{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "integer"}}}, "params": []any{"n"}})
	other := connectWorker(t, h.srv.URL, echoArgs)

	list := w.request("list_functions", map[string]any{})
	if f := list; f.Error != nil || !strings.Contains(string(f.Result), "rows") || !strings.Contains(string(f.Result), "list_issues") {
		t.Errorf("list_functions: %s %+v, want the session and the global functions", f.Result, f.Error)
	}
	if f := other.request("list_functions", nil); f.Error != nil || strings.Contains(string(f.Result), "rows") {
		t.Errorf("another worker's list_functions: %s %+v, want no session function of the first", f.Result, f.Error)
	}
	if f := w.request("get_function_details", map[string]any{"functions": []any{"data.rows"}}); f.Error != nil || !strings.Contains(string(f.Result), "Rows of the table.") {
		t.Errorf("get_function_details: %s %+v", f.Result, f.Error)
	}
	f := w.request("execute_typescript", map[string]any{"code": `call data.rows [2]`})
	var res struct {
		Value   any
		Console []struct{ Level, Text string }
		Error   any
		Calls   int
		Text    string
	}
	if f.Error != nil || json.Unmarshal(f.Result, &res) != nil {
		t.Fatalf("execute_typescript: %s %+v", f.Result, f.Error)
	}
	if !reflect.DeepEqual(res.Value, []any{2.0, "rows"}) || res.Calls != 1 || len(res.Console) != 2 || res.Error != nil || res.Text != `[2,"rows"]` {
		t.Errorf("execute_typescript result %s", f.Result)
	}
	if f := w.request("execute_typescript", map[string]any{"code": "nonsense"}); f.Error != nil || !strings.Contains(string(f.Result), `"error":{"kind":"syntax"`) {
		t.Errorf("a failing program: %s %+v, want a result with error", f.Result, f.Error)
	}
	if f := other.request("execute_typescript", map[string]any{"code": `call data.rows [2]`}); !strings.Contains(string(f.Result), "data.rows is not defined") {
		t.Errorf("another worker reaching a session tool: %s %+v", f.Result, f.Error)
	}
	if f := w.request("code_mode_tools", nil); string(f.Result) != `{"tools":[{"name":"list_functions","description":"List.","inputSchema":{"type":"object"}}]}` {
		t.Errorf("code_mode_tools: %s %+v", f.Result, f.Error)
	}
	// A global namespace of the same name makes the overlay clash.
	if err := h.cat.Put("upstream:data", catalog.Namespace{Name: "data", Tools: []catalog.Tool{{Name: "x", Call: noCall}}}); err != nil {
		t.Fatal(err)
	}
	if f := w.request("list_functions", nil); f.Error == nil || f.Error.Code != CodeNamespaceTaken {
		t.Errorf("overlay clash: %s %+v, want code %d", f.Result, f.Error, CodeNamespaceTaken)
	}
}

func TestWorkerCancelsItsExecution(t *testing.T) {
	h := newHarness(t, nil)
	w := connectWorker(t, h.srv.URL, nil) // its tool never answers
	w.calls = make(chan toolCall, 1)
	w.register("data", "session", objectTool("hang"))
	id, ch := w.send("execute_typescript", map[string]any{"code": `call data.hang [{}]`})
	<-w.calls
	w.mustWrite(map[string]any{"jsonrpc": "2.0", "method": "cancel", "params": map[string]any{"id": id}})
	f := <-ch
	if f.Error != nil || !strings.Contains(string(f.Result), "call cancelled") {
		t.Fatalf("cancelled execution: %s %+v", f.Result, f.Error)
	}
	if n := <-w.cancels; !strings.Contains(string(n.Params), `"cancelled"`) {
		t.Errorf("cancel of the tool call: %s", n.Params)
	}
}

func TestTooBusy(t *testing.T) {
	h := newHarness(t, nil)
	w := connectWorker(t, h.srv.URL, nil)
	w.calls = make(chan toolCall, maxWorkerRequests)
	w.register("data", "session", objectTool("hang"))
	for range maxWorkerRequests {
		_, _ = w.send("execute_typescript", map[string]any{"code": `call data.hang [{}]`})
	}
	for range maxWorkerRequests {
		<-w.calls // every execution is now in flight
	}
	if f := w.request("list_functions", nil); f.Error == nil || f.Error.Code != CodeTooBusy {
		t.Fatalf("request over the limit: %s %+v, want code %d", f.Result, f.Error, CodeTooBusy)
	}
}

// TestExecutionLimit: a worker (or a published-client session, over all its websockets)
// runs at most MaxExecutionsPerConnection executions at once, so executions waiting on
// its own unanswered tools cannot take every execution slot of the server; its other
// Code Mode requests are still served.
func TestExecutionLimit(t *testing.T) {
	const limit = 3
	for _, compat := range []bool{false, true} {
		t.Run(fmt.Sprintf("compat=%v", compat), func(t *testing.T) {
			cat := catalog.New()
			h := newHarnessOver(t, cat, codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t), MaxPerSession: limit}), &Options{Sessions: &fakeSessions{}})
			var workers []*fakeWorker
			if compat {
				id := "session-1"
				for range 2 { // the published client opens a websocket per execution
					workers = append(workers, dialWorker(t, h.srv.URL, nil, http.Header{"X-Code-Mode-Session": {id}}))
				}
			} else {
				w := connectWorker(t, h.srv.URL, nil)
				w.register("data", "session", objectTool("hang"))
				workers = append(workers, w, w)
			}
			calls := make(chan toolCall, limit)
			for _, w := range workers {
				w.calls = calls
			}
			for i := range limit {
				_, _ = workers[i%2].send("execute_typescript", map[string]any{"code": `await data.hang({})`})
			}
			for range limit {
				<-calls // every execution is now in flight
			}
			for _, w := range workers {
				if f := w.request("execute_typescript", map[string]any{"code": `await data.hang({})`}); f.Error == nil || f.Error.Code != CodeTooBusy || !strings.Contains(f.Error.Message, "3 executions") {
					t.Errorf("execution over the limit: %s %+v, want code %d", f.Result, f.Error, CodeTooBusy)
				}
				if f := w.request("list_functions", nil); f.Error != nil {
					t.Errorf("list_functions while executions are at the limit: %+v", f.Error)
				}
			}
		})
	}
}

func TestDeadWorkerDropped(t *testing.T) {
	// A ping must be answered within two intervals: the live worker's answer comes from
	// a goroutine of this process, which a busy machine may hold up for a while, so the
	// interval is not much shorter than the default's 15 s.
	h := newHarness(t, &Options{PingInterval: time.Second})
	alive := connectWorker(t, h.srv.URL, echoArgs)
	alive.register("alive", "", objectTool("f"))

	// A worker that registers and then never reads again, so it never answers a ping.
	ws, _, err := websocket.Dial(context.Background(), strings.Replace(h.srv.URL, "http", "ws", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	for _, msg := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"pctx/1"}}`,
		`{"jsonrpc":"2.0","id":2,"method":"register","params":{"namespace":"deaf","tools":[{"name":"f"}]}}`,
	} {
		if err := ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // the two responses: "deaf" is registered
		if _, _, err := ws.Read(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	h.waitGone("deaf")
	if !h.has("alive") {
		t.Error("a live worker was dropped too")
	}
}

// TestStalledWorkerDropped: a worker that stops reading while calls and replies pile up
// behind it is dropped by the pinger; nothing hangs.
func TestStalledWorkerDropped(t *testing.T) {
	h := newHarness(t, &Options{PingInterval: 20 * time.Millisecond})
	ws, _, err := websocket.Dial(context.Background(), strings.Replace(h.srv.URL, "http", "ws", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	for _, msg := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"pctx/1"}}`,
		`{"jsonrpc":"2.0","id":2,"method":"register","params":{"namespace":"stalled","tools":[{"name":"f"}]}}`,
	} {
		if err := ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ws.Read(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// From here on the worker never reads: the calls' frames fill the socket buffers and
	// the send queue, and the replies to its pings can no longer be queued.
	fn := h.fn(t, "stalled.f")
	big := map[string]any{"pad": strings.Repeat("x", 64<<10)}
	var wg sync.WaitGroup
	for range 400 {
		wg.Go(func() {
			if _, err := fn(context.Background(), []any{big}); err == nil {
				t.Error("a call to a stalled worker succeeded")
			}
		})
	}
	for i := range 400 {
		msg := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"ping"}`, 10+i)
		if err := ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
			break // the server dropped us
		}
	}
	wg.Wait()
	h.waitGone("stalled")
}

func TestCrossOriginRefused(t *testing.T) {
	h := newHarness(t, nil)
	_, resp, err := websocket.Dial(context.Background(), strings.Replace(h.srv.URL, "http", "ws", 1),
		&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin upgrade: %v, %v; want HTTP 403", resp, err)
	}
	if len(h.bridge.Workers()) != 0 {
		t.Error("a refused upgrade left a worker behind")
	}
}

func TestBridgeClose(t *testing.T) {
	h := newHarness(t, nil)
	w := connectWorker(t, h.srv.URL, nil)
	w.calls = make(chan toolCall, 1)
	w.register("ml", "", objectTool("hang"))
	fn := h.fn(t, "ml.hang")
	errc := make(chan error, 1)
	go func() {
		_, err := fn(context.Background(), nil)
		errc <- err
	}()
	<-w.calls
	if err := h.bridge.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrWorkerGone) {
		t.Errorf("in-flight call: %v, want ErrWorkerGone", err)
	}
	<-w.done
	if w.closeSt != websocket.StatusGoingAway {
		t.Errorf("close status %d, want %d", w.closeSt, websocket.StatusGoingAway)
	}
	if len(h.cat.Snapshot().Namespaces()) != 0 {
		t.Error("namespaces left in the catalog")
	}
	resp, err := http.Get(h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("upgrade after Close: HTTP %d, want 503", resp.StatusCode)
	}
}

func noCall(context.Context, map[string]any) (any, error) { return nil, errors.New("not callable") }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
