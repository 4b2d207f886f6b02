package runtime

import (
	"context"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hangTimeout is the Timeout of test executions that must end by another limit: it only
// catches a hang. Memory, call, stack and size limits are counts and sizes, reached
// however slowly the machine runs, so they must always come first. It is long because a
// memory hog beside busy bystanders, under the race detector on a loaded 2-core machine,
// was seen to take 13 s to reach 16 MiB of charge (runawayHeap bounds it by size).
const hangTimeout = 5 * time.Minute

// runawayHeap is where a test gives up on an execution whose memory limit did not hold,
// rather than let it grow until the machine runs out: 64 times the 16 MiB the memory
// tests allow (a doubling string is stopped a few doublings past its limit).
const runawayHeap = 1 << 30

// executeGuarded is Execute under a watch on the whole heap: if it passes runawayHeap
// the execution is cancelled (it then ends with KindCanceled, which no test expects)
// and the test fails saying so. A memory limit that holds is thereby tested by size,
// not by whether it beats a timeout.
func executeGuarded(t testing.TB, code string, fns Functions, lim Limits) *Result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runaway atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: heapMetric}}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if metrics.Read(s); s[0].Value.Uint64() > runawayHeap {
				runaway.Store(s[0].Value.Uint64())
				cancel()
				return
			}
		}
	})
	res := Execute(ctx, code, fns, lim)
	close(done)
	wg.Wait()
	if h := runaway.Load(); h != 0 {
		t.Errorf("the heap reached %d MiB (limit %d MiB per execution): execution cancelled; it ended with %+v", h>>20, lim.MaxMemory>>20, res.Error)
	}
	return res
}
