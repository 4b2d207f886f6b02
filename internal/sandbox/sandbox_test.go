package sandbox

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pctx-dev/pctx/internal/runtime"
)

func TestMain(m *testing.M) {
	if os.Getenv(EnvChild) == "1" {
		Main()
	}
	goleak.VerifyTestMain(m)
}

func newPool(t *testing.T, workers int) *Pool {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Command: []string{exe}, Env: []string{EnvChild + "=1"}, Workers: workers}
	if raceEnabled {
		opt.AddressSpace = 1 << 62
	}
	p, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func fdCount(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc")
	}
	return len(ents)
}

// hang catcher only
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestCallRoundTripKeepsRawJSON(t *testing.T) {
	p := newPool(t, 1)
	var got []any
	fns := runtime.Functions{"ns.get": func(_ context.Context, args []any) (any, error) {
		got = args
		return json.RawMessage(`{"z":1,"a":[true,null],"m":"x"}`), nil
	}}
	res := p.Execute(ctx(t), `const r = await ns.get(1, 2.5, "s"); return Object.keys(r).join(",") + "|" + JSON.stringify(r)`, fns, runtime.Limits{})
	if res.Error != nil {
		t.Fatalf("error: %+v", res.Error)
	}
	if s := string(res.Value.(json.RawMessage)); s != `"z,a,m|{\"z\":1,\"a\":[true,null],\"m\":\"x\"}"` {
		t.Fatalf("value %s", s)
	}
	if res.Calls != 1 || len(got) != 3 || got[0] != int64(1) || got[1] != 2.5 || got[2] != "s" {
		t.Fatalf("calls %d args %#v", res.Calls, got)
	}
}

func TestFatalFaultsAreNamedAndRecovered(t *testing.T) {
	p := newPool(t, 1)
	for _, tc := range []struct {
		name, code string
		kind       runtime.ErrorKind
	}{
		{"eval stack overflow", `return eval("(".repeat(1e6)+"1"+")".repeat(1e6))`, KindCrashed},
		{"huge result", `return new Uint8Array(2**28)`, runtime.KindMemory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if raceEnabled && tc.kind == runtime.KindMemory {
				t.Skip("no RLIMIT_AS under the race detector")
			}
			res := p.Execute(ctx(t), tc.code, nil, runtime.Limits{})
			if res.Error == nil {
				t.Fatalf("no error")
			}
			if tc.kind != "" && res.Error.Kind != tc.kind {
				t.Fatalf("kind %s: %s", res.Error.Kind, res.Error.Message)
			}
			t.Logf("%s: %s", res.Error.Kind, res.Error.Message)
			next := p.Execute(ctx(t), `return 1+1`, nil, runtime.Limits{})
			if next.Error != nil || string(next.Value.(json.RawMessage)) != "2" {
				t.Fatalf("next execution: %+v", next)
			}
		})
	}
}

func TestKilledWorker(t *testing.T) {
	before := fdCount(t)
	p := newPool(t, 1)
	started := make(chan struct{})
	fns := runtime.Functions{"t.block": func(c context.Context, _ []any) (any, error) {
		close(started)
		<-c.Done()
		return nil, c.Err()
	}}
	go func() {
		<-started
		p.mu.Lock()
		for w := range p.all {
			if proc, err := os.FindProcess(w.Pid()); err == nil {
				_ = proc.Kill()
			}
		}
		p.mu.Unlock()
	}()
	res := p.Execute(ctx(t), `await t.block(); return 1`, fns, runtime.Limits{})
	if res.Error == nil || res.Error.Kind != KindCrashed {
		t.Fatalf("got %+v", res)
	}
	next := p.Execute(ctx(t), `return "ok"`, nil, runtime.Limits{})
	if next.Error != nil {
		t.Fatalf("next: %+v", next.Error)
	}
	_ = p.Close()
	if after := fdCount(t); after != before {
		t.Fatalf("fds %d before, %d after", before, after)
	}
}

func TestConcurrentOneCrashes(t *testing.T) {
	p := newPool(t, 3)
	var wg sync.WaitGroup
	res := make([]*runtime.Result, 6)
	for i := range res {
		code := `let s = 0; for (let i = 0; i < 1000; i++) s += i; return s`
		if i == 0 {
			code = `return eval("(".repeat(1e6)+"1"+")".repeat(1e6))`
		}
		wg.Go(func() { res[i] = p.Execute(ctx(t), code, nil, runtime.Limits{}) })
	}
	wg.Wait()
	if res[0].Error == nil || res[0].Error.Kind != KindCrashed {
		t.Fatalf("crasher: %+v", res[0])
	}
	for _, r := range res[1:] {
		if r.Error != nil || string(r.Value.(json.RawMessage)) != "499500" {
			t.Fatalf("other: %+v", r)
		}
	}
}

func BenchmarkTrivialSandbox(b *testing.B) {
	exe, _ := os.Executable()
	p, _ := New(Options{Command: []string{exe}, Env: []string{EnvChild + "=1"}, Workers: 1})
	defer p.Close()
	for b.Loop() {
		p.Execute(context.Background(), `return 1`, nil, runtime.Limits{})
	}
}

func BenchmarkTrivialInProcess(b *testing.B) {
	for b.Loop() {
		runtime.Execute(context.Background(), `return 1`, nil, runtime.Limits{})
	}
}
