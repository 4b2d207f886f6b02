package pctxsdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Scope says who sees a namespace's functions (docs/protocol.md §3.2).
type Scope string

const (
	// ScopeGlobal namespaces are visible to every MCP client and every worker of the
	// server. It is the default.
	ScopeGlobal Scope = "global"
	// ScopeSession namespaces are visible only to the Code Mode requests this worker's
	// own connection sends (Execute, ListFunctions, FunctionDetails).
	ScopeSession Scope = "session"
)

// Option configures a Worker in New.
type Option func(*options)

type options struct {
	apiKey        string
	scope         Scope
	clientName    string
	clientVersion string
	logger        *slog.Logger
	minBackoff    time.Duration
	maxBackoff    time.Duration
	httpClient    *http.Client
	onReady       func(ServerInfo)
}

// WithAPIKey sets the key sent as `Authorization: Bearer <key>` on the websocket
// upgrade. Default: none (accepted by a server without [server] api_key).
func WithAPIKey(key string) Option { return func(o *options) { o.apiKey = key } }

// WithScope sets the scope of every namespace that NamespaceOptions does not set.
// Default: ScopeGlobal.
func WithScope(s Scope) Option { return func(o *options) { o.scope = s } }

// WithClientInfo sets the client name and version the server shows in its logs.
// Default: "pctx-sdk-go" and Version.
func WithClientInfo(name, version string) Option {
	return func(o *options) { o.clientName, o.clientVersion = name, version }
}

// WithLogger sets where the worker logs connection changes and failed answers.
// Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithBackoff sets the delays between reconnection attempts: the first retry waits
// about min, each failure doubles it up to max (with ±20% jitter). Default: 100ms, 5s.
func WithBackoff(min, max time.Duration) Option {
	return func(o *options) { o.minBackoff, o.maxBackoff = min, max }
}

// WithHTTPClient sets the HTTP client used for the websocket upgrade (for TLS settings
// or a proxy). Default: http.DefaultClient.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithOnReady sets a function Run calls each time a connection is initialized and every
// namespace is registered, after reconnections too. It runs on Run's goroutine and must
// not block. Default: none.
func WithOnReady(fn func(ServerInfo)) Option { return func(o *options) { o.onReady = fn } }

// ServerInfo describes the server a worker connected to (the initialize result).
type ServerInfo struct {
	Name            string
	Version         string
	ProtocolVersion string
	// ConnectionID is this connection's id, as the server logs it.
	ConnectionID string
	// MaxMessageBytes is the largest frame the server accepts and sends.
	MaxMessageBytes int64
	// CallTimeout is the longest the server waits for one call's answer.
	CallTimeout time.Duration
	// PingInterval is how often the server sends websocket pings.
	PingInterval time.Duration
}

// NamespaceOptions describe a namespace as a whole; see Worker.Namespace.
type NamespaceOptions struct {
	// Description is shown in list_functions. Default: none.
	Description string
	// Scope of the namespace. Default: the worker's scope (WithScope).
	Scope Scope
}

// ToolOption configures one tool in Register.
type ToolOption func(*toolOptions)

type toolOptions struct {
	positional bool
}

// Positional makes the TypeScript function take its input struct's fields as
// positional arguments, in field order (`infra.restart_service("api", true)`), instead
// of one object (`infra.restart_service({name: "api", force: true})`).
func Positional() ToolOption { return func(o *toolOptions) { o.positional = true } }

// Worker connects to a pctx server, registers its tools as Code Mode functions, serves
// their calls, and runs Code Mode programs. Register tools and set namespace options
// before Run; Execute, ListFunctions, FunctionDetails and CodeModeTools may be called
// from any goroutine while Run runs.
type Worker struct {
	wsURL  string
	opts   options
	log    *slog.Logger
	cfgErr error

	mu         sync.Mutex
	namespaces []*namespace // in registration order
	regErr     error        // first Register/Namespace error; Run returns it
	running    bool
	conn       *conn         // the ready connection, nil while (re)connecting
	ready      chan struct{} // closed when conn is set

	// conns counts connections whose read loop or handlers still run, including lost
	// ones whose handlers ignore their context; only Run's return waits for it.
	conns sync.WaitGroup
}

type namespace struct {
	name        string
	description string
	scope       Scope
	tools       []*tool
}

type tool struct {
	wire   wireTool
	invoke func(ctx context.Context, args json.RawMessage) (json.RawMessage, error)
}

// New returns a worker for the pctx server at baseURL: its websocket is /ws under an
// http:// or https:// URL; a ws:// or wss:// URL is used as given. An invalid URL is
// reported by Run.
func New(baseURL string, opts ...Option) *Worker {
	o := options{
		scope:         ScopeGlobal,
		clientName:    "pctx-sdk-go",
		clientVersion: Version,
		minBackoff:    100 * time.Millisecond,
		maxBackoff:    5 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	w := &Worker{opts: o, log: o.logger, ready: make(chan struct{})}
	w.wsURL, w.cfgErr = websocketURL(baseURL)
	if w.cfgErr == nil && o.scope != ScopeGlobal && o.scope != ScopeSession {
		w.cfgErr = fmt.Errorf("pctxsdk: scope %q: must be %q or %q", o.scope, ScopeGlobal, ScopeSession)
	}
	return w
}

func websocketURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("pctxsdk: server URL %q: %w", base, err)
	}
	switch u.Scheme {
	case "ws", "wss":
		return u.String(), nil
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("pctxsdk: server URL %q: scheme must be http, https, ws or wss", base)
	}
	if u.Host == "" {
		return "", fmt.Errorf("pctxsdk: server URL %q: no host", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/ws"
	return u.String(), nil
}

// Namespace sets a namespace's description and scope. It may come before or after the
// namespace's first Register, but not once Run has started.
func (w *Worker) Namespace(name string, o NamespaceOptions) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if o.Scope != "" && o.Scope != ScopeGlobal && o.Scope != ScopeSession {
		return w.fail(fmt.Errorf("pctxsdk: namespace %q: scope %q: must be %q or %q", name, o.Scope, ScopeGlobal, ScopeSession))
	}
	ns, err := w.namespaceLocked(name)
	if err != nil {
		return w.fail(err)
	}
	ns.description = o.Description
	if o.Scope != "" {
		ns.scope = o.Scope
	}
	return nil
}

// Register adds the tool namespace.name, served by fn, to w. Its input schema comes
// from In (a struct, a pointer to one, or a map with string keys) and its output schema
// from Out, via github.com/google/jsonschema-go: a field is required unless its json tag
// says omitempty or omitzero, a `jsonschema:"..."` tag is the field's description, and
// an `enum:"a,b,c"` tag lists its allowed values. The agent calls it as
// `namespace.name({...})` (or positionally, with Positional).
//
// fn runs on its own goroutine for each call, so calls are served concurrently. Its ctx
// ends when the call's deadline passes, when the server cancels the call (its execution
// ended), when the connection is lost or when Run's context ends; context.Cause tells
// which (ErrCallTimedOut, ErrCallCancelled, ErrConnectionLost, ErrWorkerStopped).
// Arguments that do not match In are refused before fn runs. An error fn returns, or a
// panic, rejects the agent's promise with an Error naming the tool (see ErrorTyper).
//
// Register must be called before Run. Its error (a bad name or type) is also returned
// by Run, so a worker with a broken tool does not start half-registered.
func Register[In, Out any](w *Worker, namespace, name, description string, fn func(context.Context, In) (Out, error), opts ...ToolOption) error {
	var to toolOptions
	for _, opt := range opts {
		opt(&to)
	}
	t, err := newTool(name, description, reflect.TypeFor[In](), reflect.TypeFor[Out](), to, func(ctx context.Context, args json.RawMessage) (any, error) {
		var in In
		if err := json.Unmarshal(args, &in); err != nil {
			return nil, &ArgsError{Err: err}
		}
		return fn(ctx, in)
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		return w.fail(fmt.Errorf("pctxsdk: register %s.%s: %w", namespace, name, err))
	}
	ns, err := w.namespaceLocked(namespace)
	if err != nil {
		return w.fail(err)
	}
	for _, other := range ns.tools {
		if other.wire.Name == name {
			return w.fail(fmt.Errorf("pctxsdk: register %s.%s: registered twice", namespace, name))
		}
	}
	ns.tools = append(ns.tools, t)
	return nil
}

func newTool(name, description string, in, out reflect.Type, to toolOptions, call func(context.Context, json.RawMessage) (any, error)) (*tool, error) {
	if err := checkName("tool", name); err != nil {
		return nil, err
	}
	is, err := inputSchema(in)
	if err != nil {
		return nil, err
	}
	outS, err := outputSchema(out)
	if err != nil {
		return nil, err
	}
	resolved, err := is.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	t := &tool{wire: wireTool{Name: name, Description: description}}
	if t.wire.InputSchema, err = json.Marshal(is); err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	if t.wire.OutputSchema, err = json.Marshal(outS); err != nil {
		return nil, fmt.Errorf("output schema: %w", err)
	}
	if to.positional {
		if len(is.PropertyOrder) == 0 {
			return nil, fmt.Errorf("Positional needs an input struct with fields, got %s", in)
		}
		t.wire.Params = is.PropertyOrder
	}
	t.invoke = func(ctx context.Context, args json.RawMessage) (value json.RawMessage, err error) {
		if len(args) == 0 || string(args) == "null" {
			args = json.RawMessage("{}")
		}
		var instance any
		if err := json.Unmarshal(args, &instance); err != nil {
			return nil, &ArgsError{Err: err}
		}
		if err := resolved.Validate(instance); err != nil {
			return nil, &ArgsError{Err: err}
		}
		// Recover around fn and the encoding of its result: both run user code.
		defer func() {
			if r := recover(); r != nil {
				err = &panicError{value: r, stack: debug.Stack()}
			}
		}()
		v, err := call(ctx, args)
		if err != nil {
			return nil, err
		}
		if value, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("encode result: %w", err)
		}
		return value, nil
	}
	return t, nil
}

func checkName(kind, name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("%s name %q: must be 1-128 bytes", kind, name)
	}
	return nil
}

// namespaceLocked finds or adds a namespace; w.mu is held.
func (w *Worker) namespaceLocked(name string) (*namespace, error) {
	if w.running {
		return nil, fmt.Errorf("pctxsdk: namespace %q: cannot change registrations while Run runs", name)
	}
	if err := checkName("namespace", name); err != nil {
		return nil, fmt.Errorf("pctxsdk: %w", err)
	}
	for _, ns := range w.namespaces {
		if ns.name == name {
			return ns, nil
		}
	}
	ns := &namespace{name: name}
	w.namespaces = append(w.namespaces, ns)
	return ns, nil
}

// fail records the first registration error for Run; w.mu is held.
func (w *Worker) fail(err error) error {
	if w.regErr == nil {
		w.regErr = err
	}
	return err
}

// registrations is the register params of every namespace with tools; w.mu is held.
func (w *Worker) registrations() []registerParams {
	var out []registerParams
	for _, ns := range w.namespaces {
		if len(ns.tools) == 0 {
			continue
		}
		scope := ns.scope
		if scope == "" {
			scope = w.opts.scope
		}
		p := registerParams{Namespace: ns.name, Description: ns.description, Scope: scope}
		for _, t := range ns.tools {
			p.Tools = append(p.Tools, t.wire)
		}
		out = append(out, p)
	}
	return out
}

// lookup finds a registered tool; registrations do not change while Run runs.
func (w *Worker) lookup(namespace, name string) *tool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ns := range w.namespaces {
		if ns.name != namespace {
			continue
		}
		for _, t := range ns.tools {
			if t.wire.Name == name {
				return t
			}
		}
	}
	return nil
}

// Run connects to the server, initializes, registers every namespace and serves calls
// until ctx ends, reconnecting with backoff (and registering again) whenever the
// connection is lost: pctx keeps no registrations across connections. It returns nil
// once ctx ends, or the error that makes retrying pointless: an invalid URL or tool,
// ErrUnauthorized, or an error of the server's (an *RPCError) refusing initialize or
// register on the first connection. Only one Run may run at a time. A lost connection
// does not wait for its tool handlers (their contexts are cancelled); Run's return does.
func (w *Worker) Run(ctx context.Context) error {
	w.mu.Lock()
	if err := errors.Join(w.cfgErr, w.regErr); err != nil {
		w.mu.Unlock()
		return err
	}
	if w.running {
		w.mu.Unlock()
		return errors.New("pctxsdk: Run is already running")
	}
	w.running = true
	regs := w.registrations()
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.running = false
		w.mu.Unlock()
	}()
	// Deferred last so it runs first: no handler outlives Run.
	defer w.conns.Wait()

	everReady := false
	failures := 0
	for {
		c, info, err := w.connect(ctx, regs)
		if err == nil {
			everReady, failures = true, 0
			w.setConn(c)
			w.log.Info("pctx worker ready", "url", w.wsURL, "connection", info.ConnectionID, "namespaces", len(regs))
			if w.opts.onReady != nil {
				w.opts.onReady(info)
			}
			select {
			case <-ctx.Done():
				w.clearConn(c)
				c.close(ErrWorkerStopped)
				return nil
			case <-c.lost:
				w.clearConn(c)
				w.log.Warn("pctx connection lost; reconnecting", "url", w.wsURL, "err", c.cause())
			}
		} else {
			if ctx.Err() != nil {
				return nil
			}
			if fatal(err, everReady) {
				return err
			}
			failures++
			w.log.Warn("cannot connect to pctx; retrying", "url", w.wsURL, "err", err)
		}
		t := time.NewTimer(w.backoff(failures))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// fatal says whether retrying cannot help. A namespace taken after a reconnection is
// retried: the server may not have noticed yet that our previous connection died.
func fatal(err error, everReady bool) bool {
	if errors.Is(err, ErrUnauthorized) {
		return true
	}
	var rpc *RPCError
	if errors.As(err, &rpc) {
		return !(everReady && rpc.Code == CodeNamespaceTaken)
	}
	return false
}

func (w *Worker) backoff(failures int) time.Duration {
	d := w.opts.minBackoff
	for i := 1; i < failures && d < w.opts.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.opts.maxBackoff)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// connect dials, initializes and registers; on error nothing is left running.
func (w *Worker) connect(ctx context.Context, regs []registerParams) (*conn, ServerInfo, error) {
	c, err := dial(ctx, w)
	if err != nil {
		return nil, ServerInfo{}, err
	}
	info, err := c.setup(ctx, w, regs)
	if err != nil {
		c.close(ErrWorkerStopped)
		return nil, ServerInfo{}, err
	}
	return c, info, nil
}

func (w *Worker) setConn(c *conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn = c
	close(w.ready)
}

func (w *Worker) clearConn(c *conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == c {
		w.conn = nil
		w.ready = make(chan struct{})
	}
}

// waitConn returns the ready connection, waiting for Run to (re)connect.
func (w *Worker) waitConn(ctx context.Context) (*conn, error) {
	for {
		w.mu.Lock()
		c, ready := w.conn, w.ready
		w.mu.Unlock()
		if c != nil {
			return c, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for Run to connect: %w", ctx.Err())
		}
	}
}

// Definition is one tool as the worker registers it with the server.
type Definition struct {
	Namespace    string
	Scope        Scope
	Name         string
	Description  string
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	// Params is the positional parameter order (Positional), nil for an object argument.
	Params []string
}

// Definitions returns the tools registered so far, in registration order, with the
// schemas derived from their Go types: what the server will be sent.
func (w *Worker) Definitions() []Definition {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Definition
	for _, reg := range w.registrations() {
		for _, t := range reg.Tools {
			out = append(out, Definition{
				Namespace: reg.Namespace, Scope: reg.Scope, Name: t.Name, Description: t.Description,
				InputSchema: t.InputSchema, OutputSchema: t.OutputSchema, Params: t.Params,
			})
		}
	}
	return out
}
