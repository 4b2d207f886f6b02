package typecheck

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// tsgoPath finds tsgo for tests: $PCTX_TSGO (the Makefile exports it), else the npm
// install under the repository's .cache. Without one the test skips, unless CI is set,
// where that is a failure.
func tsgoPath(t testing.TB) string {
	t.Helper()
	if p, err := Find(""); err == nil && os.Getenv(EnvVar) != "" {
		return p
	}
	launcher, _ := filepath.Abs("../../.cache/npm/node_modules/.bin/tsgo")
	if p, err := resolve(launcher, "the repository's .cache"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("tsgo not found ($%s unset, nothing at %s) and CI is set: run make deps", EnvVar, launcher)
	}
	t.Skipf("tsgo not found ($%s unset, nothing at %s): run make deps-fast, or set $%s", EnvVar, launcher, EnvVar)
	return ""
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newChecker starts a Checker for a test and closes it at the end.
func newChecker(t testing.TB, opts Options) *Checker {
	t.Helper()
	opts.Tsgo = tsgoPath(t)
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
