// Package compat serves the published pctx-client (PyPI pctx-client, docs/protocol.md §10):
// its REST endpoints (code-mode sessions, tool and server registration, function listing
// and details, the virtual shell) and its sessions for the websockets that name one, whose
// frames sdkbridge carries. Everything the original pctx's client expects and pctx/1 does
// not lives here, so sdkbridge speaks pctx/1 only.
package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sdkbridge"
)

// CodeMode is the view of the catalog a REST answer derives from; *codemode.Service
// satisfies it.
type CodeMode interface {
	// Snapshot is the catalog as it is now plus session: one consistent view.
	Snapshot(session ...catalog.Namespace) (*catalog.Snapshot, error)
}

// Options configures a Server. A nil *Options is valid and means every default.
type Options struct {
	// Logger receives session events; default slog.Default().
	Logger *slog.Logger
	// AllowClientServers lets POST /register/servers start MCP servers for a session (a
	// stdio command runs on this machine). Default false: refused. When true, a request
	// is accepted if it carries APIKey or, when there is no APIKey, if it came over
	// loopback to a loopback address.
	AllowClientServers bool
	// APIKey is the server's API key ([server] api_key), which a /register/servers
	// request must carry when it is set. Default "": none.
	APIKey string
	// SessionIdleTTL ends a session (and stops its servers) when it has had no request
	// and no open connection for this long; checked whenever a session is created.
	// Default 30 minutes.
	SessionIdleTTL time.Duration
	// MaxBodyBytes bounds one REST request body; default 16 MiB.
	MaxBodyBytes int64
}

// Server holds the published client's sessions. It is safe for concurrent use; it
// implements sdkbridge.Sessions for the websockets that name a session.
type Server struct {
	cm   CodeMode
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	closed   bool
	sessions map[string]*session

	now func() time.Time // the clock of session expiry; tests replace it
}

// New returns a Server answering from cm.
func New(cm CodeMode, opts *Options) *Server {
	srv := &Server{cm: cm, sessions: map[string]*session{}, now: time.Now}
	if opts != nil {
		srv.opts = *opts
	}
	if srv.opts.Logger == nil {
		srv.opts.Logger = slog.Default()
	}
	if srv.opts.SessionIdleTTL <= 0 {
		srv.opts.SessionIdleTTL = 30 * time.Minute
	}
	if srv.opts.MaxBodyBytes <= 0 {
		srv.opts.MaxBodyBytes = 16 << 20
	}
	srv.log = srv.opts.Logger
	return srv
}

// Close ends every session, stopping the MCP servers they started and their instances of
// session-scoped upstreams. Later session creation answers 503.
func (srv *Server) Close() error {
	srv.mu.Lock()
	srv.closed = true
	sessions := srv.sessions
	srv.sessions = map[string]*session{}
	srv.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range sessions {
		wg.Go(s.end)
	}
	wg.Wait()
	return nil
}

// Attach implements sdkbridge.Sessions.
func (srv *Server) Attach(id string) (sdkbridge.Session, bool) {
	s := srv.openSession(id)
	if s == nil {
		return nil, false
	}
	return &attached{srv: srv, id: id, s: s}, true
}

// attached is one websocket's hold on a session.
type attached struct {
	srv  *Server
	id   string
	s    *session
	once sync.Once
}

func (a *attached) Namespaces(call sdkbridge.CallFunc) ([]catalog.Namespace, error) {
	tools, servers, ok := a.srv.sessionTools(a.id)
	if !ok {
		return nil, fmt.Errorf("code-mode session %q was closed", a.id)
	}
	return append(legacyNamespaces(tools, call), servers...), nil
}

func (a *attached) Result(rec *codemode.Record) any {
	_, servers, _ := a.srv.sessionTools(a.id)
	mcp := map[string]bool{}
	for _, ns := range servers {
		mcp[ns.Name] = true
	}
	return legacyResult(rec, mcp)
}

func (a *attached) ClientSession() *clientsession.Session { return a.s.life }

func (a *attached) Naming() catalog.Naming { return Naming }

func (a *attached) Detach() { a.once.Do(func() { a.srv.useSession(a.id, -1) }) }

// clip shortens a name for an error message.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// nullToNil treats an absent and a JSON null schema alike.
func nullToNil(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	return raw
}
