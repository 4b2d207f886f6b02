// Package server is pctx's MCP front: the Code Mode tools over stdio and streamable HTTP,
// in the disclosure each session chooses (disclosure.go), and the HTTP mux that also
// carries the SDK websocket and a health check.
//
// It knows nothing of how functions are implemented: it asks codemode.Service.
package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/apikey"
	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/telemetry"
)

// Options configures a Server. A nil *Options is valid and means every default.
type Options struct {
	Name    string       // reported to MCP clients; default "pctx"
	Version string       // reported to MCP clients; default "dev"
	Logger  *slog.Logger // default slog.Default()
	// APIKey, when set, is required on /mcp and /ws as "Authorization: Bearer KEY" or
	// "X-API-Key: KEY". /healthz stays open.
	APIKey string
	// Websocket serves /ws (the SDK bridge). Nil leaves /ws unrouted.
	Websocket http.Handler
	// WorkersOnly leaves MCP and the REST endpoints off HTTP, serving only /ws and
	// /healthz. In stdio mode the MCP client is the process's own pipe; an HTTP /mcp beside
	// it would let any local process run code with the user's upstream credentials.
	WorkersOnly bool
	// Compat serves the published pctx-client's REST endpoints under /code-mode/ and
	// /register/ (docs/protocol.md §10). Nil leaves them unrouted.
	Compat http.Handler
	// UI serves the dashboard: /ui/ (its page, no data) and /ui/api/ (its data, behind
	// APIKey). Both get the Host check, and the Origin check for writes. Nil leaves /ui
	// unrouted. It is served in WorkersOnly mode too: the stdio client's executions are
	// what a desktop user most wants to see.
	UI http.Handler
	// SessionIdleTTL ends HTTP MCP sessions idle this long (as DELETE does); default 30
	// minutes.
	SessionIdleTTL time.Duration
	// MaxBodyBytes bounds an HTTP request body; default 4 MiB.
	MaxBodyBytes int64
}

// Server serves the Code Mode tools. It is safe for concurrent use.
type Server struct {
	cm   *codemode.Service
	opts Options
	mcp  *mcpserver.MCPServer
	ids  *sessionIDs // issued MCP session ids over HTTP

	modes     sessionModes // disclosures chosen in initialize _meta
	converted struct {
		mu   sync.Mutex
		sets map[*codemode.ToolSet][]mcp.Tool
	}
	fnMu      sync.Mutex
	fnTools   map[string]mcp.Tool // the sidecar function tools registered with mcp-go
	fnVersion uint64              // the catalog version they were registered for

	stop      chan struct{}
	stopOnce  sync.Once
	watchOnce sync.Once
	watchDone chan struct{}
}

// New returns a Server answering from cm.
func New(cm *codemode.Service, opts *Options) *Server {
	s := &Server{cm: cm, ids: newSessionIDs()}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Name == "" {
		s.opts.Name = "pctx"
	}
	if s.opts.Version == "" {
		s.opts.Version = "dev"
	}
	if s.opts.Logger == nil {
		s.opts.Logger = slog.Default()
	}
	if s.opts.SessionIdleTTL == 0 {
		s.opts.SessionIdleTTL = 30 * time.Minute
	}
	if s.opts.MaxBodyBytes == 0 {
		s.opts.MaxBodyBytes = 4 << 20
	}
	s.converted.sets = map[*codemode.ToolSet][]mcp.Tool{}
	hooks := &mcpserver.Hooks{}
	hooks.AddOnRequestInitialization(s.initializeMeta)
	s.mcp = mcpserver.NewMCPServer(s.opts.Name, s.opts.Version,
		mcpserver.WithToolCapabilities(true),
		mcpserver.WithToolFilter(s.toolFilter),
		mcpserver.WithHooks(hooks),
		mcpserver.WithRecovery(),
		mcpserver.WithInstructions("Code Mode: do a task with one TypeScript program for execute_typescript that calls the functions this server offers and returns only what matters; the tools' descriptions say how to find the functions."),
	)
	s.addTools()
	s.stop, s.watchDone = make(chan struct{}), make(chan struct{})
	if !s.opts.WorkersOnly {
		s.syncFunctionTools()
	}
	return s
}

// watch follows the catalog (function tools, tools/list_changed) from the first front
// door served until Close.
func (s *Server) watch() {
	if s.opts.WorkersOnly {
		return
	}
	s.watchOnce.Do(func() {
		go func() {
			defer close(s.watchDone)
			s.watchCatalog(s.stop)
		}()
	})
}

// Close stops following the catalog (tools/list_changed); the func HTTPHandler returns
// and the end of ServeStdio call it too. It does not end sessions: that func does.
func (s *Server) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.watchOnce.Do(func() { close(s.watchDone) }) // never started
	<-s.watchDone
}

// addTools registers the handlers of the Code Mode tools. What a session sees of them
// (which ones, and their descriptions) is its disclosure's tool set: toolFilter.
func (s *Server) addTools() {
	handlers := map[string]mcpserver.ToolHandlerFunc{
		codemode.ListFunctionsName:     s.listFunctions,
		codemode.FunctionDetailsName:   s.functionDetails,
		codemode.SearchFunctionsName:   s.searchFunctions,
		codemode.ExecuteBashName:       s.executeBash,
		codemode.ExecuteTypeScriptName: s.executeTypeScript,
	}
	for name, h := range handlers {
		s.mcp.AddTool(mcp.NewToolWithRawSchema(name, "", json.RawMessage(`{"type":"object"}`)), h)
	}
}

func (s *Server) listFunctions(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	text, err := s.cm.ListFunctions(catalog.ListOptions{
		Namespace: req.GetString("namespace", ""),
		Query:     req.GetString("query", ""),
	})
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	return mcp.NewToolResultText(text), nil
}

func (s *Server) functionDetails(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	names, err := stringList(req.GetArguments()["functions"])
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	text, err := s.cm.FunctionDetails(names)
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	return mcp.NewToolResultText(text), nil
}

// stringList accepts the functions argument as a list of strings or, leniently, one
// comma-separated string: models produce both.
func stringList(v any) ([]string, error) {
	switch v := v.(type) {
	case []any:
		names := make([]string, 0, len(v))
		for _, item := range v {
			name, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("functions: want a list of strings like [\"ns.fn\"], got an item of type %T", item)
			}
			names = append(names, name)
		}
		return names, nil
	case string:
		var names []string
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
		return names, nil
	case nil:
		return nil, errors.New(`functions: required, a list like ["namespace.function"]`)
	default:
		return nil, fmt.Errorf("functions: want a list of strings like [\"ns.fn\"], got %T", v)
	}
}

func (s *Server) executeTypeScript(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	code, err := req.RequireString("code")
	if err != nil {
		return mcp.NewToolResultError("code: required, the TypeScript program to run"), nil
	}
	ctx, end, ended := s.clientSession(ctx)
	if ended != nil {
		return ended, nil
	}
	defer end()
	ctx = codemode.WithDisclosure(ctx, s.disclosure(ctx))
	var meta map[string]any
	if req.Params.Meta != nil {
		meta = req.Params.Meta.AdditionalFields
		// A traceparent in _meta names the client's span more precisely than the
		// request's header (one HTTP request, or a stdio pipe, carries many calls).
		ctx = telemetry.FromMeta(ctx, meta)
	}
	if v, set := meta[codemode.MetaTypecheck]; set && v != nil {
		text, _ := v.(string)
		mode, err := codemode.ParseTypecheckMode(text)
		if err != nil || text == "" {
			return mcp.NewToolResultError(fmt.Sprintf("_meta[%q]: want \"strict\", \"warn\" or \"off\", got %v", codemode.MetaTypecheck, v)), nil
		}
		ctx = codemode.WithTypecheckMode(ctx, mode)
	}
	var rec *codemode.Record
	if wantTrace, _ := meta[TraceMetaKey].(bool); wantTrace {
		rec = new(codemode.Record)
		ctx = codemode.WithRecord(ctx, rec)
	}
	res, err := s.cm.Execute(ctx, code)
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	text := codemode.FormatResult(res)
	out := mcp.NewToolResultText(text)
	out.IsError = res.Error != nil
	if rec != nil {
		out.StructuredContent = codemode.Structured(rec)
	}
	return out, nil
}

// TraceMetaKey is the `_meta` key by which an MCP client asks execute_typescript for the
// execution's structured trace as structuredContent: {"pctx/trace": true}. Off by
// default: hosts may show structuredContent to the model, and the trace costs tokens.
const TraceMetaKey = "pctx/trace"

// clientSession puts the request's client session on ctx: the stdio session is there
// already, an HTTP request names its session, and without an MCP session (protocol
// 2026-07-28 has none) the execution is a session of its own, ended by end. A session
// that has ended gets the tool error ended.
func (s *Server) clientSession(ctx context.Context) (_ context.Context, end func(), ended *mcp.CallToolResult) {
	end = func() {}
	cs := clientsession.FromContext(ctx)
	if id := sessionID(ctx); cs == nil && id != "" {
		if cs = s.ids.session(id); cs == nil {
			return ctx, end, mcp.NewToolResultError("this MCP session has ended; initialize a new one")
		}
	}
	if cs == nil {
		cs = clientsession.Begin("exec:" + rand.Text())
		end = cs.End
	}
	return clientsession.NewContext(ctx, cs), end, nil
}

func (s *Server) searchFunctions(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	query, err := req.RequireString("query")
	if err != nil {
		return mcp.NewToolResultError("query: required, a few words saying what you need"), nil
	}
	text, err := s.cm.SearchFunctions(query, req.GetInt("k", 0))
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	return mcp.NewToolResultText(text), nil
}

// executeBash answers the shell's stdout, then its stderr, then "(exit N)" when N is not
// 0; only a failure other than grep's "no match" (exit 1 with no output) is an error.
func (s *Server) executeBash(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	command, err := req.RequireString("command")
	if err != nil {
		return mcp.NewToolResultError("command: required, a command line like `grep -i WORDS README.md`"), nil
	}
	out, err := s.cm.ExecuteBash(command)
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	text := out.Stdout + out.Stderr
	if out.ExitCode != 0 {
		text += fmt.Sprintf("(exit %d)", out.ExitCode)
		if out.ExitCode != 1 || text != "(exit 1)" {
			return mcp.NewToolResultError(text), nil
		}
	}
	return mcp.NewToolResultText(text), nil
}

// ServeStdio serves one MCP client over in/out until in closes or ctx ends. Nothing else
// may write to out: it is the protocol stream. The client is one session, ended (its
// session-scoped upstream instances stopped) before ServeStdio returns.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	s.watch()
	defer s.Close()
	cs := clientsession.Begin("stdio:" + rand.Text())
	defer cs.End()
	stdio := mcpserver.NewStdioServer(s.mcp)
	mcpserver.WithStdioContextFunc(func(ctx context.Context) context.Context {
		return clientsession.NewContext(ctx, cs)
	})(stdio)
	// Tool calls run concurrently so one long execution does not stall the next.
	mcpserver.WithWorkerPoolSize(16)(stdio)
	stdio.SetErrorLogger(log.New(slogWriter{s.opts.Logger}, "", 0))
	err := stdio.Listen(ctx, in, out)
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// HTTPHandler returns the mux for /mcp, /ws and /healthz, with authentication, body
// limits and cross-origin protection applied, plus a func that ends every MCP session
// (and so stops their session-scoped upstream instances).
func (s *Server) HTTPHandler() (http.Handler, func(context.Context) error) {
	streamable := mcpserver.NewStreamableHTTPServer(s.mcp,
		mcpserver.WithEndpointPath("/mcp"),
		mcpserver.WithSessionIdleTTL(s.opts.SessionIdleTTL),
		mcpserver.WithSessionIdManager(s.ids),
		mcpserver.WithStreamableHTTPLogger(s.opts.Logger),
		// A client's traceparent header makes its span the parent of the executions
		// the request runs.
		mcpserver.WithHTTPContextFunc(func(ctx context.Context, r *http.Request) context.Context {
			return telemetry.FromHeader(ctx, r.Header)
		}),
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	// mcp-go rejects non-loopback Host headers on loopback connections (DNS rebinding);
	// stdlib CrossOriginProtection adds the browser Origin check it lacks.
	csrf := http.NewCrossOriginProtection()
	if !s.opts.WorkersOnly {
		mux.Handle("/mcp", s.authorize(csrf.Handler(limitBody(s.ids.requireSession(withDisclosureQuery(streamable)), s.opts.MaxBodyBytes))))
	}
	if s.opts.Websocket != nil {
		// The websocket library refuses cross-origin upgrades, but a rebound DNS name makes
		// the attacker's page same-origin: check Host as mcp-go does for /mcp.
		mux.Handle("/ws", rejectRebinding(s.authorize(s.opts.Websocket)))
	}
	if s.opts.Compat != nil && !s.opts.WorkersOnly {
		compat := rejectRebinding(s.authorize(csrf.Handler(s.opts.Compat)))
		mux.Handle("/code-mode/", compat)
		mux.Handle("/register/", compat)
	}
	if s.opts.UI != nil {
		mux.Handle("/ui/", rejectRebinding(csrf.Handler(s.opts.UI)))
		mux.Handle("/ui/api/", rejectRebinding(s.authorize(csrf.Handler(limitBody(s.opts.UI, s.opts.MaxBodyBytes)))))
	}
	s.watch()
	return mux, func(ctx context.Context) error {
		err := streamable.Shutdown(ctx)
		s.ids.endAll()
		s.Close()
		return err
	}
}

// authorize refuses requests without the API key, when one is set. The comparison is
// constant-time so the key cannot be guessed byte by byte from response timings.
func (s *Server) authorize(next http.Handler) http.Handler {
	if s.opts.APIKey == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !apikey.Matches(r, s.opts.APIKey) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pctx"`)
			// A client without the key gets no idle keep-alive connection to hold open.
			w.Header().Set("Connection", "close")
			http.Error(w, "unauthorized: this pctx requires its API key as \"Authorization: Bearer KEY\" or \"X-API-Key: KEY\"", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies at max bytes: a declared oversize body gets 413 at once,
// and an undeclared one fails when reading passes the cap.
func limitBody(next http.Handler, max int64) http.Handler {
	limited := http.MaxBytesHandler(next, max)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			http.Error(w, fmt.Sprintf("request body of %d bytes exceeds the %d-byte limit", r.ContentLength, max), http.StatusRequestEntityTooLarge)
			return
		}
		limited.ServeHTTP(w, r)
	})
}

// rejectRebinding refuses requests that reached a loopback listener under a non-loopback
// Host name: a browser page whose DNS name was rebound to 127.0.0.1.
func rejectRebinding(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if local != nil && IsLoopback(local.String()) && !IsLoopback(r.Host) {
			http.Error(w, fmt.Sprintf("forbidden: Host %q is not a loopback name", r.Host), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// IsLoopback reports whether a listen address binds only the loopback interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// slogWriter adapts mcp-go's *log.Logger output to slog.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn(strings.TrimSpace(string(p)), "component", "mcp")
	return len(p), nil
}
