package upstream

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/oauth"
)

// server is one upstream: its configuration, its current session (if any)
// and the loop that keeps a session alive.
type server struct {
	m       *Manager
	cfg     config.Upstream
	t       tuning
	owner   string
	log     *slog.Logger
	timeout time.Duration // per call
	version string        // protocol version offered
	// conflict, when set, is why the server is never started: an earlier
	// server (in name order) has its namespace.
	conflict string
	// auth is the server's OAuth client; nil for stdio servers, servers with an
	// Authorization header, and Managers without AuthOptions.
	auth *oauth.Client

	mu       sync.Mutex
	sess     *session // nil while down; always nil for a session-scoped server
	sessions int      // sessions started so far
	st       ServerStatus
	// instances are a session-scoped server's, by client session; live counts
	// them until each is fully stopped (a replaced or ending one may already be
	// out of the map).
	instances map[*clientsession.Session]*instance
	live      int
	tools     []catalog.Tool // the last tools listed, kept while a login is needed
}

func newServer(m *Manager, cfg config.Upstream, t tuning) *server {
	s := &server{
		m:       m,
		cfg:     cfg,
		t:       t,
		owner:   "upstream:" + cfg.Name,
		log:     m.logger.With("upstream", cfg.Name),
		timeout: cfg.Timeout,
		version: cfg.ProtocolVersion,
	}
	// config.Load fills both; a config.Upstream built by hand may not.
	if s.timeout <= 0 {
		s.timeout = config.DefaultUpstreamTimeout
	}
	if s.version == "" {
		s.version = config.DefaultProtocolVersion
	}
	s.st = ServerStatus{Name: cfg.Name, State: StateConnecting, Transport: cfg.Transport, Scope: config.ScopeShared}
	if s.scoped() {
		s.st.Scope = config.ScopeSession
		s.instances = map[*clientsession.Session]*instance{}
	}
	if cfg.URL == "" {
		s.st.Transport = "stdio"
	}
	// OAuth serves one resource: a session-scoped URL naming ${session.id} is as many
	// resources as sessions, which no single login covers.
	if m.auth != nil && cfg.URL != "" && !hasAuthorizationHeader(cfg.Headers) && !strings.Contains(cfg.URL, config.SessionID) {
		c, err := oauth.New(oauth.Options{
			ServerName:      cfg.Name,
			ServerURL:       cfg.URL,
			Config:          cfg.OAuth,
			Store:           m.auth.Store,
			Agent:           m.auth.Agent,
			ProtocolVersion: s.version,
			ClientVersion:   m.auth.ClientVersion,
			Logger:          s.log,
			Secrets:         m.secrets,
		})
		if err != nil {
			s.log.Error("upstream: OAuth disabled", "err", err)
		}
		s.auth = c
	}
	return s
}

func hasAuthorizationHeader(h map[string]string) bool {
	for k := range h {
		if strings.EqualFold(k, "Authorization") {
			return true
		}
	}
	return false
}

// run keeps a session up until ctx ends. first is closed once the first
// attempt has finished, successful or not.
func (s *server) run(ctx context.Context, first chan<- struct{}) {
	var once sync.Once
	firstDone := func() { once.Do(func() { close(first) }) }
	defer firstDone()
	defer s.shutdown()
	if s.conflict != "" {
		// Not Put as unavailable: the namespace belongs to the other server.
		s.log.Error("upstream: not started", "err", s.conflict)
		firstDone()
		<-ctx.Done()
		return
	}

	backoff := s.t.backoffMin
	for attempt := 0; ctx.Err() == nil; attempt++ {
		sess, err := s.connect(ctx)
		if err == nil && s.scoped() {
			// The probe has listed the tools; instances serve the calls.
			sess.close()
			firstDone()
			<-ctx.Done()
			return
		}
		if err == nil {
			firstDone()
			up := time.Now()
			err = s.serve(ctx, sess)
			sess.close()
			// A session that lived long resets the backoff; a crash loop does not.
			if time.Since(up) > s.t.backoffMax {
				backoff = s.t.backoffMin
			}
		}
		if ctx.Err() != nil {
			return
		}
		if le, ok := oauth.AsLoginRequired(err); ok && s.auth != nil {
			// Retrying cannot help until someone logs in: wait for the token store.
			s.setNeedsLogin(le)
			firstDone()
			if s.auth.WaitForLogin(ctx, s.t.loginPoll) != nil {
				return
			}
			s.log.Info("upstream: a login arrived; connecting")
			attempt, backoff = -1, s.t.backoffMin
			continue
		}
		s.setDown(err, attempt)
		firstDone()
		// Full jitter on the upper half, so many servers restarting together
		// do not reconnect in lockstep.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, s.t.backoffMax)
	}
}

// connect starts one session, lists its tools and registers them. A
// session-scoped server's session is its probe, with ${session.id} "probe".
func (s *server) connect(ctx context.Context) (*session, error) {
	actx, cancel := context.WithTimeout(ctx, s.t.startTimeout)
	defer cancel()
	cfg, log := s.cfg, s.log
	if s.scoped() {
		cfg, log = s.cfg.ForSession(probeSessionID), s.log.With("session", probeSessionID)
	}
	sess, err := dial(ctx, actx, s, cfg, log)
	if err != nil {
		return nil, err
	}
	tools, err := sess.listTools(actx)
	if err != nil {
		sess.close()
		return nil, err
	}
	s.mu.Lock()
	s.sessions++
	s.st.Restarts = s.sessions - 1
	if !s.scoped() {
		s.sess = sess
	}
	s.st.State = StateReady
	s.st.Transport = sess.transport
	s.st.Tools = len(tools)
	s.tools = tools
	s.mu.Unlock()
	s.register(catalog.Namespace{Name: s.cfg.Name, Description: sess.description, Tools: tools})
	log.Info("upstream: connected", "transport", sess.transport, "tools", len(tools), "protocol", sess.protocol)
	return sess, nil
}

// serve waits until the session dies or ctx ends, refreshing the namespace
// on notifications/tools/list_changed, at most once per debounce interval.
func (s *server) serve(ctx context.Context, sess *session) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sess.dead():
			return sess.deathReason()
		case <-sess.listChanged:
		}
		// Coalesce a burst of notifications into one tools/list.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sess.dead():
			return sess.deathReason()
		case <-time.After(s.t.debounce):
		}
		select {
		case <-sess.listChanged:
		default:
		}
		s.refresh(ctx, sess)
	}
}

// refresh re-lists the tools and replaces the namespace.
func (s *server) refresh(ctx context.Context, sess *session) {
	actx, cancel := context.WithTimeout(ctx, s.t.startTimeout)
	defer cancel()
	tools, err := sess.listTools(actx)
	if err != nil {
		s.log.Warn("upstream: refreshing tools after list_changed failed", "err", err)
		return
	}
	s.mu.Lock()
	s.st.Tools = len(tools)
	s.tools = tools
	s.mu.Unlock()
	if s.register(catalog.Namespace{Name: s.cfg.Name, Description: sess.description, Tools: tools}) {
		s.log.Info("upstream: tools refreshed", "tools", len(tools))
	}
}

// setNeedsLogin records that the server waits for a login. Tools it listed before
// stay listed, under a note, and their calls reject with the error; a server never
// listed is unavailable with it.
func (s *server) setNeedsLogin(le *oauth.LoginRequiredError) {
	reason := s.m.secrets.String(le.Error())
	s.mu.Lock()
	s.sess = nil
	s.st.State = StateNeedsLogin
	s.st.LastError = reason
	tools := s.tools
	s.mu.Unlock()
	s.log.Warn("upstream: "+reason, "store", s.m.auth.Store.Where())
	if len(tools) > 0 {
		s.register(catalog.Namespace{Name: s.cfg.Name, Description: reason, Tools: tools})
		return
	}
	s.register(catalog.Namespace{Name: s.cfg.Name, Unavailable: reason})
}

// setDown records why the server is down and marks its namespace unavailable.
func (s *server) setDown(err error, attempt int) {
	reason := s.m.secrets.String(err.Error())
	s.mu.Lock()
	s.sess = nil
	s.st.State = StateUnavailable
	s.st.Tools = 0
	s.st.LastError = reason
	s.tools = nil
	s.mu.Unlock()
	level := slog.LevelWarn
	if attempt == 0 {
		level = slog.LevelError
	}
	s.log.Log(context.Background(), level, "upstream: unavailable, will retry", "err", reason, "attempt", attempt+1)
	s.register(catalog.Namespace{Name: s.cfg.Name, Unavailable: reason})
}

// register puts ns in the registry. A refusal (say, another backend holds
// the name) is logged and kept as the status's LastError; the session stays
// up, and the next registration tries again.
func (s *server) register(ns catalog.Namespace) bool {
	err := s.m.reg.Put(s.owner, ns)
	if err == nil {
		return true
	}
	s.log.Error("upstream: cannot register namespace", "err", err)
	s.mu.Lock()
	s.st.LastError = fmt.Sprintf("register namespace: %v", err)
	s.mu.Unlock()
	return false
}

// shutdown runs when the Manager closes.
func (s *server) shutdown() {
	s.mu.Lock()
	s.sess = nil
	s.st.State = StateClosed
	s.st.Tools = 0
	s.mu.Unlock()
	s.m.reg.Remove(s.owner, s.cfg.Name)
}

func (s *server) status() ServerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// call serves one tool call on whatever session is current, or a
// session-scoped server's on the instance of the call's client session. Its error
// never carries a known secret.
func (s *server) call(ctx context.Context, tool string, args map[string]any) (any, error) {
	if s.scoped() {
		res, err := s.callInstance(ctx, tool, args)
		return res, s.m.secrets.Error(err)
	}
	s.mu.Lock()
	sess, state, reason := s.sess, s.st.State, s.st.LastError
	s.mu.Unlock()
	if sess == nil {
		switch state {
		case StateClosed:
			reason = "pctx is shutting down"
		case StateNeedsLogin:
			return nil, fmt.Errorf("upstream %q: tool %q: %w", s.cfg.Name, tool, &loginError{msg: reason})
		}
		return nil, s.m.secrets.Error(fmt.Errorf("upstream %q: tool %q: %w: %s", s.cfg.Name, tool, ErrConnectionLost, reason))
	}
	res, err := sess.call(ctx, tool, args)
	return res, s.m.secrets.Error(err)
}

// loginError is a needs-login reason kept as text (the status's), still matching
// oauth.ErrLoginRequired.
type loginError struct{ msg string }

func (e *loginError) Error() string { return e.msg }
func (e *loginError) Unwrap() error { return oauth.ErrLoginRequired }

// firstLine returns the first line of text, cut to n runes.
func firstLine(text string, n int) string {
	text, _, _ = strings.Cut(strings.TrimSpace(text), "\n")
	if r := []rune(text); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return text
}
