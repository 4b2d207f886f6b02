package sdkbridge

import (
	"context"
	"sync"
	"testing"
)

// benchWorker connects a fake Go worker serving ml.f, which answers with its argument
// object, and returns the catalog binding of ml.f.
func benchWorker(b *testing.B) func(ctx context.Context, args []any) (any, error) {
	return benchPool(b, 1)
}

// benchPool is benchWorker with n workers serving ml.f as a pool.
func benchPool(b *testing.B, n int) func(ctx context.Context, args []any) (any, error) {
	h := newHarness(b, nil)
	for range n {
		w := connectWorker(b, h.srv.URL, echoArgs)
		w.register("ml", "", positional("f", "customer_id"))
	}
	return h.fn(b, "ml.f")
}

// BenchmarkCallRoundTrip is one SDK callback: Go → websocket → fake Go worker → Go,
// through the catalog binding the runtime uses. Target: ≤ 0.2 ms per op.
func BenchmarkCallRoundTrip(b *testing.B) {
	fn := benchWorker(b)
	ctx := context.Background()
	args := []any{"cust_12345"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fn(ctx, args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCall100Parallel is a Promise.all of 100 calls to one worker: one op is 100
// concurrent calls, all answered.
func BenchmarkCall100Parallel(b *testing.B) {
	bench100(b, benchWorker(b))
}

// BenchmarkPoolCall100Parallel is the same across a pool of three workers.
func BenchmarkPoolCall100Parallel(b *testing.B) {
	bench100(b, benchPool(b, 3))
}

func bench100(b *testing.B, fn func(ctx context.Context, args []any) (any, error)) {
	ctx := context.Background()
	args := []any{"cust_12345"}
	b.ReportAllocs()
	for b.Loop() {
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if _, err := fn(ctx, args); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
}
