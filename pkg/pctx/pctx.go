// Package pctx runs Code Mode in-process: hand it a configuration and some Go functions,
// and an agent's TypeScript program can call them, together with the tools of the
// upstream MCP servers the configuration names and of the SDK workers that connect over
// its websocket, in one execution.
//
// New starts the upstreams; Register adds Go functions as a namespace; Execute runs a
// program; Handler serves MCP over streamable HTTP (/mcp), the SDK websocket (/ws) and
// /healthz; ServeStdio serves one MCP client over a pipe; Close stops everything. A *PCTX
// is safe for concurrent use.
//
// Programs run in sandbox worker processes, so that nothing a program does (a stack
// overflow while compiling eval'd code, a huge allocation, a native loop past its time
// limit) can take the embedding process down. A worker is a copy of the embedding
// program itself, started with an environment variable that makes this package's init
// serve as a worker before main runs: the embedder writes no code for it.
//
// The pctx command is this package plus flags: whatever it serves, an embedder can.
package pctx

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/compat"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/dashboard"
	"github.com/pctx-dev/pctx/internal/keyring"
	"github.com/pctx-dev/pctx/internal/oauth"
	"github.com/pctx-dev/pctx/internal/redact"
	"github.com/pctx-dev/pctx/internal/runtime"
	"github.com/pctx-dev/pctx/internal/sandbox"
	"github.com/pctx-dev/pctx/internal/sdkbridge"
	"github.com/pctx-dev/pctx/internal/server"
	"github.com/pctx-dev/pctx/internal/telemetry"
	"github.com/pctx-dev/pctx/internal/typecheck"
	"github.com/pctx-dev/pctx/internal/upstream"
)

// Config is a whole pctx.toml (pctx.toml.example documents every key). Its zero value is
// not valid: start from DefaultConfig or LoadConfig.
type Config = config.Config

// Upstream is one [servers.NAME] table: an MCP server to connect to, by Command (stdio)
// or URL (streamable HTTP or SSE).
type Upstream = config.Upstream

// DefaultConfig is the configuration pctx uses when there is no pctx.toml: HTTP on
// 127.0.0.1:8080, the runtime's default limits, no upstreams.
func DefaultConfig() *Config { return config.Default() }

// LoadConfig reads a pctx.toml. An empty path looks where the pctx command does:
// $PCTX_CONFIG, then ./pctx.toml, else DefaultConfig. Errors name the file, line and key.
func LoadConfig(path string) (*Config, error) { return config.Resolve(path) }

// Options configures a PCTX. A nil *Options is valid and means every default.
type Options struct {
	// Logger receives pctx's logs. Default: slog.Default().
	Logger *slog.Logger
	// Version is reported to MCP clients and SDK workers. Default "dev".
	Version string
	// TracerProvider and MeterProvider, when set, receive pctx's spans and metrics
	// instead of the OTLP exporters [telemetry] configures (an embedder's own
	// providers, say). Default: [telemetry] decides.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// PCTX is one Code Mode server: a catalog of functions, the backends that fill it and the
// front doors that serve it.
type PCTX struct {
	cfg       *Config
	log       *slog.Logger
	version   string
	cat       *catalog.Catalog
	upstreams *upstream.Manager
	pool      *sandbox.Pool
	cm        *codemode.Service
	compat    *compat.Server
	bridge    *sdkbridge.Bridge
	srv       *server.Server
	tel       *telemetry.Telemetry // nil when off
	dash      *dashboard.Dashboard // nil when [ui] is off
	checker   *typecheck.Checker   // nil when programs run unchecked
	stopWarm  chan struct{}        // ends warmOnChange

	httpOnce      sync.Once
	handler       http.Handler
	closeSessions func(context.Context) error
	workers       http.Handler

	closeOnce sync.Once
}

// New returns a PCTX serving cfg (nil means DefaultConfig). It connects every configured
// upstream concurrently and returns once each has made its first attempt; an upstream
// that fails is logged and listed as unavailable, and retried, rather than failing New.
// An upstream that needs an OAuth login waits for one in the token store `pctx auth
// login` writes ($PCTX_KEYRING, $PCTX_KEYRING_DIR: the OS keychain or 0600 files). Every
// value cfg's secret references expanded to, and every token obtained, is redacted from
// the logs and errors. ctx bounds the first attempts; the PCTX lives until Close.
func New(ctx context.Context, cfg *Config, opts *Options) (*PCTX, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if err := cfg.Server.Validate(); err != nil {
		return nil, fmt.Errorf("pctx: %w", err)
	}
	naming, err := catalog.ParseNaming(cfg.CodeMode.Naming)
	if err != nil {
		return nil, fmt.Errorf("pctx: codemode.naming: %w", err)
	}
	disclosure, err := codemode.ParseDisclosure(cfg.CodeMode.Disclosure)
	if err != nil {
		return nil, fmt.Errorf("pctx: codemode: %w", err)
	}
	search, err := codemode.ParseSearch(cfg.CodeMode.SearchFunctions)
	if err != nil {
		return nil, fmt.Errorf("pctx: codemode: %w", err)
	}
	p := &PCTX{cfg: cfg, log: slog.Default(), version: "dev"}
	if opts != nil {
		if opts.Logger != nil {
			p.log = opts.Logger
		}
		if opts.Version != "" {
			p.version = opts.Version
		}
	}
	// Everything a secret reference expanded to, and every OAuth token obtained later,
	// is kept out of logs, errors and listings.
	secrets := redact.New(cfg.Secrets()...)
	p.log = slog.New(secrets.Handler(p.log.Handler()))
	tokens, err := keyring.FromEnv(p.log)
	if err != nil {
		return nil, fmt.Errorf("pctx: %w", err)
	}
	maxExec := cfg.Server.MaxExecutions
	if maxExec <= 0 {
		maxExec = codemode.DefaultMaxConcurrent
	}
	pool, err := sandbox.New(&sandbox.Options{
		Warm:         cfg.Sandbox.WarmWorkers,
		PerWorker:    cfg.Sandbox.ExecutionsPerWorker,
		RecycleAfter: cfg.Sandbox.RecycleAfter,
		MemoryLimit:  cfg.Sandbox.MemoryLimit,
		// Room for every execution the caps allow; workers beyond Warm stop when idle.
		MaxWorkers: maxExec,
		Logger:     p.log,
	})
	if err != nil {
		return nil, fmt.Errorf("pctx: %w", err)
	}
	p.pool = pool
	if p.tel, err = newTelemetry(ctx, cfg, p.log, p.version, opts); err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("pctx: %w", err)
	}
	p.cat = catalog.New()
	p.upstreams = upstream.NewManager(p.cat, cfg.Servers, &upstream.Options{
		Logger:              p.log,
		MaxSessionInstances: cfg.Server.MaxSessionUpstreams,
		Secrets:             secrets,
		// No Agent: a server that needs a login waits for `pctx auth login NAME`.
		Auth: &upstream.AuthOptions{Store: oauth.NewStore(tokens), ClientVersion: p.version},
	})
	p.upstreams.Start(ctx)
	cmOpts := &codemode.Options{
		Executor:      pool,
		Limits:        runtimeLimits(cfg.Runtime),
		MaxConcurrent: cfg.Server.MaxExecutions,
		MaxPerSession: cfg.Server.MaxExecutionsPerSession,
		Naming:        naming,
		Disclosure:    disclosure,
		Search:        search,
		InlineBudget:  int(cfg.CodeMode.InlineBudget),
		Telemetry:     p.tel,
		Checker:       p.startTypecheck(cfg.Runtime),
		Typecheck:     codemode.TypecheckMode(cfg.Runtime.Typecheck),
		Logger:        p.log,
	}
	var observe func(*codemode.Record)
	if cfg.UI.Enabled {
		// The dashboard needs the service and the service feeds the dashboard.
		cmOpts.Observer = func(r *codemode.Record) { observe(r) }
	}
	p.cm = codemode.New(p.cat, cmOpts)
	p.compat = compat.New(p.cm, &compat.Options{
		Logger: p.log,
		// The published pctx-client's POST /register/servers (docs/protocol.md §10).
		AllowClientServers: cfg.Server.AllowClientServers,
		APIKey:             cfg.Server.APIKey,
		SessionIdleTTL:     cfg.Server.SessionIdleTimeout,
	})
	p.bridge = sdkbridge.New(p.cat, p.cm, &sdkbridge.Options{
		Logger:        p.log,
		ServerName:    cfg.Name,
		ServerVersion: p.version,
		FormatResult:  codemode.FormatResult,
		CodeModeTools: bridgeTools(),
		Sessions:      p.compat,
		Named:         func(n catalog.Naming) sdkbridge.CodeMode { return p.cm.Named(n) },
	})
	var ui http.Handler
	if cfg.UI.Enabled {
		p.dash = dashboard.New(p.cm, &dashboard.Options{
			Name: cfg.Name, Version: p.version, History: cfg.UI.History, Playground: cfg.UI.Playground,
			Upstreams: p.upstreamStates, Workers: p.workerStates, Sandbox: p.sandboxState,
		})
		observe = p.dash.Observe
		ui = p.dash.Handler()
	}
	p.srv = server.New(p.cm, &server.Options{
		Name:           cfg.Name,
		Version:        p.version,
		Logger:         p.log,
		APIKey:         cfg.Server.APIKey,
		Websocket:      p.bridge,
		Compat:         p.compat.Handler(),
		SessionIdleTTL: cfg.Server.SessionIdleTimeout,
		UI:             ui,
	})
	if err := p.tel.ObserveGauges(telemetry.Gauges{
		CatalogFunctions: func() int64 { _, n := p.cat.Snapshot().Size(); return int64(n) },
		CatalogSpaces:    func() int64 { n, _ := p.cat.Snapshot().Size(); return int64(n) },
		Workers:          func() int64 { return int64(len(p.bridge.Workers())) },
		Sandbox: func() telemetry.SandboxStats {
			st := p.pool.Stats()
			return telemetry.SandboxStats{Busy: int64(st.Busy), Idle: int64(st.Workers - st.Busy), Crashes: st.Crashed}
		},
	}); err != nil {
		p.log.Warn("telemetry: gauges not registered", "err", err)
	}
	return p, nil
}

// newTelemetry starts OpenTelemetry export as [telemetry] says, or as the embedder's
// providers do; nil means off.
func newTelemetry(ctx context.Context, cfg *Config, log *slog.Logger, version string, opts *Options) (*telemetry.Telemetry, error) {
	t := cfg.Telemetry
	tc := telemetry.Config{
		Enabled:  t.Enabled || (!t.EnabledSet && telemetry.EnvConfigured()),
		Endpoint: t.Endpoint, Protocol: t.Protocol, Headers: t.Headers,
		Traces: t.Traces, Metrics: t.Metrics, MetricInterval: t.MetricInterval,
		ServiceName: t.ServiceName, ServiceVersion: version,
	}
	if tc.ServiceName == "" {
		tc.ServiceName = cfg.Name
	}
	to := &telemetry.Options{Logger: log}
	if opts != nil && (opts.TracerProvider != nil || opts.MeterProvider != nil) {
		tc.Enabled = true
		tc.Traces, tc.Metrics = opts.TracerProvider != nil, opts.MeterProvider != nil
		to.TracerProvider, to.MeterProvider = opts.TracerProvider, opts.MeterProvider
	}
	return telemetry.New(ctx, tc, to)
}

func (p *PCTX) upstreamStates() []dashboard.Upstream {
	var out []dashboard.Upstream
	for _, s := range p.upstreams.Status() {
		out = append(out, dashboard.Upstream{Name: s.Name, Transport: s.Transport, State: string(s.State), Tools: s.Tools, LastError: s.LastError, Restarts: s.Restarts})
	}
	return out
}

func (p *PCTX) sandboxState() dashboard.Sandbox {
	st := p.pool.Stats()
	return dashboard.Sandbox{Workers: st.Workers, Busy: st.Busy, Started: st.Started, Crashed: st.Crashed, Recycled: st.Recycled}
}

func (p *PCTX) workerStates() []dashboard.Worker {
	var out []dashboard.Worker
	for _, w := range p.bridge.Workers() {
		out = append(out, dashboard.Worker{ID: w.ID, Client: w.Client, RemoteAddr: w.RemoteAddr, ConnectedAt: w.ConnectedAt,
			Namespaces: w.Namespaces, Session: w.Session, CallsInFlight: w.CallsInFlight})
	}
	return out
}

// Function is a Go function an agent's program calls as namespace.name(args).
type Function struct {
	// Name is how the program calls it; a name that is not a JavaScript identifier is
	// sanitised (get-sum → get_sum) and listed as called.
	Name string
	// Description is shown in listings and declarations; its first line is the summary.
	Description string
	// InputSchema is the JSON Schema of the one argument object; nil means any object.
	// Arguments are validated against it before Call runs.
	InputSchema json.RawMessage
	// OutputSchema, optional, types the result in the declarations the agent reads.
	OutputSchema json.RawMessage
	// Call serves one call with the validated argument object. Its result must be plain
	// JSON-able data (anything encoding/json marshals, or a json.RawMessage); an error
	// rejects the program's promise with a message naming the function. ctx ends when
	// the execution does.
	Call func(ctx context.Context, args map[string]any) (any, error)
}

// Register adds fns as namespace ns, replacing what an earlier Register put there. A
// namespace an upstream or an SDK worker holds is refused, as is an empty one.
func (p *PCTX) Register(ns string, fns ...Function) error {
	if len(fns) == 0 {
		return fmt.Errorf("pctx: register %q: no functions", ns)
	}
	tools := make([]catalog.Tool, len(fns))
	for i, f := range fns {
		if f.Call == nil {
			return fmt.Errorf("pctx: register %s.%s: Call is nil", ns, f.Name)
		}
		tools[i] = catalog.Tool{Name: f.Name, Description: f.Description, InputSchema: f.InputSchema, OutputSchema: f.OutputSchema, Call: f.Call}
	}
	if err := p.cat.Put("go:"+ns, catalog.Namespace{Name: ns, Tools: tools, RefuseReserved: true}); err != nil {
		return fmt.Errorf("pctx: register %q: %w", ns, err)
	}
	return nil
}

// Unregister removes namespace ns if Register put it there.
func (p *PCTX) Unregister(ns string) { p.cat.Remove("go:"+ns, ns) }

// Result is what one execution produced. A program's own failure (an exception, a limit,
// a failing function) is Error, not Execute's error.
type Result struct {
	Value    json.RawMessage // the program's return value as JSON; nil for undefined and null
	Console  []ConsoleLine   // console.* output, in order
	Error    *Error          // why the program failed; nil on success
	Duration time.Duration
	Calls    int // function calls the program made
	text     string
}

// Text is the result as execute_typescript shows it to a model.
func (r *Result) Text() string { return r.text }

// ConsoleLine is one console.* call, formatted as Node prints it.
type ConsoleLine struct {
	Level string // log, info, warn, error, debug
	Text  string
}

// Error is why an execution failed, positioned in the program's own code where known.
type Error struct {
	Kind    string // what ended it: "runtime", "syntax", "timeout", "memory", "calls", ...
	Message string
	Line    int // 1-based, in the submitted code; 0 if unknown
	Column  int
	Stack   string
}

func (e *Error) Error() string { return e.Message }

// ErrBusy is wrapped by Execute's error when as many executions as [server]
// max_executions allows are already running.
var ErrBusy = codemode.ErrBusy

// Execute runs a TypeScript program once in a fresh sandbox with every function of the
// catalog in scope, and blocks until it settles or a limit ([runtime]) ends it. The
// execution is a session of its own: a session-scoped upstream ([servers.NAME] scope =
// "session") it calls is started for it and stopped when it ends. Session.Execute runs
// several executions in one session.
func (p *PCTX) Execute(ctx context.Context, code string) (*Result, error) {
	s := p.NewSession()
	defer s.Close()
	return s.Execute(ctx, code)
}

// Session groups executions the way an MCP session groups a client's: they share the
// session's instance of each session-scoped upstream ([servers.NAME] scope = "session"),
// and its share of [server] max_executions_per_session. Close ends it. A Session is safe
// for concurrent use.
type Session struct {
	p  *PCTX
	cs *clientsession.Session
}

// NewSession begins a session.
func (p *PCTX) NewSession() *Session {
	return &Session{p: p, cs: clientsession.Begin("go:" + rand.Text())}
}

// ID is the session's id, what ${session.id} becomes in its session-scoped upstreams.
func (s *Session) ID() string { return s.cs.ID() }

// Close ends the session, stopping its instances of session-scoped upstreams (calls in
// flight fail); it returns once they are stopped. Executions after Close still run, but
// a session-scoped upstream refuses their calls.
func (s *Session) Close() { s.cs.End() }

// Execute is PCTX.Execute within the session.
func (s *Session) Execute(ctx context.Context, code string) (*Result, error) {
	r, err := s.p.cm.Execute(clientsession.NewContext(ctx, s.cs), code)
	if err != nil {
		return nil, err
	}
	out := &Result{Duration: r.Duration, Calls: r.Calls, text: codemode.FormatResult(r)}
	if raw, ok := r.Value.(json.RawMessage); ok {
		out.Value = raw
	}
	for _, l := range r.Console {
		out.Console = append(out.Console, ConsoleLine{Level: l.Level, Text: l.Text})
	}
	if r.Error != nil {
		out.Error = &Error{Kind: string(r.Error.Kind), Message: r.Error.Message, Line: r.Error.Line, Column: r.Error.Column, Stack: r.Error.Stack}
	}
	return out, nil
}

// ListFunctions is list_functions' text: every callable function, one line each, grouped
// by namespace; namespace and query (words to match) narrow it when not empty.
func (p *PCTX) ListFunctions(namespace, query string) (string, error) {
	return p.cm.ListFunctions(catalog.ListOptions{Namespace: namespace, Query: query})
}

// FunctionDetails is get_function_details' text: the TypeScript declarations of the
// named functions ("namespace.function").
func (p *PCTX) FunctionDetails(names ...string) (string, error) {
	return p.cm.FunctionDetails(names)
}

// Handler serves MCP over streamable HTTP at /mcp, the SDK websocket at /ws, the
// published pctx-client's REST endpoints, /healthz and, with [ui] enabled, the dashboard
// at /ui, with [server] api_key, Origin and Host checks applied. Mount it at the root of
// a server.
func (p *PCTX) Handler() http.Handler {
	p.initHTTP()
	return p.handler
}

// WorkersHandler serves only the SDK websocket at /ws and /healthz: what the pctx
// command listens with beside ServeStdio, where an HTTP /mcp would let any local process
// run code with the stdio client's upstream credentials.
func (p *PCTX) WorkersHandler() http.Handler {
	p.initHTTP()
	return p.workers
}

func (p *PCTX) initHTTP() {
	p.httpOnce.Do(func() {
		p.handler, p.closeSessions = p.srv.HTTPHandler()
		var ui http.Handler
		if p.dash != nil {
			// Beside stdio, a playground without an API key would hand any local process
			// the stdio client's upstream credentials.
			ui = p.dash.ReadOnlyHandler()
			if p.cfg.Server.APIKey != "" {
				ui = p.dash.Handler()
			}
		}
		workers := server.New(p.cm, &server.Options{Name: p.cfg.Name, Version: p.version, Logger: p.log,
			APIKey: p.cfg.Server.APIKey, Websocket: p.bridge, WorkersOnly: true, UI: ui})
		p.workers, _ = workers.HTTPHandler()
	})
}

// ServeStdio serves one MCP client over in and out until in closes or ctx ends. Nothing
// else may write to out.
func (p *PCTX) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	return p.srv.ServeStdio(ctx, in, out)
}

// UpstreamStatus is one configured upstream's state, as pctx list and /healthz see it.
type UpstreamStatus struct {
	Name      string
	State     string // connecting, ready, unavailable, needs_login, closed
	LastError string
	Scope     string // "shared" or "session"
	Instances int    // a session-scoped upstream's instances running, one per session
}

// Upstreams reports every configured upstream's state, ordered by name.
func (p *PCTX) Upstreams() []UpstreamStatus {
	var out []UpstreamStatus
	for _, s := range p.upstreams.Status() {
		out = append(out, UpstreamStatus{Name: s.Name, State: string(s.State), LastError: s.LastError, Scope: s.Scope, Instances: s.Instances})
	}
	return out
}

// Close ends every MCP session and worker connection, stops the published client's
// session servers and every upstream. Running executions are cancelled. It is safe to
// call more than once.
func (p *PCTX) Close() error {
	var errs []error
	p.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errs = append(errs, p.bridge.Close(), p.compat.Close())
		if p.closeSessions != nil {
			errs = append(errs, p.closeSessions(ctx))
		}
		p.srv.Close()
		errs = append(errs, p.upstreams.Close(), p.pool.Close())
		if p.checker != nil {
			close(p.stopWarm)
			errs = append(errs, p.checker.Close())
		}
		// Last, so the spans of executions cancelled above are exported too.
		errs = append(errs, p.tel.Shutdown(ctx))
	})
	return errors.Join(errs...)
}

// bridgeTools hands SDK clients the same Code Mode tool descriptions MCP clients get.
func bridgeTools() []sdkbridge.CodeModeTool {
	var tools []sdkbridge.CodeModeTool
	for _, t := range codemode.Tools() {
		tools = append(tools, sdkbridge.CodeModeTool{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema})
	}
	return tools
}

func runtimeLimits(r config.Runtime) runtime.Limits {
	return runtime.Limits{
		Timeout:          r.Timeout,
		MaxMemory:        r.MaxMemory,
		MaxStackDepth:    r.MaxStackDepth,
		MaxCalls:         r.MaxCalls,
		MaxCallsInFlight: r.MaxCallsInFlight,
		MaxConsoleBytes:  int(r.MaxConsoleBytes),
		MaxResultBytes:   int(r.MaxResultBytes),
		MaxArgumentBytes: int(r.MaxArgumentBytes),
		MaxCPUTime:       r.MaxCPUTime,
	}
}
