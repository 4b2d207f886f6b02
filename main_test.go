package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs one pctx invocation in-process and returns its exit code and outputs.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	program := filepath.Join(dir, "prog.ts")
	if err := os.WriteFile(program, []byte("const n: number = 20\nconsole.log('working')\nreturn { n: n + 1 }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.toml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PCTX_CONFIG", empty)
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no args", "", nil, 2, "", "Usage:"},
		{"help", "", []string{"--help"}, 0, "pctx start", ""},
		{"unknown", "", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"version", "", []string{"version"}, 0, "pctx dev", ""},
		{"exec inline", "", []string{"exec", "-e", "return 1+1"}, 0, "2\n", ""},
		{"exec file", "", []string{"exec", program}, 0, "{\n  \"n\": 21\n}\n", "working"},
		{"exec stdin", "return 'from stdin'", []string{"exec", "-"}, 0, "\"from stdin\"\n", ""},
		{"exec error", "", []string{"exec", "-e", "\n\nthrow new Error('bad')"}, 1, "", "line 3"},
		{"exec no program", "", []string{"exec"}, 2, "", "no program"},
		{"exec both", "", []string{"exec", "-e", "1", program}, 2, "", "not both"},
		{"exec missing file", "", []string{"exec", filepath.Join(dir, "nope.ts")}, 1, "", "nope.ts"},
		{"start bad flag", "", []string{"start", "--bogus"}, 2, "", "bogus"},
		{"start bad log level", "", []string{"start", "--log-level", "loud"}, 2, "", "--log-level"},
		{"start beyond loopback without key", "", []string{"start", "--http", "0.0.0.0:0"}, 1, "", "api_key must be set"},
		{"list empty", "", []string{"list"}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if tt.wantStdout != "" && !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout, tt.wantStdout)
			}
			if tt.wantStderr != "" && !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.wantStderr)
			}
		})
	}
}

func TestCLIConfigEditing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pctx.toml")
	steps := []struct {
		args       []string
		wantCode   int
		wantOutput string
	}{
		{[]string{"init", "--config", path}, 0, "wrote"},
		{[]string{"init", "--config", path}, 1, "exists"},
		{[]string{"add", "--config", path, "web", "http://127.0.0.1:9/mcp"}, 0, `added server "web"`},
		{[]string{"add", "--config", path, "--env", "LOG=1", "local", "--", "node", "server.js", "--flag"}, 0, `added server "local"`},
		{[]string{"add", "--config", path, "web", "http://127.0.0.1:9/mcp"}, 1, "web"},
		{[]string{"add", "--config", path, "lonely"}, 2, "want NAME"},
		{[]string{"add", "--config", path, "late", "--env", "A=1", "--", "node"}, 2, "flags go before NAME"},
		{[]string{"add", "--config", path, "--", "name2", "node", "srv.js"}, 2, "put a command after --"},
		{[]string{"add", "--config", path, "bare", "--"}, 2, "no command after --"},
		{[]string{"add", "--config", path, "--scope", "session", "--env", "DB=/tmp/${session.id}.db", "scratch", "--", "srv"}, 0, `added server "scratch"`},
		{[]string{"add", "--config", path, "--scope", "per-call", "odd", "--", "srv"}, 1, `servers.odd.scope: must be "shared"`},
		{[]string{"remove", "--config", path, "web"}, 0, `removed server "web"`},
		{[]string{"remove", "--config", path, "web"}, 1, "web"},
	}
	for _, s := range steps {
		code, stdout, stderr := runCLI(t, "", s.args...)
		if code != s.wantCode || !strings.Contains(stdout+stderr, s.wantOutput) {
			t.Fatalf("pctx %s: exit %d (want %d), output %q (want %q)", strings.Join(s.args, " "), code, s.wantCode, stdout+stderr, s.wantOutput)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if strings.Contains(text, "[servers.web]") || !strings.Contains(text, "[servers.local]") || !strings.Contains(text, `"--flag"`) ||
		!strings.Contains(text, "[servers.scratch]\ncommand = \"srv\"\nenv = { DB = \"/tmp/${session.id}.db\" }\nscope = \"session\"\n") {
		t.Fatalf("config after add/remove:\n%s", text)
	}
}
