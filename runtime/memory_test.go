package runtime

import (
	"context"
	"sync"
	"testing"
)

// TestMemoryAttribution runs a memory hog next to an execution that is waiting on a
// call: growth is charged to the VM that runs, so only the hog is stopped.
func TestMemoryAttribution(t *testing.T) {
	release := make(chan struct{})
	waiting := make(chan struct{})
	fns := Functions{"ns.wait": func(ctx context.Context, args []any) (any, error) {
		close(waiting)
		select {
		case <-release:
			return "released", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}}
	lim := Limits{MaxMemory: 16 << 20}
	var wg sync.WaitGroup
	var idle *Result
	wg.Add(1)
	go func() {
		defer wg.Done()
		idle = Execute(context.Background(), "const keep = 'x'.repeat(1000)\nreturn await ns.wait()", fns, lim)
	}()
	<-waiting
	hog := Execute(context.Background(), "const a: number[][] = []\nfor (;;) a.push(new Array(1e4).fill(1))", nil, lim)
	close(release)
	wg.Wait()
	if hog.Error == nil || hog.Error.Kind != KindMemory {
		t.Errorf("hog: error = %+v, want memory", hog.Error)
	}
	if idle.Error != nil || idle.Value != "released" {
		t.Errorf("idle execution: value %v, error %+v; want it untouched by the hog", idle.Value, idle.Error)
	}
}

func TestMemoryWatchdogStops(t *testing.T) {
	run(t, "return 1")
	watchdog.mu.Lock()
	defer watchdog.mu.Unlock()
	if watchdog.stop != nil || len(watchdog.accounts) != 0 {
		t.Errorf("watchdog still running with %d accounts after the last execution", len(watchdog.accounts))
	}
}
