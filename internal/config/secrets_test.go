package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/keyring"
)

func TestExpandEnv(t *testing.T) {
	t.Setenv("PCTX_A", "alpha")
	t.Setenv("PCTX_EMPTY", "")
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "${env:PCTX_A}", want: "alpha"},
		{in: "x-${env:PCTX_A}-${env:PCTX_A}-y", want: "x-alpha-alpha-y"},
		{in: "[${env:PCTX_EMPTY}]", want: "[]"},
		{in: "$${env:PCTX_A}", want: "${env:PCTX_A}"},
		{in: "$$${env:PCTX_A}", want: "$${env:PCTX_A}"},
		{in: "$${cmd:echo hi} $${file:x} $${keychain:a/b}", want: "${cmd:echo hi} ${file:x} ${keychain:a/b}"},
		{in: "${HOME} $PATH ${env} ${vault:x} $", want: "${HOME} $PATH ${env} ${vault:x} $"},
		{in: "${env:PCTX_NOT_SET_ANYWHERE}", err: "environment variable PCTX_NOT_SET_ANYWHERE is not set"},
		{in: "${env:PCTX_A", err: `unterminated "${env:" (close it with "}", or write "$${env:" for a literal "${env:")`},
		{in: "${env:}", err: `invalid environment variable name "" in ${env:} (use letters, digits and _, not starting with a digit)`},
		{in: "${env:A B}", err: `invalid environment variable name "A B" in ${env:A B} (use letters, digits and _, not starting with a digit)`},
	}
	r := newResolver("pctx.toml", loadOptions{})
	for _, tt := range tests {
		got, err := r.expand(tt.in)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("expand(%q) error = %v, want %s", tt.in, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// secretsFixture writes a secret file and a keychain entry, and returns load options
// whose keychain is a file store in a temporary directory (the CI stand-in for the OS
// keychain).
func secretsFixture(t *testing.T) (dir string, opts loadOptions) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the commands below are POSIX shell")
	}
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token.txt"), []byte("  file-secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty.txt"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kr := keyring.NewFile(filepath.Join(dir, "keyring"))
	if err := kr.Set("github", "token", "keychain-secret-value"); err != nil {
		t.Fatal(err)
	}
	if err := kr.Set(DefaultKeychainService, "legacy", "legacy-secret-value"); err != nil {
		t.Fatal(err)
	}
	return dir, loadOptions{keyring: kr, cmdTimeout: 2 * time.Second}
}

func TestSecretSources(t *testing.T) {
	dir, opts := secretsFixture(t)
	counter := filepath.Join(dir, "runs")
	tests := []struct {
		in, want string
		err      string // substring of the error
	}{
		{in: "Bearer ${cmd:printf '  cmd-secret\\n\\n'}", want: "Bearer cmd-secret"},
		{in: "${cmd:echo {braces} ${HOME:+ok}}", want: "{braces} ok"},
		{in: "${file:token.txt}", want: "file-secret-value"},
		{in: "${file:" + filepath.Join(dir, "token.txt") + "}", want: "file-secret-value"},
		{in: "${keychain:github/token}", want: "keychain-secret-value"},
		{in: "${keychain:legacy}", want: "legacy-secret-value"},
		{in: "a=${cmd:echo one} b=${file:token.txt} c=${keychain:github/token}", want: "a=one b=file-secret-value c=keychain-secret-value"},

		{in: "${cmd:echo TOPSECRET-cmd-text; echo op: not signed in >&2; exit 3}", err: "${cmd:…} failed: exit status 3 (stderr: op: not signed in)"},
		{in: "${cmd:sleep 10}", err: "${cmd:…} did not finish within 2s"},
		{in: "${cmd:true}", err: "${cmd:…} printed nothing on standard output"},
		{in: "${cmd:  }", err: "empty command in ${cmd:}"},
		{in: "${cmd:echo x", err: `unterminated "${cmd:"`},
		{in: "${file:missing.txt}", err: "${file:…}: open " + filepath.Join(dir, "missing.txt") + ": no such file or directory"},
		{in: "${file:empty.txt}", err: "is empty"},
		{in: "${keychain:github/nope}", err: "${keychain:github/nope}: no such entry in 0600 files in " + filepath.Join(dir, "keyring") + " (add it with: pctx secret set github/nope)"},
		{in: "${keychain:/x}", err: "${keychain:/x}: want SERVICE/ACCOUNT"},
		{in: "${keychain:svc/}", err: "${keychain:svc/}: want SERVICE/ACCOUNT"},
	}
	for _, tt := range tests {
		r := newResolver(filepath.Join(dir, "pctx.toml"), opts)
		got, err := r.expand(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("expand(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "TOPSECRET") {
				t.Errorf("expand(%q): the error quotes the command: %v", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}

	// A command runs once per load, however often it is referenced.
	r := newResolver(filepath.Join(dir, "pctx.toml"), opts)
	cmd := "${cmd:echo x >> " + counter + "; echo counted-secret}"
	for range 3 {
		if v, err := r.expand(cmd); err != nil || v != "counted-secret" {
			t.Fatalf("expand = %q, %v", v, err)
		}
	}
	if b, _ := os.ReadFile(counter); strings.Count(string(b), "x") != 1 {
		t.Errorf("the command ran %d times, want once", strings.Count(string(b), "x"))
	}
	if !slices.Contains(r.secrets, "counted-secret") {
		t.Errorf("secrets %q miss the command's output", r.secrets)
	}
}

func TestSecretsCheckOnly(t *testing.T) {
	dir, opts := secretsFixture(t)
	opts.checkOnly = true
	marker := filepath.Join(dir, "ran")
	r := newResolver(filepath.Join(dir, "pctx.toml"), opts)
	for _, in := range []string{"${cmd:touch " + marker + "}", "${file:missing}", "${keychain:github/nope}"} {
		if _, err := r.expand(in); !errors.Is(err, errDeferred) {
			t.Errorf("check-only expand(%q) = %v, want deferred", in, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a command ran while only checking")
	}
	// Syntax is still checked.
	if _, err := r.expand("${keychain:/}"); err == nil || errors.Is(err, errDeferred) {
		t.Errorf("bad keychain reference passed a check: %v", err)
	}
}

// TestLoadSecrets loads whole files: values land where referenced, failures are
// reported at the key without the secret or the command, a disabled server's commands
// never run, and Secrets lists what to redact.
func TestLoadSecrets(t *testing.T) {
	dir, opts := secretsFixture(t)
	marker := filepath.Join(dir, "disabled-ran")
	body := `
[server]
api_key = "${cmd:echo api-key-from-cmd}"

[servers.gh]
url = "https://example.com/mcp?key=${keychain:github/token}"
headers = { Authorization = "Bearer ${file:token.txt}", X-Other = "${cmd:echo other-secret}" }

[servers.off]
disabled = true
command = "${cmd:touch ` + marker + `; echo x}"

[telemetry]
headers = { Authorization = "Bearer ${cmd:echo otlp-token}" }
`
	path := filepath.Join(dir, "pctx.toml")
	c, err := load(path, []byte(body), opts)
	if err != nil {
		t.Fatal(err)
	}
	gh := c.Servers["gh"]
	if c.Telemetry.Headers["Authorization"] != "Bearer otlp-token" {
		t.Errorf("telemetry headers: %q", c.Telemetry.Headers)
	}
	if gh.URL != "https://example.com/mcp?key=keychain-secret-value" || gh.Headers["Authorization"] != "Bearer file-secret-value" || gh.Headers["X-Other"] != "other-secret" || c.Server.APIKey != "api-key-from-cmd" {
		t.Errorf("expanded: %+v %q", gh, c.Server.APIKey)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a disabled server's ${cmd:} ran")
	}
	for _, want := range []string{"api-key-from-cmd", "keychain-secret-value", "file-secret-value", "other-secret", "otlp-token"} {
		if !slices.Contains(c.Secrets(), want) {
			t.Errorf("Secrets() = %q, missing %q", c.Secrets(), want)
		}
	}

	bad := `
[servers.gh]
url = "https://example.com/mcp"
headers = { Authorization = "Bearer ${cmd:echo CMDTEXT >&2; exit 1}" }
transport = "${keychain:github/token}"

[servers.x]
url = "https://example.com/mcp"
headers = { A = "${keychain:github/missing}" }
`
	_, err = load(path, []byte(bad), opts)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		path + ":4: servers.gh.headers.Authorization: ${cmd:…} failed: exit status 1 (stderr: CMDTEXT)",
		path + `:5: servers.gh.transport: must be "streamable-http" or "sse" (or unset: try streamable HTTP, then SSE), got "[redacted]"`,
		path + ":9: servers.x.headers.A: ${keychain:github/missing}: no such entry",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "keychain-secret-value") {
		t.Errorf("error quotes a secret:\n%s", msg)
	}
}

func TestRunCommandKillsOnTimeout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX shell")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The grandchild keeps stdout open; WaitDelay must still end the wait.
	_, err := runCommand(ctx, "sleep 30 & sleep 30", t.TempDir())
	if err == nil {
		t.Fatal("no error")
	}
	if time.Since(start) > 20*time.Second {
		t.Fatalf("took %s: the command was not stopped", time.Since(start))
	}
}
