package runtime

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// The memory watchdog. goja has no heap limit and the Go heap is shared by every
// execution (and by the rest of the server), so no execution's usage can be measured
// exactly. The approximation:
//
//   - One goroutine samples the live-plus-unswept heap (runtime/metrics
//     "/memory/classes/heap/objects:bytes"), the live heap of the latest GC and the GC
//     count every sampleEvery while executions run, and stops when none do.
//   - Growth between two samples is charged to the executions whose VM ran JS, in
//     proportion to the VM time of each (enter and leave accumulate it; see vmClock:
//     CPU time of the VM's thread on Linux), with a short memory of the intervals
//     before (weightDecay). A VM that ran for a moment next to a hog takes a sliver,
//     not an equal share; a VM waiting for Func calls is charged nothing. Growth while
//     no VM runs (Funcs, the rest of the server) is charged to no one.
//   - A shrinking heap first pays off the charges of executions that have ended (the
//     GC frees their memory after they end; otherwise the garbage of a stream of short
//     executions would wipe out a hog's charge), then scales the remaining charges down
//     by the same factor.
//   - Whenever a GC has completed, every charge is capped by the growth of the live
//     heap since its execution started: an execution cannot have retained more than the
//     heap retained. A charge over MaxMemory therefore counts only once a GC completed
//     after it (or, if none has for minGCInterval, one forced by the watchdog).
//   - Each confirmation stops only the execution with the largest charge: VMs that ran
//     beside the hog carry part of its growth. While a stopped execution has not ended
//     (its memory is still live), and until a GC that started after it ended, no other
//     is judged; that GC scales and caps the others' charges down.
//
// Overshoot: a single builtin call can allocate between two samples; guards.go bounds
// the known one-step allocators, and vm.Interrupt only takes effect between JS
// instructions, so one step of a huge concatenation can still go past the limit; a
// doubling string is stopped a few doublings past the limit. Residual risk: two VMs
// running JS non-stop side by side are charged alike whichever of them allocates; the
// one stopped is then the one charged more.
const (
	sampleEvery   = 5 * time.Millisecond
	minGCInterval = 100 * time.Millisecond
	// dyingGrace bounds how long a stopped execution that has not ended yet holds up
	// the judgment of the others.
	dyingGrace = 5 * time.Second
	// weightDecay is how much of an execution's VM time still counts at the next
	// sample. Growth shows in the heap metric when memory is allocated, while the VM time
	// that produced it may fall in the interval before (a large string is allocated,
	// then copied), or the allocating VM may be stalled for an interval (GC assist,
	// stop-the-world); a short memory of recent VM time keeps such growth with the VM
	// that has been running all along.
	weightDecay  = 0.5
	heapMetric   = "/memory/classes/heap/objects:bytes"
	liveMetric   = "/gc/heap/live:bytes" // heap marked live by the latest GC
	cyclesMetric = "/gc/cycles/total:gc-cycles"
)

// memAccount is one execution's share of heap growth.
type memAccount struct {
	limit int64
	kill  func(*Error)
	clock atomic.Int32 // vmClock of the thread running the VM call
	since atomic.Int64 // vmClock reading at the last mark; 0 outside the VM
	ran   atomic.Int64 // VM time not yet taken by the watchdog, in nanoseconds
	// guarded by memWatchdog.mu
	base     float64 // lowest live heap seen since the execution started
	charged  float64
	weight   float64   // recent VM time: decayed sum of the time taken at each sample
	killedAt time.Time // zero until the watchdog stops the execution
}

// enter and leave bracket every VM call; they do not nest, and leave must run even if
// the call panics (a goroutine that exits locked to its thread ends the thread).
// Loop-only.
func (a *memAccount) enter() {
	id := lockVMClock()
	a.clock.Store(id)
	a.since.Store(max(1, vmClockNow(id)))
}

func (a *memAccount) leave() {
	if s := a.since.Swap(0); s != 0 {
		a.ran.Add(max(0, vmClockNow(a.clock.Load())-s))
	}
	unlockVMClock()
}

// take returns the VM time since the previous take, including the current call's time
// so far. Watchdog-only.
func (a *memAccount) take() int64 {
	if s := a.since.Load(); s != 0 {
		// If the call ended meanwhile, since has changed and the call's time is in ran.
		if now := vmClockNow(a.clock.Load()); now > s && a.since.CompareAndSwap(s, now) {
			a.ran.Add(now - s)
		}
	}
	return a.ran.Swap(0)
}

// heapReading is one sample of the runtime's heap metrics.
type heapReading struct {
	heap   uint64 // live plus unswept objects
	live   uint64 // marked live by the latest GC
	cycles uint64 // GC cycles completed
}

type memWatchdog struct {
	// read samples the heap (caller holds mu); collect forces a GC. Tests replace them.
	read    func() heapReading
	collect func()

	mu       sync.Mutex
	accounts map[*memAccount]struct{}
	stop     chan struct{} // closed to stop the sampler; nil when it is not running
	done     chan struct{} // closed when the sampler has returned
	prev     heapReading   // the previous sample
	departed float64       // charges of ended executions not yet freed by a GC
	ghost    float64       // recent VM time of executions that have ended, as weight
	cycleAt  time.Time     // when a sample last saw a GC completed
	// settle is the GC count to wait for after an execution stopped for memory ends:
	// a GC that was marking when it ended may still count its memory as live.
	settle uint64
}

var watchdog = newMemWatchdog()

func newMemWatchdog() *memWatchdog {
	samples := []metrics.Sample{{Name: heapMetric}, {Name: liveMetric}, {Name: cyclesMetric}} // reused under mu
	return &memWatchdog{
		accounts: make(map[*memAccount]struct{}),
		read: func() heapReading {
			metrics.Read(samples)
			return heapReading{samples[0].Value.Uint64(), samples[1].Value.Uint64(), samples[2].Value.Uint64()}
		},
		collect: runtime.GC,
	}
}

func (w *memWatchdog) register(limit int64, kill func(*Error)) *memAccount {
	a := &memAccount{limit: limit, kill: kill}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop == nil {
		w.prev = w.read()
		w.stop, w.done = make(chan struct{}), make(chan struct{})
		go w.loop(w.stop, w.done)
	}
	// The memory of ended executions may still be in the heap, and in the live heap of
	// the latest GC; it is not this execution's to keep.
	a.base = max(0, float64(min(w.prev.heap, w.prev.live))-w.departed)
	w.accounts[a] = struct{}{}
	return a
}

// unregister forgets a; the sampler stops (and has returned) when the last account goes.
func (w *memWatchdog) unregister(a *memAccount) {
	w.mu.Lock()
	delete(w.accounts, a)
	w.departed += a.charged
	w.ghost += a.weight + float64(a.take()) // its share of growth goes to departed
	if !a.killedAt.IsZero() {
		w.settle = w.prev.cycles + 2
	}
	var done chan struct{}
	if len(w.accounts) == 0 && w.stop != nil {
		close(w.stop)
		done = w.done
		w.stop, w.done = nil, nil
		w.departed, w.ghost, w.settle = 0, 0, 0
	}
	w.mu.Unlock()
	if done != nil {
		<-done
	}
}

func (w *memWatchdog) loop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			w.check()
		}
	}
}

// check samples the heap and stops the execution with the largest charge over its
// limit once a GC has confirmed that charge: a GC that completed since the previous
// sample or, if none has for minGCInterval, one forced now. Forcing is the last resort:
// runtime.GC waits for two stops of the world, each of which waits for any VM in the
// middle of a long builtin (a large string copy), while natural GCs come at every
// doubling of the heap.
func (w *memWatchdog) check() {
	w.mu.Lock()
	collected := w.account()
	c := w.largestOver()
	if c == nil || w.dying() {
		w.mu.Unlock()
		return
	}
	if !collected || w.prev.cycles < w.settle {
		due := time.Since(w.cycleAt) >= minGCInterval
		w.mu.Unlock()
		if !due {
			return
		}
		w.collect() // without the lock: executions may start and end meanwhile
		w.mu.Lock()
		w.account()
		w.departed = 0 // a forced GC sweeps fully: whatever of it was garbage is gone
		w.settle = 0
		if c = w.largestOver(); c == nil || w.dying() {
			w.mu.Unlock()
			return
		}
	}
	c.killedAt = time.Now()
	msg := fmt.Sprintf("memory limit: the execution grew the heap by about %d MiB; the limit is %d MiB", int64(c.charged)>>20, c.limit>>20)
	w.mu.Unlock()
	c.kill(&Error{Kind: KindMemory, Message: msg})
}

// account charges the growth since the previous sample and reports whether a GC
// completed meanwhile, in which case every charge is now capped by the growth of the
// live heap since its execution started. Caller holds mu.
func (w *memWatchdog) account() (collected bool) {
	now := w.read()
	delta := float64(now.heap) - float64(w.prev.heap)
	collected = now.cycles != w.prev.cycles
	w.prev = now
	weights := w.ghost
	for a := range w.accounts {
		a.weight = a.weight*weightDecay + float64(a.take())
		weights += a.weight
	}
	switch {
	case delta > 0 && weights > 0:
		for a := range w.accounts {
			a.charged += delta * a.weight / weights
		}
		w.departed += delta * w.ghost / weights
	case delta < 0:
		paid := min(w.departed, -delta)
		w.departed -= paid
		delta += paid
		var total float64
		for a := range w.accounts {
			total += a.charged
		}
		if total > 0 {
			f := max(0, (total+delta)/total)
			for a := range w.accounts {
				a.charged *= f
			}
		}
	}
	w.ghost *= weightDecay
	if collected {
		w.cycleAt = time.Now()
		for a := range w.accounts {
			a.base = min(a.base, float64(now.live))
			a.charged = min(a.charged, float64(now.live)-a.base)
		}
	}
	return collected
}

// largestOver returns the execution not yet stopped with the largest charge over its
// limit, or nil. Caller holds mu.
func (w *memWatchdog) largestOver() *memAccount {
	var c *memAccount
	for a := range w.accounts {
		if a.killedAt.IsZero() && a.charged > float64(a.limit) && (c == nil || a.charged > c.charged) {
			c = a
		}
	}
	return c
}

// dying reports whether an execution stopped for memory, recently, has not ended yet.
// Caller holds mu.
func (w *memWatchdog) dying() bool {
	for a := range w.accounts {
		if !a.killedAt.IsZero() && time.Since(a.killedAt) < dyingGrace {
			return true
		}
	}
	return false
}
