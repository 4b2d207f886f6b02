package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// Round trips over real loopback HTTP, as an MCP client sees them. Compare
// BenchmarkHTTPUpstreamViaPctx with BenchmarkHTTPUpstreamDirect for pctx's overhead on one
// upstream call.

func benchClient(b *testing.B, url string) *client.Client {
	b.Helper()
	c, err := client.NewStreamableHttpClient(url)
	if err != nil {
		b.Fatal(err)
	}
	initialize(b, c)
	return c
}

func benchCall(b *testing.B, c *client.Client, tool string, args map[string]any, want string) {
	b.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	ctx := context.Background()
	check := func() {
		res, err := c.CallTool(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		text := res.Content[0].(mcp.TextContent).Text
		if res.IsError || !strings.Contains(text, want) {
			b.Fatalf("%s: unexpected result %q", tool, text)
		}
	}
	check() // warm up, and fail fast on a wrong result
	b.ResetTimer()
	for b.Loop() {
		check()
	}
}

func BenchmarkHTTPTrivial(b *testing.B) {
	url, _ := startPctx(b, "")
	c := benchClient(b, url+"/mcp")
	benchCall(b, c, "execute_typescript", map[string]any{"code": "return 1 + 1"}, "2")
}

func BenchmarkHTTPUpstreamViaPctx(b *testing.B) {
	upstreamURL := startEverythingHTTP(b)
	url, _ := startPctx(b, fmt.Sprintf("[servers.everything]\nurl = %q\n", upstreamURL))
	c := benchClient(b, url+"/mcp")
	benchCall(b, c, "execute_typescript", map[string]any{"code": "return await everything.get_sum({a: 2, b: 3})"}, "The sum of 2 and 3 is 5.")
}

func BenchmarkHTTPUpstreamDirect(b *testing.B) {
	c := benchClient(b, startEverythingHTTP(b))
	benchCall(b, c, "get-sum", map[string]any{"a": 2, "b": 3}, "The sum of 2 and 3 is 5.")
}
