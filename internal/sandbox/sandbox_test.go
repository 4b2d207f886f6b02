package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// Roles a re-executed test binary can play, selected by envRole (the init hook has
// already claimed EnvChild for real workers).
const envRole = "PCTX_SANDBOX_TEST_ROLE"

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "seccomp-probe":
		seccompProbe()
	}
	goleak.VerifyTestMain(m)
}

// newPool returns a pool of workers that are copies of the pctx binary when PCTX_BIN
// names one (the real thing, and without -race, so kernel limits apply), else of this
// test binary.
func newPool(t *testing.T, o Options) *Pool {
	t.Helper()
	if bin := os.Getenv("PCTX_BIN"); bin != "" && o.Command == nil {
		o.Command = []string{bin, "__sandbox"}
	}
	p, err := New(&o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// kernelLimits reports whether p's workers run under RLIMIT_DATA and RLIMIT_CPU.
func kernelLimits(p *Pool) bool { return hardLimits && !(p.self && raceEnabled) }

// hangCatcher bounds a test that would otherwise hang; it asserts nothing about speed.
func hangCatcher(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestExecute(t *testing.T) {
	p := newPool(t, Options{Warm: 1})
	var mu sync.Mutex
	var got [][]any
	fns := runtime.Functions{
		"math.add": func(_ context.Context, args []any) (any, error) {
			mu.Lock()
			got = append(got, args)
			mu.Unlock()
			m := args[0].(map[string]any)
			return m["a"].(int64) + m["b"].(int64), nil
		},
		"raw.get": func(context.Context, []any) (any, error) {
			return json.RawMessage(`{"z":1,"a":[1.5,"x"]}`), nil
		},
		"bad.fail":  func(context.Context, []any) (any, error) { return nil, errors.New("no such row") },
		"bad.panic": func(context.Context, []any) (any, error) { panic("boom") },
		"gh.*":      func(context.Context, []any) (any, error) { return nil, errors.New("needs login") },
	}
	res := p.Execute(hangCatcher(t), `
		const s = await math.add({a: 2, b: 40});
		const r = await raw.get();
		let msg = "";
		try { await bad.fail() } catch (e) { msg = e.message }
		let pmsg = "";
		try { await bad.panic() } catch (e) { pmsg = e.message }
		let gmsg = "";
		try { await gh.search({q: "x"}) } catch (e) { gmsg = e.message }
		console.log("sum", s);
		return {s, keys: Object.keys(r), msg, pmsg, gmsg};`, fns, runtime.Limits{})
	if res.Error != nil {
		t.Fatalf("error: %+v", res.Error)
	}
	raw, ok := res.Value.(json.RawMessage)
	if !ok {
		t.Fatalf("Value is %T, want json.RawMessage", res.Value)
	}
	want := `{"gmsg":"gh.search: needs login","keys":["z","a"],"msg":"bad.fail: no such row","pmsg":"bad.panic: panic: boom","s":42}`
	if string(raw) != want {
		t.Errorf("value %s\nwant  %s", raw, want)
	}
	if res.Calls != 5 {
		t.Errorf("calls = %d, want 5", res.Calls)
	}
	if len(res.Console) != 1 || res.Console[0].Text != "sum 42" {
		t.Errorf("console = %+v", res.Console)
	}
	if len(got) != 1 || got[0][0].(map[string]any)["a"] != int64(2) {
		t.Errorf("math.add got %v", got)
	}
	if res.Duration <= 0 {
		t.Error("no duration")
	}
}

func TestProgramErrorsKeepTheirKind(t *testing.T) {
	p := newPool(t, Options{Warm: 1})
	for _, tc := range []struct {
		code string
		kind runtime.ErrorKind
	}{
		{`throw new TypeError("x")`, runtime.KindRuntime},
		{`return (`, runtime.KindSyntax},
		{`for (let i = 0; i < 20; i++) await t.f();`, runtime.KindCalls},
		{`return undefined`, ""},
	} {
		fns := runtime.Functions{"t.f": func(context.Context, []any) (any, error) { return 1, nil }}
		res := p.Execute(hangCatcher(t), tc.code, fns, runtime.Limits{MaxCalls: 10})
		switch {
		case tc.kind == "" && res.Error != nil:
			t.Errorf("%s: %+v", tc.code, res.Error)
		case tc.kind != "" && (res.Error == nil || res.Error.Kind != tc.kind):
			t.Errorf("%s: got %+v, want kind %s", tc.code, res.Error, tc.kind)
		}
	}
}

// TestFatalFaults: what Go cannot recover from ends one execution with a named error,
// and the next execution runs normally on a new worker.
func TestFatalFaults(t *testing.T) {
	p := newPool(t, Options{Warm: 1})
	for _, tc := range []struct {
		name, code string
		lim        runtime.Limits
		kind       runtime.ErrorKind
		says       string
		kernel     bool // needs kernel limits
	}{
		{name: "eval_parens", code: `const n = 1e6; return eval("(".repeat(n) + "1" + ")".repeat(n))`,
			kind: runtime.KindCrashed, says: "stack overflow while compiling"},
		{name: "function_parens", code: `const n = 1e6; return Function("return " + "[".repeat(n) + "]".repeat(n))()`,
			kind: runtime.KindCrashed, says: "stack overflow while compiling"},
		{name: "native_loop", code: `return new Set(new Uint8Array(2 ** 26)).size`,
			lim: runtime.Limits{Timeout: time.Second}, kind: runtime.KindTimeout, says: "was killed"},
		{name: "hard_memory", code: `const a = []; for (let i = 0; ; i++) a.push("x".repeat(1 << 20) + i);`,
			// The in-VM watchdog would stop this at MaxMemory; set it beyond the hard limit
			// so the kernel's bound is what ends it.
			lim: runtime.Limits{MaxMemory: 4 << 30}, kind: runtime.KindMemory, says: "hard limit", kernel: true},
		{name: "cpu", code: `for (;;) {}`,
			lim: runtime.Limits{Timeout: time.Minute, MaxCPUTime: time.Second}, kind: runtime.KindCPU, says: "CPU time", kernel: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.kernel && !kernelLimits(p) {
				t.Skip("no kernel limits for these workers (not Linux, or a -race copy of this binary: set PCTX_BIN)")
			}
			pool := p
			if tc.name == "hard_memory" {
				pool = newPool(t, Options{Warm: 1, MemoryLimit: BaseMemory + 128<<20})
			}
			before := pool.Stats().Crashed
			res := pool.Execute(hangCatcher(t), tc.code, nil, tc.lim)
			if res.Error == nil || res.Error.Kind != tc.kind || !strings.Contains(res.Error.Message, tc.says) {
				t.Fatalf("got %+v, want kind %s saying %q", res.Error, tc.kind, tc.says)
			}
			if got := pool.Stats().Crashed; got != before+1 {
				t.Errorf("crashed workers %d, want %d", got, before+1)
			}
			next := pool.Execute(hangCatcher(t), `return "fine"`, nil, runtime.Limits{})
			if next.Error != nil || string(next.Value.(json.RawMessage)) != `"fine"` {
				t.Fatalf("next execution: %+v %v", next.Error, next.Value)
			}
		})
	}
}

// TestKilledWorker: a worker killed in the middle of an execution fails that execution,
// the next one succeeds, and nothing leaks (goleak in TestMain, fds here).
func TestKilledWorker(t *testing.T) {
	before := fdCount(t)
	p, err := New(&Options{Warm: 1, Command: commandFor()})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	fns := runtime.Functions{"t.block": func(c context.Context, _ []any) (any, error) {
		close(started)
		<-c.Done()
		return nil, c.Err()
	}}
	go func() {
		<-started
		p.mu.Lock()
		for _, w := range p.procs {
			if w.running > 0 {
				w.kill()
			}
		}
		p.mu.Unlock()
	}()
	res := p.Execute(hangCatcher(t), `await t.block(); return 1`, fns, runtime.Limits{})
	if res.Error == nil || res.Error.Kind != runtime.KindCrashed || !strings.Contains(res.Error.Message, "exited unexpectedly") {
		t.Fatalf("got %+v", res.Error)
	}
	if res.Calls != 1 {
		t.Errorf("calls = %d, want 1", res.Calls)
	}
	next := p.Execute(hangCatcher(t), `return "ok"`, nil, runtime.Limits{})
	if next.Error != nil {
		t.Fatalf("next: %+v", next.Error)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if after := fdCount(t); after != before {
		t.Fatalf("fds: %d before, %d after", before, after)
	}
}

func commandFor() []string {
	if bin := os.Getenv("PCTX_BIN"); bin != "" {
		return []string{bin, "__sandbox"}
	}
	return nil
}

func fdCount(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestCrashSparesBystanders: executions running beside one that crashes its worker
// succeed, because each runs in a worker of its own.
func TestCrashSparesBystanders(t *testing.T) {
	p := newPool(t, Options{Warm: 3})
	gate := make(chan struct{})
	fns := runtime.Functions{"t.wait": func(c context.Context, _ []any) (any, error) {
		select {
		case <-gate:
			return "done", nil
		case <-c.Done():
			return nil, c.Err()
		}
	}}
	var wg sync.WaitGroup
	results := make([]*runtime.Result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = p.Execute(hangCatcher(t), `return await t.wait()`, fns, runtime.Limits{})
		}()
	}
	crash := p.Execute(hangCatcher(t), `return eval("(".repeat(1e6))`, nil, runtime.Limits{})
	close(gate)
	wg.Wait()
	if crash.Error == nil || crash.Error.Kind != runtime.KindCrashed {
		t.Errorf("crash: %+v", crash.Error)
	}
	for i, r := range results {
		if r.Error != nil || string(r.Value.(json.RawMessage)) != `"done"` {
			t.Errorf("bystander %d: %+v", i, r.Error)
		}
	}
}

func TestCancel(t *testing.T) {
	p := newPool(t, Options{Warm: 1})
	fns := runtime.Functions{"t.block": func(c context.Context, _ []any) (any, error) {
		<-c.Done()
		return nil, c.Err()
	}}
	ctx, cancel := context.WithCancel(hangCatcher(t))
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	res := p.Execute(ctx, `await t.block()`, fns, runtime.Limits{})
	if res.Error == nil || res.Error.Kind != runtime.KindCanceled {
		t.Fatalf("cancel: %+v", res.Error)
	}
	// Compiling this pattern takes regexp2 seconds and ignores the cancellation; the grace
	// kill ends it.
	ctx, cancel = context.WithCancel(hangCatcher(t))
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	res = p.Execute(ctx, `return new RegExp("(?=a".repeat(40000) + ")".repeat(40000)).test("a")`, nil, runtime.Limits{Timeout: time.Hour})
	if res.Error == nil || res.Error.Kind != runtime.KindCanceled || !strings.Contains(res.Error.Message, "killed") {
		t.Fatalf("cancel of a native loop: %+v", res.Error)
	}
	dl, cancel := context.WithDeadline(hangCatcher(t), time.Now().Add(50*time.Millisecond))
	defer cancel()
	res = p.Execute(dl, `await t.block()`, fns, runtime.Limits{})
	if res.Error == nil || res.Error.Kind != runtime.KindTimeout {
		t.Fatalf("deadline: %+v", res.Error)
	}
}

func TestRecycle(t *testing.T) {
	p := newPool(t, Options{Warm: 1, RecycleAfter: 2})
	for range 5 {
		if res := p.Execute(hangCatcher(t), `return 1`, nil, runtime.Limits{}); res.Error != nil {
			t.Fatal(res.Error)
		}
	}
	if s := p.Stats(); s.Recycled != 2 || s.Crashed != 0 {
		t.Fatalf("stats %+v: want 2 recycled, none crashed", s)
	}
}

func TestWarmWorkersWait(t *testing.T) {
	p := newPool(t, Options{Warm: 2})
	deadline := time.Now().Add(2 * time.Minute) // hang catcher
	for p.Stats().Workers < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("warm workers never started: %+v", p.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := p.Stats(); s.Busy != 0 || s.Started != 2 {
		t.Fatalf("%+v", s)
	}
}

// TestMaxWorkers: executions beyond MaxWorkers wait for a worker rather than fail.
func TestMaxWorkers(t *testing.T) {
	p := newPool(t, Options{Warm: 1, MaxWorkers: 1})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := p.Execute(hangCatcher(t), `await new Promise(r => setTimeout(r, 10)); return 1`, nil, runtime.Limits{}); res.Error != nil {
				t.Error(res.Error)
			}
		}()
	}
	wg.Wait()
	if s := p.Stats(); s.Started != 1 {
		t.Errorf("started %d workers, want 1", s.Started)
	}
}

func TestStartFailure(t *testing.T) {
	p := newPool(t, Options{Command: []string{"/nonexistent/pctx"}, Warm: 1})
	res := p.Execute(hangCatcher(t), `return 1`, nil, runtime.Limits{})
	if res.Error == nil || res.Error.Kind != runtime.KindInternal || !strings.Contains(res.Error.Message, "/nonexistent/pctx") {
		t.Fatalf("got %+v", res.Error)
	}
}

// TestProtocolViolation: a worker that sends what no correct worker sends is killed and
// its execution fails with a named error; the pool lives on.
func TestProtocolViolation(t *testing.T) {
	for _, tc := range []struct{ name, script, says string }{
		{"at_start", `printf '\377\377\377\377'`, "did not start"},
		// A valid ready frame (length 5: type 4, ids 0 0, payload {}), then an oversized length.
		{"after_ready", `printf '\000\000\000\005\004\000\000{}'; head -c 4 >/dev/null; printf '\377\377\377\377'; sleep 5`, "broke the frame protocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, Options{Command: []string{"/bin/sh", "-c", tc.script}, Warm: 1})
			res := p.Execute(hangCatcher(t), `return 1`, nil, runtime.Limits{})
			if res.Error == nil || res.Error.Kind != runtime.KindInternal || !strings.Contains(res.Error.Message, tc.says) {
				t.Fatalf("got %+v", res.Error)
			}
		})
	}
}

func TestClose(t *testing.T) {
	p, err := New(&Options{Warm: 1, Command: commandFor()})
	if err != nil {
		t.Fatal(err)
	}
	fns := runtime.Functions{"t.block": func(c context.Context, _ []any) (any, error) {
		<-c.Done()
		return nil, c.Err()
	}}
	done := make(chan *runtime.Result)
	go func() { done <- p.Execute(hangCatcher(t), `await t.block()`, fns, runtime.Limits{}) }()
	for p.Stats().Busy == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	_ = p.Close()
	res := <-done
	if res.Error == nil || res.Error.Kind != runtime.KindCanceled {
		t.Fatalf("running execution at Close: %+v", res.Error)
	}
	if res := p.Execute(hangCatcher(t), `return 1`, nil, runtime.Limits{}); res.Error == nil {
		t.Fatal("Execute after Close succeeded")
	}
}

// seccompProbe runs in a re-executed test binary: with the filter installed, opening a
// file, creating a socket and starting a program must all fail.
func seccompProbe() {
	if err := restrictSyscalls(); err != nil {
		fmt.Println("unavailable:", err)
		os.Exit(3)
	}
	var failures []string
	if f, err := os.Open("/etc/hostname"); err == nil {
		f.Close()
		failures = append(failures, "open succeeded")
	}
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		failures = append(failures, "listen succeeded")
	}
	if err := runProgram(); err == nil {
		failures = append(failures, "exec succeeded")
	}
	// What a worker needs still works: memory, threads, time.
	b := make([]byte, 64<<20)
	b[len(b)-1] = 1
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); time.Sleep(time.Millisecond) }()
	}
	wg.Wait()
	if len(failures) > 0 {
		fmt.Println(strings.Join(failures, "; "))
		os.Exit(1)
	}
	fmt.Println("denied")
	os.Exit(0)
}

// TestMemoryHogSparesBystanders: heap attacks run while other executions keep running
// short programs; each attack ends with a memory error and not one short program fails,
// however the machine schedules them, because each execution has a process of its own.
func TestMemoryHogSparesBystanders(t *testing.T) {
	p := newPool(t, Options{Warm: 3})
	const bystander = "let x = 0; for (let i = 0; i < 20000; i++) x += i % 7; return x"
	lim := runtime.Limits{MaxMemory: 16 << 20}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var runs atomic.Int64
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				res := p.Execute(hangCatcher(t), bystander, nil, lim)
				if res.Error != nil || string(res.Value.(json.RawMessage)) != "59997" {
					t.Errorf("bystander: value %v, error %+v", res.Value, res.Error)
					return
				}
				runs.Add(1)
			}
		})
	}
	for _, hog := range []string{
		"let s = 'x'; for (;;) s += s;",
		"const a = []; for (;;) a.push(new Array(1e5).fill(1));",
		"const a: number[][] = []\nfor (;;) a.push(new Array(1e4).fill(1))",
	} {
		res := p.Execute(hangCatcher(t), hog, nil, lim)
		if res.Error == nil || res.Error.Kind != runtime.KindMemory {
			t.Errorf("hog %q: error %+v, want kind memory", hog, res.Error)
		}
	}
	close(done)
	wg.Wait()
	t.Logf("%d bystander runs, all succeeded", runs.Load())
}

// TestFunctionSets: a worker is sent a function map's names once and keeps the last few;
// the parent's mirror of what it keeps stays right as sets come, go and come back.
func TestFunctionSets(t *testing.T) {
	p := newPool(t, Options{Warm: 1, MaxWorkers: 1})
	sets := make([]runtime.Functions, keptSets+3)
	for i := range sets {
		i := i
		sets[i] = runtime.Functions{fmt.Sprintf("s%d.id", i): func(context.Context, []any) (any, error) { return i, nil }}
	}
	order := []int{0, 1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 10, 0}
	for _, i := range order {
		res := p.Execute(hangCatcher(t), fmt.Sprintf("return await s%d.id()", i), sets[i], runtime.Limits{})
		if res.Error != nil || string(res.Value.(json.RawMessage)) != fmt.Sprint(i) {
			t.Fatalf("set %d: %v %+v", i, res.Value, res.Error)
		}
	}
	if s := p.Stats(); s.Crashed != 0 || s.Started != 1 {
		t.Fatalf("one worker should have served them all: %+v", s)
	}
}

// TestCPUBudgetPerExecution: the CPU limit is per execution, not per worker: one worker
// runs executions whose CPU time adds up to well past one budget, and none is stopped.
func TestCPUBudgetPerExecution(t *testing.T) {
	p := newPool(t, Options{Warm: 1, MaxWorkers: 1})
	if !kernelLimits(p) {
		t.Skip("no kernel limits for these workers (not Linux, or a -race copy of this binary: set PCTX_BIN)")
	}
	// Each burns CPU until the worker's own CPU clock has moved 0.6 s (a count of work
	// would depend on the machine's speed).
	burn := `const t0 = Date.now(); let x = 0; while (Date.now() - t0 < 600) { x++ } return x > 0`
	for i := range 4 {
		res := p.Execute(hangCatcher(t), burn, nil, runtime.Limits{MaxCPUTime: 2 * time.Second, Timeout: time.Minute})
		if res.Error != nil {
			t.Fatalf("execution %d: %+v", i, res.Error)
		}
	}
	if s := p.Stats(); s.Started != 1 || s.Crashed != 0 {
		t.Fatalf("one worker should have run them all: %+v", s)
	}
}
