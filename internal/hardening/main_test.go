package hardening

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// TestMain either plays a fake upstream (when re-executed by pctx) or runs the tests with
// a goroutine leak check over the in-process parts (MCP clients, fake workers).
func TestMain(m *testing.M) {
	if mode := os.Getenv(upstreamEnv); mode != "" {
		os.Exit(runFakeUpstream(mode))
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	// VerifyTestMain would exit before the cleanup above; Find is the same check.
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildDir  string // temporary directory of a pctx built by pctxBin
	builtBin  string
	buildErr  error
)

// pctxBin returns the pctx binary under test: $PCTX_BIN (make test sets it), or one
// built from this module on first use.
func pctxBin(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("PCTX_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "pctx-hardening-"); buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "pctx")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/pctx-dev/pctx").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build pctx: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}
