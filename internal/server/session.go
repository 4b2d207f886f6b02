package server

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/clientsession"
)

// sessionID names the MCP session a tool call belongs to ("" when there is none).
func sessionID(ctx context.Context) string {
	if session := mcpserver.ClientSessionFromContext(ctx); session != nil {
		return session.SessionID()
	}
	return ""
}

// sessionIDs issues MCP session ids and holds the live ones, each with its client
// session, so an unknown or terminated id (after DELETE, or the idle sweep) gets 404 as
// the spec requires; mcp-go's default manager accepts any id. Terminated ids are
// forgotten, not kept: an id this process never issued and one it ended look the same,
// and neither is valid. Terminating an id ends its client session, which stops the
// session's instances of session-scoped upstreams before DELETE is answered.
type sessionIDs struct {
	mu   sync.Mutex
	live map[string]*clientsession.Session
}

func newSessionIDs() *sessionIDs { return &sessionIDs{live: map[string]*clientsession.Session{}} }

// Generate returns a new unguessable id and begins its client session.
func (s *sessionIDs) Generate() string {
	id := "pctx-" + rand.Text()
	s.mu.Lock()
	s.live[id] = clientsession.Begin("mcp:" + id)
	s.mu.Unlock()
	return id
}

// Validate refuses ids that are not live.
func (s *sessionIDs) Validate(id string) (isTerminated bool, err error) {
	if s.session(id) == nil {
		return false, errors.New("unknown or terminated MCP session")
	}
	return false, nil
}

// Terminate forgets id and ends its client session (DELETE /mcp, the idle sweep,
// shutdown), returning once the session's state is released.
func (s *sessionIDs) Terminate(id string) (isNotAllowed bool, err error) {
	s.mu.Lock()
	cs := s.live[id]
	delete(s.live, id)
	s.mu.Unlock()
	if cs != nil {
		cs.End()
	}
	return false, nil
}

// session returns id's client session, or nil when id is not live.
func (s *sessionIDs) session(id string) *clientsession.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[id]
}

// endAll terminates every live id (pctx shutting down).
func (s *sessionIDs) endAll() {
	s.mu.Lock()
	live := s.live
	s.live = map[string]*clientsession.Session{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, cs := range live {
		wg.Go(cs.End)
	}
	wg.Wait()
}

// requireSession answers GET and DELETE on /mcp for an unknown or terminated session
// with 404, and without a session with 400, as the spec asks of a server that issues
// session ids; mcp-go checks ids only on POST, answers DELETE of any id with 200, and
// opens a GET stream for any id (or mints one). Protocol 2026-07-28 has no sessions:
// those requests go through for mcp-go to refuse.
func (s *sessionIDs) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodDelete) && !mcp.IsModernProtocol(r.Header.Get(mcp.HeaderProtocolVersion)) {
			switch id := r.Header.Get(mcpserver.HeaderKeySessionID); {
			case id == "":
				http.Error(w, "Bad Request: "+mcpserver.HeaderKeySessionID+" header required (initialize first)", http.StatusBadRequest)
				return
			case s.session(id) == nil:
				http.Error(w, "Not Found: unknown or terminated MCP session", http.StatusNotFound)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
