package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInit(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := Init(path, false); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("the starter file does not load: %v", err)
	}
	if len(c.Servers) != 0 || c.Name != DefaultName || c.Server.HTTP != DefaultHTTP {
		t.Errorf("starter config = %+v, want defaults and no servers", c)
	}
	if err := os.WriteFile(path, []byte("# mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Init(path, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Init over a file: %v, want fs.ErrExist", err)
	}
	if got := readFile(t, path); got != "# mine\n" {
		t.Fatalf("Init without force changed the file to %q", got)
	}
	if err := Init(path, true); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != string(starter) {
		t.Errorf("Init with force wrote %q", got)
	}
}

func TestAddServer(t *testing.T) {
	tests := []struct {
		name   string
		before string // "" and no file when absent
		absent bool
		u      Upstream
		want   string
	}{
		{
			name:   "creates the file",
			absent: true,
			u:      Upstream{Name: "everything", Command: "npx", Args: []string{"-y", "@modelcontextprotocol/server-everything"}},
			want:   "[servers.everything]\ncommand = \"npx\"\nargs = [\"-y\", \"@modelcontextprotocol/server-everything\"]\n",
		},
		{
			name:   "appends after a blank line, keeping the file",
			before: "# my config\nname = \"x\"   # trailing comment\n",
			u: Upstream{Name: "gh", URL: "https://example.com/mcp", Transport: "sse",
				Headers: map[string]string{"Authorization": "Bearer ${env:PCTX_TEST_NEVER_SET}", "X-Api.Key": "k"},
				Timeout: 2 * time.Minute, ProtocolVersion: "2025-03-26", Disabled: true},
			want: "# my config\nname = \"x\"   # trailing comment\n\n[servers.gh]\nurl = \"https://example.com/mcp\"\ntransport = \"sse\"\n" +
				"headers = { Authorization = \"Bearer ${env:PCTX_TEST_NEVER_SET}\", \"X-Api.Key\" = \"k\" }\ntimeout = \"2m\"\nprotocol_version = \"2025-03-26\"\ndisabled = true\n",
		},
		{
			name:   "adds a newline to a file without one",
			before: "name = \"x\"",
			u:      Upstream{Name: "a", Command: "x", Timeout: DefaultUpstreamTimeout, ProtocolVersion: DefaultProtocolVersion},
			want:   "name = \"x\"\n\n[servers.a]\ncommand = \"x\"\n",
		},
		{
			name: "a session-scoped server",
			u: Upstream{Name: "scratch", Command: "npx", Env: map[string]string{"MEMORY_FILE_PATH": "/tmp/m-${session.id}.jsonl"},
				Scope: ScopeSession, MaxSessions: 4},
			want: "[servers.scratch]\ncommand = \"npx\"\nenv = { MEMORY_FILE_PATH = \"/tmp/m-${session.id}.jsonl\" }\nscope = \"session\"\nmax_sessions = 4\n",
		},
		{
			name:   "quotes what needs quoting",
			before: "",
			u: Upstream{Name: "q", Command: `C:\bin\srv.exe`, Args: []string{`say "hi"`, "tab\there", "line\nbreak", "ünï", "\x01"},
				Env: map[string]string{"B": "2", "A": "1"}, Cwd: "dir with space", InheritEnv: true},
			want: "[servers.q]\ncommand = \"C:\\\\bin\\\\srv.exe\"\nargs = [\"say \\\"hi\\\"\", \"tab\\there\", \"line\\nbreak\", \"ünï\", \"\\u0001\"]\n" +
				"env = { A = \"1\", B = \"2\" }\ncwd = \"dir with space\"\ninherit_env = true\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			if !tt.absent {
				if err := os.WriteFile(path, []byte(tt.before), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := AddServer(path, tt.u); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); got != tt.want {
				t.Fatalf("file:\n%s\nwant:\n%s", got, tt.want)
			}
			c, err := load(path, []byte(tt.want), loadOptions{checkOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			got := c.Servers[tt.u.Name]
			want := tt.u
			if want.Timeout == 0 {
				want.Timeout = DefaultUpstreamTimeout
			}
			if want.ProtocolVersion == "" {
				want.ProtocolVersion = DefaultProtocolVersion
			}
			if want.Cwd != "" {
				want.Cwd = filepath.Join(filepath.Dir(path), want.Cwd)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read back %+v\nwant      %+v", got, want)
			}
		})
	}
}

func TestAddServerRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	const before = "[servers.a]\ncommand = \"x\"\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		u    Upstream
		want string
	}{
		{Upstream{Name: "a", Command: "y"}, `config: add server: ` + path + ` already has a server named "a"`},
		{Upstream{Name: "a.b", Command: "y"}, `config: add server: invalid server name "a.b": use only letters, digits, "_" and "-" (it becomes the namespace in code, and a "." would split the key)`},
		{Upstream{Name: "b"}, `config: add server "b": ` + path + `:4: servers.b: set command (a stdio server) or url (an HTTP server)`},
		{Upstream{Name: "b", URL: "ws://h"}, `config: add server "b": ` + path + `:5: servers.b.url: must be an http:// or https:// URL, not ws://`},
	}
	for _, tt := range tests {
		err := AddServer(path, tt.u)
		if err == nil || err.Error() != tt.want {
			t.Errorf("AddServer(%+v) = %v\nwant %s", tt.u, err, tt.want)
		}
	}
	if got := readFile(t, path); got != before {
		t.Errorf("a refused AddServer changed the file to %q", got)
	}
	if err := os.WriteFile(path, []byte("[runtime]\ntimeout = 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := AddServer(path, Upstream{Name: "b", Command: "y"})
	want := `config: add server "b": ` + path + " has problems already:\n" + path + `:2: runtime.timeout: expected a duration string like "30s", got an integer (3)`
	if err == nil || err.Error() != want {
		t.Errorf("AddServer to a broken file = %v\nwant %s", err, want)
	}
}

func TestRemoveServer(t *testing.T) {
	tests := []struct {
		name, before, remove, want string
	}{
		{
			name:   "table with its sub-table and inner comments",
			before: "name = \"x\"\n\n[servers.a]\n# about a\ncommand = \"x\"\n\nargs = [\n  \"1\",\n  \"2\",\n]\n[servers.a.env]\nK = \"v\"\n\n# about b\n[servers.b]\ncommand = \"y\"\n",
			remove: "a",
			want:   "name = \"x\"\n\n# about b\n[servers.b]\ncommand = \"y\"\n",
		},
		{
			name:   "last table, keeping a trailing comment",
			before: "[servers.b]\ncommand = \"y\"\n\n[servers.a]\nurl = \"https://h\"\n\n# [servers.later]\n# command = \"z\"\n",
			remove: "a",
			want:   "[servers.b]\ncommand = \"y\"\n\n# [servers.later]\n# command = \"z\"\n",
		},
		{
			name:   "first table in the file takes the following blank line",
			before: "[servers.a]\ncommand = \"x\"\n\n[servers.b]\ncommand = \"y\"\n",
			remove: "a",
			want:   "[servers.b]\ncommand = \"y\"\n",
		},
		{
			name:   "dotted keys and inline tables elsewhere",
			before: "name = \"n\"\n[servers]\na.command = \"x\"\na.args = [\"1\"]\nb = { command = \"y\" }\na.env = { K = \"v\" }\n",
			remove: "a",
			want:   "name = \"n\"\n[servers]\nb = { command = \"y\" }\n",
		},
		{
			name:   "dotted keys at the root",
			before: "servers.a.command = \"x\"\nservers.b.command = \"y\"\nservers.a.args = [\"1\"]\n",
			remove: "a",
			want:   "servers.b.command = \"y\"\n",
		},
		{
			name:   "a broken table can be removed",
			before: "[servers.a]\ncommand = 1\nbogus = true\n\n[servers.b]\ncommand = \"y\"\n",
			remove: "a",
			want:   "[servers.b]\ncommand = \"y\"\n",
		},
		{
			name:   "names needing quotes and CRLF line ends",
			before: "[servers.\"odd name\"]\r\ncommand = \"x\"\r\n\r\n[servers.b]\r\ncommand = \"y\"\r\n",
			remove: "odd name",
			want:   "[servers.b]\r\ncommand = \"y\"\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(path, []byte(tt.before), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := RemoveServer(path, tt.remove); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); got != tt.want {
				t.Errorf("file:\n%q\nwant:\n%q", got, tt.want)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
				t.Errorf("mode after RemoveServer = %v, %v; want 0640 kept", fi.Mode(), err)
			}
		})
	}
}

func TestRemoveServerErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte("[servers.a]\ncommand = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := RemoveServer(path, "b"); err == nil || err.Error() != `config: remove server: `+path+` has no server named "b"` {
		t.Errorf("RemoveServer(absent) = %v", err)
	}
	if err := RemoveServer(filepath.Join(dir, "none.toml"), "a"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RemoveServer(no file) = %v, want fs.ErrNotExist", err)
	}
	if err := os.WriteFile(path, []byte("[servers.a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := RemoveServer(path, "a"); err == nil || !strings.Contains(err.Error(), path+":1:11: invalid TOML") {
		t.Errorf("RemoveServer(not TOML) = %v", err)
	}
}

// TestAddRemoveRoundTrip adds servers to the example file and removes them again: the
// file must come back byte for byte, and removing the example's own servers must leave
// a file that still loads.
func TestAddRemoveRoundTrip(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "x")
	example, err := os.ReadFile(filepath.Join("..", "..", "pctx.toml.example"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, example, 0o600); err != nil {
		t.Fatal(err)
	}
	added := []Upstream{
		{Name: "one", Command: "srv", Args: []string{"--x"}, Env: map[string]string{"A": "b"}},
		{Name: "two", URL: "https://h/mcp", Headers: map[string]string{"Authorization": "Bearer ${env:TWO_TOKEN}"}},
	}
	for _, u := range added {
		if err := AddServer(path, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"two", "one"} {
		if err := RemoveServer(path, name); err != nil {
			t.Fatal(err)
		}
	}
	if got := readFile(t, path); got != string(example) {
		t.Fatalf("after add and remove the file differs:\n%s", got)
	}
	for _, name := range []string{"memory", "github", "scratch", "everything", "linear", "legacy"} {
		if err := RemoveServer(path, name); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatalf("after removing %s: %v", name, err)
		}
		if _, ok := c.Servers[name]; ok {
			t.Fatalf("%s still there", name)
		}
	}
	if got := readFile(t, path); strings.Contains(got, "\n[servers.") || !strings.Contains(got, "# Upstream MCP servers.") {
		t.Errorf("after removing every server:\n%s", got)
	}
}
