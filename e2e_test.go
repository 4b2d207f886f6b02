package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/pctx-dev/pctx/internal/pctxlog"
)

// These tests run pctx as users do, against the real npm reference MCP servers that
// `make test` installs into .cache/npm.

// npmBin returns the path of an npm-installed executable, skipping the test when the npm
// peers were not installed — except in CI, where that is a failure.
func npmBin(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("PCTX_NPM_DIR")
	if dir == "" {
		dir = filepath.Join(".cache", "npm")
	}
	path, err := filepath.Abs(filepath.Join(dir, "node_modules", ".bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (run make deps): %v", name, err)
		}
		t.Skipf("%s not installed (run make deps)", name)
	}
	return path
}

// startPctx runs `pctx start` in-process on a free loopback port with the given config
// text and returns its base URL and its log.
func startPctx(t testing.TB, configText string) (string, *pctxlog.Buffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pctx.toml")
	if err := os.WriteFile(path, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &pctxlog.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"start", "--config", path, "--http", "127.0.0.1:0"}, strings.NewReader(""), &bytes.Buffer{}, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Errorf("pctx start did not stop; log:\n%s", stderr)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if url, ok := pctxlog.ListeningURL(stderr.String()); ok {
			return url, stderr
		}
		select {
		case code := <-done:
			t.Fatalf("pctx start exited with %d; log:\n%s", code, stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("pctx start did not report its address; log:\n%s", stderr)
	return "", nil
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startEverythingHTTP runs server-everything's streamable HTTP transport on a free port.
func startEverythingHTTP(t testing.TB) string {
	t.Helper()
	bin := npmBin(t, "mcp-server-everything")
	port := freePort(t)
	cmd := exec.Command(bin, "streamableHttp")
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
	log := &pctxlog.Buffer{}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(log.String(), "listening on port") {
			return fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server-everything streamableHttp did not start:\n%s", log)
	return ""
}

func initialize(t testing.TB, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = "2025-06-18"
	req.Params.ClientInfo = mcp.Implementation{Name: "pctx-e2e", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatalf("initialize: %v", err)
	}
}

func toolText(t testing.TB, c *client.Client, tool string, args map[string]any) (string, bool) {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var b strings.Builder
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func checkThreeTools(t testing.TB, c *client.Client) {
	t.Helper()
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	if got := strings.Join(names, ","); got != "list_functions,get_function_details,execute_typescript" {
		t.Fatalf("tools = %s", got)
	}
}

// upstreamsConfig names server-everything over stdio and over streamable HTTP, and
// server-memory over stdio, shown in the catalog disclosure.
func upstreamsConfig(t testing.TB) string {
	everything := npmBin(t, "mcp-server-everything")
	memory := npmBin(t, "mcp-server-memory")
	return fmt.Sprintf(`
[codemode]
disclosure = "catalog"

[servers.everything]
command = %q
args = ["stdio"]

[servers.everything_http]
url = %q

[servers.memory]
command = %q
env = { MEMORY_FILE_PATH = %q }
`, everything, startEverythingHTTP(t), memory, filepath.Join(t.TempDir(), "memory.jsonl"))
}

// mixedProgram calls server-everything (stdio and HTTP) and server-memory in one program.
const mixedProgram = `
const [sum, created] = await Promise.all([
  everything.get_sum({ a: 2, b: 3 }),
  memory.create_entities({ entities: [{ name: "pctx", entityType: "project", observations: ["written in Go"] }] }),
]);
const overHTTP: string = await everything_http.get_sum({ a: 20, b: 22 });
const graph = await memory.read_graph({});
return { sum, overHTTP, created: created.entities.length, names: graph.entities.map((e: any) => e.name) };
`

func checkMixedResult(t testing.TB, text string, isError bool) {
	t.Helper()
	if isError {
		t.Fatalf("execute_typescript failed:\n%s", text)
	}
	for _, want := range []string{`"sum":"The sum of 2 and 3 is 5."`, `"overHTTP":"The sum of 20 and 22 is 42."`, `"created":1`, `"names":["pctx"]`, "4 calls"} {
		if !strings.Contains(text, want) {
			t.Errorf("result lacks %s:\n%s", want, text)
		}
	}
}

func TestEndToEndHTTP(t *testing.T) {
	url, log := startPctx(t, upstreamsConfig(t))
	c, err := client.NewStreamableHttpClient(url + "/mcp")
	if err != nil {
		t.Fatal(err)
	}
	initialize(t, c)
	checkThreeTools(t, c)

	list, _ := toolText(t, c, "list_functions", nil)
	for _, want := range []string{"everything", "get_sum(", "memory", "create_entities(", "everything_http"} {
		if !strings.Contains(list, want) {
			t.Errorf("list_functions lacks %q:\n%s", want, list)
		}
	}
	text, isError := toolText(t, c, "execute_typescript", map[string]any{"code": mixedProgram})
	checkMixedResult(t, text, isError)

	// The same server, the same program, in the auto disclosure a session chose: the
	// declarations are inline and no discovery call is needed.
	auto, err := client.NewStreamableHttpClient(url + "/mcp?disclosure=auto")
	if err != nil {
		t.Fatal(err)
	}
	initialize(t, auto)
	res, err := auto.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) != 1 || res.Tools[0].Name != "execute_typescript" || !strings.Contains(res.Tools[0].Description, "namespace memory {") ||
		!strings.Contains(res.Tools[0].Description, "get_sum({a: number, b: number})") {
		t.Errorf("auto disclosure: %+v", res.Tools)
	}
	text, isError = toolText(t, auto, "execute_typescript", map[string]any{"code": `return await everything_http.get_sum({ a: 1, b: 2 })`})
	if isError || !strings.Contains(text, "The sum of 1 and 2 is 3.") {
		t.Errorf("auto disclosure, execute_typescript:\n%s", text)
	}
	if t.Failed() {
		t.Logf("pctx log:\n%s", log)
	}
}

func TestEndToEndStdio(t *testing.T) {
	bin := buildPctx(t)
	cfg := filepath.Join(t.TempDir(), "pctx.toml")
	if err := os.WriteFile(cfg, []byte(upstreamsConfig(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := client.NewStdioMCPClient(bin, nil, "start", "--stdio", "--config", cfg, "--http", "127.0.0.1:0", "--log-level", "warn")
	if err != nil {
		t.Fatal(err)
	}
	initialize(t, c)
	checkThreeTools(t, c)
	text, isError := toolText(t, c, "execute_typescript", map[string]any{"code": mixedProgram})
	checkMixedResult(t, text, isError)
}

// TestBrokenUpstream starts pctx with one upstream whose command does not exist: pctx
// serves, lists the server as unavailable with the reason, and the others work.
func TestBrokenUpstream(t *testing.T) {
	everything := npmBin(t, "mcp-server-everything")
	url, log := startPctx(t, fmt.Sprintf(`
[servers.everything]
command = %q

[servers.ghost]
command = "/nonexistent/mcp-server-ghost"
`, everything))
	c, err := client.NewStreamableHttpClient(url + "/mcp?disclosure=catalog")
	if err != nil {
		t.Fatal(err)
	}
	initialize(t, c)
	list, _ := toolText(t, c, "list_functions", nil)
	if !strings.Contains(list, "ghost") || !strings.Contains(list, "unavailable") {
		t.Errorf("list_functions does not show ghost as unavailable:\n%s", list)
	}
	text, isError := toolText(t, c, "execute_typescript", map[string]any{"code": `return await everything.get_sum({a: 1, b: 2})`})
	if isError || !strings.Contains(text, "The sum of 1 and 2 is 3.") {
		t.Errorf("everything.get_sum failed beside a broken upstream:\n%s", text)
	}
	if !strings.Contains(log.String(), "ghost") {
		t.Errorf("start-up log does not name the broken server:\n%s", log)
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildPctx builds the pctx binary once per test run (or uses $PCTX_BIN from make).
func buildPctx(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("PCTX_BIN"); bin != "" {
		if _, err := os.Stat(bin); err == nil {
			return bin
		}
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pctx-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "pctx")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}
