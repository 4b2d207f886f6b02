package hardening

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/keyring"
	"github.com/pctx-dev/pctx/internal/oauth"
	"github.com/pctx-dev/pctx/internal/pctxlog"
)

// tokenTTL is the access token lifetime the test peer is given: short, so that the
// test sees a token expire and pctx refresh it.
const tokenTTL = 4 * time.Second

// sdkExample returns the MCP TypeScript SDK's example directory from the npm peers
// (the Makefile pins @modelcontextprotocol/sdk); skipped without it, except in CI.
func sdkExample(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PCTX_NPM_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".cache", "npm")
	}
	ex, err := filepath.Abs(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "dist", "esm", "examples", "server"))
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(filepath.Join(ex, "simpleStreamableHttp.js"))
	_, nodeErr := exec.LookPath("node")
	if statErr != nil || nodeErr != nil {
		msg := fmt.Sprintf("the TypeScript SDK's example server or node is missing (%v); run make deps", statErr)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return ex
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startSDKOAuthServer runs the SDK's example streamable HTTP server with its demo OAuth
// provider (--oauth-strict: tokens must be issued for this server's resource), with the
// refresh grant added by testdata/demo-oauth-refresh.mjs. It returns the MCP URL.
func startSDKOAuthServer(t *testing.T) (string, *pctxlog.Buffer) {
	t.Helper()
	ex := sdkExample(t)
	patch, err := filepath.Abs(filepath.Join("testdata", "demo-oauth-refresh.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	mcpPort, authPort := freePort(t), freePort(t)
	cmd := exec.Command("node", "--import", "file://"+patch, filepath.Join(ex, "simpleStreamableHttp.js"), "--oauth", "--oauth-strict")
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("MCP_PORT=%d", mcpPort),
		fmt.Sprintf("MCP_AUTH_PORT=%d", authPort),
		"DEMO_PROVIDER_JS="+filepath.Join(ex, "demoInMemoryOAuthProvider.js"),
		fmt.Sprintf("DEMO_TOKEN_TTL_SECONDS=%d", int(tokenTTL/time.Second)),
	)
	out := &pctxlog.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "MCP Streamable HTTP Server listening") || !strings.Contains(out.String(), "OAuth Authorization Server listening") {
		if time.Now().After(deadline) {
			t.Fatalf("the SDK example server did not start:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Sprintf("http://localhost:%d/mcp", mcpPort), out
}

// login runs `pctx auth login NAME` as a user would over SSH (no browser) and plays
// the browser: it follows the printed URL, whose redirect lands on pctx's loopback
// listener.
func login(t *testing.T, configPath, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pctxBin(t), "auth", "login", name, "--config", configPath, "--no-browser")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &pctxlog.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	followed := false
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		u, ok := strings.CutPrefix(line, "    ")
		if !ok || !strings.HasPrefix(u, "http") {
			continue
		}
		resp, err := http.Get(u) // the authorization server redirects to pctx's listener
		if err != nil {
			t.Fatalf("follow %s: %v", u, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "You are logged in") {
			t.Fatalf("the redirect landed on %d %s", resp.StatusCode, body)
		}
		followed = true
	}
	if err := cmd.Wait(); err != nil || !followed {
		t.Fatalf("pctx auth login: %v (followed the URL: %v)\nstdout:\n%s\nstderr:\n%s", err, followed, out.String(), stderr)
	}
	return out.String()
}

// TestOAuthEndToEnd is the acceptance test of upstream OAuth against a server not
// written here: a running pctx lists the server as needing a login; pctx auth login
// (headless, the test following the URL) logs in; the running pctx comes up without a
// restart and an execute_typescript program calls the protected tool; the access token
// expires and pctx refreshes it.
func TestOAuthEndToEnd(t *testing.T) {
	mcpURL, peer := startSDKOAuthServer(t)
	storeDir := filepath.Join(t.TempDir(), "keyring")
	// The file backend: what a headless machine uses, and what pctx start in the
	// child process reads too.
	t.Setenv(keyring.EnvBackend, keyring.BackendFile)
	t.Setenv(keyring.EnvDir, storeDir)
	store := oauth.NewStore(keyring.NewFile(storeDir))
	cfgText := fmt.Sprintf("[servers.demo]\nurl = %q\n", mcpURL)
	cfgPath := writeConfig(t, cfgText)

	p := startHTTP(t, cfgText)
	c := p.httpClient(t)
	defer c.Close()
	if got := listFunctions(t, c); !strings.Contains(got, "// namespace demo: unavailable (needs login: run `pctx auth login demo` (no token yet))") {
		t.Fatalf("before login, list_functions shows:\n%s", got)
	}

	out := login(t, cfgPath, "demo")
	if !strings.Contains(out, "Logged in to demo (") || !strings.Contains(out, "scopes: mcp:tools") {
		t.Errorf("login output:\n%s", out)
	}
	first, err := store.Load(mcpURL)
	if err != nil || first.Token == nil || first.Token.RefreshToken == "" {
		t.Fatalf("stored after login: %+v, %v", first, err)
	}

	// The running pctx notices the login by itself.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(listFunctions(t, c), "namespace demo {") {
		if time.Now().After(deadline) {
			t.Fatalf("pctx did not pick up the login; log:\n%s", p.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	const program = `return await demo.greet({ name: "pctx" })`
	if got := mustValue(t, c, program); !strings.Contains(got, "Hello, pctx!") {
		t.Fatalf("greet: %s", got)
	}

	// Let the access token expire; the next call needs a refreshed one.
	time.Sleep(time.Until(first.Token.ExpiresAt) + time.Second)
	if got := mustValue(t, c, program); !strings.Contains(got, "Hello, pctx!") {
		t.Fatalf("greet after the token expired: %s", got)
	}
	after, err := store.Load(mcpURL)
	if err != nil {
		t.Fatal(err)
	}
	if after.Token.AccessToken == first.Token.AccessToken || after.Token.RefreshToken == first.Token.RefreshToken {
		t.Fatal("the stored token was not refreshed (or the refresh token not rotated)")
	}
	if !strings.Contains(peer.String(), "[pctx-test] refresh_token grant served") {
		t.Errorf("the server served no refresh grant:\n%s", peer)
	}
	if !strings.Contains(p.log.String(), "oauth: access token refreshed") {
		t.Errorf("pctx did not log the refresh:\n%s", p.log)
	}
	// Tokens never reach the log.
	for _, tok := range []string{first.Token.AccessToken, first.Token.RefreshToken, after.Token.AccessToken, after.Token.RefreshToken} {
		if strings.Contains(p.log.String(), tok) {
			t.Errorf("a token is in pctx's log")
		}
	}
}
