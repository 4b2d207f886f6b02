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
	"runtime/metrics"
	"sync"
	"time"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// Environment of a worker process. EnvChild makes the init hook run Main.
const (
	EnvChild   = "PCTX_SANDBOX_CHILD"
	envSeccomp = "PCTX_SANDBOX_SECCOMP" // "0" turns the syscall filter off
)

// maxStack bounds a worker goroutine's stack. Go's default (1 GB) would let a runaway
// parser recursion consume the whole memory limit first and be reported as memory; at
// 32 MiB it is reported as what it is. VM recursion is bounded far below this by
// Limits.MaxStackDepth.
const maxStack = 32 << 20

// Main is a worker's entry point: it serves executions over stdin and stdout until stdin
// closes, then exits. It never returns.
func Main() {
	debug.SetMaxStack(maxStack)
	in, out := os.Stdin, os.Stdout
	// Nothing but frames may reach fd 1: anything printed by accident goes to stderr.
	os.Stdout = os.Stderr

	// Start-up work the sandbox will forbid later, or that the first execution would
	// otherwise pay for: the local time zone (Date), esbuild's and goja's first use.
	_ = time.Now().Local()
	runtime.Execute(context.Background(), "return 1", nil, runtime.Limits{})

	exitOnCPULimit()
	secc := "off (" + envSeccomp + "=0)"
	if os.Getenv(envSeccomp) != "0" {
		secc = "on"
		if err := restrictSyscalls(); err != nil {
			secc = "unavailable: " + err.Error()
		}
	}
	w := &worker{out: bufio.NewWriter(out), calls: map[uint64]pendingCall{}, execs: map[uint64]context.CancelFunc{}}
	ready, _ := json.Marshal(readyReport{Pid: os.Getpid(), Seccomp: secc})
	if err := w.send(fReady, 0, 0, ready); err != nil {
		fmt.Fprintf(os.Stderr, "sandbox worker: %v\n", err)
		os.Exit(2)
	}
	err := w.serve(bufio.NewReaderSize(in, 64<<10))
	if err != nil {
		fmt.Fprintf(os.Stderr, "sandbox worker: %v\n", err)
		os.Exit(2)
	}
	os.Exit(0)
}

type worker struct {
	wmu sync.Mutex
	out *bufio.Writer
	buf []byte

	mu       sync.Mutex
	nextCall uint64
	calls    map[uint64]pendingCall        // forwarded calls by call id
	execs    map[uint64]context.CancelFunc // running executions by id
	sets     fnSets                        // function sets by id
}

func (w *worker) send(typ frameType, exec, call uint64, parts ...[]byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	var err error
	if w.buf, err = appendFrame(w.buf[:0], typ, exec, call, parts...); err != nil {
		return err
	}
	if _, err := w.out.Write(w.buf); err != nil {
		return err
	}
	return w.out.Flush()
}

// serve reads frames until the parent closes stdin. A write error means the parent is
// gone; the worker exits with it.
func (w *worker) serve(in *bufio.Reader) error {
	for {
		f, err := readFrame(in)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil // the parent closed our stdin: retire
			}
			return err
		}
		switch f.typ {
		case fExec:
			var req execRequest
			if err := json.Unmarshal(f.payload, &req); err != nil {
				return fmt.Errorf("exec frame: %w", err)
			}
			// Resolved here, in frame order, so the sets kept match the parent's mirror.
			names, err := w.functionSet(&req)
			if err != nil {
				return err
			}
			req.Fns = names
			ctx, cancel := context.WithCancel(context.Background())
			w.mu.Lock()
			w.execs[f.exec] = cancel
			w.mu.Unlock()
			go w.run(ctx, cancel, f.exec, &req)
		case fCancel:
			w.mu.Lock()
			cancel := w.execs[f.exec]
			w.mu.Unlock()
			if cancel != nil {
				cancel()
			}
		case fRet:
			w.mu.Lock()
			c, ok := w.calls[f.call]
			delete(w.calls, f.call)
			w.mu.Unlock()
			if ok {
				c.answer(f)
			}
		default:
			return fmt.Errorf("unexpected frame type %d", f.typ)
		}
	}
}

func (w *worker) run(ctx context.Context, cancel context.CancelFunc, id uint64, req *execRequest) {
	defer func() {
		cancel()
		w.mu.Lock()
		delete(w.execs, id)
		w.mu.Unlock()
	}()
	if req.SoftMemory > 0 {
		debug.SetMemoryLimit(req.SoftMemory)
	}
	res := runtime.ExecuteCalls(ctx, req.Code, req.Fns, w.caller(id), req.Limits)
	w.mu.Lock()
	for cid, c := range w.calls { // calls the parent never answered are abandoned
		if c.exec == id {
			delete(w.calls, cid)
		}
	}
	w.mu.Unlock()
	rep := doneReport{Console: res.Console, Error: res.Error, Calls: res.Calls}
	if res.Error == nil && res.Value != nil {
		v, err := json.Marshal(res.Value)
		if err != nil {
			rep.Error = &runtime.Error{Kind: runtime.KindResult, Message: fmt.Sprintf("result is not JSON data: %v", err)}
		} else {
			rep.Value = v
		}
	}
	rep.Heap, rep.Mapped = memStats()
	b, err := json.Marshal(&rep)
	if err != nil {
		b, _ = json.Marshal(&doneReport{Error: &runtime.Error{Kind: runtime.KindInternal, Message: fmt.Sprintf("encode result: %v", err)}})
	}
	if err := w.send(fDone, id, 0, b); err != nil {
		os.Exit(2) // the parent is gone
	}
}

// functionSet resolves an execution's function names: listed with it the first time,
// kept by id afterwards.
func (w *worker) functionSet(req *execRequest) ([]string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if req.Fns != nil {
		w.sets.add(req.FnsID, req.Fns)
		return req.Fns, nil
	}
	names, ok := w.sets.names[req.FnsID]
	if !ok && req.FnsID != 0 {
		return nil, fmt.Errorf("sandbox worker: function set %d was never sent", req.FnsID)
	}
	return names, nil
}

// caller forwards the calls of execution exec to the parent; the reader hands each
// reply straight to the call's done, so a call costs no goroutine of its own.
func (w *worker) caller(exec uint64) runtime.Caller {
	return func(_ context.Context, name string, args []any, done func(any, error)) {
		a, err := json.Marshal(args)
		if err != nil {
			done(nil, fmt.Errorf("encode arguments: %w", err))
			return
		}
		w.mu.Lock()
		w.nextCall++
		id := w.nextCall
		w.calls[id] = pendingCall{exec: exec, done: done}
		w.mu.Unlock()
		if err := w.send(fCall, exec, id, callPayload(name, a)...); err != nil {
			os.Exit(2) // the parent is gone
		}
	}
}

// pendingCall is a call forwarded to the parent and not answered yet.
type pendingCall struct {
	exec uint64
	done func(any, error)
}

// answer settles a call with the parent's reply.
func (c pendingCall) answer(f frame) {
	switch {
	case len(f.payload) == 0:
		c.done(nil, errors.New("empty reply"))
	case f.payload[0] == retErr:
		c.done(nil, errors.New(string(f.payload[1:])))
	default:
		c.done(json.RawMessage(f.payload[1:]), nil)
	}
}

// memStats is the heap the last GC found live and all the memory the Go runtime has
// mapped (what RLIMIT_DATA counts, less the runtime's own fixed mappings).
func memStats() (live, mapped uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		mapped = s[1].Value.Uint64()
	}
	return live, mapped
}
