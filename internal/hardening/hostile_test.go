package hardening

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
)

// The corpus runs through pctx under the limits runtime.TestAdversarial gives it (see
// corpusLimits there), so that each attack can reach only the limit it names however
// busy the machine: 16 MiB of memory, 100 calls in total and 10 in flight (a call-count
// attack reaches its count in a hundred round trips; piling up pending calls meets the
// in-flight limit first). pctx's timeout is one per process, so the attacks that must
// time out run in a process of their own with a 2 s timeout (nothing else can end them),
// and every other attack in one whose timeout only catches a hang.
//
// The attacks that must time out get 1 GiB of memory, so that a native loop over a big
// typed array meets the clock, not the memory limit.
var (
	limitsConfig  = hostileConfig("60s", "16MiB")
	timeoutConfig = hostileConfig(clockTimeout.String(), "1GiB")
)

// clockTimeout is the timeout of the process the timeout attacks run in.
const clockTimeout = 2 * time.Second

func hostileConfig(timeout, memory string) string {
	return fmt.Sprintf(`
[runtime]
timeout = %q
max_memory = %q
max_calls = 100
max_calls_in_flight = 10
`, timeout, memory) + upstreamConfig("ns", "ns", "")
}

// attack is one file of the runtime's adversarial corpus.
type attack struct {
	name, code, want string // want is an error kind, or "ok"
}

// loadCorpus reads the runtime's adversarial corpus (programs the runtime stops by
// itself) and testdata/sandbox (programs only a sandbox process contains: they would
// crash or hang any process they ran in).
func loadCorpus(t testing.TB) []attack {
	t.Helper()
	var files []string
	for _, dir := range []string{filepath.Join("..", "runtime", "testdata", "adversarial"), filepath.Join("testdata", "sandbox")} {
		found, err := filepath.Glob(filepath.Join(dir, "*.ts"))
		if err != nil || len(found) == 0 {
			t.Fatalf("no corpus in %s: %v", dir, err)
		}
		files = append(files, found...)
	}
	var out []attack
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		line, _, _ := strings.Cut(string(src), "\n")
		want, ok := strings.CutPrefix(line, "// expect: ")
		if !ok {
			t.Fatalf("%s: first line %q is not \"// expect: KIND\"", f, line)
		}
		out = append(out, attack{strings.TrimSuffix(filepath.Base(f), ".ts"), string(src), strings.TrimSpace(want)})
	}
	return out
}

// target is one pctx under attack and an MCP session the attacks run in.
type target struct {
	p        *pctx
	attacker *client.Client
}

// TestHostilePrograms runs the whole adversarial corpus through pctx over streamable
// HTTP and over stdio while other sessions keep running normal programs. Every attack
// must end with the error it names (or none, for "ok"), every normal run must succeed
// with the right answer, and afterwards pctx must still answer with its memory given back.
//
// The normal programs run beside the attacks on count and size limits (memory, calls,
// stack, console, result), in the process whose timeout only catches a hang: with the
// attacks that must time out they would share a 2 s timeout, which a slow enough
// machine could make them reach too.
func TestHostilePrograms(t *testing.T) {
	corpus := loadCorpus(t)
	t.Run("http", func(t *testing.T) {
		t.Parallel()
		limits, clock := startHTTP(t, limitsConfig), startHTTP(t, timeoutConfig)
		hostileRun(t, corpus, target{limits, limits.httpClient(t)}, target{clock, clock.httpClient(t)},
			func() *client.Client { return limits.httpClient(t) })
	})
	t.Run("stdio", func(t *testing.T) {
		t.Parallel()
		limits, c := startStdio(t, limitsConfig)
		clock, cc := startStdio(t, timeoutConfig)
		// One stdio connection is one MCP session: the normal programs share it.
		hostileRun(t, corpus, target{limits, c}, target{clock, cc}, func() *client.Client { return c })
	})
}

// hostileRun runs the attacks expecting a timeout against clock, the others against
// limits (both sequences at once), and normal programs in sessions of limits.
func hostileRun(t *testing.T, corpus []attack, limits, clock target, session func() *client.Client) {
	targets := []target{limits, clock}
	baselines := make([]int64, len(targets))
	watchers := make([]func() int64, len(targets))
	for i, tg := range targets {
		mustValue(t, tg.attacker, "return 1") // warm up before the baseline
		baselines[i] = rss(t, tg.p.pid)
		watchers[i] = guardRSS(t, tg.p)
	}

	// Normal programs, each checking its own answer, until the corpus is done.
	normal := []struct{ code, want string }{
		{"return 1 + 1", "2"},
		{"const r = await ns.add({a: %d, b: 2}); return r", "%d"},
		{"return [({} as any).polluted ?? 'clean', [].push(1), JSON.stringify({ok: true}), (globalThis as any).leak ?? 'none', %d]", `["clean",1,"{\"ok\":true}","none",%d]`},
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var latencies []time.Duration
	for _, n := range normal {
		c := session()
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				code, want := n.code, n.want
				if strings.Contains(code, "%d") {
					code = fmt.Sprintf(code, i)
					if n.want == "%d" {
						want = fmt.Sprint(i + 2)
					} else {
						want = fmt.Sprintf(n.want, i)
					}
				}
				start := time.Now()
				text, isErr, err := execute(context.Background(), c, code)
				switch {
				case err != nil:
					t.Errorf("normal program %q: %v", code, err)
					return
				case isErr || firstLine(text) != want:
					t.Errorf("normal program %q during the attacks: got %q (isError %v), want %s", code, text, isErr, want)
					return
				}
				mu.Lock()
				latencies = append(latencies, time.Since(start))
				mu.Unlock()
			}
		})
	}

	peaks := make([]int64, len(targets))
	var attacks sync.WaitGroup
	for _, tg := range targets {
		attacks.Go(func() {
			for _, a := range corpus {
				if (a.want == "timeout") != (tg == clock) {
					continue
				}
				// Only a hang catcher: every attack ends by a limit of pctx's.
				tctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				start := time.Now()
				text, isErr, err := execute(tctx, tg.attacker, a.code)
				took := time.Since(start)
				cancel()
				switch {
				case a.want == "timeout" && took > clockTimeout+2*time.Second:
					// The bound: the time limit, then at most a second of grace
					// before the sandbox process is killed, and the reply.
					t.Errorf("%s: ended after %s, more than its %s timeout plus 2 s: %s", a.name, took.Round(time.Millisecond), clockTimeout, firstLine(text))
				}
				switch {
				case err != nil:
					t.Errorf("%s: %v", a.name, err)
				case a.want == "ok" && isErr:
					t.Errorf("%s: error, want none:\n%s", a.name, text)
				case a.want != "ok" && !isErr:
					t.Errorf("%s: no error, want %s; got %s", a.name, a.want, text)
				case a.want != "ok" && !strings.HasPrefix(text, "Error ("+a.want+")"):
					t.Errorf("%s: want an error naming %q, got:\n%s", a.name, a.want, text)
				default:
					t.Logf("%-30s %8s  %4d MiB  %s", a.name, took.Round(time.Millisecond), rss(t, tg.p.pid)>>20, firstLine(text))
				}
			}
		})
	}
	attacks.Wait()
	stop()
	wg.Wait()

	slices.Sort(latencies)
	if len(latencies) > 0 {
		t.Logf("normal programs during the attacks: %d runs, p50 %s, p99 %s, max %s", len(latencies),
			latencies[len(latencies)/2].Round(time.Microsecond),
			latencies[len(latencies)*99/100].Round(time.Microsecond),
			latencies[len(latencies)-1].Round(time.Microsecond))
	}

	for i, tg := range targets {
		// Executions run in sandbox processes: whatever they did, the server process is the
		// one that started, and its own memory barely moved.
		if proc, err := os.FindProcess(tg.p.pid); err != nil || proc.Signal(syscall.Signal(0)) != nil {
			t.Errorf("pctx (pid %d) is gone after the corpus", tg.p.pid)
		}
		peaks[i] = watchers[i]()
		if peaks[i] > baselines[i]+64<<20 {
			t.Errorf("pctx RSS peaked at %d MiB during the corpus, more than 64 MiB over its %d MiB baseline", peaks[i]>>20, baselines[i]>>20)
		}
		// The server still answers, and nothing of the attacks is visible to a new execution.
		if got := mustValue(t, tg.attacker, "return [({} as any).polluted ?? 'clean', (globalThis as any).leak ?? 'none']"); got != `["clean","none"]` {
			t.Errorf("after the corpus a new execution saw %s", got)
		}
		// Memory must be given back. Go returns freed pages to the OS lazily (the
		// scavenger), so poll for a while.
		bound := baselines[i] + 64<<20
		var now int64
		for deadline := time.Now().Add(30 * time.Second); ; {
			now = rss(t, tg.p.pid)
			if now <= bound || time.Now().After(deadline) {
				break
			}
			mustValue(t, tg.attacker, "return 1") // gives the runtime a chance to collect
			time.Sleep(500 * time.Millisecond)
		}
		t.Logf("RSS: baseline %d MiB, peak %d MiB, after %d MiB", baselines[i]>>20, peaks[i]>>20, now>>20)
		if now > bound {
			t.Errorf("RSS %d MiB after the corpus, baseline %d MiB (bound %d MiB)", now>>20, baselines[i]>>20, bound>>20)
		}
	}
}

// maxRSS is where a test stops pctx rather than let a memory limit that does not hold
// take the machine down.
const maxRSS = 3 << 30

// guardRSS kills p if its RSS passes maxRSS, failing the test; the returned func stops
// watching and reports the highest RSS seen (sampled every 20 ms).
func guardRSS(t testing.TB, p *pctx) (stop func() (peak int64)) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak atomic.Int64
	wg.Go(func() {
		for {
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
			if err != nil {
				return // exited
			}
			r := parseRSS(string(status))
			if r > peak.Load() {
				peak.Store(r)
			}
			if r > maxRSS {
				if proc, err := os.FindProcess(p.pid); err == nil {
					_ = proc.Kill() // SIGKILL on unix; portable so the package vets for windows
				}
				t.Errorf("pctx RSS %d MiB passed %d MiB: killed", r>>20, maxRSS>>20)
				return
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}
