package pctx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pctx-dev/pctx/internal/telemetry/otlpreceiver"
	"github.com/pctx-dev/pctx/pkg/pctx"
)

// The client's span: its trace must be the one pctx's spans join.
const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
	clientParent  = "00-" + clientTraceID + "-" + clientSpanID + "-01"
)

// seen collects the trace context each backend received.
type seen struct {
	mu           sync.Mutex
	upstreamHdr  []string // traceparent headers of tools/call POSTs
	upstreamMeta []string // _meta.traceparent of tools/call
	workerMeta   []string // _meta.traceparent of execute_tool
}

func (s *seen) add(list *[]string, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*list = append(*list, v)
}

// startUpstream serves one tool, echo, over streamable HTTP and records the trace
// context of its calls.
func startUpstream(t *testing.T, s *seen) string {
	up := mcpserver.NewMCPServer("up", "1", mcpserver.WithToolCapabilities(false))
	up.AddTool(mcp.NewTool("echo", mcp.WithString("text", mcp.Required())), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		tp := ""
		if req.Params.Meta != nil {
			tp, _ = req.Params.Meta.AdditionalFields["traceparent"].(string)
		}
		s.add(&s.upstreamMeta, tp)
		return mcp.NewToolResultText(req.GetString("text", "")), nil
	})
	h := mcpserver.NewStreamableHTTPServer(up)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte(`"tools/call"`)) {
				s.add(&s.upstreamHdr, r.Header.Get("traceparent"))
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

// startWorker connects a pctx/1 worker (written from docs/protocol.md) serving
// ml.predict, and records the _meta of its calls.
func startWorker(t *testing.T, base string, s *seen) {
	ctx, cancel := context.WithCancel(context.Background())
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		ws.CloseNow()
		<-done
	})
	send := func(v any) {
		data, _ := json.Marshal(v)
		if err := ws.Write(ctx, websocket.MessageText, data); err != nil && ctx.Err() == nil {
			t.Errorf("worker write: %v", err)
		}
	}
	send(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": map[string]any{"protocolVersion": "pctx/1", "client": map[string]string{"name": "test-worker", "version": "1"}}})
	send(map[string]any{"jsonrpc": "2.0", "id": 2, "method": "register", "params": map[string]any{
		"namespace": "ml", "tools": []any{map[string]any{"name": "predict", "inputSchema": map[string]any{"type": "object"}}},
	}})
	go func() {
		defer close(done)
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
				Params struct {
					Meta map[string]any `json:"_meta"`
				} `json:"params"`
			}
			if json.Unmarshal(data, &m) != nil || m.Method != "execute_tool" {
				continue
			}
			tp, _ := m.Params.Meta["traceparent"].(string)
			s.add(&s.workerMeta, tp)
			send(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": map[string]any{"value": 0.9}})
		}
	}()
}

// TestTelemetryTrace: one execution over MCP with an upstream call and an SDK call, with
// the client's traceparent, exports one trace to a real OTLP receiver (HTTP and gRPC):
// execute under the client's span, a call span per function under it, the upstream
// request under its call; the upstream and the worker receive the trace context.
func TestTelemetryTrace(t *testing.T) {
	for _, protocol := range []string{"http", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			var recv *otlpreceiver.Receiver
			endpoint := ""
			if protocol == "http" {
				r, srv := otlpreceiver.NewHTTP()
				t.Cleanup(srv.Close)
				recv, endpoint = r, srv.URL
			} else {
				r, addr, stop, err := otlpreceiver.NewGRPC()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(stop)
				recv, endpoint = r, "http://"+addr
			}
			s := &seen{}
			cfg := pctx.DefaultConfig()
			cfg.Servers = map[string]pctx.Upstream{"up": {Name: "up", URL: startUpstream(t, s), Transport: "streamable-http"}}
			cfg.Telemetry.Enabled, cfg.Telemetry.Endpoint, cfg.Telemetry.Protocol = true, endpoint, protocol
			cfg.Telemetry.ServiceName = "pctx-test"
			cfg.Telemetry.MetricInterval = 50 * time.Millisecond
			p := newPCTX(t, cfg)
			srv := httptest.NewServer(p.Handler())
			t.Cleanup(srv.Close)
			startWorker(t, srv.URL, s)
			waitFor(t, func() bool {
				l, _ := p.ListFunctions("", "")
				return strings.Contains(l, "ml") && strings.Contains(l, "echo")
			})

			structured := callExecute(t, srv.URL+"/mcp", `const a = await up.echo({text: "hi"}); const b = await ml.predict({x: 1}); return [a, b];`)
			// A periodic export while the pool is up: the one at Close sees it closed.
			waitFor(t, func() bool {
				var alive int64
				for _, pt := range recv.Points("pctx.sandbox.workers") {
					alive += pt.Value
				}
				return alive > 0
			})
			if err := p.Close(); err != nil { // flushes the exporters
				t.Fatal(err)
			}

			spans := recv.Spans()
			byName := map[string]otlpreceiver.Span{}
			for _, sp := range spans {
				if sp.TraceID != clientTraceID {
					t.Errorf("span %q in trace %s, want the client's %s", sp.Name, sp.TraceID, clientTraceID)
				}
				if sp.Service != "pctx-test" {
					t.Errorf("span %q from service %q", sp.Name, sp.Service)
				}
				byName[sp.Name] = sp
			}
			exec, echo, predict, req := byName["execute"], byName["call up.echo"], byName["call ml.predict"], byName["tools/call echo"]
			if len(spans) != 4 || exec.SpanID == "" || echo.SpanID == "" || predict.SpanID == "" || req.SpanID == "" {
				t.Fatalf("spans: %+v", spans)
			}
			checkParent(t, exec, clientSpanID)
			checkParent(t, echo, exec.SpanID)
			checkParent(t, predict, exec.SpanID)
			checkParent(t, req, echo.SpanID)
			checkAttrs(t, exec, map[string]any{"pctx.calls": int64(2)}, "pctx.session", "pctx.code.hash")
			checkAttrs(t, echo, map[string]any{"pctx.namespace": "up", "pctx.function": "echo", "pctx.backend": "upstream", "pctx.source": "up", "pctx.outcome": "ok"})
			checkAttrs(t, predict, map[string]any{"pctx.namespace": "ml", "pctx.function": "predict", "pctx.backend": "worker", "pctx.pool_member": "c1", "pctx.outcome": "ok"})
			checkAttrs(t, req, map[string]any{"mcp.method.name": "tools/call", "gen_ai.tool.name": "echo", "pctx.upstream": "up", "pctx.transport": "streamable-http"})

			s.mu.Lock()
			defer s.mu.Unlock()
			wantUp := "00-" + clientTraceID + "-" + req.SpanID + "-01"
			if len(s.upstreamHdr) != 1 || s.upstreamHdr[0] != wantUp {
				t.Errorf("upstream traceparent headers %q, want [%s]", s.upstreamHdr, wantUp)
			}
			if len(s.upstreamMeta) != 1 || s.upstreamMeta[0] != wantUp {
				t.Errorf("upstream _meta.traceparent %q, want [%s]", s.upstreamMeta, wantUp)
			}
			if want := "00-" + clientTraceID + "-" + predict.SpanID + "-01"; len(s.workerMeta) != 1 || s.workerMeta[0] != want {
				t.Errorf("worker _meta.traceparent %q, want [%s]", s.workerMeta, want)
			}

			// The client opted into the structured trace.
			tr, _ := structured["trace"].(map[string]any)
			calls, _ := tr["calls"].([]any)
			if tr["traceId"] != clientTraceID || len(calls) != 2 {
				t.Fatalf("structuredContent trace: %v", structured)
			}
			for i, want := range []string{"upstream", "worker"} {
				c := calls[i].(map[string]any)
				if c["backend"] != want || c["outcome"] != "ok" || c["startedAt"] == nil || c["endedAt"] == nil {
					t.Errorf("call %d: %v, want backend %s", i, c, want)
				}
			}

			wantMetrics := []string{"pctx.calls", "pctx.catalog.functions", "pctx.catalog.namespaces", "pctx.execution.duration", "pctx.executions",
				"pctx.workers.connected", "pctx.sandbox.workers", "pctx.sandbox.crashes"}
			got := strings.Join(recv.Metrics(), " ")
			for _, m := range wantMetrics {
				if !strings.Contains(got, m) {
					t.Errorf("metric %s not exported; got %s", m, got)
				}
			}
			// The final export, at Close, has the pool closed; no worker crashed.
			states := map[any]int64{}
			for _, pt := range recv.Points("pctx.sandbox.workers") {
				states[pt.Attributes["pctx.state"]] += pt.Value
			}
			if len(states) != 2 || states["busy"] != 0 || states["idle"] != 0 {
				t.Errorf("pctx.sandbox.workers by state at Close %v, want busy 0 and idle 0", states)
			}
			if pts := recv.Points("pctx.sandbox.crashes"); len(pts) != 1 || pts[0].Value != 0 || !pts[0].Monotonic {
				t.Errorf("pctx.sandbox.crashes %+v, want one counter point of 0", pts)
			}
		})
	}
}

func checkParent(t *testing.T, sp otlpreceiver.Span, parent string) {
	t.Helper()
	if sp.ParentSpanID != parent {
		t.Errorf("span %q has parent %s, want %s", sp.Name, sp.ParentSpanID, parent)
	}
}

func checkAttrs(t *testing.T, sp otlpreceiver.Span, want map[string]any, present ...string) {
	t.Helper()
	for k, v := range want {
		if got := sp.Attributes[k]; got != v {
			t.Errorf("span %q: %s = %v (%T), want %v", sp.Name, k, got, got, v)
		}
	}
	for _, k := range present {
		if sp.Attributes[k] == nil || sp.Attributes[k] == "" {
			t.Errorf("span %q: no %s in %v", sp.Name, k, sp.Attributes)
		}
	}
}

// callExecute runs code over MCP with the client's traceparent header and _meta asking
// for the structured trace, and returns the structuredContent.
func callExecute(t *testing.T, url, code string) map[string]any {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(map[string]string{"traceparent": clientParent}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = "2025-06-18"
	init.Params.ClientInfo = mcp.Implementation{Name: "t", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "execute_typescript"
	req.Params.Arguments = map[string]any{"code": code}
	req.Params.Meta = &mcp.Meta{AdditionalFields: map[string]any{"pctx/trace": true}}
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("execute_typescript failed: %+v", res.Content)
	}
	data, _ := json.Marshal(res.StructuredContent)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSandboxCrashMetric: a program that kills its sandbox worker (a stack overflow while
// compiling eval'd code, fatal in Go) counts one pctx.sandbox.crashes and one
// pctx.errors of kind sandbox_crashed, read through an embedder's MeterProvider.
func TestSandboxCrashMetric(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	p, err := pctx.New(context.Background(), nil, &pctx.Options{Logger: slog.New(slog.DiscardHandler), MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(); _ = mp.Shutdown(context.Background()) })
	crashes := func() (crashes, errs int64) {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				sum, ok := m.Data.(metricdata.Sum[int64])
				if !ok {
					continue
				}
				for _, dp := range sum.DataPoints {
					kind, _ := dp.Attributes.Value("error.type")
					switch {
					case m.Name == "pctx.sandbox.crashes":
						crashes += dp.Value
					case m.Name == "pctx.errors" && kind.AsString() == "sandbox_crashed":
						errs += dp.Value
					}
				}
			}
		}
		return crashes, errs
	}
	if c, e := crashes(); c != 0 || e != 0 {
		t.Fatalf("before: %d crashes, %d sandbox_crashed errors", c, e)
	}
	res, err := p.Execute(context.Background(), `return eval("(".repeat(1e6) + "1" + ")".repeat(1e6))`)
	if err != nil || res.Error == nil || res.Error.Kind != "sandbox_crashed" {
		t.Fatalf("Execute = %+v, %v; want a sandbox_crashed error", res, err)
	}
	// The pool counts the crash once the dead worker is reaped, which may be just after
	// Execute returns.
	waitFor(t, func() bool { c, _ := crashes(); return c >= 1 })
	if c, e := crashes(); c != 1 || e != 1 {
		t.Errorf("after: %d crashes, %d sandbox_crashed errors; want 1 and 1", c, e)
	}
	if res, err := p.Execute(context.Background(), `return 1`); err != nil || res.Error != nil {
		t.Errorf("after the crash: %+v, %v", res, err)
	}
}
