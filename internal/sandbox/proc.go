package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// Why the parent killed a worker; empty when it died on its own.
const (
	reasonTimeout  = "timeout"
	reasonCanceled = "canceled"
	reasonClosed   = "closed"
	reasonProtocol = "protocol"
	reasonRetired  = "retired"
	reasonCPU      = "cpu"
)

// proc is one worker process, seen from the parent.
type proc struct {
	pool   *Pool
	cmd    *exec.Cmd
	pid    int
	stdin  io.WriteCloser
	wmu    sync.Mutex // serialises writes to out
	out    *bufio.Writer
	stderr *tailBuffer
	limits bool // apply kernel limits: not a race-instrumented copy of this binary

	// guarded by pool.mu
	running   int
	served    int
	idleSince time.Time

	gone atomic.Bool // its stdout has ended: it takes no more executions

	mu      sync.Mutex
	runs    map[uint64]*run
	reason  string   // why the parent killed it
	outbox  [][]byte // frames waiting for the writer, in order, each a header then its parts
	closing bool     // retire: close stdin once the outbox is written
	wake    chan struct{}
	exited  chan struct{} // closed once the process has exited and every run has its outcome
	waitErr error         // cmd.Wait's, valid after exited
	usage   time.Duration // CPU time at exit, valid after exited
	sets    fnSets        // the function sets the worker keeps (a mirror of its own)
	cpuBase time.Duration // CPU time when the latest execution started
}

// start launches a worker and waits for its ready frame.
func (p *Pool) start() (*proc, error) {
	cmd := exec.Command(p.opt.Command[0], p.opt.Command[1:]...)
	cmd.Env = append([]string{EnvChild + "=1"}, p.opt.Env...)
	if p.opt.NoSeccomp {
		cmd.Env = append(cmd.Env, envSeccomp+"=0")
	}
	cmd.Dir = os.TempDir()
	cmd.SysProcAttr = sysProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	w := &proc{pool: p, cmd: cmd, stdin: stdin, stderr: newTailBuffer(), runs: map[uint64]*run{},
		wake: make(chan struct{}, 1), exited: make(chan struct{}), limits: hardLimits && !(p.self && raceEnabled)}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %s: %w", p.opt.Command[0], err)
	}
	w.pid = cmd.Process.Pid
	w.out = bufio.NewWriterSize(stdin, 64<<10)
	br := bufio.NewReaderSize(stdout, 64<<10)
	type first struct {
		f   frame
		err error
	}
	got := make(chan first, 1)
	go func() {
		f, err := readFrame(br)
		got <- first{f, err}
	}()
	timer := time.NewTimer(p.opt.StartTimeout)
	defer timer.Stop()
	var ready readyReport
	select {
	case g := <-got:
		if g.err == nil && g.f.typ == fReady && json.Unmarshal(g.f.payload, &ready) == nil {
			break
		}
		w.kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("worker %d did not start: %s", w.pid, w.exitText(cmd.ProcessState))
	case <-timer.C:
		w.kill()
		<-got
		_ = cmd.Wait()
		return nil, fmt.Errorf("worker %d did not start within %s", w.pid, p.opt.StartTimeout)
	}
	p.stats.started.Add(1)
	p.mu.Lock()
	if !p.logged {
		p.logged = true
		if ready.Seccomp == "on" {
			p.log.Info("sandbox: executions run in worker processes", "syscall_filter", "on", "kernel_limits", w.limits)
		} else {
			p.log.Warn("sandbox: executions run in worker processes without a syscall filter", "syscall_filter", ready.Seccomp, "kernel_limits", w.limits)
		}
	}
	p.mu.Unlock()
	p.wg.Add(2)
	go w.readLoop(br)
	go w.writeLoop()
	return w, nil
}

// kill ends the process at once.
func (w *proc) kill() {
	killTree(w.pid)
	_ = w.cmd.Process.Kill()
}

// killFor kills the worker and records why, unless a reason is already recorded.
func (w *proc) killFor(reason string) {
	w.mu.Lock()
	if w.reason == "" {
		w.reason = reason
	}
	w.mu.Unlock()
	w.kill()
}

// retire lets an idle worker exit on its own (its stdin closes after any queued frame)
// and kills it if it has not after grace.
func (w *proc) retire(grace time.Duration) {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		return
	}
	w.closing = true
	w.mu.Unlock()
	w.signal()
	t := time.AfterFunc(grace, func() { w.killFor(reasonRetired) })
	go func() {
		<-w.exited
		t.Stop()
	}()
}

func (w *proc) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// send queues a frame for the writer; it never blocks, so a wedged worker cannot stall
// the parent (the wall-clock kill unwedges it).
func (w *proc) send(typ frameType, exec, call uint64, parts ...[]byte) {
	hdr, err := appendHeader(nil, typ, exec, call, parts...)
	if err != nil {
		w.killFor(reasonProtocol)
		return
	}
	// The parts are queued as they are: a backend's result of megabytes is written from
	// its own buffer, not copied into a frame first.
	w.mu.Lock()
	w.outbox = append(w.outbox, hdr)
	w.outbox = append(w.outbox, parts...)
	w.mu.Unlock()
	w.signal()
}

// reply sends a call's outcome. It writes on the calling goroutine when no one else is
// writing and nothing is queued, saving the hand-off to the writer: a call's round trip
// is the sandbox's cost per function call. It may block on a full pipe, which only a
// call's goroutine may do, never an execution's loop.
func (w *proc) reply(exec, call uint64, parts ...[]byte) {
	if w.wmu.TryLock() {
		w.mu.Lock()
		idle := len(w.outbox) == 0 && !w.closing
		w.mu.Unlock()
		if idle {
			hdr, err := appendHeader(nil, fRet, exec, call, parts...)
			if err == nil {
				err = w.writeParts(append([][]byte{hdr}, parts...))
			}
			w.wmu.Unlock()
			if err != nil {
				w.kill()
			}
			return
		}
		w.wmu.Unlock()
	}
	w.send(fRet, exec, call, parts...)
}

// writeParts writes and flushes; the caller holds wmu.
func (w *proc) writeParts(parts [][]byte) error {
	for _, b := range parts {
		if _, err := w.out.Write(b); err != nil {
			return err
		}
	}
	return w.out.Flush()
}

func (w *proc) writeLoop() {
	defer w.pool.wg.Done()
	for {
		select {
		case <-w.wake:
		case <-w.exited:
			return
		}
		w.wmu.Lock()
		w.mu.Lock()
		batch, closing := w.outbox, w.closing
		w.outbox = nil
		w.mu.Unlock()
		err := w.writeParts(batch)
		if err == nil && closing {
			err = w.stdin.Close()
		}
		w.wmu.Unlock()
		if err != nil {
			w.kill()
			return
		}
		if closing {
			return
		}
	}
}

// readLoop serves the worker's frames until its stdout ends, then reaps it and gives
// every execution still running on it its outcome.
func (w *proc) readLoop(br *bufio.Reader) {
	defer w.pool.wg.Done()
	for {
		f, err := readFrame(br)
		if err != nil {
			if errors.Is(err, errFrame) {
				w.protocolError(err)
			}
			break
		}
		switch f.typ {
		case fCall:
			w.onCall(f)
		case fDone:
			w.onDone(f)
		default:
			w.protocolError(fmt.Errorf("unexpected frame type %d", f.typ))
		}
	}
	w.gone.Store(true)
	w.kill() // stdout ended: whatever happens next, the process must go
	w.waitErr = w.cmd.Wait()
	if ps := w.cmd.ProcessState; ps != nil {
		w.usage = ps.UserTime() + ps.SystemTime()
	}
	w.mu.Lock()
	runs := w.runs
	w.runs = nil
	w.mu.Unlock()
	if len(runs) > 0 {
		// Counted before any run learns its outcome, so Stats agrees with what a caller saw.
		w.pool.stats.crashed.Add(1)
	}
	for _, r := range runs {
		r.finish(outcome{err: w.crashError(r, len(runs))})
	}
	close(w.exited)
	w.pool.workerGone(w)
}

func (w *proc) protocolError(err error) {
	w.pool.log.Error("sandbox: worker broke the frame protocol; killed", "pid", w.pid, "err", err)
	w.killFor(reasonProtocol)
}

// register adds r to the worker's executions; false if the worker is already gone.
func (w *proc) register(r *run) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.runs == nil {
		return false
	}
	w.runs[r.id] = r
	return true
}

func (w *proc) take(id uint64) *run {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.runs[id]
	delete(w.runs, id)
	return r
}

func (w *proc) lookup(id uint64) *run {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.runs[id]
}

func (w *proc) onDone(f frame) {
	r := w.take(f.exec)
	if r == nil {
		return
	}
	rep := new(doneReport)
	if err := json.Unmarshal(f.payload, rep); err != nil {
		w.protocolError(fmt.Errorf("done frame: %w", err))
		r.finish(outcome{err: &runtime.Error{Kind: runtime.KindInternal, Message: "the sandbox worker sent an unreadable result"}})
		return
	}
	r.finish(outcome{rep: rep})
}

// onCall serves one call on its own goroutine. The worker enforces the call limits; they
// are counted here again so that a worker gone wrong cannot exceed them either.
func (w *proc) onCall(f frame) {
	r := w.lookup(f.exec)
	if r == nil {
		return // the execution has ended; the worker no longer waits for this
	}
	name, args, err := parseCall(f.payload)
	if err != nil {
		w.protocolError(err)
		return
	}
	calls, inFlight := r.calls.Add(1), r.inFlight.Add(1)
	switch {
	case int(calls) > r.lim.MaxCalls:
		err = fmt.Errorf("too many function calls: the limit is %d per execution", r.lim.MaxCalls)
	case int(inFlight) > r.lim.MaxCallsInFlight:
		err = fmt.Errorf("too many function calls pending at once: the limit is %d", r.lim.MaxCallsInFlight)
	case len(args) > r.lim.MaxArgumentBytes+len(`[]`):
		err = fmt.Errorf("arguments are larger than the %d-byte limit", r.lim.MaxArgumentBytes)
	}
	if err != nil {
		r.inFlight.Add(-1)
		w.send(fRet, f.exec, f.call, []byte{retErr}, []byte(err.Error())) // the reader never blocks
		return
	}
	go func() {
		defer r.inFlight.Add(-1)
		raw, err := r.call(name, args)
		if err != nil {
			w.reply(f.exec, f.call, []byte{retErr}, []byte(err.Error()))
			return
		}
		w.reply(f.exec, f.call, []byte{retOK}, raw)
	}()
}

// execute runs r, registered on w, and returns the worker's report (nil if it died) and the result.
func (w *proc) execute(r *run, code string, memLimit int64, grace time.Duration) (*doneReport, *runtime.Result) {
	defer r.cancel()
	if w.limits {
		// RLIMIT_CPU counts the process's whole life: the bound is what it has used so far
		// (read now, from outside: work after its last report counts) plus the budget.
		cpu, err := procCPU(w.pid)
		if err == nil {
			w.mu.Lock()
			w.cpuBase = cpu
			w.mu.Unlock()
			err = setLimits(w.pid, memLimit, cpu+r.lim.MaxCPUTime)
		}
		if err != nil {
			w.pool.log.Warn("sandbox: cannot set a worker's kernel limits", "pid", w.pid, "err", err)
		}
	}
	er := execRequest{Code: code, FnsID: r.setID, Limits: r.lim, SoftMemory: softMemory(memLimit)}
	w.mu.Lock()
	if !w.sets.has(r.setID) {
		er.Fns = r.setNames
		w.sets.add(r.setID, r.setNames)
	}
	w.mu.Unlock()
	req, err := json.Marshal(er)
	if err != nil {
		w.take(r.id)
		return nil, &runtime.Result{Error: &runtime.Error{Kind: runtime.KindInternal, Message: fmt.Sprintf("encode execution: %v", err)}}
	}
	w.send(fExec, r.id, 0, req)

	hard := time.NewTimer(r.lim.Timeout + grace)
	defer hard.Stop()
	// A CPU budget below the wall clock is watched from here as well: the worker exits at
	// its kernel limit on its own, and this does not rely on it.
	var cpuC <-chan time.Time
	if w.limits && r.lim.MaxCPUTime < r.lim.Timeout+grace {
		t := time.NewTicker(cpuPoll)
		defer t.Stop()
		cpuC = t.C
	}
	var graceC <-chan time.Time
	parentDone := r.parent.Done()
	for {
		select {
		case o := <-r.done:
			return o.rep, r.result(o)
		case <-parentDone:
			parentDone = nil
			w.send(fCancel, r.id, 0)
			t := time.NewTimer(grace)
			defer t.Stop()
			graceC = t.C
		case <-graceC:
			w.killFor(reasonCanceled)
		case <-hard.C:
			w.killFor(reasonTimeout)
		case <-cpuC:
			w.mu.Lock()
			base := w.cpuBase
			w.mu.Unlock()
			if cpu, err := procCPU(w.pid); err == nil && cpu-base > r.lim.MaxCPUTime {
				w.killFor(reasonCPU)
			}
		}
	}
}

// cpuPoll is how often the parent reads a worker's CPU time when the CPU budget is below
// the wall-clock limit.
const cpuPoll = 100 * time.Millisecond

// softMemory is the Go soft limit a worker runs with under a hard limit: close enough
// below it that the GC gets a chance to keep the process under.
func softMemory(hard int64) int64 {
	// The hard limit counts every private mapping (about 120 MiB in an idle worker: the
	// runtime's arena metadata, stacks, goja, esbuild); the soft limit counts only what
	// the Go runtime uses. Leave the difference and a margin.
	const overhead = 128 << 20
	if hard <= overhead+32<<20 {
		return 32 << 20
	}
	return hard - overhead
}

// crashError names why the worker running r died.
func (w *proc) crashError(r *run, running int) *runtime.Error {
	w.mu.Lock()
	reason := w.reason
	w.mu.Unlock()
	shared := ""
	if running > 1 {
		shared = fmt.Sprintf(" (it was running %d executions; any of them may have caused this)", running)
	}
	switch reason {
	case reasonTimeout:
		return killedAfterTimeout(r)
	case reasonCanceled:
		e := ctxError(r.parent)
		e.Message += "; the sandbox process did not stop in time and was killed"
		return e
	case reasonClosed:
		return &runtime.Error{Kind: runtime.KindCanceled, Message: "pctx is shutting down"}
	case reasonProtocol:
		return &runtime.Error{Kind: runtime.KindInternal, Message: "the sandbox process broke the frame protocol and was killed" + shared}
	}
	tail := w.stderr.String()
	switch {
	case strings.Contains(tail, "stack overflow") || strings.Contains(tail, "stack exceeds"):
		what := "stack overflow"
		if strings.Contains(tail, "goja/parser") || strings.Contains(tail, "goja.(*compiler)") || strings.Contains(tail, "goja.compile") {
			what = "stack overflow while compiling code (code passed to eval or Function nests too deeply)"
		}
		return &runtime.Error{Kind: runtime.KindCrashed, Message: "the sandbox process crashed: " + what + shared}
	case outOfMemory(tail, w.limits):
		return &runtime.Error{Kind: runtime.KindMemory, Message: fmt.Sprintf("execution used more memory than its sandbox process may (a hard limit of %s); the process was stopped%s", bytesText(w.pool.memoryLimit(r.lim)), shared)}
	}
	if strings.Contains(tail, cpuLimitWords) || reason == reasonCPU {
		// A process uses CPU on several threads at once (the GC's), so a program stuck in
		// a native operation can spend its CPU budget during the grace after its wall-clock
		// limit: the limit it broke first is the one to name.
		if time.Since(r.started) > r.lim.Timeout {
			return killedAfterTimeout(r)
		}
		return &runtime.Error{Kind: runtime.KindCPU, Message: fmt.Sprintf("execution used more than its %s of CPU time; its sandbox process was stopped%s", r.lim.MaxCPUTime, shared)}
	}
	return &runtime.Error{Kind: runtime.KindCrashed, Message: "the sandbox process exited unexpectedly: " + w.exitText(w.cmd.ProcessState) + shared}
}

func killedAfterTimeout(r *run) *runtime.Error {
	return &runtime.Error{Kind: runtime.KindTimeout, Message: fmt.Sprintf("execution exceeded the %s time limit and did not stop when interrupted (a long native operation), so its sandbox process was killed", r.lim.Timeout)}
}

// outOfMemory reports whether a worker's dying words mean it ran out of memory. Under
// RLIMIT_DATA a new thread's stack, or a mapping the runtime makes for itself, can be what
// does not fit, and the runtime then says so in its own words: a failed thread start, or
// a fault inside the runtime itself (not a Go panic, which a nil dereference in our code
// would be). A fault the runtime cannot even turn into a throw, on a system stack, is
// reported as a bare "SIGSEGV: segmentation violation" line with the PC (seen once in
// the hostile corpus on a loaded machine, JSON.parse of millions of objects; Go under a
// low RLIMIT_DATA is known to die this way).
func outOfMemory(stderr string, limited bool) bool {
	if strings.Contains(stderr, "out of memory") || strings.Contains(stderr, "cannot allocate memory") {
		return true
	}
	return limited && (strings.Contains(stderr, "pthread_create failed") ||
		strings.Contains(stderr, "failed to create new OS thread") ||
		strings.Contains(stderr, "unexpected signal during runtime execution") ||
		hasLine(stderr, "SIGSEGV: segmentation violation"))
}

// hasLine reports whether line is one of s's lines, whole.
func hasLine(s, line string) bool {
	for l := range strings.Lines(s) {
		if strings.TrimRight(l, "\r\n") == line {
			return true
		}
	}
	return false
}

// exitText is the exit status and the first line the process wrote to stderr.
func (w *proc) exitText(ps *os.ProcessState) string {
	s := "no exit status"
	if ps != nil {
		s = ps.String()
	}
	if line := firstLine(w.stderr.String()); line != "" {
		s += ": " + line
	}
	return s
}

func bytesText(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// run is one execution, seen from the parent.
type run struct {
	id      uint64
	parent  context.Context // the caller's
	started time.Time       // when a worker was acquired for it
	ctx     context.Context // given to every call; ends with the execution
	cancel  context.CancelFunc
	fns     runtime.Functions
	lim     runtime.Limits
	// setID and setNames name fns for the worker (Pool.functionSet).
	setID    uint64
	setNames []string

	calls    atomic.Int32
	inFlight atomic.Int32
	done     chan outcome // exactly one outcome, from the worker's reader
}

type outcome struct {
	rep *doneReport
	err *runtime.Error // the worker died
}

func newRun(parent context.Context, id uint64, fns runtime.Functions, lim runtime.Limits) *run {
	ctx, cancel := context.WithCancel(parent)
	return &run{id: id, parent: parent, started: time.Now(), ctx: ctx, cancel: cancel, fns: fns, lim: lim, done: make(chan outcome, 1)}
}

func (r *run) finish(o outcome) {
	r.cancel() // calls still running are abandoned
	r.done <- o
}

// result turns the worker's outcome into the caller's result.
func (r *run) result(o outcome) *runtime.Result {
	calls := int(r.calls.Load())
	if o.err != nil {
		return &runtime.Result{Error: o.err, Calls: calls}
	}
	res := &runtime.Result{Console: o.rep.Console, Error: o.rep.Error, Calls: o.rep.Calls}
	if res.Error != nil {
		if r.parent.Err() != nil {
			// The caller's cancellation may reach the program (as a rejected call) before
			// the worker hears of it; name the real cause.
			res.Error = ctxError(r.parent)
		}
		return res
	}
	if len(o.rep.Value) > r.lim.MaxResultBytes {
		res.Error = &runtime.Error{Kind: runtime.KindResult, Message: fmt.Sprintf("result is larger than the %d-byte limit (%d bytes)", r.lim.MaxResultBytes, len(o.rep.Value))}
		return res
	}
	if len(o.rep.Value) > 0 {
		res.Value = o.rep.Value
	}
	return res
}

// call serves one function call with the JSON arguments the worker sent, and returns the
// result as raw JSON.
func (r *run) call(name string, rawArgs []byte) (json.RawMessage, error) {
	fn := r.fns[name]
	if fn == nil {
		// A call on a catch-all namespace ("ns.*", one whose functions are not known)
		// arrives under the name the program used.
		if ns, _, ok := strings.Cut(name, "."); ok {
			fn = r.fns[ns+".*"]
		}
	}
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
	v, err := invoke(r.ctx, fn, args)
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

// invoke runs a Func, turning a panic into an error: a faulty backend must not crash the
// server.
func invoke(ctx context.Context, fn runtime.Func, args []any) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return fn(ctx, args)
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

// tailBuffer keeps the head (where Go's fatal error and the crashing goroutine's frames
// are) and the tail of a worker's stderr.
type tailBuffer struct {
	mu   sync.Mutex
	head []byte
	tail []byte
}

const (
	stderrHead = 16 << 10
	stderrTail = 8 << 10
)

func newTailBuffer() *tailBuffer { return &tailBuffer{} }

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := stderrHead - len(t.head); room > 0 {
		t.head = append(t.head, b[:min(room, len(b))]...)
	}
	t.tail = append(t.tail, b...)
	if len(t.tail) > stderrTail {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-stderrTail:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.head) + "\n" + string(t.tail)
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
