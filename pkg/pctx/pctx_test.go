package pctx_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/pkg/pctx"
)

func newPCTX(t *testing.T, cfg *pctx.Config) *pctx.PCTX {
	t.Helper()
	p, err := pctx.New(context.Background(), cfg, &pctx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestRegisterAndExecute(t *testing.T) {
	p := newPCTX(t, nil)
	boom := pctx.Function{Name: "boom", Call: func(context.Context, map[string]any) (any, error) { return nil, errors.New("no disk") }}
	tests := []struct {
		name     string
		register func() error
		wantErr  string
	}{
		{"ok", func() error { return p.Register("tools", boom) }, ""},
		{"no functions", func() error { return p.Register("empty") }, "no functions"},
		{"nil call", func() error { return p.Register("x", pctx.Function{Name: "f"}) }, "Call is nil"},
	}
	for _, tt := range tests {
		err := tt.register()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: Register = %v, want error containing %q", tt.name, err, tt.wantErr)
		}
	}
	res, err := p.Execute(context.Background(), `console.log("hi"); return await tools.boom({})`)
	if err != nil {
		t.Fatal(err)
	}
	if res.Error == nil || res.Error.Kind != "runtime" || !strings.Contains(res.Error.Message, "tools.boom: no disk") || res.Calls != 1 ||
		len(res.Console) != 1 || res.Console[0].Text != "hi" || !strings.Contains(res.Text(), "no disk") {
		t.Errorf("result %+v, error %+v", res, res.Error)
	}
	list, err := p.ListFunctions("", "")
	if err != nil || !strings.Contains(list, "namespace tools") || !strings.Contains(list, "boom()") {
		t.Errorf("ListFunctions = %q, %v", list, err)
	}
	p.Unregister("tools")
	if list, _ := p.ListFunctions("", ""); strings.Contains(list, "boom") {
		t.Errorf("after Unregister: %q", list)
	}
}

func TestHandler(t *testing.T) {
	cfg := pctx.DefaultConfig()
	cfg.Server.APIKey = "k"
	cfg.UI.Enabled, cfg.UI.Playground = true, true
	p := newPCTX(t, cfg)
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	workers := httptest.NewServer(p.WorkersHandler())
	defer workers.Close()
	tests := []struct {
		name, url, key string
		want           int
	}{
		{"healthz needs no key", srv.URL + "/healthz", "", 200},
		{"mcp needs the key", srv.URL + "/mcp", "", 401},
		{"mcp with the key", srv.URL + "/mcp", "k", 200},
		{"workers handler has no mcp", workers.URL + "/mcp", "k", 404},
		{"workers handler has healthz", workers.URL + "/healthz", "", 200},
		{"the dashboard page holds no data and needs no key", srv.URL + "/ui/", "", 200},
		{"the dashboard's data needs the key", srv.URL + "/ui/api/state", "", 401},
		{"the dashboard's data with the key", srv.URL + "/ui/api/state", "k", 200},
		{"the stdio side serves the dashboard too", workers.URL + "/ui/api/state", "k", 200},
	}
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, body := http.MethodGet, ""
			if strings.HasSuffix(tt.url, "/mcp") {
				method, body = http.MethodPost, init
			}
			req, _ := http.NewRequest(method, tt.url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.want, data)
			}
			if tt.want == 200 && strings.HasSuffix(tt.url, "/mcp") && !strings.Contains(string(data), `"protocolVersion"`) {
				t.Errorf("initialize answer: %s", data)
			}
		})
	}
}

func TestNewRefusesAnOpenAddressWithoutKey(t *testing.T) {
	cfg := pctx.DefaultConfig()
	cfg.Server.HTTP = "0.0.0.0:0"
	if _, err := pctx.New(context.Background(), cfg, nil); err == nil {
		t.Error("New accepted a non-loopback listener without an api_key")
	}
}

// TestDashboardOrigin: the playground is a write, so a cross-origin page cannot run a
// program even with the user's key in hand, and a DNS-rebound Host is refused.
func TestDashboardOrigin(t *testing.T) {
	cfg := pctx.DefaultConfig()
	cfg.UI.Enabled, cfg.UI.Playground = true, true
	p := newPCTX(t, cfg)
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	tests := []struct {
		name, origin, host string
		want               int
	}{
		{"same origin", "", "", 200},
		{"cross origin", "http://evil.example", "", 403},
		{"rebound host", "", "evil.example", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ui/api/execute", strings.NewReader(`{"code":"return 1"}`))
			req.Header.Set("Content-Type", "application/json")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.want, data)
			}
		})
	}
}

// TestNamingConfig: [codemode] naming = "camel" gives every answer the original pctx's
// names; an unknown naming is refused before anything starts.
func TestNamingConfig(t *testing.T) {
	cfg := pctx.DefaultConfig()
	cfg.CodeMode.Naming = "camel"
	p := newPCTX(t, cfg)
	add := pctx.Function{Name: "add_numbers", Call: func(_ context.Context, args map[string]any) (any, error) { return len(args), nil }}
	if err := p.Register("my_tools", add); err != nil {
		t.Fatal(err)
	}
	if list, err := p.ListFunctions("", ""); err != nil || !strings.Contains(list, "namespace MyTools {\n  addNumbers()") {
		t.Errorf("ListFunctions = %q, %v", list, err)
	}
	if d, err := p.FunctionDetails("MyTools.addNumbers"); err != nil || !strings.Contains(d, "function addNumbers(") {
		t.Errorf("FunctionDetails = %q, %v", d, err)
	}
	res, err := p.Execute(context.Background(), `return await MyTools.addNumbers({x: 1})`)
	if err != nil || res.Error != nil || string(res.Value) != "1" {
		t.Errorf("Execute = %+v, %v", res, err)
	}

	cfg = pctx.DefaultConfig()
	cfg.CodeMode.Naming = "pascal"
	if _, err := pctx.New(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), `codemode.naming: unknown naming "pascal"`) {
		t.Errorf("New with naming pascal: %v", err)
	}
}
