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

// corpusLimits keep the corpus quick: a 2 s timeout instead of 30 s and 16 MiB of
// memory instead of 256 MiB (the race detector multiplies memory use and time). A file
// may raise the timeout with a "// timeout: DURATION" line, so that attacks meant to hit
// another limit do not hit the timeout first on a slow machine. Every other limit is
// the default.
var corpusLimits = Limits{Timeout: 2 * time.Second, MaxMemory: 16 << 20}

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
			want, lim := expectation(t, string(src))
			res := Execute(context.Background(), string(src), corpusFuncs, lim)
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

func expectation(t *testing.T, src string) (string, Limits) {
	lines := strings.Split(src, "\n")
	want, ok := strings.CutPrefix(lines[0], "// expect: ")
	if !ok {
		t.Fatalf("first line %q is not \"// expect: KIND\"", lines[0])
	}
	lim := corpusLimits
	if d, ok := strings.CutPrefix(lines[1], "// timeout: "); ok {
		var err error
		if lim.Timeout, err = time.ParseDuration(strings.TrimSpace(d)); err != nil {
			t.Fatalf("bad timeout line %q: %v", lines[1], err)
		}
	}
	return strings.TrimSpace(want), lim
}
