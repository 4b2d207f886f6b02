package hardening

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
)

// TestFrontDoorWiring checks that the pctx binary puts the front door (tested in depth
// by server.TestFrontDoor) in front of both endpoints when pctx.toml sets an api_key:
// the key is required on /mcp and /ws, oversized bodies and cross-origin or rebound
// requests are refused even with the key, and a keyed client works.
func TestFrontDoorWiring(t *testing.T) {
	const key = "hardening-s3cret"
	p := startHTTP(t, "[server]\napi_key = \""+key+"\"\n")
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	big := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 5<<20) + `"}}`
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		want                     int
		wantBody                 string // a substring of the response body, when set
	}{
		{"mcp without key", "POST", "/mcp", init, nil, http.StatusUnauthorized, ""},
		{"mcp wrong key", "POST", "/mcp", init, map[string]string{"Authorization": "Bearer " + key + "x"}, http.StatusUnauthorized, ""},
		{"ws without key", "GET", "/ws", "", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, http.StatusUnauthorized, ""},
		{"mcp body over 4 MiB", "POST", "/mcp", big, map[string]string{"X-API-Key": key}, http.StatusRequestEntityTooLarge, "exceeds the 4194304-byte limit"},
		{"mcp cross-origin", "POST", "/mcp", init, map[string]string{"X-API-Key": key, "Origin": "http://evil.example"}, http.StatusForbidden, ""},
		{"mcp rebound host", "POST", "/mcp", init, map[string]string{"X-API-Key": key, "Host": "evil.example"}, http.StatusForbidden, ""},
		{"ws rebound host", "GET", "/ws", "", map[string]string{"X-API-Key": key, "Host": "evil.example"}, http.StatusForbidden, ""},
		{"health is open", "GET", "/healthz", "", nil, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), tt.method, p.url+tt.path, bytes.NewBufferString(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			for k, v := range tt.header {
				if k == "Host" {
					req.Host = v
					continue
				}
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("status %d, want %d; body %.300s", resp.StatusCode, tt.want, body)
			}
		})
	}
	http.DefaultClient.CloseIdleConnections()

	c, err := client.NewStreamableHttpClient(p.url+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}))
	if err != nil {
		t.Fatal(err)
	}
	initialize(t, c)
	if got := mustValue(t, c, "return 6 * 7"); got != "42" {
		t.Errorf("keyed client got %s, want 42", got)
	}
}
