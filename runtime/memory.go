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
//     "/memory/classes/heap/objects:bytes") every sampleEvery while executions run, and
//     stops when none do.
//   - Growth between two samples is charged, in equal shares, to the executions whose VM
//     ran JS during that interval (a VM waiting for Func calls allocates nothing).
//     Allocation by Funcs or the rest of the server while no VM runs is charged to no
//     one; while a VM runs it may be charged to it, which errs towards stopping the
//     execution that is running.
//   - A shrinking heap (the GC freed memory) scales every charge down by the same
//     factor, so charges never sum to more than the growth since they were made.
//   - An execution whose charge exceeds its MaxMemory is not stopped on that evidence
//     alone, since part of it may be garbage: the watchdog first forces a GC (at most
//     once per minGCInterval) and stops it only if it is still over after that.
//
// Overshoot: a single builtin call can allocate between two samples; guards.go bounds
// the known one-step allocators, and vm.Interrupt only takes effect between JS
// instructions, so one step of a huge concatenation can still go past the limit once.
const (
	sampleEvery   = 5 * time.Millisecond
	minGCInterval = 100 * time.Millisecond
	heapMetric    = "/memory/classes/heap/objects:bytes"
)

// memAccount is one execution's share of heap growth.
type memAccount struct {
	limit   int64
	kill    func(*Error)
	running atomic.Int32 // >0 while the VM runs JS
	ran     atomic.Bool  // the VM ran since the last sample
	charged float64      // guarded by memWatchdog.mu
	killed  bool         // guarded by memWatchdog.mu
}

// enter and leave bracket every VM call. Loop-only.
func (a *memAccount) enter() {
	a.running.Add(1)
	a.ran.Store(true)
}

func (a *memAccount) leave() { a.running.Add(-1) }

type memWatchdog struct {
	mu       sync.Mutex
	accounts map[*memAccount]struct{}
	stop     chan struct{} // closed to stop the sampler; nil when it is not running
	done     chan struct{} // closed when the sampler has returned
	last     uint64        // heap at the previous sample
	lastGC   time.Time
	sample   []metrics.Sample
}

var watchdog = &memWatchdog{accounts: make(map[*memAccount]struct{})}

func (w *memWatchdog) register(limit int64, kill func(*Error)) *memAccount {
	a := &memAccount{limit: limit, kill: kill}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.accounts[a] = struct{}{}
	if w.stop == nil {
		w.last = w.heap()
		w.stop, w.done = make(chan struct{}), make(chan struct{})
		go w.loop(w.stop, w.done)
	}
	return a
}

// unregister forgets a; the sampler stops (and has returned) when the last account goes.
func (w *memWatchdog) unregister(a *memAccount) {
	w.mu.Lock()
	delete(w.accounts, a)
	var done chan struct{}
	if len(w.accounts) == 0 && w.stop != nil {
		close(w.stop)
		done = w.done
		w.stop, w.done = nil, nil
	}
	w.mu.Unlock()
	if done != nil {
		<-done
	}
}

// heap reads the heap metric. Caller holds mu (the sample slice is reused).
func (w *memWatchdog) heap() uint64 {
	if w.sample == nil {
		w.sample = []metrics.Sample{{Name: heapMetric}}
	}
	metrics.Read(w.sample)
	return w.sample[0].Value.Uint64()
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

func (w *memWatchdog) check() {
	w.mu.Lock()
	due := len(w.account()) > 0 && time.Since(w.lastGC) >= minGCInterval
	w.mu.Unlock()
	if !due {
		return
	}
	runtime.GC() // without the lock: executions may start and end meanwhile
	w.mu.Lock()
	w.lastGC = time.Now()
	over := w.account()
	msgs := make([]string, len(over))
	for i, a := range over {
		a.killed = true
		msgs[i] = fmt.Sprintf("memory limit: the execution grew the heap by about %d MiB; the limit is %d MiB", int64(a.charged)>>20, a.limit>>20)
	}
	w.mu.Unlock()
	for i, a := range over {
		a.kill(&Error{Kind: KindMemory, Message: msgs[i]})
	}
}

// account charges the growth since the last sample and returns the accounts over their
// limit. Caller holds mu.
func (w *memWatchdog) account() []*memAccount {
	now := w.heap()
	delta := float64(now) - float64(w.last)
	w.last = now
	if delta > 0 {
		var busy []*memAccount
		for a := range w.accounts {
			if a.ran.Swap(a.running.Load() > 0) {
				busy = append(busy, a)
			}
		}
		for _, a := range busy {
			a.charged += delta / float64(len(busy))
		}
	} else if delta < 0 {
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
	var over []*memAccount
	for a := range w.accounts {
		if !a.killed && a.charged > float64(a.limit) {
			over = append(over, a)
		}
	}
	return over
}
