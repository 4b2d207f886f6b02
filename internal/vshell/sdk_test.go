package vshell

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
)

func noop(context.Context, map[string]any) (any, error) { return nil, nil }

// sdkSnapshot is a published-client session's view: its tools, an MCP server, one that
// is down, and two tools whose names collide once camel-cased.
func sdkSnapshot(t *testing.T) *catalog.Snapshot {
	t.Helper()
	cat := catalog.New()
	put := func(owner string, ns catalog.Namespace) {
		if err := cat.Put(owner, ns); err != nil {
			t.Fatal(err)
		}
	}
	ab := json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`)
	put("upstream:test_mcp_server", catalog.Namespace{Name: "test_mcp_server", Description: "A FastMCP server.\nSecond line.", Tools: []catalog.Tool{
		{Name: "add", Description: "Add two numbers\n\nLonger text.", InputSchema: ab, Call: noop},
	}})
	put("upstream:down", catalog.Namespace{Name: "down", Unavailable: "connection refused"})
	snap, err := cat.Snapshot().With(catalog.Namespace{Name: "tools", Tools: []catalog.Tool{
		{Name: "add_numbers", Description: "Add two numbers.", InputSchema: ab, Call: noop},
		{Name: "addNumbers", Description: "Also adds.", Call: noop},
		{Name: "now_timestamp", Call: noop},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return snap.Named(catalog.NamingCamel)
}

func TestSDKReadme(t *testing.T) {
	fs := SDK(sdkSnapshot(t))
	readme := fs.Run("cat README.md").Stdout
	want := "# TypeScript SDK\n\n" +
		"Call these functions from execute_typescript as `Namespace.function(...)`; each returns a Promise.\n" +
		"Each has its declarations (input and output types, docs) in `<Namespace>/<function>.d.ts`:\n" +
		"`cat` it before calling, since parameter names cannot be guessed.\n" +
		"\n## Down\n\nUnavailable: connection refused\n" +
		"\n## TestMcpServer\n\nA FastMCP server.\n\n" +
		"- TestMcpServer/add.d.ts `TestMcpServer.add({a, b})` — Add two numbers\n" +
		"\n## Tools\n\n" +
		"- Tools/addNumbers.d.ts `Tools.addNumbers()` — Also adds.\n" +
		"- Tools/addNumbers_2.d.ts `Tools.addNumbers_2({a, b})` (tool \"add_numbers\") — Add two numbers.\n" +
		"- Tools/nowTimestamp.d.ts `Tools.nowTimestamp()`\n"
	if readme != want {
		t.Errorf("README.md:\n%s\nwant:\n%s", readme, want)
	}
	for _, tt := range []struct{ cmd, want string }{
		{"grep -i 'add two numbers' README.md", "- Tools/addNumbers_2.d.ts `Tools.addNumbers_2({a, b})` (tool \"add_numbers\") — Add two numbers.\n"},
		{"ls", "README.md\nTestMcpServer/\nTools/\n"}, // an unavailable namespace has no files
		{"ls Tools", "addNumbers.d.ts\naddNumbers_2.d.ts\nnowTimestamp.d.ts\n"},
	} {
		if got := fs.Run(tt.cmd).Stdout; !strings.Contains(got, tt.want) {
			t.Errorf("%s:\n%s\nwant %q", tt.cmd, got, tt.want)
		}
	}
}

// TestSDKEveryListedFileExists: `cat` works for every path the README lists, and gives
// that function's declarations.
func TestSDKEveryListedFileExists(t *testing.T) {
	fs := SDK(sdkSnapshot(t))
	readme := fs.Run("cat README.md").Stdout
	paths := regexp.MustCompile(`(?m)^- (\S+)/(\S+)\.d\.ts `).FindAllStringSubmatch(readme, -1)
	if len(paths) != 4 {
		t.Fatalf("README lists %d functions, want 4:\n%s", len(paths), readme)
	}
	for _, p := range paths {
		r := fs.Run("cat " + p[1] + "/" + p[2] + ".d.ts")
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, "declare namespace "+p[1]+" {") || !strings.Contains(r.Stdout, "function "+p[2]+"(") {
			t.Errorf("cat %s/%s.d.ts = %d %q %q", p[1], p[2], r.ExitCode, r.Stdout, r.Stderr)
		}
	}
}

func TestSDKEmpty(t *testing.T) {
	if got := SDK(catalog.New().Snapshot()).Run("cat README.md").Stdout; !strings.HasSuffix(got, "\nNo functions are available.\n") {
		t.Errorf("README of an empty catalog:\n%s", got)
	}
}

func TestFirstLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"\n\n  Add   two\tnumbers.  \nMore.", "Add two numbers."},
		{strings.Repeat("é", 150), strings.Repeat("é", 100) + "…"},
	}
	for _, tt := range tests {
		if got := firstLine(tt.in); got != tt.want {
			t.Errorf("firstLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
