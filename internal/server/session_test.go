package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
	"github.com/pctx-dev/pctx/internal/server"
)

// TestSessionIDs: ids are issued on initialize and validated on every later request; an
// unknown id, and one after DELETE, get 404 as the MCP spec requires.
func TestSessionIDs(t *testing.T) {
	cat := catalog.New()
	url := startHTTP(t, server.New(codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t)}), nil)) + "/mcp"
	post := func(id, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if id != "" {
			req.Header.Set("Mcp-Session-Id", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp, string(data)
	}
	const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	const list = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	resp, body := post("", initialize)
	id := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("initialize: %d %q %s", resp.StatusCode, id, body)
	}
	if resp, body := post(id, list); resp.StatusCode != 200 || !strings.Contains(body, "execute_typescript") {
		t.Fatalf("tools/list in the session: %d %s", resp.StatusCode, body)
	}
	if resp, _ := post("pctx-NOTISSUED", list); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown session id: %d, want 404", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", id)
	del, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	del.Body.Close()
	if del.StatusCode != 200 {
		t.Fatalf("DELETE: %d", del.StatusCode)
	}
	if resp, body := post(id, list); resp.StatusCode != http.StatusNotFound {
		t.Errorf("reused id after DELETE: %d %s, want 404", resp.StatusCode, body)
	}
}
