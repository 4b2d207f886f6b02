package hardening

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestNoOrphanUpstreams: when pctx stops, whether asked to (SIGINT) or killed (SIGKILL),
// no upstream process it started outlives it, not even one stuck in a call.
func TestNoOrphanUpstreams(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			p := startHTTP(t, backendsConfig)
			c := p.httpClient(t)
			mustValue(t, c, "return await ns.add({a: 1, b: 2})")
			// A call stuck in the faulty upstream while pctx goes away.
			var wg sync.WaitGroup
			defer wg.Wait()
			wg.Go(func() { _, _, _ = execute(context.Background(), c, "return await faulty.wait({})") })
			for !strings.Contains(p.log.String(), waitingLine) {
				time.Sleep(10 * time.Millisecond) // bounded by the test's own timeout
			}
			kids := children(t, p.pid)
			if len(kids) < 2 {
				t.Fatalf("pctx has %d child processes, want the 2 upstreams", len(kids))
			}
			err := p.stop(sig)
			if sig == syscall.SIGINT && err != nil {
				t.Fatalf("pctx on SIGINT: %v; log:\n%s", err, p.log)
			}
			deadline := time.Now().Add(30 * time.Second) // a hang catcher
			for _, pid := range kids {
				for alive(pid) {
					if time.Now().After(deadline) {
						t.Fatalf("upstream process %d outlived pctx (%v)", pid, sig)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
}

// children lists the child processes of pid.
func children(t testing.TB, pid int) []int {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		for _, field := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(field); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || !strings.HasPrefix(string(b[i+1:]), " Z")
}
