package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// KindCrashed is the error kind of an execution whose worker died for a reason that is
// not one of the limits.
const KindCrashed runtime.ErrorKind = "sandbox_crashed"

// Options configures a Pool. Zero fields take defaults.
type Options struct {
	Command  []string // worker argv; default: this executable with "__sandbox"
	Env      []string // worker environment; default empty
	Workers  int      // warm workers; default 2
	MaxExecs int      // executions before a worker is recycled; default 1000
	Grace    time.Duration
	// AddressSpace is the worker's RLIMIT_AS in bytes; default 4 GiB, generous because
	// the Go runtime reserves virtual ranges well beyond what it touches.
	AddressSpace uint64
}

// Pool runs executions in worker processes, one execution per worker at a time.
type Pool struct {
	opt  Options
	idle chan *proc // nil entries mean "start one on demand"
	mu   sync.Mutex
	all  map[*proc]struct{}
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	seq  uint64
}

// New starts a pool; workers start in the background.
func New(opt Options) (*Pool, error) {
	if len(opt.Command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("sandbox: locate own binary: %w", err)
		}
		opt.Command = []string{exe, "__sandbox"}
	}
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if opt.MaxExecs <= 0 {
		opt.MaxExecs = 1000
	}
	if opt.Grace <= 0 {
		opt.Grace = time.Second
	}
	if opt.AddressSpace == 0 {
		opt.AddressSpace = 4 << 30
	}
	p := &Pool{opt: opt, idle: make(chan *proc, opt.Workers), all: map[*proc]struct{}{}, done: make(chan struct{})}
	for range opt.Workers {
		p.replenish()
	}
	return p, nil
}

// replenish starts a worker in the background and parks it as idle.
func (p *Pool) replenish() {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		w, err := p.start()
		if err != nil {
			w = nil // Execute will retry and report the error
		}
		p.idle <- w
	}()
}

// Close stops every worker and waits for them.
func (p *Pool) Close() error {
	p.once.Do(func() {
		close(p.done)
		p.wg.Wait()
		p.mu.Lock()
		for w := range p.all {
			w.kill()
		}
		p.mu.Unlock()
		for {
			select {
			case w := <-p.idle:
				if w != nil {
					w.kill()
					<-w.exited
				}
				continue
			default:
			}
			break
		}
	})
	return nil
}

type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *tailBuffer
	exited chan struct{} // closed after Wait
	frames chan *msg     // from the worker; closed when its stdout ends
	err    error         // Wait's error, valid after exited
	execs  int
	reason string // set by the parent before it kills: "timeout", "memory"
	rmu    sync.Mutex
}

func (w *proc) kill() {
	if w.cmd.Process != nil {
		killGroup(w.cmd.Process.Pid)
		_ = w.cmd.Process.Kill()
	}
}

// Pid is the worker's process id (for tests and diagnostics).
func (w *proc) Pid() int { return w.cmd.Process.Pid }

func (p *Pool) start() (*proc, error) {
	cmd := exec.Command(p.opt.Command[0], p.opt.Command[1:]...)
	cmd.Env = append(append([]string{}, p.opt.Env...), fmt.Sprintf("%s=%d", EnvMemory, p.opt.AddressSpace))
	cmd.SysProcAttr = sysProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: stdin pipe: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: stdout pipe: %w", err)
	}
	w := &proc{cmd: cmd, stdin: stdin, stdout: stdout, stderr: &tailBuffer{max: 8 << 10}, exited: make(chan struct{}), frames: make(chan *msg)}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sandbox: start worker %s: %w", p.opt.Command[0], err)
	}
	p.mu.Lock()
	p.all[w] = struct{}{}
	p.mu.Unlock()
	go func() {
		defer close(w.frames)
		for {
			m, err := readFrame(stdout)
			if err != nil {
				return
			}
			w.frames <- m
		}
	}()
	go func() {
		w.err = cmd.Wait()
		p.mu.Lock()
		delete(p.all, w)
		p.mu.Unlock()
		close(w.exited)
	}()
	return w, nil
}

// Execute runs code in a worker with the contract of runtime.Execute: fns stay in this
// process and are called over the worker's pipes.
func (p *Pool) Execute(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result {
	start := time.Now()
	var w *proc
	select {
	case w = <-p.idle:
	case <-ctx.Done():
		return &runtime.Result{Error: ctxError(ctx)}
	case <-p.done:
		return &runtime.Result{Error: &runtime.Error{Kind: runtime.KindInternal, Message: "sandbox pool is closed"}}
	}
	if w == nil {
		var err error
		if w, err = p.start(); err != nil {
			p.idle <- nil
			return &runtime.Result{Error: &runtime.Error{Kind: runtime.KindInternal, Message: err.Error()}}
		}
	}
	res, healthy := p.run(ctx, w, code, fns, lim)
	res.Duration = time.Since(start)
	w.execs++
	if healthy && w.execs < p.opt.MaxExecs {
		p.idle <- w
	} else {
		w.kill()
		_ = w.stdin.Close()
		select {
		case <-p.done:
			p.idle <- nil
		default:
			p.replenish()
		}
	}
	return res
}

func ctxError(ctx context.Context) *runtime.Error {
	if ctx.Err() == context.DeadlineExceeded {
		return &runtime.Error{Kind: runtime.KindTimeout, Message: "the caller's deadline passed"}
	}
	return &runtime.Error{Kind: runtime.KindCanceled, Message: "the caller cancelled the execution"}
}

// run drives one execution on w; healthy is false when w must not be reused.
func (p *Pool) run(ctx context.Context, w *proc, code string, fns runtime.Functions, lim runtime.Limits) (*runtime.Result, bool) {
	p.mu.Lock()
	p.seq++
	id := p.seq
	p.mu.Unlock()
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	full := lim
	if full.Timeout <= 0 {
		full.Timeout = runtime.DefaultTimeout
	}
	if err := writeFrame(w.stdin, &msg{T: "exec", ID: id, Code: code, Fns: names, Limits: &lim}); err != nil {
		return p.crashed(w), false
	}
	cctx, cancelCalls := context.WithCancel(ctx)
	var calls sync.WaitGroup
	var wmu sync.Mutex
	defer cancelCalls()
	// The worker enforces Timeout itself; the parent kills it only if it fails to.
	hard := time.NewTimer(full.Timeout + p.opt.Grace)
	defer hard.Stop()
	var cancelGrace <-chan time.Time
	ctxDone := ctx.Done()
	for {
		select {
		case m, ok := <-w.frames:
			if !ok {
				cancelCalls()
				calls.Wait()
				return p.crashed(w), false
			}
			switch m.T {
			case "call":
				fn := fns[m.Name]
				calls.Add(1)
				go func() {
					defer calls.Done()
					ret := &msg{T: "ret", ID: id, Call: m.Call}
					raw, err := callFunc(cctx, fn, m.Name, m.Args)
					if err != nil {
						ret.Err = err.Error()
					} else {
						ret.Result = raw
					}
					wmu.Lock()
					_ = writeFrame(w.stdin, ret)
					wmu.Unlock()
				}()
			case "done":
				var r struct {
					Value   json.RawMessage       `json:"value"`
					Console []runtime.ConsoleLine `json:"console"`
					Error   *runtime.Error        `json:"error"`
					Calls   int                   `json:"calls"`
				}
				cancelCalls()
				calls.Wait()
				if err := json.Unmarshal(m.Result, &r); err != nil {
					return &runtime.Result{Error: &runtime.Error{Kind: runtime.KindInternal, Message: fmt.Sprintf("decode worker result: %v", err)}}, false
				}
				res := &runtime.Result{Console: r.Console, Error: r.Error, Calls: r.Calls}
				if r.Error == nil && len(r.Value) > 0 && string(r.Value) != "null" {
					res.Value = r.Value
				}
				return res, true
			default:
				cancelCalls()
				calls.Wait()
				w.kill()
				return &runtime.Result{Error: &runtime.Error{Kind: runtime.KindInternal, Message: fmt.Sprintf("worker sent unexpected frame %q", m.T)}}, false
			}
		case <-ctxDone:
			ctxDone = nil
			wmu.Lock()
			_ = writeFrame(w.stdin, &msg{T: "cancel", ID: id})
			wmu.Unlock()
			cancelGrace = time.After(p.opt.Grace)
		case <-cancelGrace:
			cancelCalls()
			calls.Wait()
			w.kill()
			<-w.exited
			return &runtime.Result{Error: ctxError(ctx)}, false
		case <-hard.C:
			w.rmu.Lock()
			w.reason = "timeout"
			w.rmu.Unlock()
			cancelCalls()
			calls.Wait()
			w.kill()
			<-w.exited
			return &runtime.Result{Error: &runtime.Error{Kind: runtime.KindTimeout, Message: fmt.Sprintf("execution exceeded the %s time limit (the sandbox worker did not stop and was killed)", full.Timeout)}}, false
		}
	}
}

func callFunc(ctx context.Context, fn runtime.Func, name string, rawArgs json.RawMessage) (json.RawMessage, error) {
	if fn == nil {
		return nil, fmt.Errorf("%s is not a function", name)
	}
	var args []any
	dec := json.NewDecoder(bytes.NewReader(rawArgs))
	dec.UseNumber()
	if err := dec.Decode(&args); err != nil {
		return nil, fmt.Errorf("decode arguments of %s: %w", name, err)
	}
	for i := range args {
		args[i] = numbers(args[i])
	}
	v, err := fn(ctx, args)
	if err != nil {
		return nil, err
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s returned a value that is not JSON: %w", name, err)
	}
	return b, nil
}

// numbers restores runtime.Func's argument types: exact integers int64, others float64.
func numbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case []any:
		for i := range t {
			t[i] = numbers(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = numbers(t[k])
		}
	}
	return v
}

// crashed waits for w to exit and names why it died.
func (p *Pool) crashed(w *proc) *runtime.Result {
	select {
	case <-w.exited:
	case <-time.After(5 * time.Second):
		w.kill()
		<-w.exited
	}
	tail := w.stderr.String()
	var kind runtime.ErrorKind = KindCrashed
	var what string
	switch {
	case strings.Contains(tail, "stack overflow"):
		what = "stack overflow (e.g. while compiling code passed to eval)"
	case strings.Contains(tail, "out of memory"):
		kind, what = runtime.KindMemory, "out of memory (the worker exceeded its hard memory limit)"
	default:
		what = "exited"
		if w.err != nil {
			what = w.err.Error()
		}
		if line := firstLine(tail); line != "" {
			what += ": " + line
		}
	}
	return &runtime.Result{Error: &runtime.Error{Kind: kind, Message: "sandbox worker died: " + what}}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu   sync.Mutex
	head []byte // the first 2 KiB: Go's fatal error line comes before its goroutine dump
	buf  []byte
	max  int
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := 2048 - len(t.head); room > 0 {
		t.head = append(t.head, b[:min(room, len(b))]...)
	}
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.head) + "\n" + string(t.buf)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
