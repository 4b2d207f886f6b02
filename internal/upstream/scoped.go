package upstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/config"
)

// A session-scoped server ([servers.NAME] scope = "session") has no session of
// its own. At Start a probe instance (${session.id} = probeSessionID) lists its
// tools and is stopped; after that, each client session's first call starts
// that session's instance, later calls of the session reuse it, and the
// session's end stops it (clientsession.Session.OnEnd), as does Close. An
// instance that dies (its child crashed) is replaced on the session's next
// call. tools/list_changed from any instance refreshes the shared listing.

// probeSessionID is what ${session.id} becomes in the probe instance.
const probeSessionID = "probe"

// instance is a session-scoped server's MCP session for one client session.
type instance struct {
	cs    *clientsession.Session
	ready chan struct{} // closed once sess or err is set
	sess  *session      // set before ready closes, if the start succeeded
	err   error         // set before ready closes, if it failed
	stop  context.CancelFunc
	done  chan struct{} // closed once the instance is stopped and released
}

// dead reports whether inst failed to start or has died; it may still be in
// its server's map until runInstance has cleaned up, but serves no more calls.
func (inst *instance) dead() bool {
	select {
	case <-inst.ready:
		return inst.err != nil || inst.sess.life.Err() != nil
	default:
		return false
	}
}

func (s *server) scoped() bool { return s.cfg.Scope == config.ScopeSession }

// callInstance serves one call on the instance of ctx's client session,
// starting it first if the session has none.
func (s *server) callInstance(ctx context.Context, tool string, args map[string]any) (any, error) {
	fail := func(err error) (any, error) {
		return nil, fmt.Errorf("upstream %q: tool %q: %w", s.cfg.Name, tool, err)
	}
	cs := clientsession.FromContext(ctx)
	if cs == nil {
		return fail(fmt.Errorf("%w, and the server has scope = %q (one instance per client session)", ErrNoSession, config.ScopeSession))
	}
	inst, err := s.instance(cs)
	if err != nil {
		return fail(err)
	}
	select {
	case <-inst.ready:
	case <-ctx.Done():
		return fail(context.Cause(ctx))
	}
	if inst.err != nil {
		return fail(inst.err)
	}
	v, err := inst.sess.call(ctx, tool, args)
	if errors.Is(err, ErrConnectionLost) && cs.Ended() {
		return fail(ErrSessionEnded)
	}
	return v, err
}

// instance returns cs's instance, starting one if cs has none (or its last one
// has died).
func (s *server) instance(cs *clientsession.Session) (*instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inst := s.instances[cs]; inst != nil && !inst.dead() {
		return inst, nil
	}
	if s.m.ctx.Err() != nil {
		return nil, fmt.Errorf("%w: pctx is shutting down", ErrConnectionLost)
	}
	if err := s.reserve(); err != nil {
		return nil, err
	}
	life, stop := context.WithCancel(s.m.ctx)
	inst := &instance{cs: cs, ready: make(chan struct{}), stop: stop, done: make(chan struct{})}
	// The session's end stops the instance and waits until it is gone, so that
	// whoever ends a session (DELETE /mcp, say) finds its processes stopped.
	unhook, ok := cs.OnEnd(func() {
		stop()
		<-inst.done
	})
	if !ok {
		stop()
		s.unreserve()
		return nil, ErrSessionEnded
	}
	s.instances[cs] = inst
	s.st.Instances = s.live
	started := s.m.goBG(func() {
		defer close(inst.done)
		defer unhook()
		s.runInstance(life, inst)
	})
	if !started {
		unhook()
		stop()
		delete(s.instances, cs)
		s.unreserve()
		s.st.Instances = s.live
		close(inst.done)
		return nil, fmt.Errorf("%w: pctx is shutting down", ErrConnectionLost)
	}
	return inst, nil
}

// reserve counts one more instance against the server's max_sessions and the
// Manager's MaxSessionInstances. s.mu is held.
func (s *server) reserve() error {
	if max := s.cfg.MaxSessions; max > 0 && s.live >= max {
		return fmt.Errorf("%w: %d instances of this server are running, one per client session, its limit ([servers.%s] max_sessions); one is freed when its session ends",
			ErrBusy, s.live, s.cfg.Name)
	}
	if err := s.m.reserve(); err != nil {
		return err
	}
	s.live++
	return nil
}

// unreserve undoes reserve. s.mu is held.
func (s *server) unreserve() {
	s.live--
	s.m.unreserve()
}

func (m *Manager) reserve() error {
	m.instMu.Lock()
	defer m.instMu.Unlock()
	if m.instances >= m.maxInstances {
		return fmt.Errorf("%w: %d instances of session-scoped servers are running, pctx's limit ([server] max_session_upstreams); one is freed when its session ends",
			ErrBusy, m.instances)
	}
	m.instances++
	return nil
}

func (m *Manager) unreserve() {
	m.instMu.Lock()
	m.instances--
	m.instMu.Unlock()
}

// runInstance starts inst, serves it until its life ends (the session ended,
// or Close) or it dies, then stops it and releases its reservation.
func (s *server) runInstance(life context.Context, inst *instance) {
	id := inst.cs.ID()
	log := s.log.With("session", id)
	attempt, cancel := context.WithTimeout(life, s.t.startTimeout)
	sess, err := dial(life, attempt, s, s.cfg.ForSession(id), log)
	cancel()
	if err != nil {
		switch {
		case inst.cs.Ended():
			inst.err = ErrSessionEnded
		case s.m.ctx.Err() != nil:
			inst.err = fmt.Errorf("%w: pctx is shutting down", ErrConnectionLost)
		default:
			inst.err = fmt.Errorf("%w for this session: %w", ErrStartFailed, err)
			log.Warn("upstream: session instance did not start", "err", err)
		}
		close(inst.ready)
		s.forget(inst)
		return
	}
	inst.sess = sess
	close(inst.ready)
	log.Info("upstream: session instance started", "transport", sess.transport, "protocol", sess.protocol)
	reason := s.serve(life, sess)
	stopped := life.Err() != nil
	// Out of the map first, so the session's next call starts a new instance
	// instead of finding this dying one.
	s.mu.Lock()
	if s.instances[inst.cs] == inst {
		delete(s.instances, inst.cs)
	}
	s.mu.Unlock()
	sess.close()
	if stopped {
		log.Info("upstream: session instance stopped")
	} else {
		log.Warn("upstream: session instance died; the session's next call starts another", "err", reason)
	}
	s.forget(inst)
}

// forget drops inst from the server and releases its reservation.
func (s *server) forget(inst *instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.instances[inst.cs] == inst {
		delete(s.instances, inst.cs)
	}
	s.unreserve()
	s.st.Instances = s.live
}
