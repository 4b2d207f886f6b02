package pctxsdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

const (
	// defaultMaxMessageBytes is the frame limit until initialize says otherwise.
	defaultMaxMessageBytes = 16 << 20
	// setupTimeout bounds dialing, initialize and register on one connection.
	setupTimeout = 30 * time.Second
	// writeTimeout bounds one frame's write; a stuck connection is dropped after it.
	writeTimeout = 30 * time.Second
)

// conn is one websocket connection to the server: a read loop dispatching frames, the
// worker's own pending requests, and the server's execute_tool calls being served.
type conn struct {
	ws       *websocket.Conn
	w        *Worker
	log      *slog.Logger
	maxBytes atomic.Int64
	nextID   atomic.Int64

	// base is the parent of every call's context; stop cancels it with a cause.
	base context.Context
	stop context.CancelCauseFunc

	mu      sync.Mutex
	pending map[string]chan *message // our requests by id; nil once the connection ended
	calls   map[string]*call         // the server's calls by id
	err     error                    // why the connection ended

	handlers sync.WaitGroup // call goroutines; waited for before done closes
	// lost is closed as soon as the read loop ends: Run reconnects on it without waiting
	// for handlers that ignore their context (their answers have nowhere to go).
	lost chan struct{}
	done chan struct{} // closed when the read loop and every handler ended
}

type call struct {
	cancel    context.CancelCauseFunc
	cancelled bool // the server cancelled it: it expects no answer
}

func dial(ctx context.Context, w *Worker) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	header := http.Header{}
	if w.opts.apiKey != "" {
		header.Set("Authorization", "Bearer "+w.opts.apiKey)
	}
	ws, resp, err := websocket.Dial(ctx, w.wsURL, &websocket.DialOptions{HTTPHeader: header, HTTPClient: w.opts.httpClient})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, fmt.Errorf("pctxsdk: connect %s: %w", w.wsURL, ErrUnauthorized)
		}
		return nil, fmt.Errorf("pctxsdk: connect %s: %w", w.wsURL, err)
	}
	ws.SetReadLimit(defaultMaxMessageBytes)
	c := &conn{
		ws:      ws,
		w:       w,
		log:     w.log,
		pending: map[string]chan *message{},
		calls:   map[string]*call{},
		lost:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	c.maxBytes.Store(defaultMaxMessageBytes)
	c.base, c.stop = context.WithCancelCause(context.Background())
	// Run waits for every connection's read loop and handlers before it returns.
	w.conns.Add(1)
	go c.readLoop()
	return c, nil
}

// setup initializes the connection and registers every namespace.
func (c *conn) setup(ctx context.Context, w *Worker, regs []registerParams) (ServerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	var res initializeResult
	err := c.request(ctx, "initialize", initializeParams{
		ProtocolVersion: ProtocolVersion,
		Client:          clientInfo{Name: w.opts.clientName, Version: w.opts.clientVersion},
	}, &res, false)
	if err != nil {
		return ServerInfo{}, fmt.Errorf("pctxsdk: initialize: %w", err)
	}
	if res.MaxMessageBytes > 0 {
		c.maxBytes.Store(res.MaxMessageBytes)
		c.ws.SetReadLimit(res.MaxMessageBytes)
	}
	for _, reg := range regs {
		if err := c.request(ctx, "register", reg, nil, false); err != nil {
			return ServerInfo{}, fmt.Errorf("pctxsdk: register namespace %q: %w", reg.Namespace, err)
		}
	}
	return ServerInfo{
		Name:            res.Server.Name,
		Version:         res.Server.Version,
		ProtocolVersion: res.ProtocolVersion,
		ConnectionID:    res.ConnectionID,
		MaxMessageBytes: c.maxBytes.Load(),
		CallTimeout:     time.Duration(res.CallTimeoutMs) * time.Millisecond,
		PingInterval:    time.Duration(res.PingIntervalMs) * time.Millisecond,
	}, nil
}

// close ends the connection with a normal closure and waits until its handlers ended.
// cause is what the handlers' contexts report.
func (c *conn) close(cause error) {
	c.stop(cause)
	if err := c.ws.Close(websocket.StatusNormalClosure, "worker stopping"); err != nil {
		c.ws.CloseNow()
	}
	<-c.done
}

// cause says why the connection ended.
func (c *conn) cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *conn) readLoop() {
	defer c.w.conns.Done()
	var err error
	for {
		var typ websocket.MessageType
		var data []byte
		typ, data, err = c.ws.Read(context.Background())
		if err != nil {
			break
		}
		if typ != websocket.MessageText {
			c.log.Warn("pctx sent a binary frame; ignored")
			continue
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			c.log.Warn("pctx sent an undecodable frame; ignored", "err", err)
			continue
		}
		c.dispatch(&m)
	}
	c.mu.Lock()
	c.err = fmt.Errorf("%w: %w", ErrConnectionLost, err)
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, ch := range pending {
		close(ch)
	}
	c.stop(ErrConnectionLost)
	close(c.lost)
	c.handlers.Wait()
	close(c.done)
}

func (c *conn) dispatch(m *message) {
	hasID := len(m.ID) > 0 && string(m.ID) != "null"
	switch {
	case m.Method != "" && hasID:
		switch m.Method {
		case "execute_tool":
			c.startCall(m)
		case "ping":
			c.reply(m.ID, json.RawMessage("{}"), nil)
		default:
			c.reply(m.ID, nil, &RPCError{Code: CodeMethodNotFound, Message: fmt.Sprintf("method %q not supported by this worker", m.Method)})
		}
	case m.Method != "":
		if m.Method == "cancel" {
			c.cancelCall(m.Params)
		}
	case !hasID:
		// The server's answer to a frame it could not parse: it closes the connection next.
		c.log.Error("pctx reported a protocol error", "err", m.Error)
	default:
		c.mu.Lock()
		ch := c.pending[idKey(m.ID)]
		delete(c.pending, idKey(m.ID))
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

func idKey(raw json.RawMessage) string { return strings.TrimSpace(string(raw)) }

// request sends a request and waits for its answer, decoded into out when not nil. If
// ctx ends first and cancelOnAbort is set, the server is sent a cancel for it.
func (c *conn) request(ctx context.Context, method string, params, out any, cancelOnAbort bool) error {
	id := c.nextID.Add(1)
	key := strconv.FormatInt(id, 10)
	ch := make(chan *message, 1)
	c.mu.Lock()
	if c.pending == nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.pending[key] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		if c.pending != nil {
			delete(c.pending, key)
		}
		c.mu.Unlock()
	}
	p, err := json.Marshal(params)
	if err != nil {
		forget()
		return fmt.Errorf("encode %s params: %w", method, err)
	}
	if err := c.send(ctx, &message{JSONRPC: "2.0", ID: json.RawMessage(key), Method: method, Params: p}); err != nil {
		forget()
		return err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return c.cause()
		}
		if m.Error != nil {
			return m.Error
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				return fmt.Errorf("decode %s result: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		forget()
		if cancelOnAbort {
			cp, _ := json.Marshal(cancelParams{ID: json.RawMessage(key)})
			// Best effort: if the connection is gone the execution is cancelled anyway.
			_ = c.send(context.Background(), &message{JSONRPC: "2.0", Method: "cancel", Params: cp})
		}
		return ctx.Err()
	}
}

// send writes one frame; the websocket library serialises concurrent writes.
func (c *conn) send(ctx context.Context, m *message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode frame: %w", err)
	}
	if limit := c.maxBytes.Load(); int64(len(b)) > limit {
		return fmt.Errorf("frame of %d bytes is over the server's limit of %d (maxMessageBytes)", len(b), limit)
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("%w: write: %w", ErrConnectionLost, err)
	}
	return nil
}

// reply answers one of the server's requests with a result or an error.
func (c *conn) reply(id json.RawMessage, result json.RawMessage, rpcErr *RPCError) {
	m := &message{JSONRPC: "2.0", ID: id, Result: result, Error: rpcErr}
	err := c.send(context.Background(), m)
	if err != nil && rpcErr == nil && !errors.Is(err, ErrConnectionLost) {
		// The result itself is the problem (too large): tell the agent instead.
		m = &message{JSONRPC: "2.0", ID: id, Error: &RPCError{Code: CodeToolError, Message: "result not sent: " + err.Error()}}
		err = c.send(context.Background(), m)
	}
	switch {
	case errors.Is(err, ErrConnectionLost):
		// The server rejected the call already (docs/protocol.md §3.5).
		c.log.Debug("cannot answer pctx", "id", idKey(id), "err", err)
	case err != nil:
		c.log.Warn("cannot answer pctx", "id", idKey(id), "err", err)
	}
}

// startCall serves one execute_tool request on its own goroutine.
func (c *conn) startCall(m *message) {
	var p executeToolParams
	if err := json.Unmarshal(m.Params, &p); err != nil {
		c.reply(m.ID, nil, &RPCError{Code: CodeInvalidParams, Message: "execute_tool params: " + err.Error()})
		return
	}
	t := c.w.lookup(p.Namespace, p.Name)
	if t == nil {
		c.reply(m.ID, nil, &RPCError{Code: CodeMethodNotFound, Message: fmt.Sprintf("no tool %s.%s on this worker", p.Namespace, p.Name)})
		return
	}
	ctx, cancel := context.WithCancelCause(c.base)
	stopTimer := context.CancelFunc(func() {})
	if p.TimeoutMs > 0 {
		ctx, stopTimer = context.WithTimeoutCause(ctx, time.Duration(p.TimeoutMs)*time.Millisecond, ErrCallTimedOut)
	}
	key := idKey(m.ID)
	cl := &call{cancel: cancel}
	c.mu.Lock()
	c.calls[key] = cl
	c.mu.Unlock()
	c.handlers.Add(1)
	go func() {
		defer c.handlers.Done()
		defer cancel(nil)
		defer stopTimer()
		value, err := t.invoke(ctx, p.Args)
		c.mu.Lock()
		delete(c.calls, key)
		skip := cl.cancelled
		c.mu.Unlock()
		if skip {
			return
		}
		if err != nil {
			c.reply(m.ID, nil, toolError(err))
			return
		}
		res, err := json.Marshal(toolResult{Value: value})
		if err != nil {
			c.reply(m.ID, nil, toolError(err))
			return
		}
		c.reply(m.ID, res, nil)
	}()
}

func (c *conn) cancelCall(params json.RawMessage) {
	var p cancelParams
	if err := json.Unmarshal(params, &p); err != nil {
		c.log.Warn("pctx sent an undecodable cancel; ignored", "err", err)
		return
	}
	cause := ErrCallCancelled
	if p.Reason == "timeout" {
		cause = ErrCallTimedOut
	}
	c.mu.Lock()
	cl := c.calls[idKey(p.ID)]
	if cl != nil {
		cl.cancelled = true
	}
	c.mu.Unlock()
	if cl != nil {
		cl.cancel(cause)
	}
}
