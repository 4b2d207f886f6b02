package upstream

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pctx-dev/pctx/internal/config"
)

// TestBackgroundWorkEndsWithClose: background work (cancel notifications,
// probes) started while a session closes either runs before close returns or
// never; none outlives it, and under -race no Add races close's Wait.
func TestBackgroundWorkEndsWithClose(t *testing.T) {
	for range 200 {
		s := newSession(context.Background(), nil, config.Upstream{}, slog.New(slog.DiscardHandler))
		var closed, late atomic.Bool
		var spawners sync.WaitGroup
		for range 4 {
			spawners.Go(func() {
				for range 50 {
					s.goBG(func() {
						if closed.Load() {
							late.Store(true)
						}
					})
				}
			})
		}
		s.close()
		closed.Store(true)
		spawners.Wait()
		if late.Load() {
			t.Fatal("background work ran after close returned")
		}
		if s.goBG(func() {}) {
			t.Fatal("goBG started work on a closed session")
		}
	}
}
