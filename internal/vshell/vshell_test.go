package vshell

import (
	"strings"
	"testing"
)

func TestVirtualShell(t *testing.T) {
	fs := textFS(map[string]string{
		"/sdk/README.md":              "# Functions\nnamespace tools {\n  get_weather({city})\n  get_time({city})\n}\n",
		"/sdk/tools/get_weather.d.ts": "declare namespace tools {\n  function get_weather(city: string): Promise<string>;\n}\n",
		"/sdk/tools/get_time.d.ts":    "declare namespace tools {\n  function get_time(city: string): Promise<string>;\n}\n",
	})
	tests := []struct {
		cmd          string
		stdout, errs string
		code         int
	}{
		{"ls", "README.md\ntools/\n", "", 0},
		{"ls /sdk/tools", "get_time.d.ts\nget_weather.d.ts\n", "", 0},
		{"ls -la tools/", "get_time.d.ts\nget_weather.d.ts\n", "", 0},
		{"ls /", "sdk/\n", "", 0},
		{"ls nope", "", "ls: cannot access 'nope': No such file or directory\n", 2},
		{"pwd", "/sdk\n", "", 0},
		{"cat tools/get_time.d.ts", "declare namespace tools {\n  function get_time(city: string): Promise<string>;\n}\n", "", 0},
		{"cat ./README.md | head -n 2", "# Functions\nnamespace tools {\n", "", 0},
		{"head -1 /sdk/README.md", "# Functions\n", "", 0},
		{"tail -n 1 README.md", "}\n", "", 0},
		{"cat tools", "", "cat: tools: Is a directory\n", 1},
		{"cat missing.md", "", "cat: missing.md: No such file or directory\n", 1},
		{"grep weather README.md", "  get_weather({city})\n", "", 0},
		{"grep -rn 'function get_' tools", "tools/get_time.d.ts:2:  function get_time(city: string): Promise<string>;\ntools/get_weather.d.ts:2:  function get_weather(city: string): Promise<string>;\n", "", 0},
		{"grep -rl WEATHER -i .", "./README.md\n./tools/get_weather.d.ts\n", "", 0},
		{`cat README.md | grep -c "get_"`, "2\n", "", 0},
		{"grep nothing README.md", "", "", 1},
		{"grep '(' README.md", "", "grep: invalid pattern \"(\": error parsing regexp: missing closing ): `(`\n", 2},
		{"grep -F '({city})' README.md | wc -l", "2\n", "", 0},
		{"find . -name '*.d.ts'", "./tools/get_time.d.ts\n./tools/get_weather.d.ts\n", "", 0},
		{"find /sdk -type f", "/sdk/README.md\n/sdk/tools/get_time.d.ts\n/sdk/tools/get_weather.d.ts\n", "", 0},
		{"ls tools && cat nope; echo done", "get_time.d.ts\nget_weather.d.ts\ndone\n", "cat: nope: No such file or directory\n", 0},
		{"cat nope && echo skipped", "", "cat: nope: No such file or directory\n", 1},
		{"ls 2>/dev/null", "README.md\ntools/\n", "", 0},
		{"curl http://example.com", "", "bash: curl: command not found (this read-only virtual shell has cat, echo, find, grep, head, ls, pwd, tail, wc)\n", 127},
		{"echo 'unterminated", "", "bash: unterminated ' quote\n", 2},
		{"head -n -5 README.md", "", "head: invalid number of lines: \"-5\"\n", 1},
		{"tail -n -5 README.md", "", "tail: invalid number of lines: \"-5\"\n", 1},
		{"head --3 README.md", "", "head: invalid number of lines: \"-3\"\n", 1},
		{"head -n-2 README.md", "", "head: invalid number of lines: \"-2\"\n", 1},
		{"tail -0 README.md", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			got := fs.Run(tt.cmd)
			if got.Stdout != tt.stdout || got.Stderr != tt.errs || got.ExitCode != tt.code {
				t.Errorf("run(%q)\n got %d %q %q\nwant %d %q %q", tt.cmd, got.ExitCode, got.Stdout, got.Stderr, tt.code, tt.stdout, tt.errs)
			}
		})
	}
}

// TestVirtualShellLimits checks that no command line can make the shell produce or hold
// unbounded output.
func TestVirtualShellLimits(t *testing.T) {
	big := strings.Repeat("function x(): Promise<void>;\n", 40000) // about 1.1 MiB
	fs := textFS(map[string]string{"/sdk/README.md": "# Functions\n", "/sdk/ns/f.d.ts": big})
	manyFiles := "cat" + strings.Repeat(" README.md", maxShellWords)
	manyStages := "echo a" + strings.Repeat(" | cat", maxShellCommands)
	tests := []struct {
		name       string
		cmd        string
		wantStderr string
		maxOut     int
	}{
		{"one big file", "cat ns/f.d.ts", "bash: output truncated", maxShellOutput},
		{"a file repeated", "cat ns/f.d.ts ns/f.d.ts ns/f.d.ts", "bash: output truncated", maxShellOutput},
		{"recursive grep repeated", "grep -r . . . . .", "bash: output truncated", maxShellOutput},
		{"commands after truncation do not run", "cat ns/f.d.ts; echo after", "bash: output truncated", maxShellOutput},
		{"through a pipe", "cat ns/f.d.ts ns/f.d.ts | grep x", "bash: output truncated", maxShellOutput},
		{"too many words", manyFiles, "bash: the command line has more than", 0},
		{"too many commands", manyStages, "bash: the command line has more than", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fs.Run(tt.cmd)
			if got.ExitCode == 0 || !strings.Contains(got.Stderr, tt.wantStderr) {
				t.Errorf("exit %d, stderr %q; want non-zero and %q", got.ExitCode, clipText(got.Stderr), tt.wantStderr)
			}
			if n := len(got.Stdout) + len(got.Stderr); n > tt.maxOut+200 {
				t.Errorf("%d bytes of output, want at most %d", n, tt.maxOut+200)
			}
			if strings.Contains(got.Stdout, "after") {
				t.Error("a command ran after the output was truncated")
			}
		})
	}
}

func clipText(s string) string { return s[:min(len(s), 200)] }

func textFS(files map[string]string) FS {
	fs := FS{}
	for p, text := range files {
		fs[p] = Text(text)
	}
	return fs
}
