package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/keyring"
	"github.com/pctx-dev/pctx/internal/oauth/oauthtest"
)

// fileKeyring points the CLI's token and secret store at a temporary directory.
func fileKeyring(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keyring")
	t.Setenv(keyring.EnvBackend, keyring.BackendFile)
	t.Setenv(keyring.EnvDir, dir)
	return dir
}

func writeFile(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCLIBearerFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pctx.toml")
	steps := []struct {
		args       []string
		wantCode   int
		wantOutput string
	}{
		{[]string{"add", "--config", path, "--bearer-env", "GH_TOKEN", "gh", "https://h/mcp"}, 0, `added server "gh"`},
		{[]string{"add", "--config", path, "--bearer", "plain-token-123", "plain", "https://h/mcp"}, 0, "warning: the token is written to " + path + " in plain text"},
		{[]string{"add", "--config", path, "--bearer", "${keychain:svc/acct}", "kc", "https://h/mcp"}, 0, `added server "kc"`},
		{[]string{"add", "--config", path, "--bearer-env", "1BAD", "x", "https://h/mcp"}, 2, "invalid environment variable name"},
		{[]string{"add", "--config", path, "--bearer-env", "A", "--bearer", "b", "x", "https://h/mcp"}, 2, "not both"},
		{[]string{"add", "--config", path, "--bearer-env", "A", "--header", "Authorization=x", "x", "https://h/mcp"}, 2, "same header"},
		{[]string{"add", "--config", path, "--bearer-env", "A", "x", "--", "node"}, 2, "apply to URL servers"},
	}
	for _, s := range steps {
		code, stdout, stderr := runCLI(t, "", s.args...)
		if code != s.wantCode || !strings.Contains(stdout+stderr, s.wantOutput) {
			t.Fatalf("pctx %s: exit %d (want %d), output %q (want %q)", strings.Join(s.args, " "), code, s.wantCode, stdout+stderr, s.wantOutput)
		}
		if strings.Contains(s.args[3], "${") && strings.Contains(stderr, "warning") {
			t.Errorf("a reference was warned about as a plain token: %s", stderr)
		}
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{`Authorization = "Bearer ${env:GH_TOKEN}"`, `Authorization = "Bearer plain-token-123"`, `Authorization = "Bearer ${keychain:svc/acct}"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("file lacks %s:\n%s", want, data)
		}
	}
}

func TestCLISecret(t *testing.T) {
	dir := fileKeyring(t)
	code, stdout, stderr := runCLI(t, "s3cret-value\n", "secret", "set", "svc/acct")
	if code != 0 || !strings.Contains(stdout, "stored svc/acct in 0600 files in "+dir) {
		t.Fatalf("set: %d %q %q", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "s3cret") {
		t.Error("the value was echoed")
	}
	// The value resolves in a config.
	cfg := writeFile(t, filepath.Join(t.TempDir(), "pctx.toml"), "[servers.x]\nurl = \"https://h/mcp\"\nheaders = { X-Key = \"${keychain:svc/acct}\" }\n[servers.y]\nurl = \"https://h/mcp\"\nheaders = { X-Key = \"${keychain:svc/missing}\" }\n")
	code, _, stderr = runCLI(t, "", "list", "--config", cfg)
	if code != 1 || !strings.Contains(stderr, "servers.y.headers.X-Key: ${keychain:svc/missing}: no such entry") || strings.Contains(stderr, "servers.x") {
		t.Fatalf("list: %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "", "secret", "set", "svc/empty"); code != 1 || !strings.Contains(stderr, "empty value") {
		t.Errorf("empty: %d %q", code, stderr)
	}
	if code, stdout, _ := runCLI(t, "", "secret", "delete", "svc/acct"); code != 0 || !strings.Contains(stdout, "deleted svc/acct") {
		t.Errorf("delete: %d %q", code, stdout)
	}
	if code, _, stderr := runCLI(t, "", "secret", "delete", "svc/acct"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("second delete: %d %q", code, stderr)
	}
	if code, _, _ := runCLI(t, "", "secret", "get", "svc/acct"); code != 2 {
		t.Errorf("secret get is not a command: %d", code)
	}
}

// TestCLIAuthLogin logs in as a user would: pctx auth login prints the URL, "the
// browser" (this test's HTTP client) follows it and lands on pctx's loopback
// listener, and the token is stored where pctx auth status and pctx exec find it.
func TestCLIAuthLogin(t *testing.T) {
	fileKeyring(t)
	as := oauthtest.New(t, mcpserver.NewStreamableHTTPServer(newTestMCPServer()))
	as.PRMScopes = []string{"tools"}
	cfg := writeFile(t, filepath.Join(t.TempDir(), "pctx.toml"),
		"[servers.secured]\nurl = \""+as.URL()+"\"\n[servers.static]\nurl = \"https://h/mcp\"\nheaders = { Authorization = \"Bearer x\" }\n[servers.local]\ncommand = \"true\"\n")

	code, stdout, _ := runCLI(t, "", "auth", "status", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "secured              not logged in") || !strings.Contains(stdout, "static               Authorization header from pctx.toml") {
		t.Fatalf("status before: %d\n%s", code, stdout)
	}
	// Before a login, exec lists the server as needing one.
	code, _, stderr := runCLI(t, "", "exec", "--config", cfg, "-e", "return 1")
	if code != 0 {
		t.Fatalf("exec before login: %d %s", code, stderr)
	}
	code, stdout, _ = runCLI(t, "", "list", "--config", cfg)
	if !strings.Contains(stdout, "namespace secured: unavailable (needs login: run `pctx auth login secured` (no token yet))") {
		t.Fatalf("list before login: %d\n%s", code, stdout)
	}

	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errOut strings.Builder
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		code := run(ctx, []string{"auth", "login", "secured", "--config", cfg, "--no-browser"}, strings.NewReader(""), pw, &errOut)
		pw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(pr)
	var out strings.Builder
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if u, ok := strings.CutPrefix(line, "    "); ok && strings.HasPrefix(u, "http") {
			resp, err := http.Get(u) // follows the redirect to pctx's listener
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), "You are logged in") {
				t.Errorf("landing page: %s", body)
			}
		}
	}
	if code := <-done; code != 0 {
		t.Fatalf("login exited %d:\n%s\n%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "Logged in to secured (1 tool; scopes: tools).") {
		t.Errorf("login output:\n%s", out.String())
	}

	code, stdout, _ = runCLI(t, "", "auth", "status", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "secured              logged in, token expires in 1h0m0s (refreshed automatically); scopes tools; client dynamic") {
		t.Fatalf("status after: %d\n%s", code, stdout)
	}
	// A login nobody completes (no one follows the URL) fails, and keeps the token.
	code, _, stderr = runCLI(t, "", "auth", "login", "secured", "--config", cfg, "--no-browser", "--timeout", "1s")
	if code != 1 || !strings.Contains(stderr, `login to "secured" failed`) {
		t.Fatalf("abandoned login: %d %q", code, stderr)
	}
	code, stdout, stderr = runCLI(t, "", "exec", "--config", cfg, "-e", "return await secured.echo({text: 'hi'})")
	if code != 0 || !strings.Contains(stdout, "hi") {
		t.Fatalf("exec after login: %d %q %q", code, stdout, stderr)
	}
	if code, stdout, _ := runCLI(t, "", "auth", "logout", "secured", "--config", cfg); code != 0 || !strings.Contains(stdout, "logged out of secured") {
		t.Fatalf("logout: %d %q", code, stdout)
	}
	if code, stdout, _ := runCLI(t, "", "auth", "logout", "secured", "--config", cfg); code != 0 || !strings.Contains(stdout, "nothing stored") {
		t.Fatalf("second logout: %d %q", code, stdout)
	}
	for _, args := range [][]string{
		{"auth", "login", "static", "--config", cfg},
		{"auth", "login", "local", "--config", cfg},
		{"auth", "login", "nope", "--config", cfg},
		{"auth", "frob"},
	} {
		if code, _, stderr := runCLI(t, "", args...); code == 0 {
			t.Errorf("pctx %s succeeded: %s", strings.Join(args, " "), stderr)
		}
	}
}

// newTestMCPServer offers one tool, echo(text).
func newTestMCPServer() *mcpserver.MCPServer {
	s := mcpserver.NewMCPServer("echo", "1", mcpserver.WithToolCapabilities(true))
	s.AddTool(mcp.NewTool("echo", mcp.WithString("text", mcp.Required())),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(req.GetString("text", "")), nil
		})
	return s
}
