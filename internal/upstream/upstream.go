package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/oauth"
	"github.com/pctx-dev/pctx/internal/redact"
)

// Registry is where a Manager publishes one namespace per upstream server.
// *catalog.Catalog satisfies it.
type Registry interface {
	Put(owner string, ns catalog.Namespace) error
	Remove(owner, name string)
}

// Errors a caller may branch on; every error a tool call returns names the
// server and the tool as well.
var (
	// ErrConnectionLost: the session died (child exited, stream broke) while
	// the call was in flight, or the server is down.
	ErrConnectionLost = errors.New("connection lost")
	// ErrTimeout: no result within the server's per-call timeout. Its
	// Timeout method reports true, as net.Error's does.
	ErrTimeout error = timeoutError("timed out")
	// ErrResultTooLarge: the upstream's response exceeded MaxResultBytes.
	ErrResultTooLarge = errors.New("result too large")
	// ErrToolFailed: the upstream answered with isError; the message carries
	// the upstream's text.
	ErrToolFailed = errors.New("tool failed")
	// ErrBusy: a session-scoped server needs a new instance for the calling
	// session, and as many as Options.MaxSessionInstances (over all servers) or
	// the server's max_sessions are running.
	ErrBusy = errors.New("busy")
	// ErrStartFailed: a session-scoped server's instance for the calling session
	// did not start; the message says why.
	ErrStartFailed = errors.New("could not start an instance")
	// ErrSessionEnded: the call's client session ended before or while its
	// session-scoped instance served it.
	ErrSessionEnded = errors.New("the client session has ended")
	// ErrNoSession: a session-scoped server was called from a context without a
	// client session (clientsession.NewContext).
	ErrNoSession = errors.New("the call belongs to no client session")
)

// Defaults of the knobs config does not expose. A zero timeout or protocol
// version in a config.Upstream means config.DefaultUpstreamTimeout and
// config.DefaultProtocolVersion.
const (
	// DefaultMaxResultBytes caps one JSON-RPC message from an upstream (so one
	// tool result). Larger messages fail the call with ErrResultTooLarge.
	DefaultMaxResultBytes = 16 << 20
	// DefaultStartTimeout bounds one connection attempt: spawning or
	// dialling, the initialize handshake and tools/list.
	DefaultStartTimeout = 30 * time.Second
	// DefaultMaxSessionInstances caps the session-scoped instances running at
	// once over all servers (Options.MaxSessionInstances).
	DefaultMaxSessionInstances = 64
)

// Options configures a Manager. A nil *Options is valid and means every default.
type Options struct {
	// Logger receives the Manager's logs; default: discarded.
	Logger *slog.Logger
	// MaxSessionInstances caps the instances of session-scoped servers ([servers.NAME]
	// scope = "session") running or starting at once, over all servers and sessions;
	// a call that needs one more fails with ErrBusy. Default
	// DefaultMaxSessionInstances.
	MaxSessionInstances int
	// Auth enables OAuth for url servers without an Authorization header. Nil: a
	// server that answers 401 is unavailable with that error.
	Auth *AuthOptions
	// Secrets are redacted from the errors calls return and the reasons a namespace
	// is unavailable; OAuth tokens join them as they are obtained. Nil: none.
	Secrets *redact.Set
	// StartTimeout bounds one connection attempt (spawn or dial, handshake,
	// tools/list, and an OAuth authorization if an Agent is set); 0 means
	// DefaultStartTimeout.
	StartTimeout time.Duration
}

// State is where a server's session is in its life.
type State string

// The states a server goes through.
const (
	StateConnecting  State = "connecting"  // first attempt in progress
	StateReady       State = "ready"       // tools are registered and callable
	StateUnavailable State = "unavailable" // down; reconnecting with backoff
	StateNeedsLogin  State = "needs_login" // OAuth needs a user: waiting for pctx auth login
	StateClosed      State = "closed"      // Manager.Close was called
)

// ServerStatus is a snapshot of one upstream server.
type ServerStatus struct {
	Name      string
	Transport string // "stdio", "streamable-http" or "sse" (the one in use, once known)
	Scope     string // config.ScopeShared or config.ScopeSession
	State     State
	Tools     int    // tools registered from the current session
	LastError string // why it is or last was unavailable; empty if never failed
	Restarts  int    // sessions started after the first (of a session-scoped server: probes)
	Instances int    // a session-scoped server's instances running or starting, one per client session
}

// Manager owns one MCP client session per configured upstream server and
// keeps each server's namespace in the registry current: tools while the
// session is up, an Unavailable reason while it is down.
//
// A session-scoped server (scope = "session") instead gets one MCP session
// per client session (clientsession.FromContext of the call's context),
// started on that session's first call and stopped when it ends; its tools
// are listed once, from a probe instance started at Start and stopped once it
// has listed them (scoped.go).
//
// Threading: every method is safe for concurrent use. Tool calls (the
// catalog.CallFunc of each registered tool) may run concurrently with each
// other and with reconnects; a call always goes to the session current when
// it starts.
type Manager struct {
	reg     Registry
	logger  *slog.Logger
	auth    *AuthOptions
	secrets *redact.Set
	servers []*server

	ctx    context.Context // lives until Close; bounds every session and loop
	cancel context.CancelFunc
	wg     sync.WaitGroup
	bgMu   sync.Mutex // orders goBG's Add before Close's Wait
	closed bool       // guarded by bgMu

	maxInstances int
	instMu       sync.Mutex
	instances    int // session-scoped instances running or starting, over all servers

	startOnce sync.Once
	closeOnce sync.Once
}

// tuning holds knobs that tests shrink; production uses defaultTuning.
type tuning struct {
	startTimeout   time.Duration
	backoffMin     time.Duration
	backoffMax     time.Duration
	debounce       time.Duration // coalesces tools/list_changed floods
	maxResultBytes int
	stopGrace      time.Duration // wait after closing stdin, and after SIGTERM
	loginPoll      time.Duration // reads of the token store while a login is needed
}

var defaultTuning = tuning{
	startTimeout:   DefaultStartTimeout,
	backoffMin:     500 * time.Millisecond,
	backoffMax:     30 * time.Second,
	debounce:       250 * time.Millisecond,
	maxResultBytes: DefaultMaxResultBytes,
	stopGrace:      2 * time.Second,
	loginPoll:      DefaultLoginPoll,
}

// AuthOptions configures OAuth for a Manager's servers.
type AuthOptions struct {
	// Store keeps registrations and tokens; required.
	Store *oauth.Store
	// Agent carries out authorizations that need a user (pctx auth login). Nil in a
	// running server: a server that needs a login is StateNeedsLogin, listed with
	// "needs login: run `pctx auth login NAME`", and comes up when the store gets
	// a token.
	Agent oauth.Agent
	// LoginPoll is how often a server that needs a login reads the store; 0 means
	// DefaultLoginPoll.
	LoginPoll time.Duration
	// ClientVersion is reported in dynamic client registrations.
	ClientVersion string
}

// DefaultLoginPoll is how often a server waiting for a login reads the token store.
const DefaultLoginPoll = 2 * time.Second

// NewManager returns a Manager for servers (keyed by name; disabled servers
// are ignored). Of servers whose names give the same namespace
// (catalog.NamespaceName), only the first in name order is started; the
// others stay unavailable and say why in Status. Nothing runs until Start.
func NewManager(reg Registry, servers map[string]config.Upstream, opts *Options) *Manager {
	t := defaultTuning
	if opts != nil && opts.StartTimeout > 0 {
		t.startTimeout = opts.StartTimeout
	}
	if opts != nil && opts.Auth != nil && opts.Auth.LoginPoll > 0 {
		t.loginPoll = opts.Auth.LoginPoll
	}
	return newManager(reg, servers, opts, t)
}

func newManager(reg Registry, servers map[string]config.Upstream, opts *Options, t tuning) *Manager {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxSessionInstances <= 0 {
		o.MaxSessionInstances = DefaultMaxSessionInstances
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{reg: reg, logger: o.Logger, auth: o.Auth, secrets: o.Secrets, ctx: ctx, cancel: cancel, maxInstances: o.MaxSessionInstances}
	// "my-srv" and "my_srv" are both valid names but one namespace: in name
	// order, the first server gets it and a later one is never started, so
	// which one wins does not depend on which connects first.
	usedBy := map[string]string{} // namespace → server
	for _, name := range slices.Sorted(maps.Keys(servers)) {
		cfg := servers[name]
		if cfg.Disabled {
			continue
		}
		if cfg.Name == "" {
			cfg.Name = name
		}
		s := newServer(m, cfg, t)
		ns := catalog.NamespaceName(cfg.Name)
		if first, ok := usedBy[ns]; ok {
			s.conflict = fmt.Sprintf("namespace %q is already used by server %q", ns, first)
			s.st.State = StateUnavailable
			s.st.LastError = s.conflict
		} else {
			usedBy[ns] = cfg.Name
		}
		m.servers = append(m.servers, s)
	}
	return m
}

// Start connects every server concurrently and returns once each server's
// first attempt has finished (each bounded by the start-up timeout, 30 s) or
// ctx ends. A server that fails is logged and registered with Unavailable set
// to the reason, then retried in the background with backoff; the others are
// unaffected. Sessions outlive ctx: they run until Close. Calling Start again
// does nothing.
func (m *Manager) Start(ctx context.Context) {
	m.startOnce.Do(func() {
		firsts := make([]chan struct{}, len(m.servers))
		for i, s := range m.servers {
			firsts[i] = make(chan struct{})
			if !m.goBG(func() { s.run(m.ctx, firsts[i]) }) {
				close(firsts[i])
			}
		}
		for _, first := range firsts {
			select {
			case <-first:
			case <-ctx.Done():
				return
			}
		}
	})
}

// Close stops every reconnect loop, closes every session (a session-scoped
// server's instances too), kills stdio children and their process groups, and
// removes the namespaces from the registry. Calls in flight fail with
// ErrConnectionLost. It waits until all of that is done; it always returns nil
// (the error is for io.Closer).
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		m.bgMu.Lock()
		m.closed = true
		m.bgMu.Unlock()
		m.cancel()
		m.wg.Wait()
	})
	return nil
}

// goBG runs f on a goroutine Close waits for, unless Close has begun; it
// reports whether f was started.
func (m *Manager) goBG(f func()) bool {
	m.bgMu.Lock()
	defer m.bgMu.Unlock()
	if m.closed {
		return false
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
	return true
}

// Status returns one entry per enabled server, sorted by name.
func (m *Manager) Status() []ServerStatus {
	out := make([]ServerStatus, 0, len(m.servers))
	for _, s := range m.servers {
		out = append(out, s.status())
	}
	return out
}

// timeoutError is an error whose Timeout method says so, so code that
// classifies failures (telemetry.Outcome) needs no import of this package.
type timeoutError string

func (e timeoutError) Error() string { return string(e) }
func (e timeoutError) Timeout() bool { return true }
