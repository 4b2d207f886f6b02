package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/pctxlog"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
	"github.com/pctx-dev/pctx/internal/server"
)

// disclosureService is a catalog of two namespaces for the disclosure tests: tools
// (add_numbers, positional greet) and notes (a function with no parameters).
func disclosureService(t testing.TB, opts codemode.Options) (*codemode.Service, *catalog.Catalog) {
	t.Helper()
	cat := catalog.New()
	err := cat.Put("test", catalog.Namespace{Name: "tools", Tools: []catalog.Tool{
		{Name: "add_numbers", Description: "Add two numbers together.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number","description":"First"},"b":{"type":"number"}},"required":["a","b"]}`),
			Call: func(_ context.Context, args map[string]any) (any, error) {
				return number(args["a"]) + number(args["b"]), nil
			}},
		{Name: "greet", Description: "Greet someone by name.", Params: []string{"name"},
			InputSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`),
			Call: func(_ context.Context, args map[string]any) (any, error) {
				return "Hello, " + args["name"].(string) + "!", nil
			}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = cat.Put("test2", catalog.Namespace{Name: "notes", Tools: []catalog.Tool{{Name: "count", Description: "Count the notes.",
		Call: func(context.Context, map[string]any) (any, error) { return 3, nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	opts.Executor = sandboxtest.New(t)
	return codemode.New(cat, &opts), cat
}

func connectURL(t testing.TB, url string, opts ...transport.StreamableHTTPCOption) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = "2025-06-18"
	req.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	if _, err := c.Initialize(context.Background(), req); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return c
}

func listTools(t testing.TB, c *client.Client) []mcp.Tool {
	t.Helper()
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Tools
}

func toolNames(tools []mcp.Tool) []string {
	var out []string
	for _, tool := range tools {
		out = append(out, tool.Name)
	}
	return out
}

// TestDisclosures is the acceptance test of each disclosure over MCP: tools/list offers
// the right tools, a program runs, the sidecar's direct call works, and the filesystem's
// shell finds a function by its description and reads its .d.ts.
func TestDisclosures(t *testing.T) {
	svc, _ := disclosureService(t, codemode.Options{})
	url := startHTTP(t, server.New(svc, nil)) + "/mcp"
	program := `const [s, g, n] = await Promise.all([tools.add_numbers({ a: 2, b: 3 }), tools.greet("Ada"), notes.count()]); return { s, g, n }`
	const want = `{"g":"Hello, Ada!","n":3,"s":5}`
	tests := []struct {
		disclosure string
		tools      []string
		check      func(t *testing.T, c *client.Client, tools []mcp.Tool)
	}{
		{"catalog", []string{"list_functions", "get_function_details", "execute_typescript"}, func(t *testing.T, c *client.Client, _ []mcp.Tool) {
			if text, _ := callText(t, c, "list_functions", nil); !strings.Contains(text, "add_numbers({a, b})") {
				t.Errorf("list_functions:\n%s", text)
			}
		}},
		{"filesystem", []string{"execute_bash", "execute_typescript"}, func(t *testing.T, c *client.Client, _ []mcp.Tool) {
			found, isErr := callText(t, c, "execute_bash", map[string]any{"command": `grep -i "two numbers" README.md`})
			if isErr || !strings.Contains(found, "- tools/add_numbers.d.ts `tools.add_numbers({a, b})` — Add two numbers together.") {
				t.Fatalf("grep by description: %v\n%s", isErr, found)
			}
			decl, isErr := callText(t, c, "execute_bash", map[string]any{"command": "cat tools/add_numbers.d.ts"})
			if isErr || !strings.Contains(decl, "function add_numbers(args: AddNumbersInput): Promise<any>;") || !strings.Contains(decl, "/** First */") {
				t.Errorf("cat .d.ts: %v\n%s", isErr, decl)
			}
			if out, isErr := callText(t, c, "execute_bash", map[string]any{"command": "grep -i nothing-like-this README.md"}); isErr || out != "(exit 1)" {
				t.Errorf("grep without a match: %v %q", isErr, out)
			}
			if out, isErr := callText(t, c, "execute_bash", map[string]any{"command": "rm -rf /"}); !isErr || !strings.Contains(out, "command not found") {
				t.Errorf("rm: %v %q", isErr, out)
			}
		}},
		{"sidecar", []string{"notes__count", "tools__add_numbers", "tools__greet", "execute_typescript"}, func(t *testing.T, c *client.Client, tools []mcp.Tool) {
			if in := tools[1].InputSchema; tools[1].Description != "Add two numbers together." || !slices.Equal(in.Required, []string{"a", "b"}) || in.Properties["a"] == nil {
				t.Errorf("tools__add_numbers: %q %+v", tools[1].Description, in)
			}
			// A client that ignores the instructions and calls a function's tool directly.
			if text, isErr := callText(t, c, "tools__add_numbers", map[string]any{"a": 40, "b": 2}); isErr || text != "42" {
				t.Errorf("direct call: %v %q", isErr, text)
			}
			if text, isErr := callText(t, c, "tools__greet", map[string]any{"name": "Bo"}); isErr || text != `"Hello, Bo!"` {
				t.Errorf("direct call of a positional function: %v %q", isErr, text)
			}
			if text, isErr := callText(t, c, "tools__add_numbers", map[string]any{"a": 1}); !isErr || !strings.Contains(text, "tools__add_numbers") || !strings.Contains(text, "b") {
				t.Errorf("direct call without a required argument: %v %q", isErr, text)
			}
			text, isErr := callText(t, c, "execute_typescript", map[string]any{"code": `return await invoke({ name: "tools__greet", arguments: { name: "Cy" } })`})
			if isErr || !strings.HasPrefix(text, `"Hello, Cy!"`) {
				t.Errorf("invoke: %v %q", isErr, text)
			}
		}},
		{"auto", []string{"execute_typescript"}, func(t *testing.T, _ *client.Client, tools []mcp.Tool) {
			if d := tools[0].Description; !strings.Contains(d, "namespace tools {\n  add_numbers({a: number, b: number})\n  greet(name: string)\n}") {
				t.Errorf("auto's execute_typescript lacks the inline declarations:\n%s", d)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.disclosure, func(t *testing.T) {
			c := connectURL(t, url+"?disclosure="+tt.disclosure)
			tools := listTools(t, c)
			if got := toolNames(tools); !slices.Equal(got, tt.tools) {
				t.Fatalf("tools = %v, want %v", got, tt.tools)
			}
			if text, isErr := callText(t, c, "execute_typescript", map[string]any{"code": program}); isErr || !strings.HasPrefix(text, want) {
				t.Errorf("program: %v\n%s", isErr, text)
			}
			tt.check(t, c, tools)
			// A tool of another disclosure is not offered, so not callable.
			other := "list_functions"
			if tt.disclosure == "catalog" {
				other = "execute_bash"
			}
			req := mcp.CallToolRequest{}
			req.Params.Name = other
			if _, err := c.CallTool(context.Background(), req); err == nil || !strings.Contains(err.Error(), "not found") {
				t.Errorf("calling %s: %v", other, err)
			}
		})
	}
}

// TestDisclosureChoice: the configured default, the query parameter and initialize's
// _meta, and what happens to invalid values.
func TestDisclosureChoice(t *testing.T) {
	svc, _ := disclosureService(t, codemode.Options{Disclosure: codemode.Filesystem, Search: codemode.SearchOn})
	base := startHTTP(t, server.New(svc, nil))
	if got := toolNames(listTools(t, connectURL(t, base+"/mcp"))); !slices.Equal(got, []string{"search_functions", "execute_bash", "execute_typescript"}) {
		t.Errorf("default: %v", got)
	}
	c := connectURL(t, base+"/mcp?disclosure=catalog")
	if got := toolNames(listTools(t, c)); got[0] != "search_functions" || got[1] != "list_functions" {
		t.Errorf("query parameter: %v", got)
	}
	if text, isErr := callText(t, c, "search_functions", map[string]any{"query": "sum of two numbers"}); isErr || !strings.Contains(strings.Split(text, "\n")[1], "tools.add_numbers({a, b}) // Add two numbers together.") {
		t.Errorf("search_functions: %v\n%s", isErr, text)
	}

	resp, err := http.Post(base+"/mcp?disclosure=everything", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "want one of catalog, filesystem, sidecar, auto") {
		t.Errorf("invalid query parameter: %d %s", resp.StatusCode, body)
	}

	// initialize's _meta, over raw HTTP: it wins over the query parameter.
	init := func(meta string) (int, string, string) {
		msg := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"},"_meta":` + meta + `}}`
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp?disclosure=catalog", strings.NewReader(msg))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Mcp-Session-Id"), string(b)
	}
	if _, _, answer := init(`{"pctx/disclosure":"sideways"}`); !strings.Contains(answer, `_meta \"pctx/disclosure\": disclosure \"sideways\": want one of`) {
		t.Errorf("invalid _meta: %s", answer)
	}
	status, id, answer := init(`{"pctx/disclosure":"sidecar"}`)
	if status != http.StatusOK || id == "" {
		t.Fatalf("initialize with _meta: %d %q %s", status, id, answer)
	}
	rpc := func(msg string) string {
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp?disclosure=catalog", strings.NewReader(msg))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", id)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	rpc(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if got := rpc(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`); !strings.Contains(got, `"name":"tools__add_numbers"`) || strings.Contains(got, `"name":"list_functions"`) {
		t.Errorf("tools/list of a session that chose sidecar in _meta:\n%s", got)
	}
}

// TestDisclosureStdio: over stdio, initialize's _meta chooses the one session's disclosure.
func TestDisclosureStdio(t *testing.T) {
	svc, _ := disclosureService(t, codemode.Options{})
	srv := server.New(svc, nil)
	defer srv.Close()
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"},"_meta":{"pctx/disclosure":"filesystem"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
	}, "\n") + "\n"
	r, w := io.Pipe()
	var out pctxlog.Buffer
	done := make(chan error, 1)
	go func() { done <- srv.ServeStdio(context.Background(), r, &out) }()
	if _, err := io.WriteString(w, in); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), `"id":2`) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	w.Close()
	<-done
	got := out.String()
	if !strings.Contains(got, `"name":"execute_bash"`) || strings.Contains(got, `"name":"list_functions"`) {
		t.Errorf("stdio tools/list:\n%s", got)
	}
}

// TestListChanged: a change of the catalog reaches a listening session as
// notifications/tools/list_changed, and its next tools/list shows it: auto's inline
// declarations and the sidecar's tools follow.
func TestListChanged(t *testing.T) {
	svc, cat := disclosureService(t, codemode.Options{})
	base := startHTTP(t, server.New(svc, nil))
	changed := make(chan struct{}, 16)
	//lint:ignore SA1019 a 2025-06-18 session (what clients speak today) listens on the GET stream
	c := connectURL(t, base+"/mcp?disclosure=auto", transport.WithContinuousListening())
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == string(mcp.MethodNotificationToolsListChanged) {
			changed <- struct{}{}
		}
	})
	sidecar := connectURL(t, base+"/mcp?disclosure=sidecar")
	nop := func(context.Context, map[string]any) (any, error) { return "sunny", nil }
	// The client opens its GET stream in the background, and a notification sent before
	// that is lost: change the catalog until one arrives.
	deadline := time.After(time.Minute)
	for arrived := false; !arrived; {
		if err := cat.Put("probe", catalog.Namespace{Name: "probe", Tools: []catalog.Tool{{Name: "p", Call: nop}}}); err != nil {
			t.Fatal(err)
		}
		cat.Remove("probe", "probe")
		select {
		case <-changed:
			arrived = true
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("no notifications/tools/list_changed while the catalog kept changing")
		}
	}
	for len(changed) > 0 {
		<-changed
	}
	if err := cat.Put("x", catalog.Namespace{Name: "weather", Tools: []catalog.Tool{{Name: "forecast", Description: "Tomorrow's weather.", Call: nop}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(time.Minute):
		t.Fatal("no notifications/tools/list_changed after the catalog changed")
	}
	if d := listTools(t, c)[0].Description; !strings.Contains(d, "namespace weather {\n  forecast()\n}") {
		t.Errorf("auto's declarations after the change:\n%s", d)
	}
	if got := toolNames(listTools(t, sidecar)); !slices.Contains(got, "weather__forecast") {
		t.Errorf("sidecar tools after the change: %v", got)
	}
	if text, isErr := callText(t, sidecar, "weather__forecast", nil); isErr || text != `"sunny"` {
		t.Errorf("the new function's tool: %v %q", isErr, text)
	}
	// Gone again: its tool goes too.
	cat.Remove("x", "weather")
	select {
	case <-changed:
	case <-time.After(time.Minute):
		t.Fatal("no notifications/tools/list_changed after a namespace went away")
	}
	if got := toolNames(listTools(t, sidecar)); slices.Contains(got, "weather__forecast") {
		t.Errorf("sidecar tools after the removal: %v", got)
	}
}
