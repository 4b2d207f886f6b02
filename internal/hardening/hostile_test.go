package hardening

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
)

// hostileConfig keeps the corpus quick and the machine safe: a 3 s timeout, 16 MiB of
// memory per execution (as runtime.TestAdversarial uses), and call limits low enough that
// the call-count attacks hit them in a few hundred upstream round trips (in flight: half the
// fake upstream's 100 workers, so no attack call waits in its queue). Each attack
// still hits the limit it names. The corpus' "// timeout:" lines, which give the
// race-instrumented runtime test more time, are not needed against the pctx binary.
var hostileConfig = `
[runtime]
timeout = "3s"
max_memory = "16MiB"
max_calls = 500
max_calls_in_flight = 50
` + upstreamConfig("ns", "ns", "")

// attack is one file of the runtime's adversarial corpus.
type attack struct {
	name, code, want string // want is an error kind, or "ok"
}

func loadCorpus(t testing.TB) []attack {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "runtime", "testdata", "adversarial", "*.ts"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no adversarial corpus in runtime/testdata/adversarial: %v", err)
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

// TestHostilePrograms runs the whole adversarial corpus through pctx over streamable
// HTTP and over stdio while other sessions keep running normal programs. Every attack
// must end with the error it names (or none, for "ok"), every normal run must succeed
// with the right answer, and afterwards pctx must still answer with its memory given back.
func TestHostilePrograms(t *testing.T) {
	corpus := loadCorpus(t)
	t.Run("http", func(t *testing.T) {
		t.Parallel()
		p := startHTTP(t, hostileConfig)
		attacker := p.httpClient(t)
		hostileRun(t, p, attacker, func() *client.Client { return p.httpClient(t) }, corpus)
	})
	t.Run("stdio", func(t *testing.T) {
		t.Parallel()
		p, c := startStdio(t, hostileConfig)
		// One stdio connection is one MCP session: the normal programs share it.
		hostileRun(t, p, c, func() *client.Client { return c }, corpus)
	})
}

func hostileRun(t *testing.T, p *pctx, attacker *client.Client, session func() *client.Client, corpus []attack) {
	mustValue(t, attacker, "return 1") // warm up before the baseline
	baseline := rss(t, p.pid)
	defer guardRSS(t, p)()

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

	var peak int64
	for _, a := range corpus {
		tctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		start := time.Now()
		text, isErr, err := execute(tctx, attacker, a.code)
		cancel()
		peak = max(peak, rss(t, p.pid))
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
			t.Logf("%-30s %8s  %s", a.name, time.Since(start).Round(time.Millisecond), firstLine(text))
		}
	}
	stop()
	wg.Wait()

	// The server still answers, and nothing of the attacks is visible to a new execution.
	if got := mustValue(t, attacker, "return [({} as any).polluted ?? 'clean', (globalThis as any).leak ?? 'none']"); got != `["clean","none"]` {
		t.Errorf("after the corpus a new execution saw %s", got)
	}

	slices.Sort(latencies)
	if len(latencies) > 0 {
		t.Logf("normal programs during the attacks: %d runs, p50 %s, p99 %s, max %s", len(latencies),
			latencies[len(latencies)/2].Round(time.Microsecond),
			latencies[len(latencies)*99/100].Round(time.Microsecond),
			latencies[len(latencies)-1].Round(time.Microsecond))
	}

	// Memory must be given back. Go returns freed pages to the OS lazily (the scavenger),
	// so poll for a while; the bound is generous: a leaked VM of a memory attack alone
	// would hold more than 64 MiB per attack.
	bound := baseline + 192<<20
	var now int64
	for deadline := time.Now().Add(30 * time.Second); ; {
		now = rss(t, p.pid)
		if now <= bound || time.Now().After(deadline) {
			break
		}
		mustValue(t, attacker, "return 1") // gives the runtime a chance to collect
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("RSS: baseline %d MiB, peak %d MiB, after %d MiB", baseline>>20, peak>>20, now>>20)
	if now > bound {
		t.Errorf("RSS %d MiB after the corpus, baseline %d MiB (bound %d MiB)", now>>20, baseline>>20, bound>>20)
	}
}

// maxRSS is where a test stops pctx rather than let a memory limit that does not hold
// take the machine down.
const maxRSS = 3 << 30

// guardRSS kills p if its RSS passes maxRSS, failing the test; the returned func stops
// watching.
func guardRSS(t testing.TB, p *pctx) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
			if err != nil {
				return // exited
			}
			if r := parseRSS(string(status)); r > maxRSS {
				if proc, err := os.FindProcess(p.pid); err == nil {
					_ = proc.Kill() // SIGKILL on unix; portable so the package vets for windows
				}
				t.Errorf("pctx RSS %d MiB passed %d MiB: killed", r>>20, maxRSS>>20)
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
