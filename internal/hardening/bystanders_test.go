package hardening

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMemoryAttackSparesBystanders: while one session runs programs that blow up the
// heap, executions of other sessions that merely run some JS at the same moment must not
// be stopped by the memory limit meant for the attacker, and the attacker must still be
// stopped by the memory limit (not only by the timeout, with the heap grown many times
// over its limit meanwhile). pctx runs with limitsConfig, whose timeout only catches a
// hang: a memory attack must meet its limit by size, however slowly it grows on a busy
// machine, and a bystander can only be stopped by a wrong memory charge.
//
// It fails with the watchdog of runtime/memory.go as of this writing: account() splits
// each interval's heap growth evenly among the executions that ran JS in it, so four
// busy bystanders dilute the attacker's charge fivefold (it reaches its timeout with the
// heap at 1-2 GiB) and a bystander that ran for a moment takes a fifth of a 500 MiB step.
// Proposed fix: charge growth in proportion to the time each VM spent running JS in the
// interval (accumulate nanoseconds in enter/leave), and per check stop only the account
// with the largest charge, letting the next check (after its GC) rescale the others.
func TestMemoryAttackSparesBystanders(t *testing.T) {
	p := startHTTP(t, limitsConfig)
	attacker := p.httpClient(t)
	defer guardRSS(t, p)()
	const bystander = "let x = 0; for (let i = 0; i < 20000; i++) x += i % 7; return x"
	want := mustValue(t, attacker, bystander)
	attacks := []string{
		"let s = 'x'; for (;;) s += s;",
		"const a = []; for (;;) a.push(new Array(1e5).fill(1));",
	}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runs, killed atomic.Int64
	for range 4 {
		c := p.httpClient(t)
		wg.Go(func() {
			for ctx.Err() == nil {
				text, isErr, err := execute(context.Background(), c, bystander)
				switch {
				case err != nil:
					t.Errorf("bystander: %v", err)
					return
				case isErr || firstLine(text) != want:
					if killed.Add(1) <= 3 {
						t.Errorf("bystander program failed during a memory attack in another session:\n%s", text)
					}
				default:
					runs.Add(1)
				}
			}
		})
	}
	var peak atomic.Int64
	wg.Go(func() {
		for ctx.Err() == nil {
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
			if err != nil {
				return
			}
			if r := parseRSS(string(status)); r > peak.Load() {
				peak.Store(r)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	for i := range 3 {
		for _, attack := range attacks {
			actx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang catcher
			text, isErr, err := execute(actx, attacker, attack)
			cancel()
			if err != nil || !isErr || !strings.HasPrefix(text, "Error (memory)") {
				t.Errorf("attack %d %q: got %q (isError %v, err %v), want a memory error", i, attack, text, isErr, err)
			}
		}
	}
	stop()
	wg.Wait()
	t.Logf("%d bystander runs succeeded, %d failed; peak RSS %d MiB with max_memory 16 MiB", runs.Load(), killed.Load(), peak.Load()>>20)
}
