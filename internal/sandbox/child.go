package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// EnvChild marks a process started as a sandbox worker (used by tests that re-exec
// their own binary).
const EnvChild = "PCTX_SANDBOX_CHILD"

// EnvMemory passes the worker's hard address-space limit in bytes.
const EnvMemory = "PCTX_SANDBOX_AS"

// Main is the worker's entry point: it serves executions over stdin/stdout until stdin
// closes, then exits. It never returns.
func Main() {
	if v := os.Getenv(EnvMemory); v != "" {
		var as uint64
		if _, err := fmt.Sscan(v, &as); err == nil && as > 0 {
			_ = limitAddressSpace(as)
			debug.SetMemoryLimit(int64(as / 2))
		}
	}
	out := os.NewFile(1, "frames")
	// Nothing but frames may reach fd 1: anything printed by accident goes to stderr.
	os.Stdout = os.Stderr
	w := &worker{out: bufio.NewWriter(out), calls: map[uint64]chan *msg{}, execs: map[uint64]context.CancelFunc{}}
	err := w.serve(bufio.NewReader(os.Stdin))
	if err != nil && !errors.Is(err, os.ErrClosed) {
		fmt.Fprintf(os.Stderr, "sandbox worker: %v\n", err)
		os.Exit(2)
	}
	os.Exit(0)
}

type worker struct {
	wmu   sync.Mutex
	out   *bufio.Writer
	mu    sync.Mutex
	next  uint64
	calls map[uint64]chan *msg
	execs map[uint64]context.CancelFunc
}

func (w *worker) send(m *msg) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if err := writeFrame(w.out, m); err != nil {
		return err
	}
	return w.out.Flush()
}

func (w *worker) serve(in *bufio.Reader) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		m, err := readFrame(in)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil // the parent closed our stdin: retire
			}
			return err
		}
		switch m.T {
		case "exec":
			ctx, cancel := context.WithCancel(context.Background())
			w.mu.Lock()
			w.execs[m.ID] = cancel
			w.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.run(ctx, m)
				cancel()
				w.mu.Lock()
				delete(w.execs, m.ID)
				w.mu.Unlock()
			}()
		case "cancel":
			w.mu.Lock()
			cancel := w.execs[m.ID]
			w.mu.Unlock()
			if cancel != nil {
				cancel()
			}
		case "ret":
			w.mu.Lock()
			ch := w.calls[m.Call]
			delete(w.calls, m.Call)
			w.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		default:
			return fmt.Errorf("unknown frame type %q", m.T)
		}
	}
}

func (w *worker) run(ctx context.Context, m *msg) {
	fns := make(runtime.Functions, len(m.Fns))
	for _, name := range m.Fns {
		fns[name] = w.stub(m.ID, name)
	}
	lim := runtime.Limits{}
	if m.Limits != nil {
		lim = *m.Limits
	}
	res := runtime.Execute(ctx, m.Code, fns, lim)
	b, err := json.Marshal(res)
	if err != nil {
		b, _ = json.Marshal(&runtime.Result{Error: &runtime.Error{Kind: runtime.KindInternal, Message: fmt.Sprintf("encode result: %v", err)}})
	}
	if err := w.send(&msg{T: "done", ID: m.ID, Result: b}); err != nil {
		fmt.Fprintf(os.Stderr, "sandbox worker: %v\n", err)
		os.Exit(2)
	}
}

// stub forwards a call to the parent and returns its raw JSON untouched.
func (w *worker) stub(exec uint64, name string) runtime.Func {
	return func(ctx context.Context, args []any) (any, error) {
		a, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("encode arguments of %s: %w", name, err)
		}
		ch := make(chan *msg, 1)
		w.mu.Lock()
		w.next++
		id := w.next
		w.calls[id] = ch
		w.mu.Unlock()
		if err := w.send(&msg{T: "call", ID: exec, Call: id, Name: name, Args: a}); err != nil {
			return nil, err
		}
		select {
		case r := <-ch:
			if r.Err != "" {
				return nil, errors.New(r.Err)
			}
			return r.Result, nil
		case <-ctx.Done():
			w.mu.Lock()
			delete(w.calls, id)
			w.mu.Unlock()
			return nil, ctx.Err()
		}
	}
}
