package pctxsdk

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

type echoIn struct {
	N int `json:"n"`
}

// benchWorker runs pctx and a Go worker with bench.echo for the benchmark.
func benchWorker(b *testing.B) *Worker {
	b.Helper()
	p := startPctx(b, "[runtime]\nmax_calls_in_flight = 1000\n")
	ready := make(chan ServerInfo, 1)
	w := New(p.url, WithOnReady(func(i ServerInfo) { ready <- i }), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err := Register(w, "bench", "echo", "Returns its input", func(_ context.Context, in echoIn) (echoIn, error) {
		return in, nil
	}); err != nil {
		b.Fatal(err)
	}
	startWorker(b, w, ready)
	return w
}

func runProgram(b *testing.B, w *Worker, code string) {
	b.Helper()
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		res, err := w.Execute(ctx, code)
		if err != nil {
			b.Fatal(err)
		}
		if res.Error != nil {
			b.Fatalf("program failed: %s", res.Text)
		}
	}
}

// BenchmarkExecuteNoCall is the baseline: a Code Mode program from Go that calls nothing.
func BenchmarkExecuteNoCall(b *testing.B) {
	runProgram(b, benchWorker(b), `return 1`)
}

// BenchmarkCallRoundTrip is one program making one call to a Go worker function:
// execute_typescript → execute_tool → answer → result.
func BenchmarkCallRoundTrip(b *testing.B) {
	runProgram(b, benchWorker(b), `return await bench.echo({ n: 1 })`)
}

// BenchmarkParallel100 is one program making 100 calls to the Go worker in Promise.all.
func BenchmarkParallel100(b *testing.B) {
	runProgram(b, benchWorker(b), `
const xs = await Promise.all(Array.from({ length: 100 }, (_, n) => bench.echo({ n })));
if (xs.length !== 100) throw new Error("got " + xs.length);
return xs.length`)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/call")
}

// BenchmarkSequential100 is one program making 100 calls one after another: the
// per-call round trip without the per-program overhead.
func BenchmarkSequential100(b *testing.B) {
	runProgram(b, benchWorker(b), `
let s = 0;
for (let n = 0; n < 100; n++) s += (await bench.echo({ n })).n;
return s`)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/call")
}
