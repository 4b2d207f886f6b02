package server

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"

	mcpserver "github.com/mark3labs/mcp-go/server"
)

// sessionID names the MCP session a tool call belongs to ("" when there is none).
func sessionID(ctx context.Context) string {
	if session := mcpserver.ClientSessionFromContext(ctx); session != nil {
		return session.SessionID()
	}
	return ""
}

// sessionIDs issues MCP session ids and remembers the live ones, so an unknown or
// terminated id (after DELETE, or the idle sweep) gets 404 as the spec requires; mcp-go's
// default manager accepts any id. Terminated ids are forgotten, not kept: an id this
// process never issued and one it ended look the same, and neither is valid.
type sessionIDs struct {
	mu   sync.Mutex
	live map[string]struct{}
}

func newSessionIDs() *sessionIDs { return &sessionIDs{live: map[string]struct{}{}} }

// Generate returns a new unguessable id.
func (s *sessionIDs) Generate() string {
	id := "pctx-" + rand.Text()
	s.mu.Lock()
	s.live[id] = struct{}{}
	s.mu.Unlock()
	return id
}

// Validate refuses ids that are not live.
func (s *sessionIDs) Validate(id string) (isTerminated bool, err error) {
	s.mu.Lock()
	_, ok := s.live[id]
	s.mu.Unlock()
	if !ok {
		return false, errors.New("unknown or terminated MCP session")
	}
	return false, nil
}

// Terminate forgets id (DELETE /mcp, or the idle sweep).
func (s *sessionIDs) Terminate(id string) (isNotAllowed bool, err error) {
	s.mu.Lock()
	delete(s.live, id)
	s.mu.Unlock()
	return false, nil
}
