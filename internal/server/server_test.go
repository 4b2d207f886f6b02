package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"go.uber.org/goleak"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
	"github.com/pctx-dev/pctx/internal/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newService returns a codemode service with one Go-backed namespace, "math".
func newService(t testing.TB) *codemode.Service {
	t.Helper()
	cat := catalog.New()
	err := cat.Put("test", catalog.Namespace{
		Name: "math",
		Tools: []catalog.Tool{{
			Name:        "add",
			Description: "Add two numbers.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`),
			Call: func(_ context.Context, args map[string]any) (any, error) {
				return number(args["a"]) + number(args["b"]), nil
			},
		}, {
			Name:        "fail",
			Description: "Always fails.",
			Call: func(context.Context, map[string]any) (any, error) {
				return nil, errors.New("backend exploded")
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t), Disclosure: codemode.Catalog})
}

// number reads a JSON number as the runtime hands it over: int64 when integral.
func number(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

// startHTTP serves s over a loopback httptest server and returns its base URL.
func startHTTP(t testing.TB, s *server.Server) string {
	t.Helper()
	handler, closeSessions := s.HTTPHandler()
	ts := httptest.NewServer(handler)
	t.Cleanup(func() {
		_ = closeSessions(context.Background())
		ts.Close()
		s.Close()
	})
	return ts.URL
}

func connect(t testing.TB, url string, headers map[string]string) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url+"/mcp", transport.WithHTTPHeaders(headers))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = "2025-06-18"
	req.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return c
}

func callText(t testing.TB, c *client.Client, tool string, args map[string]any) (string, bool) {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	res, err := c.CallTool(context.Background(), req)
	if err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	var b strings.Builder
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func TestExactlyThreeTools(t *testing.T) {
	c := connect(t, startHTTP(t, server.New(newService(t), nil)), nil)
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.Description == "" {
			t.Errorf("tool %s has no description", tool.Name)
		}
	}
	if got, want := strings.Join(names, ","), "list_functions,get_function_details,execute_typescript"; got != want {
		t.Fatalf("tools = %s, want %s", got, want)
	}
}

func TestToolsOverHTTP(t *testing.T) {
	c := connect(t, startHTTP(t, server.New(newService(t), nil)), nil)
	tests := []struct {
		name      string
		tool      string
		args      map[string]any
		wantIn    []string
		wantError bool
	}{
		{"list", "list_functions", nil, []string{"math", "add("}, false},
		{"list by query", "list_functions", map[string]any{"query": "fails"}, []string{"fail("}, false},
		{"details", "get_function_details", map[string]any{"functions": []any{"math.add"}}, []string{"declare namespace math", "Add two numbers."}, false},
		{"details comma string", "get_function_details", map[string]any{"functions": "math.add"}, []string{"declare namespace math"}, false},
		{"details unknown", "get_function_details", map[string]any{"functions": []any{"math.ad"}}, []string{"math.add"}, true},
		{"details missing arg", "get_function_details", map[string]any{}, []string{"functions"}, true},
		{"execute", "execute_typescript", map[string]any{"code": "const s: number = await math.add({a: 2, b: 3});\nconsole.log('sum', s)\nreturn {s}"}, []string{`{"s":5}`, "sum 5", "1 call"}, false},
		{"execute error line", "execute_typescript", map[string]any{"code": "const x = 1;\n\nthrow new Error('boom')"}, []string{"line 3", "boom"}, true},
		{"execute backend error", "execute_typescript", map[string]any{"code": "return await math.fail({})"}, []string{"math.fail", "backend exploded"}, true},
		{"execute caught backend error", "execute_typescript", map[string]any{"code": "try { await math.fail({}) } catch (e) { return 'caught: ' + e.message }"}, []string{"caught: ", "backend exploded"}, false},
		{"execute missing code", "execute_typescript", map[string]any{}, []string{"code: required"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, isError := callText(t, c, tt.tool, tt.args)
			if isError != tt.wantError {
				t.Errorf("isError = %v, want %v; text:\n%s", isError, tt.wantError, text)
			}
			for _, want := range tt.wantIn {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

func TestFrontDoor(t *testing.T) {
	ws := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	url := startHTTP(t, server.New(newService(t), &server.Options{APIKey: "s3cret", Websocket: ws}))
	initBody := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		want    int
	}{
		{"health needs no key", "GET", "/healthz", nil, 200},
		{"no key", "POST", "/mcp", nil, 401},
		{"wrong key", "POST", "/mcp", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"bearer key", "POST", "/mcp", map[string]string{"Authorization": "Bearer s3cret"}, 200},
		{"x-api-key", "POST", "/mcp", map[string]string{"X-API-Key": "s3cret"}, 200},
		{"cross-origin browser", "POST", "/mcp", map[string]string{"X-API-Key": "s3cret", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"cross-origin without fetch metadata", "POST", "/mcp", map[string]string{"X-API-Key": "s3cret", "Origin": "http://evil.example"}, 403},
		{"dns rebinding host", "POST", "/mcp", map[string]string{"X-API-Key": "s3cret", "Host": "evil.example"}, 403},
		{"body too large", "POST", "/mcp", map[string]string{"X-API-Key": "s3cret", "Pad": "5MiB"}, 413},
		{"ws no key", "GET", "/ws", nil, 401},
		{"ws key", "GET", "/ws", map[string]string{"Authorization": "Bearer s3cret"}, 418},
		{"ws dns rebinding host", "GET", "/ws", map[string]string{"Authorization": "Bearer s3cret", "Host": "evil.example:8080"}, 403},
		{"ws localhost host", "GET", "/ws", map[string]string{"Authorization": "Bearer s3cret", "Host": "localhost:8080"}, 418},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := initBody
			if tt.headers["Pad"] != "" {
				body += strings.Repeat(" ", 5<<20)
			}
			req, err := http.NewRequest(tt.method, url+tt.path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			for k, v := range tt.headers {
				switch k {
				case "Host":
					req.Host = v
					continue
				case "Pad":
					continue
				}
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d; body: %s", resp.StatusCode, tt.want, got)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:1": true, "[::1]:80": true, "127.0.0.2:9": true,
		"0.0.0.0:8080": false, ":8080": false, "192.168.1.4:80": false, "example.com:80": false,
	} {
		if got := server.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestBusy: one session over its execution cap gets a clear "busy" error at once, and
// other sessions are unaffected.
func TestBusy(t *testing.T) {
	cat := catalog.New()
	entered, release := make(chan struct{}, 1), make(chan struct{})
	err := cat.Put("test", catalog.Namespace{Name: "slow", Tools: []catalog.Tool{{
		Name: "wait",
		Call: func(ctx context.Context, _ map[string]any) (any, error) {
			entered <- struct{}{}
			select {
			case <-release:
				return "done", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	url := startHTTP(t, server.New(codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t), MaxPerSession: 1}), nil))
	first, second := connect(t, url, nil), connect(t, url, nil)

	done := make(chan string, 1)
	go func() {
		// Not callText: t.Fatal must not run off the test's goroutine.
		req := mcp.CallToolRequest{}
		req.Params.Name = "execute_typescript"
		req.Params.Arguments = map[string]any{"code": "return await slow.wait({})"}
		res, err := first.CallTool(context.Background(), req)
		if err != nil {
			done <- "error: " + err.Error()
			return
		}
		done <- res.Content[0].(mcp.TextContent).Text
	}()
	select {
	case <-entered:
	case text := <-done:
		t.Fatalf("first execution ended before its call: %s", text)
	}
	text, isError := callText(t, first, "execute_typescript", map[string]any{"code": "return 1"})
	if !isError || !strings.Contains(text, "busy") {
		t.Errorf("second execution in the same session: isError=%v text=%q, want a busy error", isError, text)
	}
	text, isError = callText(t, second, "execute_typescript", map[string]any{"code": "return 2"})
	if isError || !strings.HasPrefix(text, "2\n") {
		t.Errorf("another session: isError=%v text=%q, want 2", isError, text)
	}
	close(release)
	if text := <-done; !strings.Contains(text, `"done"`) {
		t.Errorf("first execution: %q", text)
	}
}

// TestWorkersOnly: in stdio mode HTTP carries the SDK websocket and health check only.
func TestWorkersOnly(t *testing.T) {
	ws := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	compat := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	url := startHTTP(t, server.New(newService(t), &server.Options{WorkersOnly: true, Websocket: ws, Compat: compat}))
	for path, want := range map[string]int{"/mcp": 404, "/code-mode/session/create": 404, "/ws": 418, "/healthz": 200} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}
