package upstream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/pctx-dev/pctx/internal/config"
)

// dialStdio spawns the server's command and runs the handshake over its
// stdin/stdout. pctx spawns the child itself (rather than letting mcp-go do
// it) to put it in its own process group (a job object on Windows), kill that whole group on close,
// bound the size of each stdout line, and log stderr line by line.
func dialStdio(attempt context.Context, sess *session) (*session, error) {
	srv := sess.srv
	sess.transport = "stdio"
	p, err := startProcess(sess.cfg, sess.log)
	if err != nil {
		sess.close()
		return nil, err
	}
	out := newLineFilter(p.stdout, srv.t.maxResultBytes, sess, sess.log)
	sess.cleanup = func() {
		p.stop(srv.t.stopGrace)
		// The reader is mcp-go's; it ends once stdout is closed.
		select {
		case <-out.done:
		case <-time.After(srv.t.stopGrace):
		}
	}
	// The session dies when the child exits or closes its stdout.
	sess.bg.Add(1)
	go func() {
		defer sess.bg.Done()
		select {
		case <-p.exited:
		case <-out.done:
			select {
			case <-p.exited:
			case <-time.After(time.Second):
				sess.die(fmt.Errorf("process closed its stdout%s", p.stderrTail()))
				return
			}
		case <-sess.dead():
			return
		}
		sess.die(p.exitReason())
	}()
	in := &stdinWriter{f: p.stdin, timeout: srv.timeout, sess: sess}
	t := transport.NewIO(out, in, nil)
	if err := sess.handshake(attempt, t); err != nil {
		sess.close()
		return nil, err
	}
	return sess, nil
}

// process is a running stdio child.
type process struct {
	cmd    *exec.Cmd
	stdin  *os.File // our ends of the pipes
	stdout *os.File
	stderr *os.File
	log    *slog.Logger

	exited     chan struct{} // closed after Wait returned
	waitErr    error
	stderrDone chan struct{}

	tailMu sync.Mutex
	tail   []string // last stderr lines, for exit reasons
}

// Variables a command server gets from pctx's environment unless
// inherit_env is set: what a program, and npx and node in particular, needs to
// find itself, its home, cache, locale, proxy and CA certificates. Anything
// else (PCTX_API_KEY, the secrets other servers' ${env:...} read) stays out, and so
// do the registry credentials among the NODE_* and npm_config_* variables
// (npmCredential).
var (
	passedEnv = map[string]bool{
		"PATH": true, "HOME": true, "USER": true, "LOGNAME": true, "SHELL": true,
		"TERM": true, "LANG": true, "LC_ALL": true, "LC_CTYPE": true, "TMPDIR": true, "TZ": true,
		"XDG_CACHE_HOME": true, "XDG_CONFIG_HOME": true, "XDG_DATA_HOME": true, "XDG_RUNTIME_DIR": true,
		"HTTP_PROXY": true, "HTTPS_PROXY": true, "NO_PROXY": true,
		"http_proxy": true, "https_proxy": true, "no_proxy": true,
		"SSL_CERT_FILE": true, "SSL_CERT_DIR": true,
	}
	passedEnvPrefixes = []string{"NODE_", "npm_config_", "NPM_CONFIG_"}
)

// childEnv is the environment of a command server: the passed part of
// environ (all of it with inherit_env), then cfg.Env, which wins.
func childEnv(cfg config.Upstream, environ []string) []string {
	env := make([]string, 0, len(passedEnv)+len(cfg.Env)) // never nil: a nil Env inherits everything
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		byPrefix := slices.ContainsFunc(passedEnvPrefixes, func(p string) bool { return strings.HasPrefix(name, p) })
		if cfg.InheritEnv || passedEnv[name] || byPrefix && !npmCredential(name) {
			env = append(env, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Env)) {
		env = append(env, k+"="+cfg.Env[k]) // later entries win
	}
	return env
}

// npmCredential reports whether a NODE_* or npm_config_* variable carries a registry
// credential, case-insensitively: NODE_AUTH_TOKEN (what setup-node's .npmrc reads), any
// npm_config_*auth* (_auth, _authToken, the per-registry "//host/:_authToken" forms), and
// anything naming a token, password or secret, or the TLS client key. An upstream that
// needs one gets it from its own env table, or from inherit_env.
func npmCredential(name string) bool {
	n := strings.ToLower(name)
	if strings.HasPrefix(n, "npm_config_") && strings.Contains(n, "auth") {
		return true
	}
	for _, s := range []string{"_auth", "token", "password", "passwd", "secret"} { // not NODE_TLS_REJECT_UNAUTHORIZED
		if strings.Contains(n, s) {
			return true
		}
	}
	return n == "npm_config_key" || strings.HasSuffix(n, ":key")
}

func startProcess(cfg config.Upstream, log *slog.Logger) (*process, error) {
	cmd := exec.Command(cfg.Command, cfg.Args...)
	cmd.Env = childEnv(cfg, os.Environ())
	cmd.Dir = cfg.Cwd
	cmd.SysProcAttr = sysProcAttr()

	var files []*os.File
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		files = append(files, r, w)
		return r, w, err
	}
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	inR, inW, err1 := pipe()
	outR, outW, err2 := pipe()
	errR, errW, err3 := pipe()
	if err := errors.Join(err1, err2, err3); err != nil {
		closeAll()
		return nil, fmt.Errorf("start %q: pipes: %w", cfg.Command, err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	if err := startChild(cmd); err != nil {
		closeAll()
		return nil, fmt.Errorf("start %q: %w", cfg.Command, err)
	}
	// The child holds its own copies; ours would keep its stdout from ever
	// reaching EOF.
	_ = inR.Close()
	_ = outW.Close()
	_ = errW.Close()

	p := &process{
		cmd: cmd, stdin: inW, stdout: outR, stderr: errR,
		log:        log,
		exited:     make(chan struct{}),
		stderrDone: make(chan struct{}),
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	go p.readStderr()
	return p, nil
}

// stop ends the child the way the MCP spec asks: stdin closed, then SIGTERM,
// then SIGKILL, each after a grace period; then kills whatever is left of
// its process group (grandchildren such as the node under npx).
func (p *process) stop(grace time.Duration) {
	_ = p.stdin.Close()
	if !waitClosed(p.exited, grace) {
		p.log.Debug("upstream: child still running after stdin closed; sending SIGTERM", "grace", grace)
		signalGroup(p.cmd.Process, false)
		if !waitClosed(p.exited, grace) {
			p.log.Warn("upstream: child ignored SIGTERM; killing it", "grace", grace)
			signalGroup(p.cmd.Process, true)
			<-p.exited
		}
	}
	signalGroup(p.cmd.Process, true)
	_ = p.stdout.Close()
	_ = p.stderr.Close()
	<-p.stderrDone
}

func waitClosed(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// exitReason describes the exit; call after exited is closed.
func (p *process) exitReason() error {
	// Let the last stderr lines arrive: they usually say why. A grandchild
	// holding stderr open must not delay the reason for long.
	waitClosed(p.stderrDone, 200*time.Millisecond)
	if p.waitErr != nil {
		return fmt.Errorf("process exited: %w%s", p.waitErr, p.stderrTail())
	}
	return fmt.Errorf("process exited with status 0%s", p.stderrTail())
}

func (p *process) stderrTail() string {
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	if len(p.tail) == 0 {
		return ""
	}
	return " (stderr: " + strings.Join(p.tail, " | ") + ")"
}

// Stderr handling limits.
const (
	stderrLineMax  = 2048 // longer lines are cut
	stderrTailKeep = 3    // lines kept for exit reasons
	stderrRate     = 50   // lines per second logged on average
	stderrBurst    = 200  // lines logged in a burst
)

// readStderr logs the child's stderr line by line, rate limited so a chatty
// or hostile child cannot flood pctx's log, and keeps the last lines.
func (p *process) readStderr() {
	defer close(p.stderrDone)
	r := bufio.NewReaderSize(p.stderr, stderrLineMax)
	lim := rateLimiter{rate: stderrRate, burst: stderrBurst}
	for {
		line, err := r.ReadSlice('\n')
		truncated := errors.Is(err, bufio.ErrBufferFull)
		if len(line) > 0 {
			text := strings.TrimRight(string(line), "\r\n")
			if truncated {
				text += "…"
			}
			if text != "" {
				p.keep(text)
				if dropped, ok := lim.allow(time.Now()); ok {
					if dropped > 0 {
						p.log.Warn("upstream stderr: lines dropped (rate limit)", "lines", dropped)
					}
					p.log.Info("upstream stderr", "line", text)
				}
			}
		}
		if truncated {
			// Skip the rest of an overlong line.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *process) keep(line string) {
	if r := []rune(line); len(r) > 300 {
		line = string(r[:299]) + "…"
	}
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	p.tail = append(p.tail, line)
	if len(p.tail) > stderrTailKeep {
		p.tail = p.tail[len(p.tail)-stderrTailKeep:]
	}
}

// rateLimiter is a token bucket; not safe for concurrent use.
type rateLimiter struct {
	rate, burst float64
	tokens      float64
	last        time.Time
	dropped     int
}

// allow reports whether to log now, and how many were dropped since the
// last allowed event.
func (l *rateLimiter) allow(now time.Time) (dropped int, ok bool) {
	if l.last.IsZero() {
		l.tokens = l.burst
	} else {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens < 1 {
		l.dropped++
		return 0, false
	}
	l.tokens--
	dropped, l.dropped = l.dropped, 0
	return dropped, true
}

// stdinWriter bounds each write to the child's stdin. mcp-go writes requests
// under a lock and without a deadline, so a child that stops reading (and
// lets the 64 KiB pipe fill) would hold every caller past its timeout. A
// write that cannot finish within the per-call timeout kills the session: a
// half-written request has corrupted the stream anyway.
type stdinWriter struct {
	f       *os.File
	timeout time.Duration
	sess    *session
}

func (w *stdinWriter) Write(p []byte) (int, error) {
	_ = w.f.SetWriteDeadline(time.Now().Add(w.timeout))
	n, err := w.f.Write(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		w.sess.die(fmt.Errorf("process has not read its stdin for %s", w.timeout))
	}
	return n, err
}

func (w *stdinWriter) Close() error { return w.f.Close() }

var (
	_ io.Reader      = (*lineFilter)(nil)
	_ io.WriteCloser = (*stdinWriter)(nil)
)
