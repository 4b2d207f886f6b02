package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// Options configures a Pool. A nil *Options is valid and means every default.
type Options struct {
	// Command is a worker's argv. Default: this executable with the argument "__sandbox"
	// (the argument only names the process in ps; EnvChild selects the worker).
	Command []string
	// Env is added to a worker's otherwise empty environment.
	Env []string
	// Warm is how many idle workers the pool keeps started ahead of demand, so an
	// execution never waits for a process to start. Default 2.
	Warm int
	// MaxWorkers bounds the workers alive at once; an execution beyond it waits for one.
	// Default 64.
	MaxWorkers int
	// PerWorker is how many executions one worker runs at once. Default 1: a crash or a
	// kill then fails only the execution that caused it. More share one worker's baseline
	// memory (about 20 MiB) between executions, and a crash fails them all.
	PerWorker int
	// RecycleAfter retires a worker after this many executions. Default 1000.
	RecycleAfter int
	// RecycleHeap retires a worker whose live heap after an execution exceeds this many
	// bytes (heap an execution left behind, or fragmentation). Default 128 MiB.
	RecycleHeap uint64
	// IdleTimeout stops workers beyond Warm that have been idle this long. Default 1m.
	IdleTimeout time.Duration
	// Grace is how long a worker may take to end an execution after its time limit or a
	// cancellation before the pool kills it. Default 1s.
	Grace time.Duration
	// StartTimeout bounds a worker's start-up. Default 30s.
	StartTimeout time.Duration
	// MemoryLimit is a worker's hard memory bound (RLIMIT_DATA, Linux). Default: for each
	// execution, BaseMemory plus twice its Limits.MaxMemory times PerWorker.
	MemoryLimit int64
	// NoSeccomp leaves the Linux syscall filter off (for debugging a worker).
	NoSeccomp bool
	// Logger receives the pool's notices. Default slog.Default().
	Logger *slog.Logger
}

// BaseMemory is what a worker maps before any execution: the Go runtime, goja, esbuild.
const BaseMemory = 192 << 20

// Pool runs executions in worker processes. It is safe for concurrent use.
type Pool struct {
	opt      Options
	log      *slog.Logger
	self     bool // workers run this executable
	nextExec atomic.Uint64

	mu       sync.Mutex
	procs    []*proc // live workers not retiring
	starting int
	freed    chan struct{} // closed and replaced when a worker's capacity frees
	closed   bool
	logged   bool       // the first worker's sandboxing has been logged
	sets     []namedSet // function maps named by id, most recently used first
	nextSet  uint64

	wg   sync.WaitGroup // starters, readers, the janitor
	stop chan struct{}

	stats struct {
		started, crashed, recycled atomic.Int64
	}
}

// New returns a pool and starts its warm workers in the background. It fails only when
// the worker command cannot be determined.
func New(opts *Options) (*Pool, error) {
	p := &Pool{stop: make(chan struct{}), freed: make(chan struct{})}
	if opts != nil {
		p.opt = *opts
	}
	o := &p.opt
	if len(o.Command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("sandbox: locate this executable to start workers: %w", err)
		}
		o.Command = []string{exe, "__sandbox"}
		p.self = true
	}
	if o.Warm <= 0 {
		o.Warm = 2
	}
	if o.MaxWorkers <= 0 {
		o.MaxWorkers = 64
	}
	if o.PerWorker <= 0 {
		o.PerWorker = 1
	}
	if o.RecycleAfter <= 0 {
		o.RecycleAfter = 1000
	}
	if o.RecycleHeap == 0 {
		o.RecycleHeap = 128 << 20
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = time.Minute
	}
	if o.Grace <= 0 {
		o.Grace = time.Second
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 30 * time.Second
	}
	p.log = o.Logger
	if p.log == nil {
		p.log = slog.Default()
	}
	p.mu.Lock()
	p.replenishLocked()
	p.mu.Unlock()
	p.wg.Add(1)
	go p.janitor()
	return p, nil
}

// Stats is a snapshot of the pool's workers.
type Stats struct {
	Workers  int   // alive, serving or idle
	Busy     int   // running at least one execution
	Started  int64 // workers started since New
	Crashed  int64 // workers that died or were killed while running executions
	Recycled int64 // workers retired after RecycleAfter executions or RecycleHeap
}

// Stats reports the pool's workers now.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Workers: len(p.procs), Started: p.stats.started.Load(), Crashed: p.stats.crashed.Load(), Recycled: p.stats.recycled.Load()}
	for _, w := range p.procs {
		if w.running > 0 {
			s.Busy++
		}
	}
	return s
}

// Close stops every worker; running executions end with kind canceled. It waits for the
// workers to exit and is safe to call more than once.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	procs := p.procs
	p.procs = nil
	close(p.stop)
	p.mu.Unlock()
	for _, w := range procs {
		w.killFor(reasonClosed)
	}
	p.wg.Wait()
	return nil
}

var errClosed = errors.New("the sandbox pool is closed")

// acquire returns a worker with room for one more execution, starting one if none has
// room and MaxWorkers allows; otherwise it waits for room.
func (p *Pool) acquire(ctx context.Context) (*proc, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errClosed
		}
		var best *proc
		for _, w := range p.procs {
			// The least busy worker: with PerWorker > 1, spread executions rather than
			// stack them, so one crash fails as few as possible.
			if !w.gone.Load() && w.running < p.opt.PerWorker && (best == nil || w.running < best.running) {
				best = w
			}
		}
		if best != nil {
			best.running++
			p.replenishLocked()
			p.mu.Unlock()
			return best, nil
		}
		if len(p.procs)+p.starting < p.opt.MaxWorkers {
			p.starting++
			p.mu.Unlock()
			w, err := p.start()
			p.mu.Lock()
			p.starting--
			if err != nil {
				p.mu.Unlock()
				return nil, err
			}
			if p.closed {
				p.mu.Unlock()
				w.killFor(reasonClosed)
				return nil, errClosed
			}
			w.running = 1
			p.procs = append(p.procs, w)
			p.replenishLocked()
			p.mu.Unlock()
			return w, nil
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// replenishLocked starts workers in the background until Warm are idle or starting.
func (p *Pool) replenishLocked() {
	idle := 0
	for _, w := range p.procs {
		if w.running == 0 {
			idle++
		}
	}
	for idle+p.starting < p.opt.Warm && len(p.procs)+p.starting < p.opt.MaxWorkers {
		p.starting++
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			w, err := p.start()
			p.mu.Lock()
			defer p.mu.Unlock()
			p.starting--
			if err != nil {
				p.log.Warn("sandbox: a warm worker did not start; the next execution starts one", "err", err)
				return
			}
			if p.closed {
				w.killFor(reasonClosed)
				return
			}
			w.idleSince = time.Now()
			p.procs = append(p.procs, w)
			p.signalLocked()
		}()
	}
}

// release returns w's capacity after an execution and retires it if it must go: it
// died, served RecycleAfter executions, or kept a heap over RecycleHeap.
func (p *Pool) release(w *proc, rep *doneReport, memLimit int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.running--
	w.served++
	mustGo := w.gone.Load() || w.served >= p.opt.RecycleAfter || (rep != nil && p.spent(rep, memLimit))
	if mustGo && p.removeLocked(w) && !w.gone.Load() {
		p.stats.recycled.Add(1)
	}
	if w.running == 0 {
		if p.contains(w) {
			w.idleSince = time.Now()
		} else {
			w.retire(p.opt.Grace)
		}
	}
	p.signalLocked()
	if !p.closed {
		p.replenishLocked()
	}
}

// spent reports whether a worker must be replaced after an execution that left rep: one
// that hit a memory limit may still hold what it allocated, and a worker whose heap, or
// whose mappings (which Go never returns), have grown near its hard limit would fail the
// next execution for what an earlier one did.
func (p *Pool) spent(rep *doneReport, memLimit int64) bool {
	if rep.Error != nil && rep.Error.Kind == runtime.KindMemory {
		return true
	}
	return rep.Heap > p.opt.RecycleHeap || (memLimit > 0 && int64(rep.Mapped) > memLimit/2)
}

// removeLocked drops w from the pool's live workers; false if it was not there.
func (p *Pool) removeLocked(w *proc) bool {
	for i, x := range p.procs {
		if x == w {
			p.procs = append(p.procs[:i], p.procs[i+1:]...)
			return true
		}
	}
	return false
}

func (p *Pool) contains(w *proc) bool {
	for _, x := range p.procs {
		if x == w {
			return true
		}
	}
	return false
}

func (p *Pool) signalLocked() {
	close(p.freed)
	p.freed = make(chan struct{})
}

// janitor stops idle workers beyond Warm once they have idled IdleTimeout.
func (p *Pool) janitor() {
	defer p.wg.Done()
	t := time.NewTicker(p.opt.IdleTimeout / 4)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			idle := 0
			for _, w := range p.procs {
				if w.running == 0 {
					idle++
				}
			}
			for i := 0; i < len(p.procs) && idle > p.opt.Warm; {
				w := p.procs[i]
				if w.running == 0 && now.Sub(w.idleSince) >= p.opt.IdleTimeout {
					p.procs = append(p.procs[:i], p.procs[i+1:]...)
					w.retire(p.opt.Grace)
					idle--
					continue
				}
				i++
			}
			p.mu.Unlock()
		}
	}
}

// workerGone is called by a worker's reader when the process has exited.
func (p *Pool) workerGone(w *proc) {
	p.mu.Lock()
	p.removeLocked(w)
	p.signalLocked()
	if !p.closed {
		p.replenishLocked()
	}
	p.mu.Unlock()
}

// Execute runs code in a worker with runtime.Execute's contract: fns stay in this process
// and serve the worker's calls; the result's Value is the program's value as raw JSON
// (json.RawMessage), or nil. fns must not change once passed: the pool names a map by its
// identity, so executions that share one (a catalog snapshot's) send its names once.
func (p *Pool) Execute(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result {
	start := time.Now()
	lim = lim.WithDefaults()
	res := p.execute(ctx, code, fns, lim)
	res.Duration = time.Since(start)
	return res
}

func (p *Pool) execute(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result {
	if err := ctx.Err(); err != nil {
		return &runtime.Result{Error: ctxError(ctx)}
	}
	for {
		w, err := p.acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return &runtime.Result{Error: ctxError(ctx)}
			}
			return &runtime.Result{Error: &runtime.Error{Kind: runtime.KindInternal, Message: "sandbox: " + err.Error()}}
		}
		r := newRun(ctx, p.nextExec.Add(1), fns, lim)
		r.setID, r.setNames = p.functionSet(fns)
		if !w.register(r) {
			// It died between acquire and now, before the execution started: take another.
			r.cancel()
			p.release(w, nil, 0)
			continue
		}
		memLimit := p.memoryLimit(lim)
		rep, res := w.execute(r, code, memLimit, p.opt.Grace)
		p.release(w, rep, memLimit)
		return res
	}
}

// functionSet names fns for the workers: the same map (a catalog snapshot's, which
// executions share) gets the same id, so a worker is sent its names once. The pool keeps
// a strong reference to the last few maps it named, so a map's address cannot be reused
// by another while it is remembered.
func (p *Pool) functionSet(fns runtime.Functions) (uint64, []string) {
	if len(fns) == 0 {
		return 0, nil
	}
	key := reflect.ValueOf(fns).Pointer()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, s := range p.sets {
		if s.key == key && len(s.fns) == len(fns) {
			if i > 0 { // most recently used first
				copy(p.sets[1:i+1], p.sets[:i])
				p.sets[0] = s
			}
			return s.id, s.names
		}
	}
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	p.nextSet++
	s := namedSet{key: key, fns: fns, id: p.nextSet, names: names}
	p.sets = append([]namedSet{s}, p.sets[:min(len(p.sets), rememberedSets-1)]...)
	return s.id, s.names
}

// rememberedSets is how many function maps the pool names by id at once.
const rememberedSets = 32

// namedSet is a function map the pool has named.
type namedSet struct {
	key   uintptr
	fns   runtime.Functions // held so that no other map can take its address meanwhile
	id    uint64
	names []string
}

// memoryLimit is the hard bound a worker gets while it runs an execution with lim.
func (p *Pool) memoryLimit(lim runtime.Limits) int64 {
	if p.opt.MemoryLimit > 0 {
		return p.opt.MemoryLimit
	}
	return BaseMemory + 2*lim.MaxMemory*int64(p.opt.PerWorker)
}

func ctxError(ctx context.Context) *runtime.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &runtime.Error{Kind: runtime.KindTimeout, Message: "the caller's deadline passed"}
	}
	return &runtime.Error{Kind: runtime.KindCanceled, Message: "the caller cancelled the execution"}
}
