package pctxsdk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeServer is a scripted pctx: each accepted websocket goes to conns, and the test
// plays the server's side of the protocol frame by frame.
type fakeServer struct {
	t     *testing.T
	srv   *httptest.Server
	conns chan *fakeConn

	mu  sync.Mutex
	all []*websocket.Conn
}

type fakeConn struct {
	t      *testing.T
	ws     *websocket.Conn
	header http.Header
	nextID int
}

// wait bounds every read of a test peer so that a bug shows up as a failure, not a hang.
const wait = 30 * time.Second

func newFakeServer(t *testing.T, handler func(http.ResponseWriter, *http.Request) bool) *fakeServer {
	t.Helper()
	fs := &fakeServer{t: t, conns: make(chan *fakeConn, 4)}
	fs.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if handler != nil && !handler(rw, r) {
			return
		}
		ws, err := websocket.Accept(rw, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		ws.SetReadLimit(64 << 20)
		fs.mu.Lock()
		fs.all = append(fs.all, ws)
		fs.mu.Unlock()
		fs.conns <- &fakeConn{t: t, ws: ws, header: r.Header}
	}))
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *fakeServer) url() string { return fs.srv.URL }

func (fs *fakeServer) accept() *fakeConn {
	fs.t.Helper()
	select {
	case c := <-fs.conns:
		return c
	case <-time.After(wait):
		fs.t.Fatal("no worker connected")
		return nil
	}
}

func (c *fakeConn) read() message {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("read from worker: %v", err)
	}
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("worker sent %s: %v", data, err)
	}
	return m
}

func (c *fakeConn) write(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatalf("write to worker: %v", err)
	}
}

// expect reads a request of the given method.
func (c *fakeConn) expect(method string) message {
	c.t.Helper()
	m := c.read()
	if m.Method != method {
		c.t.Fatalf("worker sent %+v, want a %s request", m, method)
	}
	return m
}

func (c *fakeConn) respond(id json.RawMessage, result any) {
	c.t.Helper()
	c.write(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
}

func (c *fakeConn) respondError(id json.RawMessage, code int, msg string) {
	c.t.Helper()
	c.write(map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": code, "message": msg}})
}

// handshake answers initialize and n registers, returning the register params.
func (c *fakeConn) handshake(maxBytes int, n int) []registerParams {
	c.t.Helper()
	init := c.expect("initialize")
	var ip initializeParams
	if err := json.Unmarshal(init.Params, &ip); err != nil || ip.ProtocolVersion != ProtocolVersion {
		c.t.Fatalf("initialize params %s (%v)", init.Params, err)
	}
	c.respond(init.ID, map[string]any{
		"protocolVersion": "pctx/1", "server": map[string]any{"name": "fake", "version": "0"},
		"connectionId": "c1", "maxMessageBytes": maxBytes, "callTimeoutMs": 60000, "pingIntervalMs": 15000,
	})
	var regs []registerParams
	for range n {
		m := c.expect("register")
		var p registerParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			c.t.Fatal(err)
		}
		regs = append(regs, p)
		c.respond(m.ID, map[string]any{"namespace": p.Namespace, "scope": p.Scope, "functions": []string{}})
	}
	return regs
}

// call sends execute_tool and returns the worker's answer.
func (c *fakeConn) call(ns, name string, args any, timeoutMs int) message {
	c.t.Helper()
	id := c.send(ns, name, args, timeoutMs)
	m := c.read()
	if string(m.ID) != id {
		c.t.Fatalf("answer %+v, want id %s", m, id)
	}
	return m
}

// send sends execute_tool without waiting and returns its id.
func (c *fakeConn) send(ns, name string, args any, timeoutMs int) string {
	c.t.Helper()
	c.nextID++
	c.write(map[string]any{"jsonrpc": "2.0", "id": c.nextID, "method": "execute_tool", "params": map[string]any{
		"namespace": ns, "name": name, "args": args, "timeoutMs": timeoutMs, "deadline": 0,
	}})
	return strconv.Itoa(c.nextID)
}

// closeAll drops every connection the server accepted.
func (fs *fakeServer) closeAll() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, ws := range fs.all {
		ws.CloseNow()
	}
}

// run runs w until the test ends; then it stops w and drops the server's side of its
// connections (the scripted server does not read, so it would never finish a closing
// handshake).
func (fs *fakeServer) run(w *Worker) {
	t := fs.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		fs.closeAll()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			t.Error("Run did not return after its context ended")
		}
	})
}
