package pctxsdk

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file runs the real pctx binary: $PCTX_BIN when set, otherwise built once from
// the repository root into a temporary directory (removed by TestMain).

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func pctxBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if p := os.Getenv("PCTX_BIN"); p != "" {
			binPath, binErr = filepath.Abs(p)
			return
		}
		binDir, binErr = os.MkdirTemp("", "pctxsdk-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "pctx")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/pctx-dev/pctx")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build pctx: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// peer finds an external test peer; without it the test is skipped, unless $CI is set.
func peer(t testing.TB, path, what string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err == nil {
		if _, err = os.Stat(abs); err == nil {
			return abs
		}
	}
	msg := fmt.Sprintf("%s not found at %s (%v); set it up as the README's Development section says", what, path, err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func everythingServer(t testing.TB) string {
	return peer(t, "../../.cache/npm/node_modules/.bin/mcp-server-everything", "the npm MCP server-everything")
}

var listening = regexp.MustCompile(`msg="pctx listening" url=(http://\S+)`)

// pctxProc is one running pctx, restartable on the same address.
type pctxProc struct {
	t      testing.TB
	config string
	url    string
	cmd    *exec.Cmd
	logs   chan struct{} // closed when its stderr is drained
	mu     sync.Mutex
	stderr strings.Builder
}

// startPctx runs pctx with the given pctx.toml on a free loopback port.
func startPctx(t testing.TB, config string) *pctxProc {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "pctx.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &pctxProc{t: t, config: cfg}
	p.start("127.0.0.1:0")
	t.Cleanup(p.stop)
	return p
}

func (p *pctxProc) start(addr string) {
	p.t.Helper()
	p.cmd = exec.Command(pctxBinary(p.t), "start", "--http", addr, "--config", p.config)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	urls := make(chan string, 1)
	p.logs = make(chan struct{})
	go func() {
		defer close(p.logs)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		close(urls)
	}()
	u, ok := <-urls
	if !ok {
		p.stop()
		p.t.Fatalf("pctx exited before listening:\n%s", p.log())
	}
	p.url = u
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(u + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	p.t.Fatalf("pctx at %s: /healthz never answered 200:\n%s", u, p.log())
}

func (p *pctxProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stop interrupts pctx (a graceful shutdown) and waits for it.
func (p *pctxProc) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	<-p.logs
	_ = p.cmd.Wait()
	p.cmd = nil
	if p.t.Failed() {
		p.t.Logf("pctx log:\n%s", p.log())
	}
}

// restart stops pctx and starts it again on the same address.
func (p *pctxProc) restart() {
	p.t.Helper()
	addr := strings.TrimPrefix(p.url, "http://")
	p.stop()
	p.start(addr)
	if p.url != "http://"+addr {
		p.t.Fatalf("restarted on %s, want %s", p.url, addr)
	}
}

// startWorker runs w against p until the test ends; it returns once w is registered.
func startWorker(t testing.TB, w *Worker, ready <-chan ServerInfo) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("Run ended before registering: %v", err)
	}
}

// startSeedWorker runs the Python seed worker (testdata/seed_worker.py) until the
// test ends and returns once its tools are registered.
func startSeedWorker(t testing.TB, url string) {
	t.Helper()
	python := peer(t, "../../.cache/venv/bin/python", "the Python venv with pctx_client")
	cmd := exec.Command(python, "testdata/seed_worker.py", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// A worker that never gets ready is killed, which ends the read below.
	timer := time.AfterFunc(wait, func() { _ = cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	timer.Stop()
	if strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("Python seed worker: %q, %v\n%s", line, err, stderr.String())
	}
}
