package compat

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
	"github.com/pctx-dev/pctx/internal/sdkbridge"
)

// harness is the compatibility layer wired as pctx wires it: a real catalog and Code Mode
// service, the bridge carrying the published client's websockets and the REST endpoints,
// on one loopback server.
type harness struct {
	cat    *catalog.Catalog
	cm     *countingCodeMode
	compat *Server
	bridge *sdkbridge.Bridge
	srv    *httptest.Server
}

// countingCodeMode counts the snapshots REST answers take.
type countingCodeMode struct {
	*codemode.Service
	snapshots atomic.Int64
}

func (c *countingCodeMode) Snapshot(session ...catalog.Namespace) (*catalog.Snapshot, error) {
	c.snapshots.Add(1)
	return c.Service.Snapshot(session...)
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
	cm := &countingCodeMode{Service: codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t)})}
	srv := New(cm, opts)
	bridge := sdkbridge.New(cat, cm.Service, &sdkbridge.Options{Logger: opts.Logger, Sessions: srv, FormatResult: codemode.FormatResult,
		Named: func(n catalog.Naming) sdkbridge.CodeMode { return cm.Service.Named(n) }})
	mux := http.NewServeMux()
	mux.Handle("/ws", bridge)
	mux.Handle("/", srv.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = bridge.Close()
		_ = srv.Close()
		hs.Close()
	})
	return &harness{cat: cat, cm: cm, compat: srv, bridge: bridge, srv: hs}
}

var newRESTHarness = newHarness

// post sends a JSON body (a string is sent as is) with the given headers and returns the
// status and the body.
func (h *harness) post(t *testing.T, path string, body any, header map[string]string) (int, string) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = strings.NewReader(string(data))
	}
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func (h *harness) session(t *testing.T) string {
	t.Helper()
	status, body := h.post(t, "/code-mode/session/create", nil, nil)
	var res struct {
		SessionID string `json:"session_id"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &res) != nil || res.SessionID == "" {
		t.Fatalf("session/create: %d %s", status, body)
	}
	return res.SessionID
}

func (h *harness) has(ns string) bool {
	for _, info := range h.cat.Snapshot().Namespaces() {
		if info.Name == ns {
			return true
		}
	}
	return false
}

func mustSession(t testing.TB, srv *Server) string {
	t.Helper()
	id, err := srv.CreateSession()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func noCall(context.Context, map[string]any) (any, error) { return nil, errors.New("not callable") }

func jsonText(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// The published client's side of its websocket, as pctx-client 0.4.5 speaks it
// (docs/protocol.md §10): no initialize, execute_typescript requests, execute_tool calls
// answered with {output}.

type frame struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *wireError      `json:"error,omitempty"`
}

type wireError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type toolCall struct {
	ID        json.RawMessage
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Args      map[string]any `json:"args"`
	TimeoutMs int64          `json:"timeoutMs"`
}

type publishedClient struct {
	t       testing.TB
	ws      *websocket.Conn
	handler func(*publishedClient, toolCall)
	calls   chan toolCall // every execute_tool received, if non-nil

	mu      sync.Mutex
	nextID  int
	waiting map[string]chan frame
	done    chan struct{}
}

// dialClient opens a websocket for session id; handler answers its tool calls.
func dialClient(t testing.TB, url, id string, handler func(*publishedClient, toolCall)) *publishedClient {
	t.Helper()
	ws, resp, err := websocket.Dial(context.Background(), strings.Replace(url, "http", "ws", 1)+"/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{sdkbridge.SessionHeader: {id}}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	c := &publishedClient{t: t, ws: ws, handler: handler, waiting: map[string]chan frame{}, done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() {
		ws.CloseNow()
		<-c.done
	})
	return c
}

func (c *publishedClient) readLoop() {
	defer close(c.done)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.t.Errorf("client got a frame that is not JSON-RPC: %s", data)
			continue
		}
		if f.Method == "execute_tool" {
			var call toolCall
			if err := json.Unmarshal(f.Params, &call); err != nil {
				c.t.Errorf("execute_tool params: %v", err)
				continue
			}
			call.ID = f.ID
			if c.calls != nil {
				c.calls <- call
			}
			if c.handler != nil {
				go c.handler(c, call)
			}
			continue
		}
		c.mu.Lock()
		ch := c.waiting[string(f.ID)]
		delete(c.waiting, string(f.ID))
		c.mu.Unlock()
		if ch != nil {
			ch <- f
		}
	}
}

func (c *publishedClient) write(v any) {
	data, _ := json.Marshal(v)
	_ = c.ws.Write(context.Background(), websocket.MessageText, data)
}

// request sends a request and waits for its response.
func (c *publishedClient) request(method string, params any) frame {
	c.t.Helper()
	c.mu.Lock()
	c.nextID++
	id := fmt.Sprint(c.nextID)
	ch := make(chan frame, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	c.write(map[string]any{"jsonrpc": "2.0", "id": json.RawMessage(id), "method": method, "params": params})
	select {
	case f := <-ch:
		return f
	case <-c.done:
		c.t.Fatalf("%s: connection closed before the response", method)
		return frame{}
	}
}

func (c *publishedClient) answer(id json.RawMessage, output any) {
	c.write(map[string]any{"jsonrpc": "2.0", "id": id, "result": map[string]any{"output": output}})
}

func (c *publishedClient) fail(id json.RawMessage, e wireError) {
	c.write(map[string]any{"jsonrpc": "2.0", "id": id, "error": e})
}
