package sdkbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/telemetry"
)

// Per-connection limits of docs/protocol.md §6.
const (
	maxCallsInFlight   = 10000
	maxWorkerRequests  = 64
	maxNamespaces      = 100
	maxToolsPerNS      = 1000
	maxNameBytes       = 128
	maxNamespaceBytes  = 1 << 20 // names, descriptions, schemas and params of one namespace
	maxRegisteredBytes = 4 << 20 // the same over all of a connection's namespaces
	outQueueLen        = 256
	finalWriteDeadline = time.Second
)

// conn is one worker connection. Its read loop (serve) decodes frames and dispatches them;
// one writer goroutine serialises outgoing frames, so a call never waits behind another
// call's answer; a pinger detects dead peers.
type conn struct {
	b       *Bridge
	ws      *websocket.Conn
	id      string
	remote  string
	since   time.Time
	session string  // published-client session id; "" for pctx/1 workers
	compat  Session // that session; nil for pctx/1 workers
	// life is the client session the connection's executions run in: the connection's
	// own (a pctx/1 worker's, ended when it disconnects) or the published client's.
	life *clientsession.Session
	log  *slog.Logger

	ctx    context.Context // cancelled when the connection ends
	cancel context.CancelFunc
	out    chan []byte
	wdone  chan struct{}  // closed when the writer stops: nothing queued will be sent
	bg     sync.WaitGroup // writer and pinger
	reqs   sync.WaitGroup // worker → server request handlers
	sem    chan struct{}  // bounds worker → server requests in flight

	nextID atomic.Int64
	once   sync.Once

	mu          sync.Mutex
	closed      bool
	initialized bool
	client      clientInfo
	cm          CodeMode // Code Mode under the connection's naming
	pending     map[int64]*pendingCall
	workerReqs  map[string]context.CancelFunc // worker request id → cancel of its handler

	// regMu serialises registration changes against shutdown, so a namespace registered
	// while the connection ends is still removed.
	regMu      sync.Mutex
	namespaces map[string]*registration
}

type registration struct {
	scope string // "global" or "session"
	ns    catalog.Namespace
	size  int // RegistrationBytes of what the worker registered
}

type pendingCall struct {
	ns, tool string
	ch       chan callReply // buffered 1: the read loop never blocks on it
}

type callReply struct {
	result json.RawMessage
	err    *rpcError
}

// newConn returns a connection; a published-client connection names its session (id and
// value).
func newConn(b *Bridge, ws *websocket.Conn, id, remote, sessionID string, session Session) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	var life *clientsession.Session
	if session != nil {
		life = session.ClientSession()
	} else {
		life = clientsession.Begin("ws:" + id)
	}
	return &conn{
		b: b, ws: ws, id: id, remote: remote, since: time.Now(),
		session: sessionID, compat: session, life: life, log: b.log.With("worker", id),
		ctx: ctx, cancel: cancel,
		out:        make(chan []byte, outQueueLen),
		wdone:      make(chan struct{}),
		sem:        make(chan struct{}, maxWorkerRequests),
		pending:    map[int64]*pendingCall{},
		workerReqs: map[string]context.CancelFunc{},
		namespaces: map[string]*registration{},
		cm:         b.cm,
	}
}

// codeModeService is Code Mode under the connection's naming.
func (c *conn) codeModeService() CodeMode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cm
}

// serve runs the connection until it ends and everything it started has stopped.
func (c *conn) serve() {
	c.log.Info("sdkbridge: worker connected", "remote", c.remote, "compat", c.session != "")
	c.bg.Add(2)
	go c.writeLoop()
	go c.pingLoop()
	status, reason := c.readLoop()
	c.terminate(status, reason)
}

// terminate ends the connection once: it removes the worker's namespaces, rejects its
// calls, cancels its requests, closes the websocket with status (or drops it when status
// is -1) and waits for the connection's goroutines.
func (c *conn) terminate(status websocket.StatusCode, reason string) {
	c.once.Do(func() {
		c.regMu.Lock()
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		for name, r := range c.namespaces {
			if r.scope == scopeGlobal {
				c.b.leavePool(c, name)
			}
		}
		c.regMu.Unlock()
		// Waiting calls select on ctx: they reject at once with ErrWorkerGone.
		c.cancel()
		c.reqs.Wait()
		if c.compat == nil {
			// A worker's session is its connection: its session-scoped upstream
			// instances stop now. A published client's session outlives its websockets.
			c.life.End()
		}
		// Closing also unblocks a write or ping stuck on a peer that stopped reading.
		if status < 0 {
			c.ws.CloseNow()
		} else {
			c.ws.Close(status, reason)
		}
		c.bg.Wait()
		c.log.Info("sdkbridge: worker disconnected", "status", status, "reason", reason)
	})
}

// readLoop reads frames until the connection fails, returning the close status to use.
func (c *conn) readLoop() (websocket.StatusCode, string) {
	for {
		// Not c.ctx: terminate closes the websocket with a status, which ends this read;
		// a cancelled read context would drop the connection without one.
		typ, frame, err := c.ws.Read(context.Background())
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrMessageTooBig):
				c.log.Warn("sdkbridge: frame over the size limit", "limit", c.b.opts.MaxMessageBytes)
				return websocket.StatusMessageTooBig, "message too big"
			case websocket.CloseStatus(err) != -1:
				return websocket.CloseStatus(err), ""
			}
			c.log.Debug("sdkbridge: read failed", "err", err)
			return -1, ""
		}
		if typ != websocket.MessageText {
			c.writeFatal(errorf(CodeInvalidRequest, "invalid request: binary frames are not supported, send JSON text frames"))
			return websocket.StatusUnsupportedData, "binary frames are not supported"
		}
		m, perr := decode(frame)
		if perr != nil {
			c.log.Warn("sdkbridge: malformed frame, closing", "err", perr.Message, "frame", clip(frame))
			c.writeFatal(perr)
			return websocket.StatusPolicyViolation, "malformed frame"
		}
		c.dispatch(m)
	}
}

// writeFatal sends the error response of a fatal protocol error directly, ahead of the
// close frame.
func (c *conn) writeFatal(e *rpcError) {
	frame, err := json.Marshal(response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: e})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), finalWriteDeadline)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		c.log.Debug("sdkbridge: writing the final error failed", "err", err)
	}
}

func (c *conn) writeLoop() {
	defer c.bg.Done()
	defer close(c.wdone)
	for {
		select {
		case frame := <-c.out:
			// Not c.ctx: coder/websocket drops the connection when a write's context ends,
			// even just after the write, which would lose terminate's close status.
			if err := c.ws.Write(context.Background(), websocket.MessageText, frame); err != nil {
				if c.ctx.Err() == nil {
					c.log.Info("sdkbridge: write failed, dropping worker", "err", err)
					c.ws.CloseNow() // ends the read loop, which terminates the connection
				}
				return
			}
		case <-c.ctx.Done():
			return
		}
	}
}

func (c *conn) pingLoop() {
	defer c.bg.Done()
	interval := c.b.opts.PingInterval
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 2*interval) // not c.ctx: see writeLoop
			err := c.ws.Ping(ctx)
			cancel()
			if err != nil {
				if c.ctx.Err() == nil {
					c.log.Warn("sdkbridge: worker did not answer a ping, dropping it", "err", err)
					c.ws.CloseNow()
				}
				return
			}
		case <-c.ctx.Done():
			return
		}
	}
}

// send queues one frame for the writer. It waits while the queue is full (a worker that
// reads slowly slows its own traffic down) but never once the writer has stopped, so the
// read loop cannot hang here.
func (c *conn) send(ctx context.Context, frame []byte) error {
	select {
	case c.out <- frame:
		return nil
	case <-c.ctx.Done():
		return ErrWorkerGone
	case <-c.wdone:
		return ErrWorkerGone
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sendJSON marshals v and queues it, refusing frames over the size limit.
func (c *conn) sendJSON(ctx context.Context, v any) error {
	frame, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	if int64(len(frame)) > c.b.opts.MaxMessageBytes {
		return fmt.Errorf("message of %d bytes exceeds the %d-byte limit", len(frame), c.b.opts.MaxMessageBytes)
	}
	return c.send(ctx, frame)
}

// reply answers a worker request. A result too large to send becomes an error reply.
func (c *conn) reply(id json.RawMessage, result any, e *rpcError) {
	err := c.sendJSON(c.ctx, response{JSONRPC: "2.0", ID: id, Result: result, Error: e})
	if err != nil && c.ctx.Err() == nil {
		c.log.Warn("sdkbridge: reply not sent", "id", string(id), "err", err)
		_ = c.sendJSON(c.ctx, response{JSONRPC: "2.0", ID: id, Error: errorf(CodeInternalError, "reply not sent: %v", err)})
	}
}

func (c *conn) dispatch(m *message) {
	switch {
	case m.isNotification():
		c.notification(m)
	case m.isRequest():
		c.request(m)
	default:
		c.response(m)
	}
}

func (c *conn) notification(m *message) {
	if m.Method != "cancel" {
		c.log.Debug("sdkbridge: unknown notification ignored", "method", m.Method)
		return
	}
	var p cancelParams
	if err := unmarshalParams(m, &p); err != nil || p.ID == nil {
		c.log.Debug("sdkbridge: cancel without a valid id ignored")
		return
	}
	c.mu.Lock()
	cancel := c.workerReqs[string(p.ID)]
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// response routes a worker's answer to the call waiting for it; anything else is dropped.
func (c *conn) response(m *message) {
	id, ok := callID(m.ID)
	var pc *pendingCall
	if ok {
		c.mu.Lock()
		pc = c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
	}
	if pc == nil {
		c.log.Debug("sdkbridge: answer to no call in flight ignored (late, duplicate or unknown id)", "id", string(m.ID))
		return
	}
	pc.ch <- callReply{result: m.Result, err: m.Error}
}

// request answers a worker's request. Control methods run inline, so their effects are
// ordered with later frames (a register is visible to the execute sent right after it);
// Code Mode methods run on their own goroutines.
func (c *conn) request(m *message) {
	c.mu.Lock()
	initialized := c.initialized || c.session != ""
	c.mu.Unlock()
	switch m.Method {
	case "ping":
		c.reply(m.ID, struct{}{}, nil)
		return
	case "initialize":
		res, err := c.initialize(m)
		c.reply(m.ID, res, err)
		return
	}
	if !initialized {
		c.reply(m.ID, nil, errorf(CodeNotInitialized, "not initialized: send initialize first"))
		return
	}
	switch m.Method {
	case "register":
		res, err := c.register(m)
		c.reply(m.ID, res, err)
	case "unregister":
		res, err := c.unregister(m)
		c.reply(m.ID, res, err)
	case "code_mode_tools":
		tools := c.b.opts.CodeModeTools
		if tools == nil {
			tools = []CodeModeTool{}
		}
		c.reply(m.ID, map[string]any{"tools": tools}, nil)
	case "list_functions", "get_function_details", "execute_typescript", "execute_code":
		c.async(m)
	default:
		c.reply(m.ID, nil, errorf(CodeMethodNotFound, "method not found: %q", m.Method))
	}
}

func (c *conn) initialize(m *message) (any, *rpcError) {
	var p initializeParams
	if err := unmarshalParams(m, &p); err != nil {
		return nil, err
	}
	if p.ProtocolVersion != ProtocolVersion {
		return nil, &rpcError{Code: CodeInvalidParams,
			Message: fmt.Sprintf("initialize: unsupported protocolVersion %q; this server speaks %q", p.ProtocolVersion, ProtocolVersion),
			Data:    map[string]any{"supported": []string{ProtocolVersion}}}
	}
	cm := c.b.cm
	if p.Naming != "" {
		n, err := catalog.ParseNaming(p.Naming)
		if err != nil {
			return nil, errorf(CodeInvalidParams, "initialize: naming: %v", err)
		}
		if cm = c.b.named(n); cm == nil {
			return nil, errorf(CodeInvalidParams, "initialize: naming %q: this server offers no choice of naming", p.Naming)
		}
	}
	c.mu.Lock()
	if c.initialized {
		c.mu.Unlock()
		return nil, errorf(CodeInvalidRequest, "initialize: already initialized")
	}
	c.initialized = true
	c.client = p.Client
	c.cm = cm
	c.mu.Unlock()
	c.log.Info("sdkbridge: worker initialized", "client", p.Client.Name, "version", p.Client.Version)
	o := c.b.opts
	return initializeResult{
		ProtocolVersion: ProtocolVersion,
		Server:          clientInfo{Name: o.ServerName, Version: o.ServerVersion},
		ConnectionID:    c.id,
		MaxMessageBytes: o.MaxMessageBytes,
		CallTimeoutMs:   o.CallTimeout.Milliseconds(),
		PingIntervalMs:  o.PingInterval.Milliseconds(),
		Naming:          p.Naming,
	}, nil
}

// async runs a Code Mode request on its own goroutine, bounded per connection; the worker
// may cancel it with a cancel notification naming its id.
func (c *conn) async(m *message) {
	select {
	case c.sem <- struct{}{}:
	default:
		c.reply(m.ID, nil, errorf(CodeTooBusy, "too busy: %d requests already in flight on this connection", maxWorkerRequests))
		return
	}
	release := func() { <-c.sem }
	ctx, cancel := context.WithCancel(c.ctx)
	key := string(m.ID)
	c.mu.Lock()
	if c.closed { // terminate is waiting for the handlers: start no more
		c.mu.Unlock()
		cancel()
		release()
		return
	}
	c.workerReqs[key] = cancel
	c.reqs.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.reqs.Done()
		defer release()
		defer func() {
			c.mu.Lock()
			delete(c.workerReqs, key)
			c.mu.Unlock()
			cancel()
		}()
		res, err := c.codeMode(ctx, m)
		if c.ctx.Err() != nil {
			return // the connection is gone: nobody to answer
		}
		c.reply(m.ID, res, err)
	}()
}

func (c *conn) codeMode(ctx context.Context, m *message) (any, *rpcError) {
	cm := c.codeModeService()
	session, serr := c.sessionNamespaces()
	if serr != nil {
		return nil, serr
	}
	switch m.Method {
	case "list_functions":
		var p listParams
		if err := unmarshalParams(m, &p); err != nil {
			return nil, err
		}
		text, err := cm.ListFunctions(catalog.ListOptions{Namespace: p.Namespace, Query: p.Query}, session...)
		if err != nil {
			return nil, codeModeError(m.Method, err)
		}
		return textResult{Text: text}, nil
	case "get_function_details":
		var p detailsParams
		if err := unmarshalParams(m, &p); err != nil {
			return nil, err
		}
		if len(p.Functions) == 0 {
			return nil, errorf(CodeInvalidParams, `get_function_details: params.functions must name at least one function, like "namespace.function"`)
		}
		text, err := cm.FunctionDetails(p.Functions, session...)
		if err != nil {
			return nil, codeModeError(m.Method, err)
		}
		return textResult{Text: text}, nil
	default: // execute_typescript, execute_code
		var p executeParams
		if err := unmarshalParams(m, &p); err != nil {
			return nil, err
		}
		if p.Code == "" {
			return nil, errorf(CodeInvalidParams, "%s: params.code is required", m.Method)
		}
		ctx = catalog.WithCallTimeouts(ctx, p.callTimeouts())
		if c.session != "" && p.Disclosure != "" {
			// The published client's choice: under "sidecar" its program has invoke.
			d, err := codemode.ParseDisclosure(p.Disclosure)
			if err != nil {
				return nil, errorf(CodeInvalidParams, "%s: params.%v", m.Method, err)
			}
			ctx = codemode.WithDisclosure(ctx, d)
		}
		// A worker's executions, or a published-client session's over all its websockets,
		// share one session: its execution allowance, so executions waiting on its own
		// unanswered tools cannot take every execution slot of the server, and its
		// instances of session-scoped upstreams.
		ctx = clientsession.NewContext(telemetry.FromMeta(ctx, p.Meta), c.life)
		var rec *codemode.Record
		if c.session != "" { // the published client's result carries the call timeline
			rec = new(codemode.Record)
			ctx = codemode.WithRecord(ctx, rec)
		}
		res, err := cm.Execute(ctx, p.Code, session...)
		if err != nil {
			return nil, codeModeError(m.Method, err)
		}
		if c.session != "" {
			return c.compat.Result(rec), nil
		}
		return executeResult(res, c.b.opts.FormatResult(res)), nil
	}
}

// codeModeError maps a Code Mode failure to a JSON-RPC error: a session overlay clash is
// -32010, anything else a problem with the request.
func codeModeError(method string, err error) *rpcError {
	switch {
	case errors.Is(err, catalog.ErrNamespaceTaken):
		return errorf(CodeNamespaceTaken, "%s: %v", method, err)
	case errors.Is(err, codemode.ErrBusy):
		return errorf(CodeTooBusy, "%s: %v", method, err)
	}
	return errorf(CodeInvalidParams, "%s: %v", method, err)
}

// info snapshots the connection for Bridge.Workers.
func (c *conn) info() WorkerInfo {
	c.mu.Lock()
	w := WorkerInfo{ID: c.id, RemoteAddr: c.remote, ConnectedAt: c.since, CallsInFlight: len(c.pending)}
	switch {
	case c.session != "":
		w.Client = "pctx-client (compat)"
	case c.client.Name != "":
		w.Client = c.client.Name + "/" + c.client.Version
	}
	c.mu.Unlock()
	c.regMu.Lock()
	for name, r := range c.namespaces {
		if r.scope == scopeGlobal {
			w.Namespaces = append(w.Namespaces, name)
		} else {
			w.Session = append(w.Session, name)
		}
	}
	c.regMu.Unlock()
	slices.Sort(w.Namespaces)
	slices.Sort(w.Session)
	return w
}
