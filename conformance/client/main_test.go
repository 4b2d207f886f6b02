package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeServer serves add_numbers over streamable HTTP, as the suite's
// tools_call server does; sum computes its answer.
func fakeServer(t *testing.T, sum func(a, b float64) float64) string {
	t.Helper()
	s := server.NewMCPServer("fake", "1.0.0", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("add_numbers",
		mcp.WithNumber("a", mcp.Required()),
		mcp.WithNumber("b", mcp.Required()),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		a, err := req.RequireFloat("a")
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		b, err := req.RequireFloat("b")
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return mcp.NewToolResultText(fmt.Sprintf("The sum of %v and %v is %v", a, b, sum(a, b))), nil
	})
	ts := httptest.NewServer(server.NewStreamableHTTPServer(s, server.WithStateLess(true)))
	t.Cleanup(ts.Close)
	return ts.URL + "/mcp"
}

func TestRun(t *testing.T) {
	add := func(a, b float64) float64 { return a + b }
	wrong := func(a, b float64) float64 { return a*b + 1 }
	// An HTTP server that is not an MCP server: both transports fail.
	notMCP := httptest.NewServer(http.NotFoundHandler())
	defer notMCP.Close()

	tests := []struct {
		name     string
		scenario string
		url      string
		wantErr  string // "" means success
	}{
		{"initialize", "initialize", fakeServer(t, add), ""},
		{"tools_call", "tools_call", fakeServer(t, add), ""},
		{"tools_call with a wrong sum", "tools_call", fakeServer(t, wrong), `does not contain "5"`},
		{"tool the server lacks", "sse-retry", fakeServer(t, add), `tool "test_reconnection" not listed`},
		{"not an MCP server", "initialize", notMCP.URL, "connect " + notMCP.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err := run(ctx, tt.scenario, tt.url, nil)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("run: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("run succeeded, want an error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("run: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
