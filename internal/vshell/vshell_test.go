package vshell

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
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
		{"recursive grep repeated", "grep -r x . . . . .", "bash: output truncated", maxShellOutput},
		{"commands after truncation do not run", "cat ns/f.d.ts; echo after", "bash: output truncated", maxShellOutput},
		{"through a pipe", "cat ns/f.d.ts ns/f.d.ts | grep x", "bash: output truncated", maxShellOutput},
		{"too many words", manyFiles, "bash: the command line has more than", 0},
		{"too many commands", manyStages, "bash: the command line has more than", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fs.RunContext(context.Background(), tt.cmd) // no deadline: the bounds alone must stop it
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

// catalogFS is the tree of a large catalog: a README listing of 20,000 lines and 2,000
// declaration files in 20 namespaces.
func catalogFS() FS {
	files := map[string]string{"/sdk/README.md": strings.Repeat("  function_name_here({owner, repo?})\n", 20000)}
	for i := range 2000 {
		files[fmt.Sprintf("/sdk/ns%02d/f%04d.d.ts", i%20, i)] = strings.Repeat("declare namespace x { function f(a: string): Promise<void>; }\n", 10)
	}
	return textFS(files)
}

// TestVirtualShellWorkBounded: command lines whose work grows with their words times the
// tree (a 1,000-word grep line once took 49 s) end with an error naming the work bound,
// keeping the output before it and running nothing after it; ordinary exploration of the
// same tree is unaffected.
func TestVirtualShellWorkBounded(t *testing.T) {
	fs := catalogFS()
	words := func(cmd, word string) string {
		return cmd + strings.Repeat(" "+word, maxShellWords-len(strings.Fields(cmd)))
	}
	const workErr = "bash: the command line needs more work than this virtual shell allows"
	tests := []struct{ name, cmd string }{
		{"recursive grep of the tree, 1,000 words", words("grep -rlw '(a|b|c|d|e|f|g)+x'", ".")},
		{"a costly pattern through a pipe", "cat README.md | grep -c '[a-z]{1,1000}q' && echo skipped"},
		{"commands after the stop do not run", "echo before; grep -c '[a-z]{1,1000}q' README.md; echo after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No deadline: the work bound alone must stop these, however slow the machine.
			got := fs.RunContext(context.Background(), tt.cmd)
			if got.ExitCode != 1 || !strings.HasSuffix(got.Stderr, "narrow it: fewer paths, one directory instead of the whole tree, a simpler pattern, grep -l or head\n") || !strings.Contains(got.Stderr, workErr) {
				t.Errorf("exit %d, stderr %q; want 1 and the work bound named", got.ExitCode, clipText(got.Stderr))
			}
			if strings.Contains(got.Stdout, "after") || strings.Contains(got.Stdout, "skipped") {
				t.Errorf("a command ran after the stop: %q", clipText(got.Stdout))
			}
			if strings.HasPrefix(tt.cmd, "echo before") && !strings.HasPrefix(got.Stdout, "before\n") {
				t.Errorf("the output before the stop is lost: %q", clipText(got.Stdout))
			}
		})
	}
	for _, cmd := range []string{"grep -rl Promise .", "grep -rc 'function f' ns03", "cat README.md | grep -n owner | wc -l", "grep -rliw 'promise' ns01 ns02", "ls ns01 ns02 ns03 | wc -l"} {
		if got := fs.Run(cmd); got.ExitCode != 0 || got.Stderr != "" {
			t.Errorf("%s: exit %d, stderr %q", cmd, got.ExitCode, got.Stderr)
		}
	}
	if got := fs.Run("cat README.md | head -c 10" + strings.Repeat("x", maxShellLine)); got.ExitCode != 2 || !strings.Contains(got.Stderr, fmt.Sprintf("more than the %d of this virtual shell", maxShellLine)) {
		t.Errorf("an over-long line: exit %d, stderr %q", got.ExitCode, clipText(got.Stderr))
	}
}

// TestVirtualShellContext: a command line stops when its context ends, at once when it
// has already ended and mid-way when it ends while the line runs.
func TestVirtualShellContext(t *testing.T) {
	fs := catalogFS()
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	if got := fs.RunContext(expired, "pwd"); got.ExitCode != 1 || got.Stdout != "" || !strings.HasPrefix(got.Stderr, "bash: the command line ran out of its time in this virtual shell") {
		t.Errorf("expired context: %+v", got)
	}
	// A lazy file whose rendering cancels the context: the grep that reads it stops at
	// the next poll, long before it would finish the tree.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fs["/sdk/ns00/a_first.d.ts"] = Lazy(func() string { cancel(); return "function first(): void;\n" })
	got := fs.RunContext(ctx, "grep -rc function ns00 ns01 ns02 ns03; echo after")
	if got.ExitCode != 1 || got.Stderr != "bash: the command line was cancelled\n" || strings.Contains(got.Stdout, "after") || strings.Contains(got.Stdout, "ns03") {
		t.Errorf("cancelled mid-way: exit %d, stdout %q, stderr %q", got.ExitCode, clipText(got.Stdout), got.Stderr)
	}
}
