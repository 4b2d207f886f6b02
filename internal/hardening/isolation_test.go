package hardening

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestRegistrationHijacksRefused: through the whole server, a worker registering
// namespace "constructor" with function "keys" (which would replace Object.keys in every
// client's programs) or namespace "escape" with function "length" (which would break
// every execution) is refused with an error naming the clash, and an MCP client's
// programs see the builtins intact.
func TestRegistrationHijacksRefused(t *testing.T) {
	p := startHTTP(t, "")
	attacker := dialRawWorker(t, p)
	for _, hijack := range []struct{ ns, fn string }{{"constructor", "keys"}, {"escape", "length"}} {
		for _, scope := range []string{"global", "session"} {
			refusal := attacker.call(t, "register", map[string]any{"namespace": hijack.ns, "scope": scope, "tools": []map[string]any{positionalTool(hijack.fn, "x")}})
			want := `namespace "` + hijack.ns + `": name clashes with a JavaScript builtin: it would shadow the global "` + hijack.ns + `"`
			if refusal == nil || refusal.Code != -32602 || !strings.Contains(refusal.Message, want) {
				t.Errorf("register %s.%s (%s): %+v, want -32602 naming the clash", hijack.ns, hijack.fn, scope, refusal)
			}
		}
	}
	c := p.httpClient(t)
	if got := mustValue(t, c, `return [Object.keys({a: 1, b: 2}), escape("a b"), typeof constructor]`); got != `[["a","b"],"a%20b","function"]` {
		t.Errorf("builtins after the refused hijacks: %s", got)
	}
}

// TestFloodingWorkerBounded: a worker registering all it may (namespaces of 1,000 tools
// until the per-connection byte limit refuses it) leaves MCP clients a list_functions
// answer of bounded size that says what it left out; executions carry on.
func TestFloodingWorkerBounded(t *testing.T) {
	p := startHTTP(t, "")
	flood := dialRawWorker(t, p)
	schema := map[string]any{"type": "object", "properties": map[string]any{"owner_of_the_thing": map[string]any{"type": "string"}, "repository_name": map[string]any{"type": "string"}}}
	accepted := 0
	for i := range 100 {
		tools := make([]map[string]any, 1000)
		for j := range tools {
			tools[j] = map[string]any{"name": fmt.Sprintf("a_rather_long_function_name_%04d", j), "description": strings.Repeat("Lists things. ", 5), "inputSchema": schema}
		}
		refusal := flood.register(t, fmt.Sprintf("flood%03d", i), tools)
		if refusal != nil {
			if refusal.Code != -32602 || !strings.Contains(refusal.Message, "more than the limit of 4194304 bytes per connection") {
				t.Fatalf("refusal: %+v", refusal)
			}
			break
		}
		accepted++
	}
	if accepted == 100 {
		t.Fatal("no registration was refused")
	}
	c := p.httpClient(t)
	listing := listFunctions(t, c)
	if len(listing) > 64<<10 || !strings.Contains(listing, "listing cut at 65536 bytes") || !strings.Contains(listing, "Narrow the request") {
		t.Fatalf("listing of %d bytes after %d flooded namespaces", len(listing), accepted)
	}
	if got := mustValue(t, c, `return 6 * 7`); got != "42" {
		t.Errorf("execution after the flood: %s", got)
	}
	t.Logf("%d namespaces of 1,000 tools accepted; listing %d bytes", accepted, len(listing))
}

// TestIdleConnectionsBounded: through the pctx binary, 200 clients without the API key
// get their 401 and their connection closed at once (they used to stay open for the 60 s
// idle timeout), and [server] max_connections caps open connections: with every place
// held by an SDK websocket, a newcomer is told why it is refused.
func TestIdleConnectionsBounded(t *testing.T) {
	const key, max = "hardening-s3cret", 16
	p := startHTTP(t, fmt.Sprintf("[server]\napi_key = %q\n", key))
	addr := strings.TrimPrefix(p.url, "http://")
	const clients = 200
	var wg sync.WaitGroup
	var stayed atomic.Int32
	for range clients {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // a hang catcher: the idle timeout is 60 s
			fmt.Fprintf(c, "POST /mcp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", addr)
			r := bufio.NewReader(c)
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
			var ne net.Error
			if _, err := r.ReadByte(); err == nil || errors.As(err, &ne) && ne.Timeout() {
				stayed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := stayed.Load(); n > 0 {
		t.Errorf("%d of %d connections stayed open after their 401", n, clients)
	}

	// Every place taken by a worker's websocket: the next connection gets a 503.
	p = startHTTP(t, fmt.Sprintf("[server]\napi_key = %q\nmax_connections = %d\n", key, max))
	addr = strings.TrimPrefix(p.url, "http://")
	header := http.Header{"X-API-Key": {key}}
	for range max {
		ws, resp, err := websocket.Dial(context.Background(), "ws://"+addr+"/ws", &websocket.DialOptions{HTTPHeader: header})
		if err != nil {
			t.Fatalf("worker dial: %v", err)
		}
		if resp.Body != nil {
			resp.Body.Close()
		}
		t.Cleanup(func() { ws.CloseNow() })
	}
	req, _ := http.NewRequest("GET", p.url+"/healthz", nil)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		t.Fatalf("healthz at the cap: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), fmt.Sprintf("too many open connections (the limit is %d, [server] max_connections)", max)) {
		t.Errorf("a connection over the cap: %d %q", resp.StatusCode, body)
	}
}
