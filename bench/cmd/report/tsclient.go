package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mark3labs/mcp-go/client"
)

// Names of the runs that compare MCP clients.
const (
	transportTSStdio = "stdio, TypeScript SDK client"
	transportTSHTTP  = "HTTP, TypeScript SDK client"
	runPing          = "ping"
	runPingFetch     = "ping as a bare POST: Node fetch"
	runPingNodeHTTP  = "ping as a bare POST: node:http"
	runPingGoHTTP    = "ping as a bare POST: Go net/http"
)

// tsClientLatency measures ping and the trivial program from the official TypeScript MCP
// client over stdio and HTTP, and the same ping as bare HTTP POSTs from Node's fetch,
// node:http and Go: trivial − ping is pctx's own cost in either client, and the pings tell
// the clients' per-request costs apart.
func tsClientLatency(ctx context.Context, o options, c *client.Client, url string, warm, n int, add func(name, transport, program string, samples []float64), note func(string, ...any)) error {
	node, err := exec.LookPath("node")
	if err != nil {
		note("TypeScript client latency not measured: no node on PATH")
		return nil
	}
	if _, err := os.Stat(filepath.Join(o.npm, "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		note("TypeScript client latency not measured: @modelcontextprotocol/sdk is not installed in %s (make deps)", o.npm)
		return nil
	}
	script := filepath.Join(o.npm, "pctx-bench-tsclient.mjs") // beside node_modules, so its imports resolve
	src, err := assets.ReadFile("assets/tsclient.mjs")
	if err != nil {
		return err
	}
	if err := os.WriteFile(script, src, 0o644); err != nil {
		return err
	}
	run := func(mode, target string) (map[string][]float64, error) {
		cmd := exec.CommandContext(ctx, node, script, mode, target, fmt.Sprint(n), fmt.Sprint(warm))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("TypeScript client over %s: %w: %s", mode, err, tail(stderr.String(), 500))
		}
		var res map[string][]float64
		if err := json.Unmarshal(out, &res); err != nil {
			return nil, fmt.Errorf("TypeScript client over %s: %w: %s", mode, err, tail(string(out), 300))
		}
		return res, nil
	}
	st, err := run("stdio", o.bin)
	if err != nil {
		return err
	}
	add(runPing, transportTSStdio, "ping", st["ping"])
	add("trivial", transportTSStdio, progTrivial, st["trivial"])
	ht, err := run("http", url+"/mcp")
	if err != nil {
		return err
	}
	add(runPing, transportTSHTTP, "ping", ht["ping"])
	add("trivial", transportTSHTTP, progTrivial, ht["trivial"])
	add(runPingFetch, "HTTP", "ping", ht["fetchPing"])
	add(runPingNodeHTTP, "HTTP", "ping", ht["nodeHttpPing"])

	// mcp-go sends no ping on a modern connection, so its baseline is the bare POST.
	sid := c.GetSessionId()
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	s, err := timeOp(ctx, warm, n, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/mcp", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", sid)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && !strings.Contains(string(b), `"result"`) {
			err = fmt.Errorf("ping: %s", tail(string(b), 200))
		}
		return err
	})
	if err != nil {
		return err
	}
	add(runPingGoHTTP, "HTTP", "ping", s)
	return nil
}

// renderClients explains the TypeScript client's latency against mcp-go's: pctx's own
// cost (trivial − ping) in each, and the per-request cost of each HTTP client.
func renderClients(p func(string, ...any), r *Report) {
	get := func(name, transport string) float64 {
		s, ok := r.Latency.find(name, transport)
		if !ok || s.N == 0 {
			return 0
		}
		return s.P50
	}
	tsPing, tsTriv := get(runPing, transportTSHTTP), get("trivial", transportTSHTTP)
	goPing, goTriv := get(runPingGoHTTP, "HTTP"), get("trivial", "HTTP")
	stPing, stTriv := get(runPing, transportTSStdio), get("trivial", transportTSStdio)
	fetch, nodeHTTP, goHTTP := get(runPingFetch, "HTTP"), get(runPingNodeHTTP, "HTTP"), get(runPingGoHTTP, "HTTP")
	if tsPing == 0 || goPing == 0 {
		return
	}
	p("\n\n**The TypeScript client.** The trivial program costs %s ms from the TypeScript SDK over HTTP against %s ms from mcp-go (%.1f×), and %s ms over stdio. "+
		"What pctx itself spends is trivial − ping, the same request path minus the execution: %s ms from the TypeScript SDK over HTTP, %s ms from mcp-go (against a bare Go POST), %s ms over stdio. "+
		"The rest is the client's cost per HTTP request: the same ping POSTed bare costs %s ms through Node's fetch (which the SDK's transport uses), %s ms through node:http, %s ms through Go's net/http.",
		ms(tsTriv), ms(goTriv), tsTriv/goTriv, ms(stTriv), ms(tsTriv-tsPing), ms(goTriv-goPing), ms(stTriv-stPing), ms(fetch), ms(nodeHTTP), ms(goHTTP))
}
