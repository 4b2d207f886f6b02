package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeConfig writes body to dir/pctx.toml, makes dir the working directory and
// returns the relative name, so error messages read "pctx.toml:LINE: ...".
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return FileName
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want string // the whole error text; lines joined by "\n"
	}{
		{
			name: "syntax error has line and column",
			file: "name = \"pctx\"\n[server\nhttp = \"x\"\n",
			want: `pctx.toml:2:8: invalid TOML: expected character ]`,
		},
		{
			name: "table defined twice",
			file: "[servers.a]\ncommand = \"x\"\n\n[servers.a]\nargs = []\n",
			want: `pctx.toml:4: servers.a: invalid TOML: table a already exists (first defined on line 1)`,
		},
		{
			name: "key defined twice",
			file: "name = \"a\"\nname = \"b\"\n",
			want: `pctx.toml:2: name: invalid TOML: key name is already defined (first defined on line 1)`,
		},
		{
			name: "table header after dotted keys made it",
			file: "[servers]\na.command = \"x\"\n[servers.a]\nargs = []\n",
			want: `pctx.toml:3: servers.a: invalid TOML: table a already exists (first defined on line 2)`,
		},
		{
			name: "unknown keys with and without a near miss",
			file: "nmae = \"x\"\n[server]\nhttps = \"x\"\n[runtime]\nmemory = 1\n[servers.gh]\nurll = \"https://h\"\nurl = \"https://h\"\n",
			want: strings.Join([]string{
				`pctx.toml:1: nmae: unknown key; did you mean "name"?`,
				`pctx.toml:3: server.https: unknown key; did you mean "http"?`,
				`pctx.toml:5: runtime.memory: unknown key (valid keys: timeout, max_memory, max_stack_depth, max_calls, max_calls_in_flight, max_console_bytes, max_result_bytes, max_argument_bytes, max_cpu_time, typecheck, tsgo)`,
				`pctx.toml:7: servers.gh.urll: unknown key; did you mean "url"?`,
			}, "\n"),
		},
		{
			name: "unknown type-check mode",
			file: "[runtime]\ntypecheck = \"loose\"\n",
			want: `pctx.toml:2: runtime.typecheck: "loose" is not a mode: use "strict", "warn" or "off"`,
		},
		{
			name: "codemode values",
			file: "[codemode]\ndisclosure = \"files\"\nsearch_functions = \"sometimes\"\ninline_budget = \"lots\"\ndisclosur = \"auto\"\n",
			want: strings.Join([]string{
				`pctx.toml:2: codemode.disclosure: "files": want one of catalog, filesystem, sidecar, auto`,
				`pctx.toml:3: codemode.search_functions: "sometimes": want one of auto, on, off`,
				`pctx.toml:4: codemode.inline_budget: invalid size "lots": use a whole number of bytes, or one with a unit (B, KB, MB, GB, KiB, MiB, GiB), like "256MiB"`,
				`pctx.toml:5: codemode.disclosur: unknown key; did you mean "disclosure"?`,
			}, "\n"),
		},
		{
			name: "keys are case-sensitive and untagged fields are not keys",
			file: "Name = \"x\"\nPath = \"/etc\"\n",
			want: strings.Join([]string{
				`pctx.toml:1: Name: unknown key; did you mean "name"?`,
				`pctx.toml:2: Path: unknown key (valid keys: name, server, runtime, sandbox, codemode, servers, telemetry, log, ui)`,
			}, "\n"),
		},
		{
			name: "wrong types",
			file: "name = 1\n[server]\nhttp = 8080\nallow_client_servers = \"yes\"\n[runtime]\nmax_calls = 1.5\nmax_stack_depth = \"10\"\n",
			want: strings.Join([]string{
				`pctx.toml:1: name: expected a string, got an integer (1)`,
				`pctx.toml:3: server.http: expected a string, got an integer (8080)`,
				`pctx.toml:4: server.allow_client_servers: expected true or false, got a string`,
				`pctx.toml:6: runtime.max_calls: expected an integer, got a float (1.5)`,
				`pctx.toml:7: runtime.max_stack_depth: expected an integer, got a string`,
			}, "\n"),
		},
		{
			name: "tables of the wrong type",
			file: "server = \"x\"\nruntime = [1]\nservers = { a = 1 }\n",
			want: strings.Join([]string{
				`pctx.toml:1: server: expected a table, got a string`,
				`pctx.toml:2: runtime: expected a table, got an array`,
				`pctx.toml:3: servers.a: expected a table, got an integer (1)`,
			}, "\n"),
		},
		{
			name: "servers not a table",
			file: "servers = \"x\"\n",
			want: `pctx.toml:1: servers: expected a table, got a string`,
		},
		{
			name: "durations",
			file: "[runtime]\ntimeout = 30\n[servers.a]\ncommand = \"x\"\ntimeout = \"soon\"\n[servers.b]\ncommand = \"x\"\ntimeout = \"-1s\"\n",
			want: strings.Join([]string{
				`pctx.toml:2: runtime.timeout: expected a duration string like "30s", got an integer (30)`,
				`pctx.toml:5: servers.a.timeout: invalid duration "soon": use a number with a unit, like "30s", "1m30s" or "500ms"`,
				`pctx.toml:8: servers.b.timeout: duration "-1s" must be positive`,
			}, "\n"),
		},
		{
			name: "sizes and negative limits",
			file: "[runtime]\nmax_memory = \"12 parsecs\"\nmax_console_bytes = -1\nmax_result_bytes = true\nmax_calls_in_flight = -5\n",
			want: strings.Join([]string{
				`pctx.toml:2: runtime.max_memory: invalid size "12 parsecs": use a whole number of bytes, or one with a unit (B, KB, MB, GB, KiB, MiB, GiB), like "256MiB"`,
				`pctx.toml:3: runtime.max_console_bytes: size -1 must not be negative`,
				`pctx.toml:4: runtime.max_result_bytes: expected a size like "256MiB" or a number of bytes, got a boolean (true)`,
				`pctx.toml:5: runtime.max_calls_in_flight: -5 must not be negative`,
			}, "\n"),
		},
		{
			name: "scope: bad values, and session keys in a shared server",
			file: "[server]\nmax_session_upstreams = -1\nsession_idle_timeout = \"0s\"\n" +
				"[servers.a]\ncommand = \"x\"\nscope = \"per-call\"\n" +
				"[servers.b]\ncommand = \"x\"\nscope = \"\"\n" +
				"[servers.c]\ncommand = \"x\"\nmax_sessions = 2\nargs = [\"--dir=/tmp/${session.id}\"]\nenv = { F = \"${session.id}.db\" }\n" +
				"[servers.d]\nurl = \"https://h/${session.id}\"\nscope = \"shared\"\nheaders = { X-Session = \"${session.id}\" }\n" +
				"[servers.e]\ncommand = \"x\"\nscope = \"session\"\nmax_sessions = -3\n",
			want: strings.Join([]string{
				`pctx.toml:2: server.max_session_upstreams: -1 must not be negative`,
				`pctx.toml:3: server.session_idle_timeout: duration "0s" must be positive`,
				`pctx.toml:6: servers.a.scope: must be "shared" (one instance for every client) or "session" (one per client session), got "per-call"`,
				`pctx.toml:9: servers.b.scope: must not be empty (leave it out for the default "shared")`,
				`pctx.toml:12: servers.c.max_sessions: applies only to scope = "session"`,
				`pctx.toml:13: servers.c.args[0]: ${session.id} is replaced only in servers with scope = "session" (a shared server has no session to name)`,
				`pctx.toml:14: servers.c.env.F: ${session.id} is replaced only in servers with scope = "session" (a shared server has no session to name)`,
				`pctx.toml:16: servers.d.url: ${session.id} is replaced only in servers with scope = "session" (a shared server has no session to name)`,
				`pctx.toml:18: servers.d.headers.X-Session: ${session.id} is replaced only in servers with scope = "session" (a shared server has no session to name)`,
				`pctx.toml:22: servers.e.max_sessions: -3 must not be negative`,
			}, "\n"),
		},
		{
			name: "invalid server names",
			file: "[servers.\"a.b\"]\ncommand = \"x\"\n\n[servers.\"\"]\ncommand = \"x\"\n\n[servers.\"sp ace\"]\ncommand = \"x\"\n",
			want: strings.Join([]string{
				`pctx.toml:1: servers."a.b": invalid server name "a.b": use only letters, digits, "_" and "-" (it becomes the namespace in code, and a "." would split the key)`,
				`pctx.toml:4: servers."": server name must not be empty`,
				`pctx.toml:7: servers."sp ace": invalid server name "sp ace": use only letters, digits, "_" and "-" (it becomes the namespace in code, and a "." would split the key)`,
			}, "\n"),
		},
		{
			name: "command and url: both, neither, and keys of the other kind",
			file: "[servers.both]\ncommand = \"x\"\nurl = \"https://h\"\n\n[servers.neither]\nargs = [\"a\"]\n\n" +
				"[servers.cmd]\ncommand = \"x\"\ntransport = \"sse\"\nheaders = { A = \"b\" }\n\n[servers.web]\nurl = \"https://h\"\nargs = []\nenv = {}\ncwd = \"/\"\ninherit_env = false\n",
			want: strings.Join([]string{
				`pctx.toml:1: servers.both: set either command (stdio) or url (HTTP), not both`,
				`pctx.toml:5: servers.neither: set command (a stdio server) or url (an HTTP server)`,
				`pctx.toml:10: servers.cmd.transport: applies only to url servers`,
				`pctx.toml:11: servers.cmd.headers: applies only to url servers`,
				`pctx.toml:15: servers.web.args: applies only to command servers`,
				`pctx.toml:16: servers.web.env: applies only to command servers`,
				`pctx.toml:17: servers.web.cwd: applies only to command servers`,
				`pctx.toml:18: servers.web.inherit_env: applies only to command servers`,
			}, "\n"),
		},
		{
			name: "bad urls, transport and protocol version",
			file: "[servers.a]\nurl = \"ftp://h/x\"\n[servers.b]\nurl = \"example.com/mcp\"\n[servers.c]\nurl = \"http://h x/\"\n[servers.d]\nurl = \"https:///path\"\n" +
				"[servers.e]\nurl = \"https://h\"\ntransport = \"websocket\"\nprotocol_version = \"latest\"\n[servers.f]\nurl = \"https://h\"\nprotocol_version = \"\"\n",
			want: strings.Join([]string{
				`pctx.toml:2: servers.a.url: must be an http:// or https:// URL, not ftp://`,
				`pctx.toml:4: servers.b.url: must be an http:// or https:// URL (it has no scheme)`,
				`pctx.toml:6: servers.c.url: invalid URL: invalid character " " in host name`,
				`pctx.toml:8: servers.d.url: URL has no host`,
				`pctx.toml:11: servers.e.transport: must be "streamable-http" or "sse" (or unset: try streamable HTTP, then SSE), got "websocket"`,
				`pctx.toml:12: servers.e.protocol_version: must be an MCP protocol version, a date like "2025-06-18"; got "latest"`,
				`pctx.toml:15: servers.f.protocol_version: must not be empty (leave it out for the default "2025-06-18")`,
			}, "\n"),
		},
		{
			name: "element types inside arrays and tables, all problems of one server",
			file: "[servers.x]\ncommand = \"x\"\nargs = [\"a\", 1]\nenv = { A = 1, \"B=C\" = \"x\", OK = \"y\" }\ntimeout = \"0s\"\ndisabled = \"no\"\n",
			want: strings.Join([]string{
				`pctx.toml:3: servers.x.args[1]: expected a string, got an integer (1)`,
				`pctx.toml:4: servers.x.env."B=C": invalid environment variable name (use letters, digits and _, not starting with a digit)`,
				`pctx.toml:4: servers.x.env.A: expected a string, got an integer (1)`,
				`pctx.toml:5: servers.x.timeout: duration "0s" must be positive`,
				`pctx.toml:6: servers.x.disabled: expected true or false, got a string`,
			}, "\n"),
		},
		{
			name: "header names, dotted keys and sub-tables",
			file: "[servers]\nx.url = \"http://h\"\nx.headers.\"bad header\" = \"v\"\n\n[servers.y]\nurl = \"http://h\"\n[servers.y.headers]\n\"X-Ok\" = \"1\"\n\"a:b\" = \"2\"\n",
			want: strings.Join([]string{
				`pctx.toml:3: servers.x.headers."bad header": invalid HTTP header name`,
				`pctx.toml:9: servers.y.headers."a:b": invalid HTTP header name`,
			}, "\n"),
		},
		{
			name: "server table",
			file: "name = \"\"\n[server]\nhttp = \"localhost\"\n",
			want: strings.Join([]string{
				`pctx.toml:1: name: must not be empty`,
				`pctx.toml:3: server.http: "localhost" is not a listen address: use host:port, like "127.0.0.1:8080"`,
			}, "\n"),
		},
		{
			name: "beyond loopback needs an api key, client servers too",
			file: "[server]\nhttp = \"0.0.0.0:8080\"\nallow_client_servers = true\n",
			want: `pctx.toml:2: server.http: "0.0.0.0:8080" listens beyond loopback, so server.api_key must be set`,
		},
		{
			name: "codemode naming",
			file: "[codemode]\nnaming = \"pascal\"\nnamig = \"camel\"\n",
			want: strings.Join([]string{
				`pctx.toml:2: codemode.naming: must be "registered" or "camel", got "pascal"`,
				`pctx.toml:3: codemode.namig: unknown key; did you mean "naming"?`,
			}, "\n"),
		},
		{
			name: "missing and malformed env references",
			file: "[server]\napi_key = \"${env:PCTX_TEST_UNSET_KEY}\"\n[servers.gh]\nurl = \"${env:PCTX_TEST_UNSET_URL}\"\nheaders = { Authorization = \"Bearer ${env:PCTX_TEST_TOKEN\" }\n" +
				"[servers.cmd]\ncommand = \"x\"\nargs = [\"${env:1BAD}\"]\n",
			want: strings.Join([]string{
				`pctx.toml:2: server.api_key: environment variable PCTX_TEST_UNSET_KEY is not set`,
				`pctx.toml:4: servers.gh.url: environment variable PCTX_TEST_UNSET_URL is not set`,
				`pctx.toml:5: servers.gh.headers.Authorization: unterminated "${env:" (close it with "}", or write "$${env:" for a literal "${env:")`,
				`pctx.toml:8: servers.cmd.args[0]: invalid environment variable name "1BAD" in ${env:1BAD} (use letters, digits and _, not starting with a digit)`,
			}, "\n"),
		},
		{
			name: "expanded values are validated",
			file: "[servers.gh]\nurl = \"${env:PCTX_TEST_URL}\"\n",
			env:  map[string]string{"PCTX_TEST_URL": "ftp://h"},
			want: `pctx.toml:2: servers.gh.url: must be an http:// or https:// URL, not ftp://`,
		},
		{
			name: "oauth tables",
			file: "[servers.a]\nurl = \"https://h\"\n[servers.a.oauth]\nclient_secret = \"s\"\ngrant = \"password\"\nclient_metadata_url = \"http://h/x\"\nredirect_uri = \"http://example.com/cb\"\nscopes = [\"a b\"]\nsigning_alg = \"HS256\"\nprivate_key = \"not pem\"\ntoken_endpoint_auth_method = \"magic\"\nclient_idd = \"x\"\n" +
				"[servers.b]\nurl = \"https://h\"\nheaders = { Authorization = \"Bearer x\" }\noauth = { client_id = \"c\" }\n" +
				"[servers.c]\ncommand = \"x\"\noauth = { client_id = \"c\" }\n" +
				"[servers.d]\nurl = \"https://h\"\noauth = { grant = \"client_credentials\", client_id = \"c\", token_endpoint_auth_method = \"private_key_jwt\" }\n",
			want: strings.Join([]string{
				`pctx.toml:4: servers.a.oauth.client_secret: needs client_id`,
				`pctx.toml:5: servers.a.oauth.grant: must be "authorization_code", "client_credentials" or "id_jag"; got "password"`,
				`pctx.toml:6: servers.a.oauth.client_metadata_url: must be an https:// URL with a path (the client ID metadata document)`,
				`pctx.toml:7: servers.a.oauth.redirect_uri: must be http://127.0.0.1:PORT/PATH (or localhost): pctx receives the redirect on this machine's loopback`,
				`pctx.toml:8: servers.a.oauth.scopes[0]: a scope is one non-empty token without spaces or quotes`,
				`pctx.toml:9: servers.a.oauth.signing_alg: must be "ES256" or "RS256"; got "HS256"`,
				`pctx.toml:10: servers.a.oauth.private_key: is not a PEM private key (use "${file:PATH}" to read one from a file)`,
				`pctx.toml:11: servers.a.oauth.token_endpoint_auth_method: must be one of none, client_secret_basic, client_secret_post, private_key_jwt; got "magic"`,
				`pctx.toml:12: servers.a.oauth.client_idd: unknown key; did you mean "client_id"?`,
				`pctx.toml:16: servers.b.oauth: does not apply when headers sets Authorization (pctx sends that header instead of an OAuth token); remove one of them`,
				`pctx.toml:19: servers.c.oauth: applies only to url servers`,
				`pctx.toml:22: servers.d.oauth.grant: client_credentials needs client_secret or private_key`,
				`pctx.toml:22: servers.d.oauth.token_endpoint_auth_method: private_key_jwt needs private_key`,
			}, "\n"),
		},
		{
			name: "a disabled server is still checked",
			file: "[servers.off]\nurl = \"https://h\"\ncommand = \"x\"\ndisabled = true\n",
			want: `pctx.toml:1: servers.off: set either command (stdio) or url (HTTP), not both`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			path := writeConfig(t, tt.file)
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", c)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != path {
				t.Errorf("errors.As(*Error) = %v, %+v; want an *Error naming %s", ce != nil, ce, path)
			}
		})
	}
}

func TestLoadGood(t *testing.T) {
	t.Setenv("PCTX_TEST_TOKEN", "s3cret")
	t.Setenv("PCTX_TEST_EMPTY", "")
	tests := []struct {
		name string
		file string
		want func(dir string) *Config
	}{
		{
			name: "empty file is the defaults",
			file: "",
			want: func(string) *Config {
				return &Config{Name: "pctx", Path: FileName, Server: Default().Server, Telemetry: Default().Telemetry}
			},
		},
		{
			name: "everything set",
			file: `
name = "team"
[server]
http = "0.0.0.0:9000"
api_key = "${env:PCTX_TEST_TOKEN}"
allow_client_servers = true
max_executions = 100
max_executions_per_session = 3
max_connections = 50
[runtime]
timeout = "1m30s"
max_memory = "1GiB"
max_stack_depth = 500
max_calls = 20
max_calls_in_flight = 5
max_console_bytes = 4096
max_result_bytes = "1MB"
typecheck = "warn"
tsgo = "bin/tsgo"
[codemode]
naming = "camel"
disclosure = "sidecar"
search_functions = "on"
inline_budget = "8KB"
[servers.everything]
command = "npx"
args = ["-y", "pkg", "$${env:LITERAL}", "echo ${HOME}"]
env = { LOG_LEVEL = "info", TOKEN = "${env:PCTX_TEST_TOKEN}", EMPTY = "${env:PCTX_TEST_EMPTY}" }
cwd = "sub/dir"
inherit_env = true
timeout = "5s"
protocol_version = "2025-03-26"
[servers.web]
url = "https://example.com/mcp"
transport = "sse"
headers = { Authorization = "Bearer ${env:PCTX_TEST_TOKEN}" }
disabled = true
[servers.off]
url = "${env:PCTX_TEST_UNSET_URL}"
disabled = true
[telemetry]
enabled = true
endpoint = "http://127.0.0.1:4318"
protocol = "grpc"
headers = { Authorization = "Bearer ${env:PCTX_TEST_TOKEN}" }
service_name = "agents"
metrics = false
metric_interval = "10s"
[log]
level = "debug"
format = "json"
file = "logs/pctx.log"
[ui]
enabled = true
playground = true
history = 50
`,
			want: func(dir string) *Config {
				return &Config{
					Name:     "team",
					Path:     FileName,
					Server:   Server{HTTP: "0.0.0.0:9000", APIKey: "s3cret", AllowClientServers: true, MaxExecutions: 100, MaxExecutionsPerSession: 3, MaxConnections: 50},
					Runtime:  Runtime{Timeout: 90 * time.Second, MaxMemory: 1 << 30, MaxStackDepth: 500, MaxCalls: 20, MaxCallsInFlight: 5, MaxConsoleBytes: 4096, MaxResultBytes: 1e6, Typecheck: "warn", Tsgo: "bin/tsgo"},
					CodeMode: CodeMode{Naming: NamingCamel, Disclosure: "sidecar", SearchFunctions: "on", InlineBudget: 8000},
					Servers: map[string]Upstream{
						"everything": {
							Name: "everything", Command: "npx", Args: []string{"-y", "pkg", "${env:LITERAL}", "echo ${HOME}"},
							Env: map[string]string{"LOG_LEVEL": "info", "TOKEN": "s3cret", "EMPTY": ""},
							Cwd: filepath.Join("sub", "dir"), InheritEnv: true, Timeout: 5 * time.Second, ProtocolVersion: "2025-03-26",
						},
						"web": {
							Name: "web", URL: "https://example.com/mcp", Transport: "sse",
							Headers: map[string]string{"Authorization": "Bearer s3cret"},
							Timeout: DefaultUpstreamTimeout, ProtocolVersion: DefaultProtocolVersion, Disabled: true,
						},
						"off": {
							Name: "off", URL: "${env:PCTX_TEST_UNSET_URL}",
							Timeout: DefaultUpstreamTimeout, ProtocolVersion: DefaultProtocolVersion, Disabled: true,
						},
					},
					Telemetry: Telemetry{
						Enabled: true, EnabledSet: true, Endpoint: "http://127.0.0.1:4318", Protocol: "grpc",
						Headers: map[string]string{"Authorization": "Bearer s3cret"}, ServiceName: "agents",
						Traces: true, MetricInterval: 10 * time.Second,
					},
					Log: Log{Level: "debug", Format: "json", File: filepath.Join("logs", "pctx.log")},
					UI:  UI{Enabled: true, Playground: true, History: 50},
				}
			},
		},
		{
			name: "a session-scoped server",
			file: "[server]\nmax_session_upstreams = 10\nsession_idle_timeout = \"5m\"\n[servers.browser]\ncommand = \"npx\"\nargs = [\"--user-data-dir=/tmp/pw-${session.id}\"]\nscope = \"session\"\nmax_sessions = 4\n",
			want: func(string) *Config {
				return &Config{
					Name: "pctx", Path: FileName, Server: Server{HTTP: DefaultHTTP, MaxSessionUpstreams: 10, SessionIdleTimeout: 5 * time.Minute},
					Telemetry: Default().Telemetry,
					Servers: map[string]Upstream{
						"browser": {Name: "browser", Command: "npx", Args: []string{"--user-data-dir=/tmp/pw-${session.id}"}, Scope: ScopeSession, MaxSessions: 4,
							Timeout: DefaultUpstreamTimeout, ProtocolVersion: DefaultProtocolVersion},
					},
				}
			},
		},
		{
			name: "dotted keys, sub-tables and localhost",
			file: "servers.a.command = \"x\"\n[server]\nhttp = \"localhost:0\"\n[servers.b]\nurl = \"http://127.0.0.1:3001/sse\"\n[servers.b.headers]\n\"X-Api-Key\" = \"k\"\n",
			want: func(string) *Config {
				return &Config{
					Name: "pctx", Path: FileName, Server: Server{HTTP: "localhost:0"}, Telemetry: Default().Telemetry,
					Servers: map[string]Upstream{
						"a": {Name: "a", Command: "x", Timeout: DefaultUpstreamTimeout, ProtocolVersion: DefaultProtocolVersion},
						"b": {Name: "b", URL: "http://127.0.0.1:3001/sse", Headers: map[string]string{"X-Api-Key": "k"}, Timeout: DefaultUpstreamTimeout, ProtocolVersion: DefaultProtocolVersion},
					},
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file)
			got, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			got.secrets = nil // TestLoadSecrets covers them
			if want := tt.want(filepath.Dir(path)); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadAbsoluteCwd(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "conf", "pctx.toml")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "elsewhere")
	body := "[servers.rel]\ncommand = \"x\"\ncwd = \"data\"\n[servers.abs]\ncommand = \"x\"\ncwd = " + tomlString(abs) + "\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Servers["rel"].Cwd, filepath.Join(dir, "conf", "data"); got != want {
		t.Errorf("relative cwd = %q, want %q (against the file's directory)", got, want)
	}
	if got := c.Servers["abs"].Cwd; got != abs {
		t.Errorf("absolute cwd = %q, want %q", got, abs)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // -1: an error
	}{
		{"0", 0}, {"1024", 1024}, {"1B", 1}, {"1KB", 1000}, {"1kb", 1000}, {"2MB", 2e6},
		{"1GB", 1e9}, {"1KiB", 1024}, {"256MiB", 256 << 20}, {"256 MiB", 256 << 20}, {"1gib", 1 << 30},
		{"1TiB", 1 << 40}, {"", -1}, {"MiB", -1}, {"-1MiB", -1}, {"+1", -1}, {"1.5MiB", -1},
		{"1 parsec", -1}, {"99999999999TiB", -1}, {"9223372036854775807", 1<<63 - 1},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != (tt.want < 0) || err == nil && got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestServerValidate(t *testing.T) {
	tests := []struct {
		s    Server
		want string
	}{
		{Server{HTTP: "127.0.0.1:8080"}, ""},
		{Server{HTTP: "[::1]:8080"}, ""},
		{Server{HTTP: "localhost:8080"}, ""},
		{Server{HTTP: "0.0.0.0:8080", APIKey: "k"}, ""},
		{Server{HTTP: "0.0.0.0:8080"}, `server.http: "0.0.0.0:8080" listens beyond loopback, so server.api_key must be set`},
		{Server{HTTP: ":8080"}, `server.http: ":8080" listens beyond loopback, so server.api_key must be set`},
		{Server{HTTP: "127.0.0.1:99999"}, `server.http: "127.0.0.1:99999" is not a listen address: use host:port, like "127.0.0.1:8080"`},
		{Server{HTTP: "127.0.0.1:8080", AllowClientServers: true}, ""}, // loopback: any local client may, as with the original
		{Server{HTTP: "0.0.0.0:8080", APIKey: "k", AllowClientServers: true}, ""},
		{Server{HTTP: "127.0.0.1:8080", MaxConnections: -1}, `server.max_connections: must be positive (or 0 for the default), got -1`},
	}
	for _, tt := range tests {
		err := tt.s.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%+v.Validate() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestExampleFile keeps pctx.toml.example loadable and its documented defaults true.
func TestExampleFile(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "ghp_test")
	c, err := Load(filepath.Join("..", "..", "pctx.toml.example"))
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if c.Name != d.Name || c.Server != d.Server {
		t.Errorf("example's name/[server] = %q %+v, want the defaults %q %+v", c.Name, c.Server, d.Name, d.Server)
	}
	if c.Runtime.Timeout != 30*time.Second || c.Runtime.MaxMemory != 256<<20 || c.Runtime.MaxConsoleBytes != 1<<20 {
		t.Errorf("example's [runtime] = %+v", c.Runtime)
	}
	want := map[string]string{"everything": "npx", "memory": "npx", "scratch": "npx", "github": "", "linear": "", "legacy": ""}
	if len(c.Servers) != len(want) {
		t.Errorf("servers = %v, want %v", c.Servers, want)
	}
	for name, cmd := range want {
		if s, ok := c.Servers[name]; !ok || s.Command != cmd {
			t.Errorf("servers[%q] = %+v, want command %q", name, s, cmd)
		}
	}
	if got := c.Servers["github"].Headers["Authorization"]; got != "Bearer ghp_test" {
		t.Errorf("github Authorization = %q", got)
	}
	if !c.Servers["legacy"].Disabled || c.Servers["legacy"].Transport != TransportSSE {
		t.Errorf("legacy = %+v, want a disabled SSE server", c.Servers["legacy"])
	}
	if s := c.Servers["scratch"]; s.Scope != ScopeSession || s.MaxSessions != 16 || s.Env["MEMORY_FILE_PATH"] != "/tmp/pctx-scratch-${session.id}.jsonl" {
		t.Errorf("scratch = %+v, want a session-scoped server using ${session.id}", s)
	}
}

// BenchmarkLoad measures loading the example file: parse, decode, line index, checks.
func BenchmarkLoad(b *testing.B) {
	b.Setenv("GITHUB_TOKEN", "x")
	data, err := os.ReadFile(filepath.Join("..", "..", "pctx.toml.example"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := load("pctx.toml", data, loadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
