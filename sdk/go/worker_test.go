package pctxsdk

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"testing"
)

type greetIn struct {
	Name  string `json:"name" jsonschema:"who to greet"`
	Times int    `json:"times,omitempty"`
}

type greetOut struct {
	Text string `json:"text"`
}

type notFound struct{ what string }

func (e notFound) Error() string     { return e.what + " not found" }
func (e notFound) ErrorType() string { return "NotFound" }

func newTestWorker(t *testing.T, url string, opts ...Option) *Worker {
	t.Helper()
	w := New(url, opts...)
	must(t, Register(w, "t", "greet", "Greet someone", func(ctx context.Context, in greetIn) (greetOut, error) {
		return greetOut{Text: strings.Repeat("hello "+in.Name+" ", max(in.Times, 1))}, nil
	}))
	must(t, Register(w, "t", "fail", "", func(ctx context.Context, in struct {
		Kind string `json:"kind"`
	}) (any, error) {
		switch in.Kind {
		case "plain":
			return nil, errors.New("plain failure")
		case "typed":
			return nil, notFound{"cust_9"}
		case "wrapped":
			return nil, &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}
		case "args":
			return nil, &ArgsError{Err: errors.New("kind args is refused")}
		case "big":
			return strings.Repeat("x", 4096), nil
		case "unencodable":
			return func() {}, nil
		}
		panic("boom: " + in.Kind)
	}))
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCalls drives execute_tool through a scripted server and checks each answer.
func TestCalls(t *testing.T) {
	srv := newFakeServer(t, nil)
	w := newTestWorker(t, srv.url())
	srv.run(w)
	c := srv.accept()
	regs := c.handshake(2048, 1)
	if len(regs) != 1 || regs[0].Namespace != "t" || regs[0].Scope != ScopeGlobal || len(regs[0].Tools) != 2 {
		t.Fatalf("registered %+v", regs)
	}

	tests := []struct {
		name      string
		tool      string
		args      any
		wantValue string // JSON of result.value, when the call succeeds
		wantCode  int
		wantMsg   string // substring of error.message
		wantType  string
	}{
		{name: "result", tool: "greet", args: map[string]any{"name": "Ada"}, wantValue: `{"text":"hello Ada "}`},
		{name: "optional field", tool: "greet", args: map[string]any{"name": "Ada", "times": 2}, wantValue: `{"text":"hello Ada hello Ada "}`},
		{name: "null args", tool: "fail", args: nil, wantCode: CodeInvalidParams, wantMsg: "kind"},
		{name: "missing required", tool: "greet", args: map[string]any{}, wantCode: CodeInvalidParams, wantMsg: "name"},
		{name: "wrong type", tool: "greet", args: map[string]any{"name": 3}, wantCode: CodeInvalidParams, wantMsg: "invalid arguments"},
		{name: "unknown field", tool: "greet", args: map[string]any{"name": "a", "x": 1}, wantCode: CodeInvalidParams, wantMsg: "x"},
		{name: "unknown tool", tool: "nope", args: map[string]any{}, wantCode: CodeMethodNotFound, wantMsg: "t.nope"},
		{name: "plain error", tool: "fail", args: map[string]any{"kind": "plain"}, wantCode: CodeToolError, wantMsg: "plain failure"},
		{name: "ErrorTyper", tool: "fail", args: map[string]any{"kind": "typed"}, wantCode: CodeToolError, wantMsg: "cust_9 not found", wantType: "NotFound"},
		{name: "exported error type", tool: "fail", args: map[string]any{"kind": "wrapped"}, wantCode: CodeToolError, wantMsg: "open /x", wantType: "fs.PathError"},
		{name: "ArgsError from handler", tool: "fail", args: map[string]any{"kind": "args"}, wantCode: CodeInvalidParams, wantMsg: "kind args is refused"},
		{name: "panic", tool: "fail", args: map[string]any{"kind": "other"}, wantCode: CodeToolError, wantMsg: "boom: other", wantType: "panic"},
		{name: "result over maxMessageBytes", tool: "fail", args: map[string]any{"kind": "big"}, wantCode: CodeToolError, wantMsg: "over the server's limit of 2048"},
		{name: "unencodable result", tool: "fail", args: map[string]any{"kind": "unencodable"}, wantCode: CodeToolError, wantMsg: "encode result"},
		{name: "still alive after panic", tool: "greet", args: map[string]any{"name": "Bo"}, wantValue: `{"text":"hello Bo "}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			m := c.call("t", tt.tool, tt.args, 5000)
			if tt.wantCode == 0 {
				if m.Error != nil {
					t.Fatalf("error %+v, want value %s", m.Error, tt.wantValue)
				}
				var r struct{ Value json.RawMessage }
				must(t, json.Unmarshal(m.Result, &r))
				if string(r.Value) != tt.wantValue {
					t.Errorf("value %s, want %s", r.Value, tt.wantValue)
				}
				return
			}
			if m.Error == nil {
				t.Fatalf("result %s, want error %d", m.Result, tt.wantCode)
			}
			if m.Error.Code != tt.wantCode || !strings.Contains(m.Error.Message, tt.wantMsg) {
				t.Errorf("error %d %q, want %d containing %q", m.Error.Code, m.Error.Message, tt.wantCode, tt.wantMsg)
			}
			var data toolErrorData
			if len(m.Error.Data) > 0 {
				must(t, json.Unmarshal(m.Error.Data, &data))
			}
			if data.Type != tt.wantType {
				t.Errorf("data.type %q, want %q", data.Type, tt.wantType)
			}
			if tt.wantType == "panic" && !strings.Contains(data.Traceback, "goroutine") {
				t.Errorf("panic traceback %q, want a Go stack", data.Traceback)
			}
		})
	}
}

// TestCancellation checks that each way a call can end reaches the handler's context.
func TestCancellation(t *testing.T) {
	tests := []struct {
		name      string
		timeoutMs int
		cancel    string // reason of the server's cancel; "" sends none
		want      error
	}{
		{name: "cancel timeout", timeoutMs: 600000, cancel: "timeout", want: ErrCallTimedOut},
		{name: "cancel cancelled", timeoutMs: 600000, cancel: "cancelled", want: ErrCallCancelled},
		{name: "deadline from timeoutMs", timeoutMs: 1, want: ErrCallTimedOut},
	}
	srv := newFakeServer(t, nil)
	w := New(srv.url())
	started := make(chan struct{}, 1)
	causes := make(chan error, 1)
	must(t, Register(w, "t", "block", "", func(ctx context.Context, _ struct{}) (any, error) {
		started <- struct{}{}
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return nil, ctx.Err()
	}))
	srv.run(w)
	c := srv.accept()
	c.handshake(1<<20, 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := c.send("t", "block", map[string]any{}, tt.timeoutMs)
			<-started
			if tt.cancel != "" {
				c.write(map[string]any{"jsonrpc": "2.0", "method": "cancel", "params": map[string]any{"id": json.RawMessage(id), "reason": tt.cancel}})
			}
			if got := <-causes; !errors.Is(got, tt.want) {
				t.Errorf("handler's context cause %v, want %v", got, tt.want)
			}
			if tt.cancel == "" {
				// Not cancelled by the server: the worker answers with the failure.
				if m := c.read(); string(m.ID) != id || m.Error == nil {
					t.Errorf("answer %+v, want an error for call %s", m, id)
				}
			}
		})
	}
}

// TestServerRequests covers the server's requests other than execute_tool.
func TestServerRequests(t *testing.T) {
	srv := newFakeServer(t, nil)
	w := newTestWorker(t, srv.url())
	srv.run(w)
	c := srv.accept()
	c.handshake(1<<20, 1)
	tests := []struct {
		method   string
		wantCode int
	}{
		{"ping", 0},
		{"frobnicate", CodeMethodNotFound},
	}
	for i, tt := range tests {
		id := json.RawMessage(`"s` + string(rune('0'+i)) + `"`)
		c.write(map[string]any{"jsonrpc": "2.0", "id": id, "method": tt.method})
		m := c.read()
		if string(m.ID) != string(id) {
			t.Fatalf("%s: answer %+v, want id %s", tt.method, m, id)
		}
		if got := 0; m.Error != nil {
			got = m.Error.Code
			if got != tt.wantCode {
				t.Errorf("%s: error %+v, want code %d", tt.method, m.Error, tt.wantCode)
			}
		} else if tt.wantCode != 0 || string(m.Result) != "{}" {
			t.Errorf("%s: result %s, want code %d", tt.method, m.Result, tt.wantCode)
		}
	}
	// Unknown notifications are ignored; the connection keeps working.
	c.write(map[string]any{"jsonrpc": "2.0", "method": "something_new", "params": map[string]any{}})
	if m := c.call("t", "greet", map[string]any{"name": "x"}, 1000); m.Error != nil {
		t.Errorf("call after an unknown notification: %+v", m.Error)
	}
}

// TestReconnect checks that a worker whose connection drops connects again and
// registers everything again.
func TestReconnect(t *testing.T) {
	srv := newFakeServer(t, nil)
	ready := make(chan ServerInfo, 4)
	w := newTestWorker(t, srv.url(), WithOnReady(func(i ServerInfo) { ready <- i }))
	srv.run(w)
	for round := range 3 {
		c := srv.accept()
		c.handshake(1<<20, 1)
		if info := <-ready; info.ConnectionID != "c1" || info.MaxMessageBytes != 1<<20 {
			t.Fatalf("round %d: ServerInfo %+v", round, info)
		}
		if m := c.call("t", "greet", map[string]any{"name": "r"}, 1000); m.Error != nil {
			t.Fatalf("round %d: %+v", round, m.Error)
		}
		if round == 0 {
			c.ws.Close(1001, "server shutting down")
		} else {
			c.ws.CloseNow()
		}
	}
}

// TestReconnectWithStuckHandler checks that a handler ignoring its context does not hold
// up reconnection: the worker's namespaces come back and serve calls meanwhile.
func TestReconnectWithStuckHandler(t *testing.T) {
	srv := newFakeServer(t, nil)
	w := newTestWorker(t, srv.url())
	started := make(chan struct{})
	release := make(chan struct{})
	must(t, Register(w, "t", "stuck", "", func(ctx context.Context, _ struct{}) (any, error) {
		close(started)
		<-release // blocking I/O that ignores ctx
		return nil, nil
	}))
	srv.run(w)
	// Runs before srv.run's cleanup, which waits for Run and so for this handler.
	defer close(release)
	c := srv.accept()
	c.handshake(1<<20, 1)
	c.send("t", "stuck", map[string]any{}, 600000)
	<-started
	c.ws.CloseNow()
	c = srv.accept()
	c.handshake(1<<20, 1)
	if m := c.call("t", "greet", map[string]any{"name": "r"}, 1000); m.Error != nil {
		t.Fatalf("call after reconnecting: %+v", m.Error)
	}
}

// TestRunFatal checks the failures Run does not retry.
func TestRunFatal(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		script  func(c *fakeConn)
		wantErr error
		wantMsg string
	}{
		{name: "unauthorized", opts: []Option{WithAPIKey("wrong")}, wantErr: ErrUnauthorized},
		{name: "register refused", opts: []Option{WithAPIKey("k")}, script: func(c *fakeConn) {
			init := c.expect("initialize")
			c.respond(init.ID, map[string]any{"protocolVersion": "pctx/1", "maxMessageBytes": 1 << 20})
			reg := c.expect("register")
			c.write(map[string]any{"jsonrpc": "2.0", "id": reg.ID, "error": map[string]any{
				"code": CodeNamespaceTaken, "message": `namespace "t" is taken by upstream:t`,
				"data": map[string]any{"namespace": "t", "owner": "upstream:t"}}})
		}, wantMsg: `register namespace "t": pctx error -32010`},
		{name: "version refused", opts: []Option{WithAPIKey("k")}, script: func(c *fakeConn) {
			init := c.expect("initialize")
			c.respondError(init.ID, CodeInvalidParams, "unsupported protocolVersion")
		}, wantMsg: "initialize: pctx error -32602"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, func(rw http.ResponseWriter, r *http.Request) bool {
				if r.Header.Get("Authorization") != "Bearer k" {
					http.Error(rw, "bad key", http.StatusUnauthorized)
					return false
				}
				return true
			})
			w := newTestWorker(t, srv.url(), tt.opts...)
			errc := make(chan error, 1)
			go func() { errc <- w.Run(context.Background()) }()
			drained := make(chan struct{})
			if tt.script != nil {
				c := srv.accept()
				tt.script(c)
				// Read on, so the worker's closing handshake completes.
				go func() {
					defer close(drained)
					for {
						if _, _, err := c.ws.Read(context.Background()); err != nil {
							return
						}
					}
				}()
			} else {
				close(drained)
			}
			err := <-errc
			<-drained
			if err == nil {
				t.Fatal("Run returned nil")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Run: %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Run: %v, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

// TestCodeModeRequests checks the worker's own requests and their answers.
func TestCodeModeRequests(t *testing.T) {
	srv := newFakeServer(t, nil)
	w := New(srv.url(), WithScope(ScopeSession))
	srv.run(w)
	c := srv.accept()
	c.handshake(1<<20, 0)
	ctx := context.Background()

	type answer struct {
		res *ExecResult
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := w.Execute(ctx, "return 1+1")
		done <- answer{res, err}
	}()
	m := c.expect("execute_typescript")
	if string(m.Params) != `{"code":"return 1+1"}` {
		t.Errorf("execute_typescript params %s", m.Params)
	}
	c.respond(m.ID, map[string]any{"value": 2, "console": []any{map[string]any{"level": "log", "text": "hi"}},
		"durationMs": 1.5, "calls": 0, "text": "2", "future": true})
	a := <-done
	var v int
	if a.err != nil || a.res.Err() != nil || a.res.Decode(&v) != nil || v != 2 || a.res.Console[0].Text != "hi" {
		t.Errorf("Execute: %+v, %v", a.res, a.err)
	}

	go func() {
		_, err := w.ListFunctions(ctx, ListFilter{Namespace: "ml"})
		done <- answer{nil, err}
	}()
	m = c.expect("list_functions")
	if string(m.Params) != `{"namespace":"ml"}` {
		t.Errorf("list_functions params %s", m.Params)
	}
	c.respondError(m.ID, CodeInvalidParams, "no namespace ml")
	var rpc *RPCError
	if a := <-done; !errors.As(a.err, &rpc) || rpc.Code != CodeInvalidParams {
		t.Errorf("ListFunctions error %v, want the server's -32602", a.err)
	}

	// A cancelled Execute tells the server to stop the execution.
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		_, err := w.Execute(cctx, "while(true){}")
		done <- answer{nil, err}
	}()
	m = c.expect("execute_typescript")
	cancel()
	cm := c.expect("cancel")
	var cp cancelParams
	must(t, json.Unmarshal(cm.Params, &cp))
	if string(cp.ID) != string(m.ID) {
		t.Errorf("cancel names id %s, want %s", cp.ID, m.ID)
	}
	if a := <-done; !errors.Is(a.err, context.Canceled) {
		t.Errorf("cancelled Execute: %v", a.err)
	}
}

// TestRegisterErrors checks definitions refused before anything is sent.
func TestRegisterErrors(t *testing.T) {
	noop := func(context.Context, struct{}) (any, error) { return nil, nil }
	tests := []struct {
		name     string
		register func(w *Worker) error
		want     string
	}{
		{"scalar input", func(w *Worker) error {
			return Register(w, "n", "f", "", func(context.Context, string) (any, error) { return nil, nil })
		}, "must be a struct or a map"},
		{"unsupported output", func(w *Worker) error {
			return Register(w, "n", "f", "", func(context.Context, struct{}) (chan int, error) { return nil, nil })
		}, "unsupported"},
		{"empty namespace", func(w *Worker) error { return Register(w, "", "f", "", noop) }, "namespace name"},
		{"long tool name", func(w *Worker) error { return Register(w, "n", strings.Repeat("f", 129), "", noop) }, "1-128 bytes"},
		{"duplicate", func(w *Worker) error {
			must(t, Register(w, "n", "f", "", noop))
			return Register(w, "n", "f", "", noop)
		}, "registered twice"},
		{"bad enum", func(w *Worker) error {
			return Register(w, "n", "f", "", func(context.Context, struct {
				N int `json:"n" enum:"1,two"`
			}) (any, error) {
				return nil, nil
			})
		}, `enum value "two"`},
		{"positional without fields", func(w *Worker) error { return Register(w, "n", "f", "", noop, Positional()) }, "Positional"},
		{"bad scope", func(w *Worker) error { return w.Namespace("n", NamespaceOptions{Scope: "team"}) }, `scope "team"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New("http://127.0.0.1:1")
			err := tt.register(w)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if runErr := w.Run(context.Background()); runErr == nil || !strings.Contains(runErr.Error(), tt.want) {
				t.Errorf("Run: %v, want the registration error", runErr)
			}
		})
	}
}

func TestWebsocketURL(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "http://localhost:8080", want: "ws://localhost:8080/ws"},
		{in: "https://pctx.example/base/", want: "wss://pctx.example/base/ws"},
		{in: "ws://h:1/custom", want: "ws://h:1/custom"},
		{in: "ftp://h", wantErr: "scheme"},
		{in: "http://", wantErr: "no host"},
		{in: "http://%zz", wantErr: "server URL"},
	}
	for _, tt := range tests {
		got, err := websocketURL(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("websocketURL(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("websocketURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
