// Package sandboxtest gives tests a sandbox pool whose workers are copies of the test
// binary itself: linking internal/sandbox makes any binary able to serve as a worker, so
// a package's tests run programs exactly as pctx does, in worker processes.
package sandboxtest

import (
	"log/slog"
	"testing"

	"github.com/pctx-dev/pctx/internal/sandbox"
)

// New returns a pool closed when t ends. One warm worker keeps the number of processes a
// test suite starts modest.
func New(t testing.TB) *sandbox.Pool {
	t.Helper()
	p, err := sandbox.New(&sandbox.Options{Warm: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("sandbox pool: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}
