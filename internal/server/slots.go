package server

import (
	"context"
	"fmt"
	"sync"

	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/codemode"
)

// sessionSlots counts the executions each MCP session has running, so one client cannot
// take every slot of the global cap.
type sessionSlots struct {
	max     int
	mu      sync.Mutex
	running map[string]int
}

// acquire takes a slot for session or says the session is busy; release gives it back.
func (s *sessionSlots) acquire(session string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[session] >= s.max {
		return nil, fmt.Errorf("%w: this session already has %d executions running; wait for one to finish", codemode.ErrBusy, s.max)
	}
	s.running[session]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.running[session]--; s.running[session] == 0 {
			delete(s.running, session)
		}
	}, nil
}

// sessionID names the MCP session a tool call belongs to ("" when there is none).
func sessionID(ctx context.Context) string {
	if session := mcpserver.ClientSessionFromContext(ctx); session != nil {
		return session.SessionID()
	}
	return ""
}
