package codemode

import (
	"context"
	"fmt"
	"sync"

	"github.com/pctx-dev/pctx/internal/clientsession"
)

// Default execution caps: how many executions may run at once on one pctx, and within
// one session (an MCP session, an SDK worker connection, a published-client session).
const (
	DefaultMaxConcurrent = 64
	DefaultMaxPerSession = 8
)

// limiter is the one bound on running executions, for every front door. One more than
// a cap is refused with ErrBusy at once: queueing would let a few runaway programs hold
// every caller hostage until their timeouts.
type limiter struct {
	global, perSession int

	mu      sync.Mutex
	total   int
	running map[string]int // by session key
}

func newLimiter(global, perSession int) *limiter {
	if global <= 0 {
		global = DefaultMaxConcurrent
	}
	if perSession <= 0 {
		perSession = DefaultMaxPerSession
	}
	return &limiter{global: global, perSession: perSession, running: map[string]int{}}
}

// acquire takes a slot for session ("" counts only against the global cap).
func (l *limiter) acquire(session string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.total >= l.global:
		return nil, fmt.Errorf("%w: %d executions are already running on this pctx, the limit; retry when one has finished", ErrBusy, l.global)
	case session != "" && l.running[session] >= l.perSession:
		return nil, fmt.Errorf("%w: this session already has %d executions running, the limit; retry when one has finished", ErrBusy, l.perSession)
	}
	l.total++
	if session != "" {
		l.running[session]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if session != "" {
				if l.running[session]--; l.running[session] == 0 {
					delete(l.running, session)
				}
			}
		})
	}, nil
}

// WithSession marks ctx as belonging to a client session keyed key that never ends:
// Execute counts it against that session's cap as well as the global one. Front doors
// instead begin a clientsession.Session, put it on the context with
// clientsession.NewContext and end it when their client leaves, which also stops the
// session's instances of session-scoped upstreams; WithSession suits callers with no
// such lifecycle (tests).
func WithSession(ctx context.Context, key string) context.Context {
	return clientsession.NewContext(ctx, clientsession.Begin(key))
}

// SessionFrom returns the key of ctx's client session, or "".
func SessionFrom(ctx context.Context) string {
	if s := clientsession.FromContext(ctx); s != nil {
		return s.Key()
	}
	return ""
}
