package compat

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/catalog"
)

const weatherTool = `{"tools":[{"name":"get_weather","namespace":"weather","description":"Weather for a city.",
	"input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"output_schema":{"type":"string"}}]}`

func TestCompatREST(t *testing.T) {
	h := newRESTHarness(t, nil)
	if err := h.cat.Put("upstream:github", catalog.Namespace{Name: "github", Tools: []catalog.Tool{{Name: "list_issues", Description: "Lists issues.", Call: noCall}}}); err != nil {
		t.Fatal(err)
	}
	id := h.session(t)
	other := h.session(t)
	s := map[string]string{"X-Code-Mode-Session": id}
	tests := []struct {
		name       string
		path       string
		body       any
		header     map[string]string
		wantStatus int
		want       []string // substrings of the body
		unwanted   []string
	}{
		{"tools", "/register/tools", weatherTool, s, 200, []string{`"registered":1`}, nil},
		{"no session header", "/register/tools", weatherTool, nil, 400, []string{"missing x-code-mode-session header"}, nil},
		{"unknown session", "/code-mode/functions/list", nil, map[string]string{"x-code-mode-session": "nope"}, 404, []string{`unknown code-mode session \"nope\"`}, nil},
		{"bad json", "/register/tools", `{"tools":`, s, 400, []string{"register tools: the body is not the expected JSON"}, nil},
		{"tool without a name", "/register/tools", `{"tools":[{"namespace":"n"}]}`, s, 400, []string{"name is required"}, nil},
		{"tool without a namespace", "/register/tools", `{"tools":[{"name":"now_timestamp"}]}`, s, 200, []string{`"registered":1`}, nil},
		{"bad input schema", "/register/tools", `{"tools":[{"name":"x","namespace":"n","input_schema":{"type":"string"}}]}`, s, 400, []string{`inputSchema.type must be \"object\"`}, nil},
		{"list", "/code-mode/functions/list", nil, s, 200,
			[]string{`{"namespace":"Weather","name":"getWeather","description":"Weather for a city."}`, `{"namespace":"Github","name":"listIssues","description":"Lists issues."}`,
				`{"namespace":"Tools","name":"nowTimestamp","description":null}`, `"code":"namespace Github {`, `getWeather({city})`}, []string{"get_weather"}},
		{"list of another session", "/code-mode/functions/list", nil, map[string]string{"x-code-mode-session": other}, 200, []string{"listIssues"}, []string{"getWeather", "Tools"}},
		{"details", "/code-mode/functions/details", `{"functions":["Weather.getWeather"]}`, s, 200,
			[]string{`"namespace":"Weather","name":"getWeather","description":"Weather for a city."`, `"input_type":"args: GetWeatherInput"`, `"output_type":"GetWeatherOutput"`, `"types":"declare namespace Weather`}, nil},
		{"details by the names as registered", "/code-mode/functions/details", `{"functions":["weather.get_weather","github.list_issues"]}`, s, 200,
			[]string{`"namespace":"Weather","name":"getWeather"`, `"namespace":"Github","name":"listIssues","description":"Lists issues."`}, nil},
		{"details of nothing", "/code-mode/functions/details", `{"functions":[]}`, s, 400, []string{"must name at least one function"}, nil},
		{"details of an unknown function", "/code-mode/functions/details", `{"functions":["Weather.getWether"]}`, s, 400, []string{`unknown function \"Weather.getWether\" (did you mean Weather.getWeather?)`}, nil},
		{"empty server list", "/register/servers", `{"servers":[]}`, s, 200, []string{`"registered":[]`}, nil},
		{"execute-bash ls", "/code-mode/execute-bash", `{"command":"ls"}`, s, 200, []string{`{"exit_code":0,"stdout":"Github/\nREADME.md\nTools/\nWeather/\n","stderr":""}`}, nil},
		{"execute-bash cat", "/code-mode/execute-bash", `{"command":"cat Weather/getWeather.d.ts | grep function"}`, s, 200, []string{`"stdout":"  function getWeather(city: string): Promise\u003cGetWeatherOutput\u003e;\n  function getWeather(args: GetWeatherInput): Promise\u003cGetWeatherOutput\u003e;\n"`}, nil},
		{"execute-bash grep the README", "/code-mode/execute-bash", `{"command":"grep -i 'weather for a city' README.md"}`, s, 200, []string{"- Weather/getWeather.d.ts `Weather.getWeather({city})` — Weather for a city."}, nil},
		{"execute-bash of another session", "/code-mode/execute-bash", `{"command":"ls"}`, map[string]string{"x-code-mode-session": other}, 200, []string{`"stdout":"Github/\nREADME.md\n"`}, nil},
		{"unknown endpoint", "/code-mode/nope", nil, s, 404, []string{"no such endpoint"}, nil},
		{"close", "/code-mode/session/close", nil, s, 200, []string{`"success":true`}, nil},
		{"closed session", "/code-mode/functions/list", nil, s, 404, []string{"unknown code-mode session"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.post(t, tt.path, tt.body, tt.header)
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d; body %s", status, tt.wantStatus, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body %s\nlacks %s", body, w)
				}
			}
			for _, u := range tt.unwanted {
				if strings.Contains(body, u) {
					t.Errorf("body %s\nhas %s", body, u)
				}
			}
		})
	}
}

func TestCompatServersRefused(t *testing.T) {
	stdio := `{"servers":[{"name":"everything","command":"npx","args":["-y","@modelcontextprotocol/server-everything"]}]}`
	url := `{"servers":[{"name":"web","url":"http://127.0.0.1:1/mcp"}]}`
	tests := []struct {
		name   string
		opts   *Options
		body   string
		header map[string]string
		want   []string
	}{
		{"stdio, not allowed", nil, stdio, nil,
			[]string{"remote command execution", "does not set [server] allow_client_servers = true", "[servers.everything]"}},
		{"url, not allowed", nil, url, nil,
			[]string{`server \"web\" has a url`, "does not set [server] allow_client_servers = true"}},
		{"allowed, request without the key", &Options{AllowClientServers: true, APIKey: "k"}, stdio, nil,
			[]string{"remote command execution", "does not carry the server's API key"}},
		{"allowed, wrong key", &Options{AllowClientServers: true, APIKey: "k"}, stdio, map[string]string{"X-API-Key": "wrong"},
			[]string{"does not carry the server's API key"}},
		{"key but not allowed", &Options{APIKey: "k"}, stdio, map[string]string{"X-API-Key": "k"},
			[]string{"does not set [server] allow_client_servers = true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRESTHarness(t, tt.opts)
			header := map[string]string{"X-Code-Mode-Session": h.session(t)}
			for k, v := range tt.header {
				header[k] = v
			}
			status, body := h.post(t, "/register/servers", tt.body, header)
			if status != http.StatusForbidden {
				t.Errorf("status %d, want 403; body %s", status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body %s\nlacks %s", body, w)
				}
			}
		})
	}
}

// mcpPeer is an in-process streamable HTTP MCP server with one tool, add.
func mcpPeer(t *testing.T) string {
	s := mcpserver.NewMCPServer("peer", "1")
	s.AddTool(mcp.NewTool("add", mcp.WithNumber("a", mcp.Required()), mcp.WithNumber("b", mcp.Required())),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(jsonText(req.GetFloat("a", 0) + req.GetFloat("b", 0))), nil
		})
	streamable := mcpserver.NewStreamableHTTPServer(s)
	srv := httptest.NewServer(streamable)
	t.Cleanup(func() {
		srv.Close()
		_ = streamable.Shutdown(context.Background())
	})
	return srv.URL + "/mcp"
}

// TestServersRefusedBeyondLoopback: without an API key, only requests from this machine
// to a loopback address may register servers.
func TestServersRefusedBeyondLoopback(t *testing.T) {
	tests := []struct {
		name          string
		opts          Options
		remote, local string
		header        map[string]string
		want          string // "" means accepted
	}{
		{"loopback, no key", Options{AllowClientServers: true}, "127.0.0.1:5000", "127.0.0.1:8080", nil, ""},
		{"ipv6 loopback, no key", Options{AllowClientServers: true}, "[::1]:5000", "[::1]:8080", nil, ""},
		{"remote client, no key", Options{AllowClientServers: true}, "192.0.2.7:5000", "0.0.0.0:8080", nil, "did not come over loopback"},
		{"local client to a public address, no key", Options{AllowClientServers: true}, "127.0.0.1:5000", "192.0.2.1:8080", nil, "did not come over loopback"},
		{"remote client with the key", Options{AllowClientServers: true, APIKey: "k"}, "192.0.2.7:5000", "192.0.2.1:8080", map[string]string{"X-API-Key": "k"}, ""},
		{"loopback without the key", Options{AllowClientServers: true, APIKey: "k"}, "127.0.0.1:5000", "127.0.0.1:8080", nil, "does not carry the server's API key"},
		{"not allowed", Options{}, "127.0.0.1:5000", "127.0.0.1:8080", nil, "does not set [server] allow_client_servers = true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/register/servers", nil)
			r.RemoteAddr = tt.remote
			local, err := net.ResolveTCPAddr("tcp", tt.local)
			if err != nil {
				t.Fatal(err)
			}
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			got := New(nil, &tt.opts).serversRefused(r)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("serversRefused = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCompatServersAllowed(t *testing.T) {
	t.Run("with a key", func(t *testing.T) { testServersAllowed(t, "k") })
	t.Run("on loopback without a key", func(t *testing.T) { testServersAllowed(t, "") })
}

func testServersAllowed(t *testing.T, key string) {
	h := newRESTHarness(t, &Options{AllowClientServers: true, APIKey: key})
	id := h.session(t)
	auth := map[string]string{"X-Code-Mode-Session": id}
	if key != "" {
		auth["Authorization"] = "Bearer " + key
	}
	tests := []struct {
		name       string
		body       string
		wantStatus int
		want       string
	}{
		{"bad name", `{"servers":[{"name":"a.b","url":"http://x"}]}`, 400, `server name \"a.b\"`},
		{"url and command", `{"servers":[{"name":"x","url":"http://x","command":"y"}]}`, 400, "exactly one of url and command"},
		{"bad auth", `{"servers":[{"name":"x","url":"http://x","auth":{"type":"basic"}}]}`, 400, `auth.type \"basic\"`},
		{"unreachable", `{"servers":[{"name":"gone","url":"http://127.0.0.1:1/mcp"}]}`, 502, `server \"gone\" did not start`},
		{"listed twice", `{"servers":[{"name":"x","url":"http://x"},{"name":"x","url":"http://y"}]}`, 400, `server \"x\" is listed twice`},
		{"one of two fails", `{"servers":[{"name":"half","url":"` + mcpPeer(t) + `"},{"name":"gone","url":"http://127.0.0.1:1/mcp"}]}`, 502, `server \"gone\" did not start`},
		{"url", `{"servers":[{"name":"calc","url":"` + mcpPeer(t) + `","auth":{"type":"bearer","token":"t"}}]}`, 200, `"registered":["calc"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.post(t, "/register/servers", tt.body, auth)
			if status != tt.wantStatus || !strings.Contains(body, tt.want) {
				t.Errorf("= %d %s; want %d and %s", status, body, tt.wantStatus, tt.want)
			}
		})
	}
	// The server is session-scoped: listed for this session, absent from the catalog. A
	// request where one server failed published none.
	if _, body := h.post(t, "/code-mode/functions/list", nil, auth); !strings.Contains(body, `"namespace":"Calc","name":"add"`) || strings.Contains(body, `"Half"`) {
		t.Errorf("session listing lacks calc.add or has half.add: %s", body)
	}
	if h.has("calc") {
		t.Error("a session's server reached the catalog")
	}
	// Its tools are callable from the session's executions.
	w := dialClient(t, h.srv.URL, id, nil)
	f := w.request("execute_code", map[string]any{"code": `return await Calc.add({a: 2, b: 3})`})
	if f.Error != nil || !strings.Contains(string(f.Result), `"output":5`) {
		t.Errorf("execute: %s %+v", f.Result, f.Error)
	}
	// Closing the session stops its server.
	if status, body := h.post(t, "/code-mode/session/close", nil, auth); status != 200 {
		t.Fatalf("close: %d %s", status, body)
	}
}

func TestIdleSessionsEnd(t *testing.T) {
	h := newRESTHarness(t, &Options{SessionIdleTTL: time.Minute})
	var mu sync.Mutex
	now := time.Now()
	h.compat.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
	idle, used, open := h.session(t), h.session(t), h.session(t)
	dialClient(t, h.srv.URL, open, nil) // an execution in progress
	advance(50 * time.Second)
	if status, body := h.post(t, "/code-mode/functions/list", nil, map[string]string{"x-code-mode-session": used}); status != 200 {
		t.Fatalf("list: %d %s", status, body)
	}
	advance(20 * time.Second) // idle: 70 s; used: 20 s; open: 70 s with a connection
	h.session(t)              // creating a session sweeps the idle ones
	for _, tt := range []struct {
		id   string
		want int
	}{{idle, 404}, {used, 200}, {open, 200}} {
		if status, body := h.post(t, "/code-mode/functions/list", nil, map[string]string{"x-code-mode-session": tt.id}); status != tt.want {
			t.Errorf("session %s: %d %s, want %d", tt.id, status, body, tt.want)
		}
	}
}

// TestCompatOneSnapshot: every REST answer derives from one catalog snapshot, however many
// functions there are (its parts agree, and a request costs one overlay, not one per
// function).
func TestCompatOneSnapshot(t *testing.T) {
	h := newRESTHarness(t, nil)
	if err := h.cat.Put("upstream:github", catalog.Namespace{Name: "github", Tools: []catalog.Tool{{Name: "list_issues", Call: noCall}}}); err != nil {
		t.Fatal(err)
	}
	id := h.session(t)
	var tools []SessionTool
	for i := range 20 {
		tools = append(tools, SessionTool{Namespace: "weather", Name: fmt.Sprintf("f%d", i), Description: "Weather."})
	}
	if err := h.compat.AddSessionTools(id, tools); err != nil {
		t.Fatal(err)
	}
	s := map[string]string{"X-Code-Mode-Session": id}
	cm := h.cm
	tests := []struct {
		name, path string
		body       any
		want       string
	}{
		{"list", "/code-mode/functions/list", nil, `{"namespace":"Weather","name":"f7","description":"Weather."}`},
		{"details", "/code-mode/functions/details", `{"functions":["Weather.f1","Weather.f2","github.list_issues"]}`, `"name":"listIssues","description":null`},
		{"bash cat", "/code-mode/execute-bash", `{"command":"cat Weather/f3.d.ts"}`, `function f3(`},
		{"bash grep -r", "/code-mode/execute-bash", `{"command":"grep -rl function ."}`, `./Weather/f19.d.ts`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cm.snapshots.Load()
			status, body := h.post(t, tt.path, tt.body, s)
			if status != 200 || !strings.Contains(body, tt.want) {
				t.Errorf("= %d %s; want 200 and %s", status, body, tt.want)
			}
			if n := cm.snapshots.Load() - before; n != 1 {
				t.Errorf("%d snapshots taken, want 1", n)
			}
		})
	}
}
