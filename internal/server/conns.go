package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts of the HTTP server NewHTTPServer returns.
const (
	// ReadHeaderTimeout closes a connection that sends no complete request header in time
	// (a silent or trickling client).
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading one whole request, body included.
	ReadTimeout = 60 * time.Second
	// IdleTimeout closes a keep-alive connection idle this long between requests.
	IdleTimeout = 60 * time.Second
)

// NewHTTPServer returns the http.Server pctx serves handler with: the timeouts above, no
// write timeout (SSE streams and long executions answer late), request contexts derived
// from base (so ending base cancels running programs instead of waiting them out), and
// connection states reported to lim when it is not nil. Serve it on lim.
func NewHTTPServer(handler http.Handler, lim *ConnLimiter, base context.Context) *http.Server {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		IdleTimeout:       IdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	if lim != nil {
		srv.ConnState = lim.ConnState
	}
	return srv
}

// DefaultMaxConnections is ConnLimiter's cap when none is given ([server] max_connections):
// far above what a team's MCP clients and SDK workers hold open, far below what exhausts
// the process's file descriptors.
const DefaultMaxConnections = 512

// Refusing a connection over the cap: answering it takes at most rejectTimeout, and at
// most maxRejecting are answered at once (beyond, they are closed unanswered).
const (
	rejectTimeout = time.Second
	maxRejecting  = 64
)

// ConnLimitOptions configures LimitConnections. A nil *ConnLimitOptions is valid and
// means every default.
type ConnLimitOptions struct {
	// Max is the cap on open connections; default DefaultMaxConnections.
	Max int
	// SilentGrace is how long a new connection may stay silent before it may lose its
	// place to a newcomer at the cap: a client that has just connected has usually sent
	// its request already, unread yet. Default DefaultSilentGrace; negative: none.
	SilentGrace time.Duration
	// Logger receives refusals; default slog.Default().
	Logger *slog.Logger
}

// DefaultSilentGrace is ConnLimitOptions.SilentGrace's default.
const DefaultSilentGrace = time.Second

// ConnLimiter is a net.Listener that keeps at most a fixed number of the connections it
// accepted open at once, websockets included. At the cap, a new connection first takes
// the place of the longest-waiting connection that is not in a request: idle between
// keep-alive requests, or connected and silent for SilentGrace. When there is none (every
// open connection is in a request, is a websocket, or has just connected), the new one
// is answered "503 too many open connections" and closed. Accept never blocks on the
// cap, so a flood of silent connections cannot lock clients out for longer than the
// grace, and none is held beyond the http.Server's timeouts.
//
// Set http.Server.ConnState to ConnState so the limiter knows which connections are
// busy. It is safe for concurrent use.
type ConnLimiter struct {
	net.Listener
	max   int
	grace time.Duration
	log   *slog.Logger

	rejecting chan struct{}  // one per 503 being written
	rejects   sync.WaitGroup // the goroutines writing them

	mu    sync.Mutex
	conns map[*limitedConn]struct{}
}

// limitedConn is one accepted connection; closing it frees its place.
type limitedConn struct {
	net.Conn
	l    *ConnLimiter
	once sync.Once

	// Guarded by l.mu.
	state http.ConnState
	since time.Time // when it entered state
}

// LimitConnections wraps ln.
func LimitConnections(ln net.Listener, opts *ConnLimitOptions) *ConnLimiter {
	var o ConnLimitOptions
	if opts != nil {
		o = *opts
	}
	if o.Max <= 0 {
		o.Max = DefaultMaxConnections
	}
	if o.SilentGrace == 0 {
		o.SilentGrace = DefaultSilentGrace
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &ConnLimiter{Listener: ln, max: o.Max, grace: max(o.SilentGrace, 0), log: o.Logger,
		rejecting: make(chan struct{}, maxRejecting), conns: map[*limitedConn]struct{}{}}
}

// Accept returns the next connection within the cap, making room or refusing the ones
// over it as the type's doc says.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, l: l, state: http.StateNew, since: time.Now()}
		l.mu.Lock()
		var evict *limitedConn
		if len(l.conns) >= l.max {
			evict = l.evictable(lc.since)
		}
		admit := len(l.conns) < l.max || evict != nil
		if admit {
			if evict != nil {
				delete(l.conns, evict) // its place is taken now; its Close finds it gone
			}
			l.conns[lc] = struct{}{}
		}
		l.mu.Unlock()
		if evict != nil {
			l.log.Debug("server: connection cap reached, closing a connection not in a request", "remote", evict.RemoteAddr(), "state", evict.stateName(), "max", l.max)
			_ = evict.Conn.Close()
		}
		if admit {
			return lc, nil
		}
		l.log.Warn("server: connection refused: too many open connections", "remote", c.RemoteAddr(), "max", l.max)
		select {
		case l.rejecting <- struct{}{}:
			l.rejects.Go(func() {
				defer func() { <-l.rejecting }()
				reject(c, l.max)
			})
		default: // a flood: no answer, just the close
			_ = c.Close()
		}
	}
}

// evictable returns the connection that has waited longest without a request at now:
// idle ones before silent ones. Callers hold l.mu.
func (l *ConnLimiter) evictable(now time.Time) *limitedConn {
	var best *limitedConn
	rank := func(c *limitedConn) int {
		switch {
		case c.state == http.StateIdle:
			return 2
		case c.state == http.StateNew && now.Sub(c.since) >= l.grace:
			return 1
		}
		return 0 // in a request, a websocket, or just connected: kept
	}
	for c := range l.conns {
		r := rank(c)
		if r == 0 {
			continue
		}
		if best == nil || r > rank(best) || r == rank(best) && c.since.Before(best.since) {
			best = c
		}
	}
	return best
}

// reject answers a connection over the cap with a 503 that says why, then closes it. It
// reads the request's head first (for a moment at most): an HTTP client drops an answer
// that arrives before it has sent its request, and closing with unread data would reset
// the connection, so the client could lose the answer either way.
func reject(c net.Conn, max int) {
	defer c.Close()
	body := fmt.Sprintf("pctx: too many open connections (the limit is %d, [server] max_connections); retry later\n", max)
	_ = c.SetDeadline(time.Now().Add(rejectTimeout))
	head := make([]byte, 0, 1024)
	buf := make([]byte, 1024)
	for len(head) < 16<<10 && !bytes.Contains(head, []byte("\r\n\r\n")) {
		n, err := c.Read(buf)
		head = append(head, buf[:n]...)
		if err != nil {
			break
		}
	}
	if _, err := fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\nRetry-After: 1\r\n\r\n%s", len(body), body); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.CopyN(io.Discard, c, 64<<10)
}

// ConnState records what each connection is doing; set it as http.Server.ConnState.
func (l *ConnLimiter) ConnState(c net.Conn, state http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	lc.state, lc.since = state, time.Now()
	l.mu.Unlock()
}

// Close closes the listener and waits for the 503 answers being written (at most
// about a second).
func (l *ConnLimiter) Close() error {
	err := l.Listener.Close()
	l.rejects.Wait()
	return err
}

// Open returns the number of accepted connections not closed yet.
func (l *ConnLimiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Close frees the connection's place once, then closes it.
func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

func (c *limitedConn) stateName() string {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	return c.state.String()
}
