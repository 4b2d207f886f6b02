package hardening

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadConfig: a fast fake upstream; limits at their defaults except a timeout that only
// catches a stuck run (which then counts as an error): a run under load must end by its
// answer, however slow the machine.
var loadConfig = `
[runtime]
timeout = "60s"
` + upstreamConfig("ns", "ns", "")

const loadSessions = 16

// loadDuration is 10 s (3 s with -short), or $PCTX_LOAD_DURATION up to 60 s.
func loadDuration(t testing.TB) time.Duration {
	t.Helper()
	d := 10 * time.Second
	if testing.Short() {
		d = 3 * time.Second
	}
	if v := os.Getenv("PCTX_LOAD_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 || d > time.Minute {
			t.Fatalf("PCTX_LOAD_DURATION=%q: want a duration up to 60s", v)
		}
	}
	return d
}

// TestLoad keeps 16 MCP sessions busy for a fixed time, each running programs that call
// an upstream tool and an SDK tool concurrently and checking the answer. It fails on any
// error and on memory that keeps growing; it logs executions/s, p50, p99 and RSS.
func TestLoad(t *testing.T) {
	duration := loadDuration(t)
	p := startHTTP(t, loadConfig)
	startWorker(t, p, "sdk", []map[string]any{positionalTool("double", "n")}, double)
	const code = "const [a, b] = await Promise.all([ns.add({a: %d, b: 1}), sdk.double(%d)]); return a + b"
	warm := p.httpClient(t)
	mustValue(t, warm, fmt.Sprintf(code, 0, 0))

	ctx, stop := context.WithTimeout(context.Background(), duration)
	defer stop()
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		latencies []time.Duration
		errs      atomic.Int64
	)
	for s := range loadSessions {
		c := p.httpClient(t)
		wg.Go(func() {
			var mine []time.Duration
			for i := s * 1_000_000; ctx.Err() == nil; i++ {
				start := time.Now()
				text, isErr, err := execute(context.Background(), c, fmt.Sprintf(code, i, i))
				if want := fmt.Sprint(3*i + 1); err != nil || isErr || firstLine(text) != want {
					if errs.Add(1) <= 5 {
						t.Errorf("session %d run %d: got %q (isError %v, err %v), want %s", s, i, text, isErr, err, want)
					}
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	// RSS once the load has settled (at a third of the run) and at the end.
	select {
	case <-time.After(duration / 3):
	case <-ctx.Done():
	}
	third := rss(t, p.pid)
	wg.Wait()
	end := rss(t, p.pid)

	slices.Sort(latencies)
	n := len(latencies)
	if n == 0 {
		t.Fatal("no execution completed")
	}
	t.Logf("load: %d sessions for %s: %d executions (%.0f/s), p50 %s, p99 %s, max %s, errors %d",
		loadSessions, duration, n, float64(n)/duration.Seconds(),
		latencies[n/2].Round(time.Microsecond), latencies[n*99/100].Round(time.Microsecond),
		latencies[n-1].Round(time.Microsecond), errs.Load())
	t.Logf("load: RSS %d MiB at 1/3, %d MiB at the end (%+d MiB)", third>>20, end>>20, (end-third)>>20)
	if errs.Load() > 0 {
		t.Errorf("%d executions failed under load", errs.Load())
	}
	// Flat: steady-state growth past the first third stays within a generous bound (GC
	// pacing and pool warm-up move RSS by a few MiB); a per-execution leak at these rates
	// (thousands of executions) would exceed it.
	if bound := third + third/2 + 16<<20; end > bound {
		t.Errorf("RSS grew from %d MiB to %d MiB under steady load (bound %d MiB)", third>>20, end>>20, bound>>20)
	}
	// Still serving after the load.
	mustValue(t, warm, "return 1")
}
