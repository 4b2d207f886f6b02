package sdkbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/runtime"
)

// Registry is where global namespaces go; *catalog.Catalog satisfies it.
type Registry interface {
	// Put adds or replaces ns on behalf of owner; a name held by another owner is refused
	// with an error wrapping catalog.ErrNamespaceTaken.
	Put(owner string, ns catalog.Namespace) error
	// Remove drops owner's namespace name, if owner holds it.
	Remove(owner, name string)
}

// CodeMode answers the worker → server Code Mode methods; *codemode.Service satisfies it.
// session holds the calling connection's session-scoped namespaces.
type CodeMode interface {
	// Snapshot is the catalog as it is now plus session: the one consistent view a REST
	// answer derives all its parts from.
	Snapshot(session ...catalog.Namespace) (*catalog.Snapshot, error)
	ListFunctions(opts catalog.ListOptions, session ...catalog.Namespace) (string, error)
	FunctionDetails(names []string, session ...catalog.Namespace) (string, error)
	Execute(ctx context.Context, code string, session ...catalog.Namespace) (*runtime.Result, error)
}

// CodeModeTool describes one of the three Code Mode tools for the code_mode_tools method.
type CodeModeTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"inputSchema"`
}

// Options configures a Bridge. A nil *Options is valid and means every default.
type Options struct {
	// MaxMessageBytes bounds one websocket frame in either direction; default 16 MiB.
	MaxMessageBytes int64
	// CallTimeout bounds the wait for one execute_tool answer; default 60s. A call whose
	// context has an earlier deadline waits only until then.
	CallTimeout time.Duration
	// PingInterval is how often the server pings each worker; a worker that has not
	// answered a ping within two intervals is dropped. Default 15s.
	PingInterval time.Duration
	// Logger receives connection events; default slog.Default().
	Logger *slog.Logger
	// ServerName and ServerVersion are reported in initialize; defaults "pctx" and "dev".
	ServerName, ServerVersion string
	// FormatResult renders an execute_typescript result as the text a model reads (the
	// lead passes codemode.FormatResult). Default: the value as JSON, or the error message.
	FormatResult func(*runtime.Result) string
	// CodeModeTools is what the code_mode_tools method returns; default none.
	CodeModeTools []CodeModeTool
	// Sessions resolves the published pctx-client's code-mode sessions for websockets
	// that name one in the SessionHeader header (package compat implements it). Default
	// nil: such an upgrade is refused with 404.
	Sessions Sessions
	// Named returns Code Mode under a naming convention, for the connections that ask
	// for one: initialize's naming, and published-client sessions (Session.Naming).
	// Default nil: every connection uses the CodeMode given to New, and initialize with
	// a naming is refused.
	Named func(catalog.Naming) CodeMode
}

// SessionHeader names the published client's code-mode session on a websocket upgrade;
// such a connection speaks that client's dialect of the protocol (docs/protocol.md §10).
const SessionHeader = "X-Code-Mode-Session"

// Sessions resolves published-client sessions for the websockets that name one.
type Sessions interface {
	// Attach counts a new connection on session id and returns it, or false when there
	// is no such session. The bridge calls Session.Detach when the connection ends.
	Attach(id string) (Session, bool)
}

// Session is one published-client code-mode session as its websockets see it.
type Session interface {
	// Namespaces are the session's own namespaces for one request; calls of its
	// client-registered tools go to call, the requesting connection. An error means the
	// session was closed.
	Namespaces(call CallFunc) ([]catalog.Namespace, error)
	// Result renders an execution, with its call timeline, the way the published client
	// reads it.
	Result(rec *codemode.Record) any
	// ClientSession is the session the connection's executions run in: the published
	// client's session, shared by all its websockets, ended when that session closes.
	ClientSession() *clientsession.Session
	// Naming is the convention of the names the session's programs call.
	Naming() catalog.Naming
	// Detach undoes Attach.
	Detach()
}

// CallFunc calls tool of namespace ns on a connection's client.
type CallFunc func(ctx context.Context, ns, tool string, args map[string]any) (any, error)

// Errors a worker tool's CallFunc may return, wrapped in an error that says more; test
// them with errors.Is.
var (
	// ErrWorkerGone: the worker disconnected before answering.
	ErrWorkerGone = errors.New("worker disconnected")
	// ErrCallTimeout: the worker did not answer within the call's deadline.
	ErrCallTimeout error = timeoutError("timed out waiting for the worker")
	// ErrBusy: too many calls in flight to the worker.
	ErrBusy = errors.New("worker too busy")
)

// ToolError is a tool failure the worker reported (docs/protocol.md §4.1). Its message
// is "Type: Message"; the catalog prefixes it with the function's name.
type ToolError struct {
	Namespace, Tool string // as the worker registered them
	Code            int    // the JSON-RPC error code the worker sent
	Type            string // the exception class, if the worker sent one
	Message         string
}

func (e *ToolError) Error() string {
	if e.Type != "" {
		return e.Type + ": " + e.Message
	}
	return e.Message
}

// WorkerInfo describes one connected worker.
type WorkerInfo struct {
	ID            string    // connection id; errors name the worker as "worker:" + ID
	Client        string    // "name/version" from initialize; "pctx-client (compat)" for the published client
	RemoteAddr    string    //
	ConnectedAt   time.Time //
	Namespaces    []string  // global namespaces, sorted
	Session       []string  // session-scoped namespaces, sorted
	CallsInFlight int       // execute_tool calls awaiting an answer
}

// Bridge is the /ws endpoint SDK workers connect to. It is safe for concurrent use.
type Bridge struct {
	reg  Registry
	cm   CodeMode
	opts Options
	log  *slog.Logger

	nextConn atomic.Int64
	handlers sync.WaitGroup // one per ServeHTTP in progress

	mu     sync.Mutex
	closed bool
	conns  map[*conn]struct{}

	poolMu sync.Mutex
	pools  map[string]*pool // global worker namespaces by name

}

// New returns a Bridge registering into reg and answering Code Mode methods with cm.
func New(reg Registry, cm CodeMode, opts *Options) *Bridge {
	b := &Bridge{reg: reg, cm: cm, conns: map[*conn]struct{}{}, pools: map[string]*pool{}}
	if opts != nil {
		b.opts = *opts
	}
	if b.opts.MaxMessageBytes <= 0 {
		b.opts.MaxMessageBytes = 16 << 20
	}
	if b.opts.CallTimeout <= 0 {
		b.opts.CallTimeout = 60 * time.Second
	}
	if b.opts.PingInterval <= 0 {
		b.opts.PingInterval = 15 * time.Second
	}
	if b.opts.Logger == nil {
		b.opts.Logger = slog.Default()
	}
	if b.opts.ServerName == "" {
		b.opts.ServerName = "pctx"
	}
	if b.opts.ServerVersion == "" {
		b.opts.ServerVersion = "dev"
	}
	if b.opts.FormatResult == nil {
		b.opts.FormatResult = defaultFormat
	}
	b.log = b.opts.Logger
	return b
}

// named is Code Mode under naming n, or nil when Options.Named is not set.
func (b *Bridge) named(n catalog.Naming) CodeMode {
	if b.opts.Named == nil {
		return nil
	}
	return b.opts.Named(n)
}

// ServeHTTP upgrades the request to a worker websocket and serves it until it closes.
// Authentication is the caller's job (the server's middleware runs before this handler).
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(SessionHeader)
	var session Session
	if id != "" {
		var ok bool
		if b.opts.Sessions != nil {
			session, ok = b.opts.Sessions.Attach(id)
		}
		if !ok {
			http.Error(w, fmt.Sprintf("unknown code-mode session %q: create it with POST /code-mode/session/create", id), http.StatusNotFound)
			return
		}
		defer session.Detach()
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		http.Error(w, "pctx is shutting down", http.StatusServiceUnavailable)
		return
	}
	b.handlers.Add(1)
	b.mu.Unlock()
	defer b.handlers.Done()

	// Accept's default origin check refuses browsers from other sites (docs/protocol.md §1.1).
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		b.log.Info("sdkbridge: websocket upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	ws.SetReadLimit(b.opts.MaxMessageBytes)
	c := newConn(b, ws, "c"+strconv.FormatInt(b.nextConn.Add(1), 10), r.RemoteAddr, id, session)
	if session != nil {
		if cm := b.named(session.Naming()); cm != nil {
			c.cm = cm
		}
	}

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	b.conns[c] = struct{}{}
	b.mu.Unlock()

	c.serve()

	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
}

// Close closes every worker connection with status 1001, rejecting their in-flight calls
// first, and waits for every connection's goroutines to end. Later upgrades get HTTP 503.
func (b *Bridge) Close() error {
	b.mu.Lock()
	b.closed = true
	conns := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.terminate(websocket.StatusGoingAway, "server shutting down") })
	}
	wg.Wait()
	b.handlers.Wait()
	return nil
}

// Workers describes the connected workers, ordered by connection id.
func (b *Bridge) Workers() []WorkerInfo {
	b.mu.Lock()
	conns := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	out := make([]WorkerInfo, 0, len(conns))
	for _, c := range conns {
		out = append(out, c.info())
	}
	slices.SortFunc(out, func(a, b WorkerInfo) int {
		if len(a.ID) != len(b.ID) {
			return len(a.ID) - len(b.ID)
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// defaultFormat is the text of an execute_typescript result when Options.FormatResult is nil.
func defaultFormat(r *runtime.Result) string {
	if r.Error != nil {
		return "Error: " + r.Error.Message
	}
	v, err := json.Marshal(r.Value)
	if err != nil {
		return fmt.Sprintf("(result not representable as JSON: %v)", err)
	}
	return string(v)
}

// timeoutError is an error whose Timeout method says so, so code that classifies
// failures (telemetry.Outcome) needs no import of this package.
type timeoutError string

func (e timeoutError) Error() string { return string(e) }
func (e timeoutError) Timeout() bool { return true }
