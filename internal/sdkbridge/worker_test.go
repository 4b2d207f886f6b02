package sdkbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/runtime"
)

// This file holds the test harness: a fake worker written from docs/protocol.md alone
// (its own wire types, not the bridge's), a fake CodeMode, and a server to connect to.

// frame is one JSON-RPC message as the fake worker sees it.
type frame struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *wireError      `json:"error,omitempty"`
}

type wireError struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// toolCall is an execute_tool request received by the fake worker.
type toolCall struct {
	ID        json.RawMessage
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Args      map[string]any `json:"args"`
	TimeoutMs int64          `json:"timeoutMs"`
	Deadline  int64          `json:"deadline"`
}

// toolHandler serves one call; it answers with w.answer or w.fail, or not at all.
type toolHandler func(w *fakeWorker, c toolCall)

// echoArgs answers every call with its argument object.
func echoArgs(w *fakeWorker, c toolCall) { w.answer(c.ID, map[string]any{"value": c.Args}) }

type fakeWorker struct {
	t       testing.TB
	ws      *websocket.Conn
	handler toolHandler

	handlers sync.WaitGroup // running toolHandlers

	mu      sync.Mutex
	nextID  int
	waiting map[string]chan frame

	calls   chan toolCall // every execute_tool received, if non-nil
	cancels chan frame    // cancel notifications
	errs    chan frame    // responses with a null id (fatal protocol errors)
	done    chan struct{} // closed when the read loop ends
	closeSt websocket.StatusCode
}

// dialWorker connects a fake worker to url; header may carry extra upgrade headers.
func dialWorker(t testing.TB, url string, handler toolHandler, header http.Header) *fakeWorker {
	t.Helper()
	ws, resp, err := websocket.Dial(context.Background(), strings.Replace(url, "http", "ws", 1), &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	ws.SetReadLimit(-1)
	w := &fakeWorker{
		t: t, ws: ws, handler: handler, waiting: map[string]chan frame{},
		cancels: make(chan frame, 100), errs: make(chan frame, 10), done: make(chan struct{}),
	}
	go w.readLoop()
	t.Cleanup(w.close)
	return w
}

// connectWorker dials and initializes.
func connectWorker(t testing.TB, url string, handler toolHandler) *fakeWorker {
	t.Helper()
	w := dialWorker(t, url, handler, nil)
	if f := w.request("initialize", map[string]any{"protocolVersion": "pctx/1", "client": map[string]any{"name": "fake", "version": "1"}}); f.Error != nil {
		t.Fatalf("initialize: %+v", f.Error)
	}
	return w
}

func (w *fakeWorker) close() {
	w.handlers.Wait()
	w.ws.CloseNow()
	<-w.done
}

func (w *fakeWorker) readLoop() {
	defer close(w.done)
	for {
		_, data, err := w.ws.Read(context.Background())
		if err != nil {
			w.closeSt = websocket.CloseStatus(err)
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			w.t.Errorf("worker got a frame that is not JSON-RPC: %s", data)
			continue
		}
		switch {
		case f.Method == "execute_tool":
			var c toolCall
			if err := json.Unmarshal(f.Params, &c); err != nil {
				w.t.Errorf("execute_tool params: %v", err)
				continue
			}
			c.ID = f.ID
			if w.calls != nil {
				w.calls <- c
			}
			if w.handler != nil {
				w.handlers.Go(func() { w.handler(w, c) }) // calls run concurrently, as the protocol requires
			}
		case f.Method == "cancel":
			w.cancels <- f
		case f.Method != "":
			w.t.Errorf("worker got unexpected request %s", f.Method)
		case string(f.ID) == "null":
			w.errs <- f
		default:
			w.mu.Lock()
			ch := w.waiting[string(f.ID)]
			delete(w.waiting, string(f.ID))
			w.mu.Unlock()
			if ch != nil {
				ch <- f
			}
		}
	}
}

// write sends v as one frame. Failures are the test's to check (a handler's answer may
// race with a connection the server closed on purpose).
func (w *fakeWorker) write(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.ws.Write(context.Background(), websocket.MessageText, data)
}

// mustWrite sends v and fails the test if it cannot.
func (w *fakeWorker) mustWrite(v any) {
	w.t.Helper()
	if err := w.write(v); err != nil {
		w.t.Fatalf("worker write: %v", err)
	}
}

// request sends a request and waits for its response.
func (w *fakeWorker) request(method string, params any) frame {
	w.t.Helper()
	_, ch := w.send(method, params)
	select {
	case f := <-ch:
		return f
	case <-w.done:
		w.t.Fatalf("%s: connection closed (status %d) before the response", method, w.closeSt)
		return frame{}
	}
}

// send sends a request and returns its id and the channel its response will arrive on.
func (w *fakeWorker) send(method string, params any) (json.RawMessage, chan frame) {
	w.mu.Lock()
	w.nextID++
	id := fmt.Sprintf(`"w%d"`, w.nextID)
	ch := make(chan frame, 1)
	w.waiting[id] = ch
	w.mu.Unlock()
	w.mustWrite(map[string]any{"jsonrpc": "2.0", "id": json.RawMessage(id), "method": method, "params": params})
	return json.RawMessage(id), ch
}

func (w *fakeWorker) answer(id json.RawMessage, result any) {
	_ = w.write(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
}

func (w *fakeWorker) fail(id json.RawMessage, e wireError) {
	_ = w.write(map[string]any{"jsonrpc": "2.0", "id": id, "error": e})
}

// register registers namespace ns with tools and fails the test on an error.
func (w *fakeWorker) register(ns, scope string, tools ...map[string]any) {
	w.t.Helper()
	f := w.request("register", map[string]any{"namespace": ns, "scope": scope, "tools": tools})
	if f.Error != nil {
		w.t.Fatalf("register %s: %+v", ns, f.Error)
	}
}

// positional is a tool taking the named string parameters positionally.
func positional(name string, params ...string) map[string]any {
	props := map[string]any{}
	for _, p := range params {
		props[p] = map[string]any{"type": "string"}
	}
	return map[string]any{"name": name, "inputSchema": map[string]any{"type": "object", "properties": props, "required": params}, "params": params}
}

// objectTool is an MCP-style tool taking any object.
func objectTool(name string) map[string]any {
	return map[string]any{"name": name, "inputSchema": map[string]any{"type": "object"}}
}

// fakeCodeMode answers the Code Mode methods from the catalog, the way codemode.Service
// does, with programs of the form "call ns.fn ARGS_JSON".
type fakeCodeMode struct {
	cat       *catalog.Catalog
	naming    catalog.Naming
	snapshots atomic.Int64 // taken so far
}

func (f *fakeCodeMode) snapshot(session []catalog.Namespace) (*catalog.Snapshot, error) {
	f.snapshots.Add(1)
	snap, err := f.cat.Snapshot().With(session...)
	if err != nil {
		return nil, err
	}
	return snap.Named(f.naming), nil
}

func (f *fakeCodeMode) Snapshot(session ...catalog.Namespace) (*catalog.Snapshot, error) {
	return f.snapshot(session)
}

func (f *fakeCodeMode) ListFunctions(opts catalog.ListOptions, session ...catalog.Namespace) (string, error) {
	snap, err := f.snapshot(session)
	if err != nil {
		return "", err
	}
	return snap.List(opts), nil
}

func (f *fakeCodeMode) FunctionDetails(names []string, session ...catalog.Namespace) (string, error) {
	snap, err := f.snapshot(session)
	if err != nil {
		return "", err
	}
	return snap.Details(names)
}

func (f *fakeCodeMode) Execute(ctx context.Context, code string, session ...catalog.Namespace) (*runtime.Result, error) {
	snap, err := f.snapshot(session)
	if err != nil {
		return nil, err
	}
	var name, args string
	if _, err := fmt.Sscanf(code, "call %s %s", &name, &args); err != nil {
		return &runtime.Result{Error: &runtime.Error{Kind: "syntax", Message: "cannot parse " + code, Line: 1, Column: 1}}, nil
	}
	var argv []any
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		return nil, err
	}
	fn := snap.Functions()[name]
	if fn == nil {
		return &runtime.Result{Error: &runtime.Error{Kind: "reference", Message: name + " is not defined"}}, nil
	}
	v, err := fn(ctx, argv)
	res := &runtime.Result{Value: v, Calls: 1, Console: []runtime.ConsoleLine{{Level: "log", Text: "calling " + name}, {Level: "warn", Text: "careful"}}}
	if err != nil {
		res.Value = nil
		res.Error = &runtime.Error{Kind: "tool", Message: err.Error()}
	}
	return res, nil
}

// harness is a bridge on a loopback server over a real catalog.
type harness struct {
	cat    *catalog.Catalog
	bridge *Bridge
	srv    *httptest.Server
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t testing.TB, opts *Options) *harness {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	cat := catalog.New()
	return newHarnessOver(t, cat, &fakeCodeMode{cat: cat}, opts)
}

// newHarnessOver is newHarness with the Code Mode service cm over cat.
func newHarnessOver(t testing.TB, cat *catalog.Catalog, cm CodeMode, opts *Options) *harness {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	b := New(cat, cm, opts)
	srv := httptest.NewServer(b)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("bridge close: %v", err)
		}
		srv.Close()
	})
	return &harness{cat: cat, bridge: b, srv: srv}
}

// fn returns the catalog's binding of "ns.fn", failing the test when it is missing. Its
// results are decoded from the raw JSON the bridge hands the runtime, so tests compare Go
// values.
func (h *harness) fn(t testing.TB, name string) runtime.Func {
	t.Helper()
	f := h.cat.Snapshot().Functions()[name]
	if f == nil {
		t.Fatalf("function %s not in the catalog", name)
	}
	return func(ctx context.Context, args []any) (any, error) {
		res, err := f(ctx, args)
		return decodeRaw(t, res), err
	}
}

// decodeRaw turns a json.RawMessage result into plain Go data (numbers as float64).
func decodeRaw(t testing.TB, v any) any {
	raw, ok := v.(json.RawMessage)
	if !ok {
		return v
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Errorf("result is not JSON: %v", err)
	}
	return out
}

// waitGone blocks until namespace ns has left the catalog.
func (h *harness) waitGone(ns string) {
	for {
		ch := h.cat.Changed()
		if !h.has(ns) {
			return
		}
		<-ch
	}
}

func (h *harness) has(ns string) bool {
	for _, info := range h.cat.Snapshot().Namespaces() {
		if info.Name == ns {
			return true
		}
	}
	return false
}

// fakeSessions stands in for package compat: every id names a session whose one tool,
// data.hang, is served by the requesting connection.
type fakeSessions struct{}

func (f *fakeSessions) Attach(string) (Session, bool) { return f, true }

func (f *fakeSessions) Namespaces(call CallFunc) ([]catalog.Namespace, error) {
	return []catalog.Namespace{{Name: "data", Tools: []catalog.Tool{{Name: "hang", Call: func(ctx context.Context, args map[string]any) (any, error) {
		return call(ctx, "data", "hang", args)
	}}}}}, nil
}

func (f *fakeSessions) Result(rec *codemode.Record) any { return rec.Result }

func (f *fakeSessions) ClientSession() *clientsession.Session {
	return clientsession.Begin("compat:fake")
}

func (f *fakeSessions) Naming() catalog.Naming { return catalog.NamingRegistered }

func (f *fakeSessions) Detach() {}
