package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/config"
)

// newGoMCPServer is an in-process MCP server (mcp-go's own) for the HTTP
// transports.
func newGoMCPServer() *mcpserver.MCPServer {
	s := mcpserver.NewMCPServer("gofake", "1", mcpserver.WithToolCapabilities(true))
	s.AddTool(mcp.NewTool("add", mcp.WithNumber("a"), mcp.WithNumber("b")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			sum := req.GetFloat("a", 0) + req.GetFloat("b", 0)
			return mcp.NewToolResultStructured(map[string]any{"sum": sum}, "sum"), nil
		})
	s.AddTool(mcp.NewTool("big", mcp.WithNumber("n")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(strings.Repeat("x", int(req.GetFloat("n", 0)))), nil
		})
	s.AddTool(mcp.NewTool("hang"),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
	s.AddTool(mcp.NewTool("fail"),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultError("it went wrong"), nil
		})
	return s
}

// httpPeer serves handler on a loopback address that can be stopped and
// started again, like a server restarting.
type httpPeer struct {
	t         *testing.T
	addr      string
	handler   http.Handler
	srv       *http.Server
	requests  atomic.Int32
	missing   atomic.Int32 // requests that lacked the configured header
	cancelled atomic.Int32 // notifications/cancelled received
}

func startHTTPPeer(t *testing.T, handler func(base string) http.Handler) *httpPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &httpPeer{t: t, addr: ln.Addr().String()}
	p.handler = handler("http://" + p.addr)
	p.serve(ln)
	t.Cleanup(p.stop)
	return p
}

func (p *httpPeer) serve(ln net.Listener) {
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		if r.Header.Get("X-Pctx-Test") != "yes" {
			p.missing.Add(1)
		}
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte(`"notifications/cancelled"`)) {
				p.cancelled.Add(1)
			}
		}
		p.handler.ServeHTTP(w, r)
	})}
	go p.srv.Serve(ln)
}

func (p *httpPeer) stop() {
	if p.srv != nil {
		p.srv.Close()
		p.srv = nil
	}
}

func (p *httpPeer) restart() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}

func httpConfig(name, url, transport string) config.Upstream {
	return config.Upstream{Name: name, URL: url, Transport: transport, Headers: map[string]string{"X-Pctx-Test": "yes"}}
}

func TestStreamableHTTP(t *testing.T) {
	mcpSrv := newGoMCPServer()
	streamable := mcpserver.NewStreamableHTTPServer(mcpSrv)
	t.Cleanup(func() { streamable.Shutdown(context.Background()) })
	peer := startHTTPPeer(t, func(string) http.Handler { return streamable })

	reg := newFakeRegistry()
	tune := testTuning
	tune.maxResultBytes = 1 << 20
	// Two servers for one URL: the second has a short per-call timeout.
	quick := httpConfig("quick", "http://"+peer.addr+"/mcp", "")
	quick.Timeout = 200 * time.Millisecond
	m, _ := startManager(t, reg, tune, httpConfig("web", "http://"+peer.addr+"/mcp", ""), quick)

	if st := statusOf(m, "web"); st.State != StateReady || st.Transport != "streamable-http" || st.Tools != 4 {
		t.Fatalf("status = %+v", st)
	}
	if got, err := reg.call(t, "web", "add", map[string]any{"a": 2.0, "b": 5.0}); err != nil || !reflect.DeepEqual(got, map[string]any{"sum": 7.0}) {
		t.Fatalf("add: %v, %v", got, err)
	}
	if _, err := reg.call(t, "web", "fail", nil); !errors.Is(err, ErrToolFailed) || err.Error() != `upstream "web": tool "fail": it went wrong` {
		t.Fatalf("fail: %v", err)
	}
	if _, err := reg.call(t, "quick", "hang", nil); !errors.Is(err, ErrTimeout) || err.Error() != `upstream "quick": tool "hang": timed out after 200ms` {
		t.Fatalf("hang: %v", err)
	}
	eventually(t, "notifications/cancelled for the timed-out call", func() bool { return peer.cancelled.Load() == 1 })
	if got, err := reg.call(t, "web", "big", map[string]any{"n": float64(1 << 19)}); err != nil || len(got.(string)) != 1<<19 {
		t.Fatalf("big under the limit: %v", err)
	}
	if _, err := reg.call(t, "web", "big", map[string]any{"n": float64(2 << 20)}); !errors.Is(err, ErrResultTooLarge) || !strings.Contains(err.Error(), `upstream "web": tool "big"`) {
		t.Fatalf("big over the limit: %v", err)
	}

	t.Run("list_changed", func(t *testing.T) {
		mcpSrv.AddTool(mcp.NewTool("added"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(`{"ok":true}`), nil
		})
		eventually(t, "the added tool", func() bool {
			ns, _ := reg.get("web")
			return len(ns.Tools) == 5
		})
		if got, err := reg.call(t, "web", "added", nil); err != nil || !reflect.DeepEqual(got, map[string]any{"ok": true}) {
			t.Fatalf("added: %v, %v", got, err)
		}
	})

	t.Run("restart", func(t *testing.T) {
		peer.stop()
		_, err := reg.call(t, "web", "add", nil)
		if err == nil || !strings.Contains(err.Error(), `upstream "web": tool "add"`) {
			t.Fatalf("call to a stopped server: %v", err)
		}
		eventually(t, "unavailable", func() bool { return statusOf(m, "web").State == StateUnavailable })
		peer.restart()
		eventually(t, "reconnected", func() bool { return statusOf(m, "web").State == StateReady })
		if got, err := reg.call(t, "web", "add", map[string]any{"a": 1.0, "b": 1.0}); err != nil || !reflect.DeepEqual(got, map[string]any{"sum": 2.0}) {
			t.Fatalf("after restart: %v, %v", got, err)
		}
	})
	if n := peer.missing.Load(); n != 0 {
		t.Errorf("%d requests without the configured header", n)
	}
}

func TestSSEFallback(t *testing.T) {
	mcpSrv := newGoMCPServer()
	var sse *mcpserver.SSEServer
	peer := startHTTPPeer(t, func(base string) http.Handler {
		sse = mcpserver.NewSSEServer(mcpSrv, mcpserver.WithBaseURL(base))
		return sse
	})
	t.Cleanup(func() { sse.Shutdown(context.Background()) })

	for _, transport := range []string{"", "sse"} {
		t.Run("transport="+transport, func(t *testing.T) {
			reg := newFakeRegistry()
			m, _ := startManager(t, reg, testTuning, httpConfig("legacy", "http://"+peer.addr+"/sse", transport))
			if st := statusOf(m, "legacy"); st.State != StateReady || st.Transport != "sse" {
				t.Fatalf("status = %+v", st)
			}
			if got, err := reg.call(t, "legacy", "add", map[string]any{"a": 2.0, "b": 2.0}); err != nil || !reflect.DeepEqual(got, map[string]any{"sum": 4.0}) {
				t.Fatalf("add: %v, %v", got, err)
			}
		})
	}
	if n := peer.missing.Load(); n != 0 {
		t.Errorf("%d requests without the configured header", n)
	}
}

func TestHTTPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	reg := newFakeRegistry()
	startManager(t, reg, testTuning, httpConfig("gone", "http://"+addr+"/mcp", ""), httpConfig("typo", "http://"+addr, "websocket"))
	ns, _ := reg.get("gone")
	if !strings.Contains(ns.Unavailable, "streamable HTTP: ") || !strings.Contains(ns.Unavailable, "; SSE: ") || !strings.Contains(ns.Unavailable, "connection refused") {
		t.Fatalf("unavailable = %q", ns.Unavailable)
	}
	if ns, _ := reg.get("typo"); ns.Unavailable != `unknown transport "websocket" (want "streamable-http" or "sse")` {
		t.Fatalf("unavailable = %q", ns.Unavailable)
	}
}

// faultyHandler breaks the tools/call of a few tool names on the wire and
// passes everything else to next.
func faultyHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		switch {
		case bytes.Contains(body, []byte(`"name":"cut"`)):
			// Half a response, then the connection drops.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"jsonrpc":"2.0","id":`)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		case bytes.Contains(body, []byte(`"name":"garbage"`)):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "this is {not json")
		case bytes.Contains(body, []byte(`"name":"wrongid"`)):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":999999,"result":{"content":[]}}`)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func TestHTTPFaults(t *testing.T) {
	mcpSrv := newGoMCPServer()
	for _, name := range []string{"cut", "garbage", "wrongid"} {
		mcpSrv.AddTool(mcp.NewTool(name), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText("unreachable"), nil
		})
	}
	streamable := mcpserver.NewStreamableHTTPServer(mcpSrv)
	t.Cleanup(func() { streamable.Shutdown(context.Background()) })
	peer := startHTTPPeer(t, func(string) http.Handler { return faultyHandler(streamable) })

	reg := newFakeRegistry()
	cfg := httpConfig("web", "http://"+peer.addr+"/mcp", "streamable-http")
	cfg.Timeout = 30 * time.Second // a hang catcher: each fault must fail its call by itself
	m, _ := startManager(t, reg, testTuning, cfg)
	for _, tool := range []string{"cut", "garbage", "wrongid"} {
		t.Run(tool, func(t *testing.T) {
			_, err := reg.call(t, "web", tool, nil)
			if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf(`upstream "web": tool %q: `, tool)) {
				t.Fatalf("err = %v", err)
			}
			t.Logf("%s: %v", tool, err)
			// Nothing else is affected.
			if got, err := reg.call(t, "web", "add", map[string]any{"a": 1.0, "b": 2.0}); err != nil || !reflect.DeepEqual(got, map[string]any{"sum": 3.0}) {
				t.Fatalf("add after %s: %v, %v", tool, got, err)
			}
		})
	}
	if st := statusOf(m, "web"); st.State != StateReady {
		t.Fatalf("status = %+v", st)
	}
}

// TestHTTPRedirects: a redirect within the server's origin is followed; one to
// another host never receives the configured headers and fails the connection
// with a reason naming it.
func TestHTTPRedirects(t *testing.T) {
	streamable := mcpserver.NewStreamableHTTPServer(newGoMCPServer())
	t.Cleanup(func() { streamable.Shutdown(context.Background()) })
	target := startHTTPPeer(t, func(string) http.Handler { return streamable })
	redirect := func(to string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/old" {
				streamable.ServeHTTP(w, r)
				return
			}
			http.Redirect(w, r, to, http.StatusTemporaryRedirect)
		})
	}
	same := startHTTPPeer(t, func(base string) http.Handler { return redirect(base + "/mcp") })
	other := startHTTPPeer(t, func(string) http.Handler { return redirect("http://" + target.addr + "/mcp") })

	reg := newFakeRegistry()
	m, _ := startManager(t, reg, testTuning,
		httpConfig("same", "http://"+same.addr+"/old", "streamable-http"),
		httpConfig("other", "http://"+other.addr+"/old", "streamable-http"))
	if st := statusOf(m, "same"); st.State != StateReady {
		t.Fatalf("same-origin redirect: status = %+v", st)
	}
	want := fmt.Sprintf("refusing redirect from http://%s to http://%s", other.addr, target.addr)
	if st := statusOf(m, "other"); st.State != StateUnavailable || !strings.Contains(st.LastError, want) {
		t.Fatalf("cross-origin redirect: status = %+v, want %q", st, want)
	}
	if n := target.requests.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}
