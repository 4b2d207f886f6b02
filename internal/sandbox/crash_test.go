package sandbox

import (
	"os/exec"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// TestCPULimitAfterTimeout: a worker that died at its CPU limit is reported as the limit
// its execution broke first: CPU when still within its wall-clock limit, the timeout when
// it had already run past it (its GC threads can spend the CPU budget during the grace).
func TestCPULimitAfterTimeout(t *testing.T) {
	lim := runtime.Limits{Timeout: time.Second, MaxCPUTime: 2 * time.Second}
	for _, tc := range []struct {
		name    string
		reason  string
		stderr  string
		elapsed time.Duration
		want    runtime.ErrorKind
	}{
		{"kernel limit within the timeout", "", cpuLimitWords + "\n", 500 * time.Millisecond, runtime.KindCPU},
		{"parent's watch within the timeout", reasonCPU, "", 500 * time.Millisecond, runtime.KindCPU},
		{"kernel limit in the grace", "", cpuLimitWords + "\n", 1500 * time.Millisecond, runtime.KindTimeout},
		{"parent's watch in the grace", reasonCPU, "", 1500 * time.Millisecond, runtime.KindTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &proc{stderr: newTailBuffer(), reason: tc.reason, limits: true, cmd: &exec.Cmd{}}
			_, _ = w.stderr.Write([]byte(tc.stderr))
			r := &run{lim: lim, started: time.Now().Add(-tc.elapsed)}
			if err := w.crashError(r, 1); err.Kind != tc.want {
				t.Errorf("kind %s (%s), want %s", err.Kind, err.Message, tc.want)
			}
		})
	}
}
