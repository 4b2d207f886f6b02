// Package clientsession is the one notion of a client's session that pctx's front doors
// and backends share: an MCP session (over HTTP, or the one session of a stdio pipe), an
// SDK worker's connection, a published-client session, or a single execution that belongs
// to none of those.
//
// A front door begins a Session when its client arrives, puts it on the context of
// everything the client's requests run (NewContext), and ends it when the client leaves
// (DELETE, idle timeout, disconnect, shutdown). A backend that keeps state per session,
// such as a session-scoped upstream server's process, finds the session with FromContext,
// registers its release with OnEnd, and is released deterministically: End returns only
// once every release has returned.
package clientsession

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
)

// Session is one client's session. It is safe for concurrent use.
type Session struct {
	key string
	id  string

	mu       sync.Mutex
	ended    bool
	done     chan struct{} // closed when End begins
	released chan struct{} // closed when End's releases have all returned
	next     int
	releases map[int]func()
}

// Begin starts a session named key. Keys name sessions to the execution limiter and in
// logs; they must be unique among live sessions across front doors, so front doors prefix
// them with their own name ("mcp:", "stdio:", "ws:", "compat:", "exec:").
func Begin(key string) *Session {
	return &Session{
		key:      key,
		id:       strings.ToLower(rand.Text()),
		done:     make(chan struct{}),
		released: make(chan struct{}),
		releases: map[int]func(){},
	}
}

// Key returns the key the session began with.
func (s *Session) Key() string { return s.key }

// ID returns an identifier unique to this session: 26 lowercase letters and digits, so it
// fits file names, command lines and headers. Unlike the key it grants nothing: an MCP
// session id lets its holder act in the session, and a child's command line is visible to
// every local user, so backends expose ID, never Key.
func (s *Session) ID() string { return s.id }

// Done is closed as soon as End is called.
func (s *Session) Done() <-chan struct{} { return s.done }

// Ended reports whether End has been called.
func (s *Session) Ended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// OnEnd registers release to run when the session ends. It reports false, registering
// nothing, when the session has already ended; checking and registering are one step, so a
// backend cannot hold state for a session that will never release it. cancel unregisters
// release if it has not started; once End has begun, cancel does nothing.
func (s *Session) OnEnd(release func()) (cancel func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return func() {}, false
	}
	n := s.next
	s.next++
	s.releases[n] = release
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.ended {
			delete(s.releases, n)
		}
	}, true
}

// End ends the session: Done closes, then every registered release runs, concurrently,
// and End returns once all have returned. A later or concurrent End waits for the same
// releases, so whoever ends a session may rely on its state being released.
func (s *Session) End() {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		<-s.released
		return
	}
	s.ended = true
	releases := s.releases
	s.releases = nil
	close(s.done)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, release := range releases {
		wg.Go(release)
	}
	wg.Wait()
	close(s.released)
}

type contextKey struct{}

// NewContext returns ctx carrying s.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, contextKey{}, s)
}

// FromContext returns the session NewContext put in ctx, or nil.
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(contextKey{}).(*Session)
	return s
}
