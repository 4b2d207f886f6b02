package typecheck

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// pool hands each check a process of its own. Its idle channel holds one token per
// slot: a ready process, or nil for a slot whose process is being (or failed to be)
// started.
type pool struct {
	opts  Options
	idle  chan *proc
	done  chan struct{}
	cache *resultCache

	warming sync.Mutex // serialises warm

	mu     sync.Mutex
	closed bool
	all    map[*proc]struct{} // every live process, idle or busy
	starts sync.WaitGroup     // background starts
}

func newPool(opts Options) (*pool, error) {
	p := &pool{opts: opts, idle: make(chan *proc, opts.Processes), done: make(chan struct{}), all: map[*proc]struct{}{},
		cache: newResultCache(cacheEntries)}
	for range opts.Processes {
		p.replenish()
	}
	return p, nil
}

// replenish starts a process in the background for a slot that has none and parks it
// as idle (nil when it fails: the next check on the slot retries and reports).
func (p *pool) replenish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		p.idle <- nil
		return
	}
	p.starts.Add(1)
	go func() {
		defer p.starts.Done()
		w, err := p.start()
		if err != nil {
			// A start that finished after Close is no news: a short `pctx exec` ends so.
			if !errors.Is(err, ErrClosed) {
				p.opts.Logger.Warn("type checker: cannot start tsgo", "tsgo", p.opts.Tsgo, "err", err)
			}
			w = nil
		}
		p.idle <- w
	}()
}

// start starts and warms up one process, registered in p.all unless the pool closed.
func (p *pool) start() (*proc, error) {
	w, err := startProc(p.opts)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		w.stop()
		return nil, ErrClosed
	}
	p.all[w] = struct{}{}
	return w, nil
}

// cacheEntries bounds the result cache; programs are at most a few hundred KiB.
const cacheEntries = 256

func (p *pool) check(ctx context.Context, decls []string, code string) ([]Diagnostic, error) {
	key := p.cache.key(decls, code)
	if diags, ok := p.cache.get(key, code); ok {
		return diags, nil
	}
	diags, err := p.checkIn(ctx, decls, code)
	if err == nil {
		p.cache.put(key, code, diags)
	}
	return diags, err
}

// checkIn runs one check in a process of the pool.
func (p *pool) checkIn(ctx context.Context, decls []string, code string) ([]Diagnostic, error) {
	var w *proc
	select {
	case w = <-p.idle:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.done:
		return nil, ErrClosed
	}
	return p.run(ctx, w, decls, code)
}

// run checks code in w, a slot's token taken from idle, and hands the slot back.
func (p *pool) run(ctx context.Context, w *proc, decls []string, code string) ([]Diagnostic, error) {
	if p.isClosed() {
		p.idle <- w // Close stops it
		return nil, ErrClosed
	}
	if w == nil {
		// The slot has no process: its start failed. Retry now, so that a tsgo that
		// appeared since (or a passing failure) is picked up.
		var err error
		if w, err = p.start(); err != nil {
			p.idle <- nil
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	diags, err := w.check(ctx, decls, code)
	w.checks++
	closed := p.isClosed()
	if closed && err != nil {
		err = ErrClosed // Close killed the process under the check
	}
	if !w.dead && w.checks < p.opts.MaxChecks && !closed {
		p.idle <- w
		return diags, err
	}
	p.retire(w)
	if w.dead {
		p.opts.Logger.Warn("type checker: process replaced", "err", err)
	}
	p.replenish()
	return diags, err
}

// warm takes every slot, as the processes become free, and checks an empty program
// against decls in each. Warm-ups run one at a time: two collecting slots at once could
// each hold some and wait forever for the other's.
func (p *pool) warm(decls []string) {
	p.warming.Lock()
	defer p.warming.Unlock()
	held := make([]*proc, 0, p.opts.Processes)
	for range p.opts.Processes {
		select {
		case w := <-p.idle:
			held = append(held, w)
		case <-p.done:
			for _, w := range held {
				p.idle <- w
			}
			return
		}
	}
	var wg sync.WaitGroup
	for _, w := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = p.run(context.Background(), w, decls, "")
		}()
	}
	wg.Wait()
}

func (p *pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// retire stops w and forgets it.
func (p *pool) retire(w *proc) {
	w.stop()
	p.mu.Lock()
	delete(p.all, w)
	p.mu.Unlock()
}

func (p *pool) pids() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int, 0, len(p.all))
	for w := range p.all {
		out = append(out, w.cmd.Process.Pid)
	}
	return out
}

func (p *pool) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	p.starts.Wait()
	p.mu.Lock()
	all := p.all
	p.all = map[*proc]struct{}{}
	p.mu.Unlock()
	// Busy processes are killed under their checks, which then fail and retire them.
	for w := range all {
		w.stop()
	}
	return nil
}
