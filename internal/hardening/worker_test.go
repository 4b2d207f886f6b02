package hardening

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A fake SDK worker written from docs/protocol.md alone: it registers one namespace and
// serves execute_tool calls with a handler that may misbehave.

type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type toolCall struct {
	Name string         `json:"name"`
	Args map[string]any `json:"args"`
}

// callHandler serves one execute_tool call; it returns the result value, or ok=false to
// send nothing at all.
type callHandler func(w *worker, c toolCall) (value any, ok bool)

type worker struct {
	ws      *websocket.Conn
	handler callHandler
	ctx     context.Context // ends when the worker is closed
	stop    context.CancelFunc

	writeMu  sync.Mutex
	handlers sync.WaitGroup
	replies  chan message  // responses to the worker's own requests, in order
	done     chan struct{} // closed when the read loop ends
}

// startWorker connects to p's /ws, initializes, registers namespace ns with tools, and
// serves calls with handler until the test ends.
func startWorker(t testing.TB, p *pctx, ns string, tools []map[string]any, handler callHandler) *worker {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	ws, resp, err := websocket.Dial(ctx, strings.Replace(p.url, "http", "ws", 1)+"/ws", nil)
	if err != nil {
		stop()
		t.Fatalf("worker dial: %v", err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	ws.SetReadLimit(-1)
	w := &worker{ws: ws, handler: handler, ctx: ctx, stop: stop, replies: make(chan message, 4), done: make(chan struct{})}
	go w.readLoop()
	t.Cleanup(w.close)
	if err := w.request(1, "initialize", map[string]any{"protocolVersion": "pctx/1", "client": map[string]any{"name": "hardening", "version": "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.request(2, "register", map[string]any{"namespace": ns, "tools": tools}); err != nil {
		t.Fatal(err)
	}
	return w
}

// request sends a request and waits for its response; a JSON-RPC error is returned as
// an error starting with its code.
func (w *worker) request(id int, method string, params any) error {
	if err := w.write(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-w.replies:
		if m.Error != nil {
			return fmt.Errorf("%d %s", m.Error.Code, m.Error.Message)
		}
		return nil
	case <-w.done:
		return fmt.Errorf("%s: connection closed", method)
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s: no response", method)
	}
}

func (w *worker) close() {
	w.stop()
	w.handlers.Wait()
	w.ws.CloseNow()
	<-w.done
}

func (w *worker) readLoop() {
	defer close(w.done)
	for {
		_, data, err := w.ws.Read(w.ctx)
		if err != nil {
			return
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			continue // the server only sends JSON; a test would see the damage elsewhere
		}
		switch m.Method {
		case "execute_tool":
			var c toolCall
			if err := json.Unmarshal(m.Params, &c); err != nil {
				continue
			}
			// Calls run concurrently, as the protocol requires.
			w.handlers.Go(func() {
				if v, ok := w.handler(w, c); ok {
					_ = w.write(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": map[string]any{"value": v}})
				}
			})
		case "":
			w.replies <- m
		}
	}
}

func (w *worker) write(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	return w.ws.Write(w.ctx, websocket.MessageText, data)
}

// positionalTool declares a tool taking the named numeric parameters positionally.
func positionalTool(name string, params ...string) map[string]any {
	props := map[string]any{}
	for _, p := range params {
		props[p] = map[string]any{"type": "number"}
	}
	return map[string]any{
		"name":        name,
		"inputSchema": map[string]any{"type": "object", "properties": props, "required": params},
		"params":      params,
	}
}

// double answers n*2: the well-behaved SDK tool.
func double(_ *worker, c toolCall) (any, bool) {
	n, _ := c.Args["n"].(float64)
	return n * 2, true
}

// disconnect drops the connection without a closing handshake, in the middle of the call.
func disconnect(w *worker, _ toolCall) (any, bool) {
	w.ws.CloseNow()
	return nil, false
}

// silent never answers.
func silent(*worker, toolCall) (any, bool) { return nil, false }
