package sandbox

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// The sandbox's costs against running the VM in this process (what pctx did before):
//
//	go test -run '^$' -bench . -benchmem ./internal/sandbox/
//
// BenchmarkExecute: a trivial program. BenchmarkCalls: 100 sequential calls, so the added
// cost of one call is the difference between the two per-call figures. BenchmarkParallel:
// throughput of 8 concurrent executions against 1. BenchmarkWorkerStart: start-up of one
// worker until it is ready, and its resident memory when idle.

type executor interface {
	Execute(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result
}

type inProcess struct{}

func (inProcess) Execute(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result {
	return runtime.Execute(ctx, code, fns, lim)
}

func executors(b *testing.B) map[string]executor {
	p, err := New(&Options{Warm: 2, Command: commandFor()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	// Warm both spares (and their transform caches) before timing.
	for range 4 {
		if res := p.Execute(context.Background(), "return 1 + 1", nil, runtime.Limits{}); res.Error != nil {
			b.Fatal(res.Error)
		}
	}
	return map[string]executor{"in_process": inProcess{}, "sandbox": p}
}

func runOnce(b *testing.B, ex executor, code string, fns runtime.Functions) {
	b.Helper()
	if res := ex.Execute(context.Background(), code, fns, runtime.Limits{}); res.Error != nil {
		b.Fatal(res.Error)
	}
}

func BenchmarkExecute(b *testing.B) {
	for _, name := range []string{"in_process", "sandbox"} {
		ex := executors(b)[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				runOnce(b, ex, "return 1 + 1", nil)
			}
		})
	}
}

func BenchmarkCalls(b *testing.B) {
	fns := runtime.Functions{"ns.echo": func(_ context.Context, args []any) (any, error) { return args[0], nil }}
	const calls = 100
	code := fmt.Sprintf(`let s = 0; for (let i = 0; i < %d; i++) s += (await ns.echo({v: i})).v; return s`, calls)
	for _, name := range []string{"in_process", "sandbox"} {
		ex := executors(b)[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				runOnce(b, ex, code, fns)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*calls)/1e3, "µs/call")
		})
	}
}

func BenchmarkParallel(b *testing.B) {
	code := `let x = 0; for (let i = 0; i < 20000; i++) x += i % 7; return x`
	for _, conc := range []int{1, 8} {
		p, err := New(&Options{Warm: conc, Command: commandFor()})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("concurrent_%d", conc), func(b *testing.B) {
			var wg sync.WaitGroup
			work := make(chan struct{})
			for range conc {
				wg.Go(func() {
					for range work {
						runOnce(b, p, code, nil)
					}
				})
			}
			for b.Loop() {
				work <- struct{}{}
			}
			close(work)
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "executions/s")
		})
		_ = p.Close()
	}
}

func BenchmarkWorkerStart(b *testing.B) {
	p, err := New(&Options{Warm: 1, Command: commandFor()})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	var rss int64
	for b.Loop() {
		w, err := p.start()
		if err != nil {
			b.Fatal(err)
		}
		rss += residentKiB(w.pid)
		w.killFor(reasonClosed)
	}
	b.ReportMetric(float64(rss)/float64(b.N)/1024, "MiB-idle-RSS")
}

func residentKiB(pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kib)
			return kib
		}
	}
	return 0
}
