package runtime

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// corpusLimits are the limits an attack that expects kind runs under, chosen so that it
// can reach only the limit it names, however busy the machine:
//   - a 2 s timeout for the attacks that must time out (nothing else can end them), and
//     for every other a timeout that only catches a hang, so that no attack meant for a
//     count or size limit can run into the clock first;
//   - 16 MiB of memory instead of 256 MiB (the race detector multiplies memory use);
//   - 100 calls in total and 10 in flight: a call-count attack reaches its count in a
//     hundred round trips, and an attack that piles up pending calls or timers meets
//     the in-flight limit long before the total.
//
// internal/hardening runs the same corpus through pctx with the same limits.
func corpusLimits(kind string) Limits {
	lim := Limits{Timeout: hangTimeout, MaxMemory: 16 << 20, MaxCalls: 100, MaxCallsInFlight: 10}
	if ErrorKind(kind) == KindTimeout {
		lim.Timeout = 2 * time.Second
	}
	return lim
}

// corpusFuncs are the functions attacks may call.
var corpusFuncs = Functions{
	"ns.hang": func(ctx context.Context, args []any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	},
	"ns.echo": func(ctx context.Context, args []any) (any, error) { return args, nil },
}

// liveHeap is the heap still reachable after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // the second cycle frees what the first one's finalizers released
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestAdversarial runs every attack in testdata/adversarial. Each file starts with
// "// expect: KIND" ("ok" for attacks that must simply come to nothing). After each one
// a normal execution must succeed, must not see anything the attack left behind, and
// the live heap must be back near where it started.
func TestAdversarial(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "adversarial", "*.ts"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	run(t, "return 1") // warm up caches before measuring the baseline
	baseline := liveHeap()
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".ts"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := expectation(t, string(src))
			res := executeGuarded(t, string(src), corpusFuncs, corpusLimits(want))
			switch {
			case want == "ok" && res.Error != nil:
				t.Errorf("error %+v, want none", res.Error)
			case want != "ok" && res.Error == nil:
				t.Errorf("no error, want %s; value %v", want, res.Value)
			case want != "ok" && res.Error.Kind != ErrorKind(want):
				t.Errorf("error %+v, want kind %s", res.Error, want)
			}
			t.Logf("%s: %v in %v", filepath.Base(file), res.Error, res.Duration)

			after := run(t, "return [({} as any).polluted ?? 'clean', [].push(1), JSON.stringify({ok: true}), (globalThis as any).leak ?? 'none']")
			if after.Error != nil {
				t.Fatalf("next execution failed: %+v", after.Error)
			}
			if got := asJSON(t, after.Value); got != `["clean",1,"{\"ok\":true}","none"]` {
				t.Errorf("next execution saw %s", got)
			}
			// Robust bound: what an attack allocated must be collectable. 32 MiB of slack
			// covers the transform cache, pools and runtime noise; a leak of the VM
			// (at least tens of MiB for the memory attacks) would exceed it.
			if live := liveHeap(); live > baseline+32<<20 {
				t.Errorf("live heap %d MiB after the attack, baseline %d MiB", live>>20, baseline>>20)
			}
		})
	}
}

// expectation reads the "// expect: KIND" first line.
func expectation(t *testing.T, src string) string {
	t.Helper()
	line, _, _ := strings.Cut(src, "\n")
	want, ok := strings.CutPrefix(line, "// expect: ")
	if !ok {
		t.Fatalf("first line %q is not \"// expect: KIND\"", line)
	}
	return strings.TrimSpace(want)
}
