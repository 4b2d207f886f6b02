package hardening

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/keyring"
)

// The canaries: one secret per source. None may appear in anything pctx prints.
const (
	canaryEnv      = "CANARY-env-5b1f0c9e2d"
	canaryCmd      = "CANARY-cmd-8a7d3e4f61"
	canaryFile     = "CANARY-file-2c9e7b5a03"
	canaryKeychain = "CANARY-keychain-9f4e1d7c"
)

// TestSecretsNeverLeak configures one secret from each source where a careless pctx
// would repeat it: a header that an upstream quotes back in a tool's error and in an
// HTTP error body, a URL query a refused connection quotes, a stdio child that prints
// its environment to stderr. Then it greps everything pctx says (its log, pctx list,
// pctx auth status, list_functions, the errors execute_typescript reports) for the
// canaries, and checks that redaction, not luck, kept them out.
func TestSecretsNeverLeak(t *testing.T) {
	dir := t.TempDir()
	// The keychain's file backend, for this process and the pctx children.
	t.Setenv(keyring.EnvBackend, keyring.BackendFile)
	t.Setenv(keyring.EnvDir, filepath.Join(dir, "keyring"))
	if err := keyring.NewFile(filepath.Join(dir, "keyring")).Set("canary", "acct", canaryKeychain); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PCTX_TEST_CANARY", canaryEnv)
	secretFile := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secretFile, []byte(canaryFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// An MCP server that quotes the request's headers back in a tool error, and a
	// plain HTTP server that quotes them in a 500.
	var mu sync.Mutex
	var seen string
	s := mcpserver.NewMCPServer("quoter", "1", mcpserver.WithToolCapabilities(true))
	s.AddTool(mcp.NewTool("whoami"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		mu.Lock()
		defer mu.Unlock()
		return mcp.NewToolResultError("denied for " + seen), nil
	})
	streamable := mcpserver.NewStreamableHTTPServer(s)
	quoter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Get("Authorization") + " " + r.Header.Get("X-File")
		mu.Unlock()
		streamable.ServeHTTP(w, r)
	}))
	defer quoter.Close()
	echo500 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "bad request %s with %s", r.URL, r.Header.Get("Authorization"))
	}))
	defer echo500.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()

	cfg := fmt.Sprintf(`
[servers.quoter]
url = "%s/mcp"
headers = { Authorization = "Bearer ${env:PCTX_TEST_CANARY}", X-File = "${file:%s}" }

[servers.echo500]
url = "%s/mcp"
transport = "streamable-http"
headers = { Authorization = "Bearer ${cmd:printf %s}" }

[servers.refused]
url = "http://%s/mcp?key=${cmd:printf %s}"

[servers.chatty]
command = "sh"
args = ["-c", "echo my token is $TOKEN >&2; exit 3"]
env = { TOKEN = "${keychain:canary/acct}" }
`, quoter.URL, secretFile, echo500.URL, canaryCmd, closedPort, canaryCmd)
	cfgPath := writeConfig(t, cfg)

	var said []string // everything pctx printed, by where
	var redactions int
	check := func(where, text string) {
		t.Helper()
		for _, c := range []string{canaryEnv, canaryCmd, canaryFile, canaryKeychain} {
			if strings.Contains(text, c) {
				t.Errorf("%s leaks %s:\n%s", where, c, text)
			}
		}
		redactions += strings.Count(text, "[redacted]")
		said = append(said, where)
	}

	p := startHTTP(t, cfg)
	c := p.httpClient(t)
	listing := listFunctions(t, c)
	check("list_functions", listing)
	if !strings.Contains(listing, "namespace quoter {") {
		t.Fatalf("quoter is not up:\n%s\nlog:\n%s", listing, p.log)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	text, isErr, err := execute(ctx, c, `try { await quoter.whoami({}) } catch (e) { return String(e.message) }`)
	if err != nil || isErr {
		t.Fatalf("execute: %v %s", err, text)
	}
	check("a tool's error in execute_typescript", text)
	if !strings.Contains(text, "denied for Bearer [redacted] [redacted]") {
		t.Errorf("the tool's error was not redacted as expected: %s", text)
	}
	text, _, err = execute(ctx, c, `return await refused.anything({})`)
	if err != nil {
		t.Fatal(err)
	}
	check("a call to an unavailable server", text)
	text, _, err = execute(ctx, c, `const x: number = "${env:PCTX_TEST_CANARY}"; return x`)
	if err != nil {
		t.Fatal(err)
	}
	check("a program's own diagnostics", text)
	// Give the failing servers time to fail and log (a stdio child's stderr included).
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.log.String(), "my token is") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	check("list_functions after failures", listFunctions(t, c))
	c.Close()
	_ = p.stop(syscall.SIGINT)
	check("pctx start's log", p.log.String())
	if !strings.Contains(p.log.String(), "my token is [redacted]") {
		t.Errorf("the stdio child's stderr line is not in the log as redacted:\n%s", p.log)
	}

	for _, args := range [][]string{{"list", "--config", cfgPath}, {"auth", "status", "--config", cfgPath}, {"exec", "--config", cfgPath, "-e", "return await quoter.whoami({})"}} {
		cmd := exec.Command(pctxBin(t), args...)
		out, _ := cmd.CombinedOutput()
		check("pctx "+args[0], string(out))
	}
	// Redaction did the work: the secrets were there to leak.
	if redactions < 5 {
		t.Errorf("only %d redactions across %v: the test no longer provokes leaks", redactions, said)
	}
}
