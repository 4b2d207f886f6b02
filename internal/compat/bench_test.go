package compat

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/sdkbridge"
)

// BenchmarkCompatBash is one execute-bash "cat" of a session with 500 functions, through
// the REST handler: one snapshot, one listing and the one file the command reads.
func BenchmarkCompatBash(b *testing.B) {
	h := newHarness(b, nil)
	id := mustSession(b, h.compat)
	var tools []SessionTool
	for i := range 500 {
		tools = append(tools, SessionTool{Namespace: fmt.Sprintf("ns%d", i%10), Name: fmt.Sprintf("f%d", i),
			InputSchema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)})
	}
	if err := h.compat.AddSessionTools(id, tools); err != nil {
		b.Fatal(err)
	}
	handler := h.compat.Handler()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/code-mode/execute-bash", strings.NewReader(`{"command":"cat ns3/f3.d.ts"}`))
		r.Header.Set(sdkbridge.SessionHeader, id)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "function f3(") {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// benchCatalogSize is how many global functions beside the called one the execution
// benchmarks' catalog holds: a few upstream servers' worth, so that work proportional to
// the catalog (binding, naming, copying) shows.
const benchCatalogSize = 200

// BenchmarkExecuteOneCall is one execution calling one tool once, requested over a
// websocket as the SDKs do, for each way a tool can be registered: a pctx/1 worker's
// global namespace (the baseline), a published-client session's tool (REST
// /register/tools, called over the session's websocket), and a pctx/1 worker's
// session-scoped namespace. "session-dial" opens a new websocket per execution, as the
// published client does. The catalog also holds benchCatalogSize other functions.
func BenchmarkExecuteOneCall(b *testing.B) {
	benchExecute(b, "return await %s({city: \"Paris\"})")
}

// BenchmarkExecute100Calls is one execution making 100 calls of one tool at once
// (Promise.all), for the same registrations as BenchmarkExecuteOneCall.
func BenchmarkExecute100Calls(b *testing.B) {
	benchExecute(b, "return (await Promise.all(Array.from({length: 100}, () => %s({city: \"Paris\"})))).length")
}

func benchExecute(b *testing.B, program string) {
	schema := json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","minLength":1}},"required":["city"]}`)
	answer := func(w *publishedClient, c toolCall) { w.answer(c.ID, c.Args["city"]) }
	register := func(b *testing.B, w *publishedClient, scope string) {
		f := w.request("register", map[string]any{"namespace": "weather", "scope": scope,
			"tools": []map[string]any{{"name": "get_weather", "inputSchema": schema}}})
		if f.Error != nil {
			b.Fatalf("register: %+v", f.Error)
		}
	}
	cases := []struct {
		name string
		fn   string // as the program calls it
		// setup returns the websocket of the next execution; done, if non-nil, is called
		// after it.
		setup func(b *testing.B, h *harness) (next func() *publishedClient, done func(*publishedClient))
	}{
		{"global", "weather.get_weather", func(b *testing.B, h *harness) (func() *publishedClient, func(*publishedClient)) {
			w := dialWorker(b, h.srv.URL, answer)
			register(b, w, "global")
			return func() *publishedClient { return w }, nil
		}},
		{"session", "Weather.getWeather", func(b *testing.B, h *harness) (func() *publishedClient, func(*publishedClient)) {
			id := benchSession(b, h, schema)
			w := dialClient(b, h.srv.URL, id, answer)
			return func() *publishedClient { return w }, nil
		}},
		{"session-dial", "Weather.getWeather", func(b *testing.B, h *harness) (func() *publishedClient, func(*publishedClient)) {
			id := benchSession(b, h, schema)
			return func() *publishedClient { return dialClient(b, h.srv.URL, id, answer) }, (*publishedClient).close
		}},
		{"session-pctx1", "weather.get_weather", func(b *testing.B, h *harness) (func() *publishedClient, func(*publishedClient)) {
			w := dialWorker(b, h.srv.URL, answer)
			register(b, w, "session")
			return func() *publishedClient { return w }, nil
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			h := newHarness(b, nil)
			benchCatalog(b, h.cat)
			next, done := tc.setup(b, h)
			code := fmt.Sprintf(program, tc.fn)
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				w := next()
				f := w.request("execute_typescript", map[string]any{"code": code})
				if f.Error != nil || !strings.Contains(string(f.Result), `"Paris"`) && !strings.Contains(string(f.Result), `100`) {
					b.Fatalf("execute: %s %+v", f.Result, f.Error)
				}
				if done != nil {
					done(w)
				}
			}
			// pctx's own CPU per execution (the sandbox process's is the same for all).
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// benchSession creates a published-client session holding weather.get_weather.
func benchSession(b *testing.B, h *harness, schema json.RawMessage) string {
	id := mustSession(b, h.compat)
	if err := h.compat.AddSessionTools(id, []SessionTool{{Namespace: "weather", Name: "get_weather", InputSchema: schema}}); err != nil {
		b.Fatal(err)
	}
	return id
}

// benchCatalog fills cat with benchCatalogSize functions in ten namespaces.
func benchCatalog(b *testing.B, cat *catalog.Catalog) {
	for n := range 10 {
		ns := catalog.Namespace{Name: fmt.Sprintf("server_%d", n)}
		for i := range benchCatalogSize / 10 {
			ns.Tools = append(ns.Tools, catalog.Tool{Name: fmt.Sprintf("tool-%d", i), Description: "A tool.",
				InputSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"},"limit":{"type":"integer"}},"required":["id"]}`),
				Call:        noCall})
		}
		if err := cat.Put(fmt.Sprintf("upstream:%d", n), ns); err != nil {
			b.Fatal(err)
		}
	}
}
