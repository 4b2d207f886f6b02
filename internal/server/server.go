// Package server is pctx's MCP front: the three Code Mode tools over stdio and streamable
// HTTP, and the HTTP mux that also carries the SDK websocket and a health check.
//
// It knows nothing of how functions are implemented: it asks codemode.Service.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/apikey"
	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
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
	// SessionIdleTTL ends HTTP MCP sessions idle this long (as DELETE does); default 30
	// minutes.
	SessionIdleTTL time.Duration
	// MaxBodyBytes bounds an HTTP request body; default 4 MiB.
	MaxBodyBytes int64
}

// Server serves the three Code Mode tools. It is safe for concurrent use.
type Server struct {
	cm   *codemode.Service
	opts Options
	mcp  *mcpserver.MCPServer
	ids  *sessionIDs // issued MCP session ids over HTTP
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
	s.mcp = mcpserver.NewMCPServer(s.opts.Name, s.opts.Version,
		mcpserver.WithToolCapabilities(false),
		mcpserver.WithRecovery(),
		mcpserver.WithInstructions("Code Mode: call list_functions, then get_function_details for the functions you need, then execute_typescript with one program that calls them and returns only what matters."),
	)
	s.addTools()
	return s
}

func (s *Server) addTools() {
	handlers := map[string]mcpserver.ToolHandlerFunc{
		codemode.ListFunctionsName:     s.listFunctions,
		codemode.FunctionDetailsName:   s.functionDetails,
		codemode.ExecuteTypeScriptName: s.executeTypeScript,
	}
	for _, spec := range codemode.Tools() {
		tool := mcp.NewToolWithRawSchema(spec.Name, spec.Description, spec.InputSchema)
		mcp.WithReadOnlyHintAnnotation(spec.ReadOnly)(&tool)
		mcp.WithOpenWorldHintAnnotation(!spec.ReadOnly)(&tool)
		s.mcp.AddTool(tool, handlers[spec.Name])
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
	// The stdio session is on ctx already; an HTTP request names its session.
	cs := clientsession.FromContext(ctx)
	if id := sessionID(ctx); cs == nil && id != "" {
		if cs = s.ids.session(id); cs == nil {
			return mcp.NewToolResultError("this MCP session has ended; initialize a new one"), nil
		}
	}
	if meta := req.Params.Meta; meta != nil && meta.AdditionalFields[codemode.MetaTypecheck] != nil {
		v, _ := meta.AdditionalFields[codemode.MetaTypecheck].(string)
		mode, err := codemode.ParseTypecheckMode(v)
		if err != nil || v == "" {
			return mcp.NewToolResultError(fmt.Sprintf("_meta[%q]: want \"strict\", \"warn\" or \"off\", got %v", codemode.MetaTypecheck, meta.AdditionalFields[codemode.MetaTypecheck])), nil
		}
		ctx = codemode.WithTypecheckMode(ctx, mode)
	}
	if cs == nil {
		// No MCP session (protocol 2026-07-28 has none): the execution is its own.
		cs = clientsession.Begin("exec:" + rand.Text())
		defer cs.End()
	}
	res, err := s.cm.Execute(clientsession.NewContext(ctx, cs), code)
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	text := codemode.FormatResult(res)
	if res.Error != nil {
		return mcp.NewToolResultError(text), nil
	}
	return mcp.NewToolResultText(text), nil
}

// ServeStdio serves one MCP client over in/out until in closes or ctx ends. Nothing else
// may write to out: it is the protocol stream. The client is one session, ended (its
// session-scoped upstream instances stopped) before ServeStdio returns.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
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
		mux.Handle("/mcp", s.authorize(csrf.Handler(limitBody(s.ids.requireSession(streamable), s.opts.MaxBodyBytes))))
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
	return mux, func(ctx context.Context) error {
		err := streamable.Shutdown(ctx)
		s.ids.endAll()
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
