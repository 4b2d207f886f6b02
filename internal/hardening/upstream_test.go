package hardening

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// upstreamEnv, when set, makes the test binary a fake stdio MCP upstream; its value picks
// the behaviour (see runFakeUpstream).
const upstreamEnv = "PCTX_HARDENING_UPSTREAM"

// waitingLine is what the faulty upstream's wait() writes to stderr on arrival.
const waitingLine = "hardening: wait() called"

// upstreamConfig is a [servers.NAME] table running this test binary as a fake upstream.
func upstreamConfig(name, mode, extra string) string {
	exe, err := os.Executable()
	if err != nil {
		panic(err) // the test binary always knows its own path on Linux
	}
	return fmt.Sprintf("\n[servers.%s]\ncommand = %q\nenv = { %s = %q }\n%s\n", name, exe, upstreamEnv, mode, extra)
}

// runFakeUpstream serves MCP over stdin/stdout. Modes:
//
//   - "ns": echo({value}) returns value, add({a, b}) returns a+b, big({mib}) returns about
//     mib MiB of small objects, hang() waits until the call is cancelled. The adversarial
//     corpora call ns.echo, ns.big and ns.hang.
//   - "faulty": ok() answers "fine", wait() never answers (ignores cancellation), crash()
//     kills the process in the middle of the call.
//   - "bloat": raw JSON-RPC (see runBloat), answering every call with a response over
//     pctx's 16 MiB message limit.
//   - "counter": count() returns {count, pid, args}: how many times it was called, by
//     which process, started with which arguments. State for session-scoped tests.
func runFakeUpstream(mode string) int {
	if mode == "bloat" {
		return runBloat()
	}
	s := server.NewMCPServer("hardening-fake", "1", server.WithToolCapabilities(false))
	switch mode {
	case "ns":
		s.AddTool(rawTool("echo", `{"type":"object","properties":{"value":{}},"required":["value"]}`),
			func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return jsonResult(req.GetArguments()["value"])
			})
		s.AddTool(rawTool("add", `{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`),
			func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return jsonResult(req.GetFloat("a", 0) + req.GetFloat("b", 0))
			})
		s.AddTool(rawTool("big", `{"type":"object","properties":{"mib":{"type":"number"}},"required":["mib"]}`),
			func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				// About mib MiB of small objects: [{"k":0},{"k":1},...].
				var b strings.Builder
				b.WriteByte('[')
				for i := 0; b.Len() < int(req.GetFloat("mib", 1)*(1<<20)); i++ {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, `{"k":%d}`, i)
				}
				b.WriteByte(']')
				return mcp.NewToolResultText(b.String()), nil
			})
		s.AddTool(rawTool("hang", `{"type":"object"}`),
			func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			})
	case "counter":
		var n atomic.Int64
		s.AddTool(rawTool("count", `{"type":"object"}`),
			func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return jsonResult(map[string]any{"count": n.Add(1), "pid": os.Getpid(), "args": os.Args[1:]})
			})
	case "faulty":
		s.AddTool(rawTool("ok", `{"type":"object"}`),
			func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return jsonResult("fine")
			})
		s.AddTool(rawTool("wait", `{"type":"object"}`),
			func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				fmt.Fprintln(os.Stderr, waitingLine) // pctx logs it: tests see the call arrived
				time.Sleep(time.Hour)
				return nil, nil
			})
		s.AddTool(rawTool("crash", `{"type":"object"}`),
			func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				os.Exit(3)
				return nil, nil
			})
	default:
		fmt.Fprintf(os.Stderr, "unknown fake upstream mode %q\n", mode)
		return 2
	}
	// mcp-go's stdio server registers a request's cancel func only when a worker picks
	// it up, so notifications/cancelled for a call still queued is lost and that ns.hang
	// then holds a worker until pctx restarts the child. Enough workers for every call the
	// hostile config lets be in flight keep the attacks from starving other sessions'
	// calls through this fake (a real upstream with the same flaw would stall likewise).
	if err := server.ServeStdio(s, server.WithWorkerPoolSize(100)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func rawTool(name, schema string) mcp.Tool {
	return mcp.NewToolWithRawSchema(name, "hardening fake "+name, json.RawMessage(schema))
}

func jsonResult(v any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return mcp.NewToolResultText(string(b)), nil
}

// bloatBytes is more than upstream.DefaultMaxResultBytes (16 MiB).
const bloatBytes = 17 << 20

// runBloat speaks JSON-RPC by hand so it can shape the oversized response's "id" member
// as any valid JSON may: tool "plain" writes it as "id", "escaped" as "i\u0064" (the same
// key once decoded), "duplicate" writes a decoy "id" first and the real one last (JSON
// decoders, mcp-go's included, keep the last).
func runBloat() int {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	pad := strings.Repeat("x", bloatBytes)
	for in.Scan() {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				Name            string `json:"name"`
				ProtocolVersion string `json:"protocolVersion"`
			} `json:"params"`
		}
		if json.Unmarshal(in.Bytes(), &req) != nil || len(req.ID) == 0 {
			continue // notifications
		}
		switch req.Method {
		case "initialize":
			fmt.Fprintf(out, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":%q,"capabilities":{"tools":{}},"serverInfo":{"name":"bloat","version":"1"}}}`+"\n", req.ID, req.Params.ProtocolVersion)
		case "tools/list":
			fmt.Fprintf(out, `{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"plain","inputSchema":{"type":"object"}},{"name":"escaped","inputSchema":{"type":"object"}},{"name":"duplicate","inputSchema":{"type":"object"}}]}}`+"\n", req.ID)
		case "tools/call":
			result := `"result":{"content":[{"type":"text","text":"` + pad + `"}]}`
			switch req.Params.Name {
			case "plain":
				fmt.Fprintf(out, `{"jsonrpc":"2.0",%s,"id":%s}`+"\n", result, req.ID)
			case "escaped":
				fmt.Fprintf(out, `{"jsonrpc":"2.0",%s,"i\u0064":%s}`+"\n", result, req.ID)
			case "duplicate":
				fmt.Fprintf(out, `{"id":"decoy","jsonrpc":"2.0",%s,"id":%s}`+"\n", result, req.ID)
			}
		default:
			fmt.Fprintf(out, `{"jsonrpc":"2.0","id":%s,"result":{}}`+"\n", req.ID)
		}
		if err := out.Flush(); err != nil {
			return 1
		}
	}
	return 0
}
