package hardening

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/pctx-dev/pctx/internal/pctxlog"
)

// pctx is one running pctx process.
type pctx struct {
	url  string // http://127.0.0.1:PORT
	pid  int
	log  *pctxlog.Buffer
	stop func(sig syscall.Signal) error // signals the process and waits for it; idempotent
}

func writeConfig(t testing.TB, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pctx.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startHTTP runs `pctx start --http 127.0.0.1:0` with the config text and waits until it
// listens. The process is interrupted (and must exit) at cleanup.
func startHTTP(t testing.TB, configText string) *pctx {
	t.Helper()
	cmd := exec.Command(pctxBin(t), "start", "--config", writeConfig(t, configText), "--http", "127.0.0.1:0")
	p := &pctx{log: &pctxlog.Buffer{}}
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pctx: %v", err)
	}
	p.pid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	var waitErr error
	stop := func(sig syscall.Signal) error {
		once.Do(func() {
			_ = cmd.Process.Signal(sig)
			select {
			case waitErr = <-exited:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
				waitErr = fmt.Errorf("pctx did not stop on %v", sig)
			}
		})
		return waitErr
	}
	var stoppedByTest atomic.Bool
	p.stop = func(sig syscall.Signal) error {
		stoppedByTest.Store(true)
		return stop(sig)
	}
	t.Cleanup(func() {
		if err := stop(syscall.SIGINT); err != nil && !stoppedByTest.Load() {
			t.Errorf("pctx: %v; log:\n%s", err, p.log)
		}
	})
	p.url = waitListening(t, p.log, exited)
	return p
}

func waitListening(t testing.TB, log *pctxlog.Buffer, exited <-chan error) string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		if url, ok := pctxlog.ListeningURL(log.String()); ok {
			return url
		}
		select {
		case err := <-exited:
			t.Fatalf("pctx exited (%v); log:\n%s", err, log)
		case <-deadline:
			t.Fatalf("pctx did not report its address; log:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// httpClient opens one initialised MCP session over streamable HTTP.
func (p *pctx) httpClient(t testing.TB) *client.Client {
	t.Helper()
	// The catalog disclosure: these tests read the catalog through list_functions.
	c, err := client.NewStreamableHttpClient(p.url + "/mcp?disclosure=catalog")
	if err != nil {
		t.Fatal(err)
	}
	initialize(t, c)
	return c
}

// startStdio runs `pctx start --stdio` under an MCP stdio client, the way a desktop client
// does. The returned pctx has the process id and log; its url carries only /ws.
func startStdio(t testing.TB, configText string) (*pctx, *client.Client) {
	t.Helper()
	p := &pctx{log: &pctxlog.Buffer{}}
	var started *exec.Cmd
	c, err := client.NewStdioMCPClientWithOptions(pctxBin(t), nil,
		[]string{"start", "--stdio", "--config", writeConfig(t, configText), "--http", "127.0.0.1:0"},
		transport.WithCommandStderrWriter(p.log),
		transport.WithCommandFunc(func(ctx context.Context, command string, env, args []string) (*exec.Cmd, error) {
			started = exec.CommandContext(ctx, command, args...)
			started.Env = append(os.Environ(), env...)
			return started, nil
		}))
	if err != nil {
		t.Fatalf("start pctx --stdio: %v", err)
	}
	p.pid = started.Process.Pid
	initialize(t, c)
	p.url = waitListening(t, p.log, nil)
	return p, c
}

func initialize(t testing.TB, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = "2025-06-18"
	req.Params.ClientInfo = mcp.Implementation{Name: "pctx-hardening", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatalf("initialize: %v", err)
	}
}

// execute runs code through execute_typescript and returns the text and isError. A
// protocol-level failure is returned as err.
func execute(ctx context.Context, c *client.Client, code string) (string, bool, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = "execute_typescript"
	req.Params.Arguments = map[string]any{"code": code}
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return "", false, fmt.Errorf("execute_typescript: %w", err)
	}
	var b strings.Builder
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError, nil
}

// mustValue runs code that must succeed and returns its result text's first line (the
// JSON value).
func mustValue(t testing.TB, c *client.Client, code string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	text, isErr, err := execute(ctx, c, code)
	if err != nil {
		t.Fatal(err)
	}
	if isErr {
		t.Fatalf("%q failed:\n%s", code, text)
	}
	return firstLine(text)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// rss is a process's resident set size in bytes, from /proc/PID/status.
func rss(t testing.TB, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read RSS: %v", err)
	}
	r := parseRSS(string(status))
	if r < 0 {
		t.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	return r
}

// parseRSS reads VmRSS from a /proc/PID/status text, or returns -1.
func parseRSS(status string) int64 {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}
