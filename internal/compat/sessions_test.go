package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/sdkbridge"
)

// TestPublishedClient replays what the published pctx-client 0.4.5 sends over /ws
// (docs/protocol.md §10): no initialize, execute_typescript with its extra params, a
// tool answered with {output}.
func TestPublishedClient(t *testing.T) {
	for _, method := range []string{"execute_typescript", "execute_code"} { // 0.4.x, 0.1.x
		t.Run(method, func(t *testing.T) {
			h := newHarness(t, nil)
			session := mustSession(t, h.compat)
			err := h.compat.AddSessionTools(session, []SessionTool{{
				Name: "get_weather", Namespace: "weather", Description: "Weather for a city.",
				InputSchema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`),
			}})
			if err != nil {
				t.Fatal(err)
			}
			w := dialClient(t, h.srv.URL, session, func(w *publishedClient, c toolCall) {
				w.answer(c.ID, map[string]any{"city": c.Args["city"], "temp": 21})
			})
			w.calls = make(chan toolCall, 1)

			code := `console.log("calling Weather.getWeather"); console.warn("careful"); return await Weather.getWeather({city: "Paris"})`
			f := w.request(method, map[string]any{"code": code,
				"disclosure": "catalog", "tool_timeout_secs": 7, "tool_timeout_overrides": map[string]any{}})
			if f.Error != nil {
				t.Fatalf("%s: %+v", method, f.Error)
			}
			var res struct {
				Success        bool
				Stdout, Stderr string
				Output         any
				Trace          struct {
					Code      string
					StartedAt struct {
						Secs int64 `json:"secs_since_epoch"`
					} `json:"started_at"`
					Events []struct {
						Type, ID string
						Outcome  struct{ Type string }
						Started  struct {
							Secs int64 `json:"secs_since_epoch"`
						} `json:"started_at"`
					}
				}
			}
			if err := json.Unmarshal(f.Result, &res); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"city": "Paris", "temp": 21.0}
			if !res.Success || !reflect.DeepEqual(res.Output, want) || res.Stdout != "calling Weather.getWeather" || res.Stderr != "careful" ||
				res.Trace.Code == "" || res.Trace.StartedAt.Secs < time.Now().Add(-time.Hour).Unix() {
				t.Errorf("result %s", f.Result)
			}
			// The trace lists the call as the original's callback_invocation event, named as
			// the client registered the tool.
			if ev := res.Trace.Events; len(ev) != 1 || ev[0].Type != "callback_invocation" || ev[0].ID != "weather.get_weather" ||
				ev[0].Outcome.Type != "success" || ev[0].Started.Secs < res.Trace.StartedAt.Secs {
				t.Errorf("trace events %+v", ev)
			}
			if c := <-w.calls; c.TimeoutMs > 7000 || c.Namespace != "weather" || c.Name != "get_weather" {
				t.Errorf("execute_tool %+v, want weather.get_weather within tool_timeout_secs", c)
			}
			if ws := h.bridge.Workers(); len(ws) != 1 || ws[0].Client != "pctx-client (compat)" {
				t.Errorf("Workers() = %+v", ws)
			}
			if h.has("weather") {
				t.Error("a session tool reached the global catalog")
			}
		})
	}
}

func TestPublishedClientFailures(t *testing.T) {
	h := newHarness(t, nil)
	session := mustSession(t, h.compat)
	if err := h.compat.AddSessionTools(session, []SessionTool{{Name: "boom", Namespace: "py"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.compat.AddSessionTools(session, []SessionTool{{Name: "", Namespace: "py"}}); err == nil || !strings.Contains(err.Error(), "name is required") {
		t.Errorf("a nameless session tool: %v", err)
	}
	if err := h.compat.AddSessionTools("nope", nil); err == nil {
		t.Error("tools for an unknown session were accepted")
	}
	// Names that would shadow a builtin are refused at registration, naming the clash,
	// not at every later request of the session.
	for _, tool := range []SessionTool{{Name: "keys", Namespace: "constructor"}, {Name: "length", Namespace: "escape"}, {Name: "toString", Namespace: "py"}} {
		err := h.compat.AddSessionTools(session, []SessionTool{tool})
		if !errors.Is(err, catalog.ErrReservedName) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tool.Namespace)) {
			t.Errorf("session tool %s.%s: %v, want the clash named", tool.Namespace, tool.Name, err)
		}
	}
	w := dialClient(t, h.srv.URL, session, func(w *publishedClient, c toolCall) {
		w.fail(c.ID, wireError{Code: -32603, Message: "Failed executing tool: division by zero"})
	})
	f := w.request("execute_typescript", map[string]any{"code": `return await Py.boom({})`})
	var res struct {
		Success bool
		Stderr  string
	}
	if err := json.Unmarshal(f.Result, &res); err != nil || res.Success || !strings.Contains(res.Stderr, "Py.boom: Failed executing tool: division by zero") {
		t.Errorf("result %s %+v", f.Result, f.Error)
	}
	if !h.compat.CloseSession(session) || h.compat.CloseSession(session) {
		t.Error("CloseSession should report the session once")
	}
	if f := w.request("execute_typescript", map[string]any{"code": `return await Py.boom({})`}); f.Error == nil || !strings.Contains(f.Error.Message, "was closed") {
		t.Errorf("execute after the session closed: %s %+v", f.Result, f.Error)
	}

	// An unknown session is refused before the upgrade.
	_, resp, err := websocket.Dial(context.Background(), strings.Replace(h.srv.URL, "http", "ws", 1)+"/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"X-Code-Mode-Session": {"nope"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown session: %v, %v; want HTTP 404", resp, err)
	}
}

func TestSessionToolLimits(t *testing.T) {
	tools := func(ns string, n int) []SessionTool {
		out := make([]SessionTool, n)
		for i := range out {
			out[i] = SessionTool{Namespace: ns, Name: fmt.Sprintf("t%d", i)}
		}
		return out
	}
	var manyNamespaces []SessionTool
	for i := range sdkbridge.MaxNamespaces + 1 {
		manyNamespaces = append(manyNamespaces, SessionTool{Namespace: fmt.Sprintf("ns%d", i), Name: "t"})
	}
	tests := []struct {
		name    string
		before  []SessionTool // registered first, must succeed
		tools   []SessionTool
		wantErr string
	}{
		{"long name", nil, []SessionTool{{Namespace: "n", Name: strings.Repeat("x", sdkbridge.MaxNameBytes+1)}}, "longer than 128 bytes"},
		{"long namespace", nil, []SessionTool{{Namespace: strings.Repeat("x", sdkbridge.MaxNameBytes+1), Name: "t"}}, "longer than 128 bytes"},
		{"too many tools at once", nil, tools("n", sdkbridge.MaxToolsPerNamespace+1), "more than the limit of 1000 tools"},
		{"too many tools in two requests", tools("n", sdkbridge.MaxToolsPerNamespace), []SessionTool{{Namespace: "n", Name: "extra"}}, "more than the limit of 1000 tools"},
		{"replacing stays within the limit", tools("n", sdkbridge.MaxToolsPerNamespace), tools("n", 3), ""},
		{"too many namespaces", nil, manyNamespaces, "more than the limit of 100 namespaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			id := mustSession(t, h.compat)
			if err := h.compat.AddSessionTools(id, tt.before); err != nil {
				t.Fatal(err)
			}
			err := h.compat.AddSessionTools(id, tt.tools)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("AddSessionTools: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("AddSessionTools: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestSessionToolsReplace: a later entry with the same namespace and name replaces the
// earlier one, within one request and across requests, keeping the first one's place.
func TestSessionToolsReplace(t *testing.T) {
	h := newHarness(t, nil)
	id := mustSession(t, h.compat)
	steps := [][]SessionTool{
		{{Namespace: "n", Name: "a", Description: "1"}, {Namespace: "n", Name: "b"}, {Namespace: "n", Name: "a", Description: "2"}},
		{{Namespace: "m", Name: "c"}, {Namespace: "n", Name: "b", Description: "3"}},
	}
	for _, s := range steps {
		if err := h.compat.AddSessionTools(id, s); err != nil {
			t.Fatal(err)
		}
	}
	got, _, _ := h.compat.sessionTools(id)
	want := []SessionTool{{Namespace: "n", Name: "a", Description: "2"}, {Namespace: "n", Name: "b", Description: "3"}, {Namespace: "m", Name: "c"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("session tools %+v, want %+v", got, want)
	}
}

func TestSessionLimit(t *testing.T) {
	h := newRESTHarness(t, nil)
	for range maxSessions {
		mustSession(t, h.compat)
	}
	if _, err := h.compat.CreateSession(); err == nil || !strings.Contains(err.Error(), "1000 code-mode sessions") {
		t.Errorf("CreateSession over the limit: %v", err)
	}
	if status, body := h.post(t, "/code-mode/session/create", nil, nil); status != http.StatusServiceUnavailable || !strings.Contains(body, "code-mode sessions") {
		t.Errorf("session/create over the limit: %d %s", status, body)
	}
}

// TestPublishedClientDisclosure: the published client sends its disclosure with each
// execution; under "sidecar" the program has invoke (the original's form, in the
// session's names) for the session's own tools too, under "catalog" and "filesystem" it
// does not, and an unknown one is refused.
func TestPublishedClientDisclosure(t *testing.T) {
	h := newHarness(t, nil)
	session := mustSession(t, h.compat)
	err := h.compat.AddSessionTools(session, []SessionTool{{Name: "add", Namespace: "tools",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`)}})
	if err != nil {
		t.Fatal(err)
	}
	w := dialClient(t, h.srv.URL, session, func(w *publishedClient, c toolCall) {
		w.answer(c.ID, c.Args["a"].(float64)+c.Args["b"].(float64))
	})
	for _, tt := range []struct{ disclosure, code, want string }{
		{"sidecar", `return await invoke({ name: "Tools__add", arguments: { a: 2, b: 3 } })`, "5"},
		{"catalog", `return typeof invoke`, `"undefined"`},
		{"filesystem", `return await Tools.add({ a: 1, b: 1 })`, "2"},
	} {
		f := w.request("execute_typescript", map[string]any{"code": tt.code, "disclosure": tt.disclosure})
		var res struct {
			Success bool
			Output  json.RawMessage
			Stderr  string
		}
		if err := json.Unmarshal(f.Result, &res); err != nil || !res.Success || string(res.Output) != tt.want {
			t.Errorf("%s: %s %+v, want output %s", tt.disclosure, f.Result, f.Error, tt.want)
		}
	}
	f := w.request("execute_typescript", map[string]any{"code": "return 1", "disclosure": "telepathy"})
	if f.Error == nil || !strings.Contains(f.Error.Message, `disclosure "telepathy": want one of catalog, filesystem, sidecar, auto`) {
		t.Errorf("unknown disclosure: %s %+v", f.Result, f.Error)
	}
}

// TestSessionToolBytesBounded: a session's tools are bounded in bytes like a worker's
// registrations, per namespace and over the session, with errors naming the limit.
func TestSessionToolBytesBounded(t *testing.T) {
	h := newHarness(t, nil)
	session := mustSession(t, h.compat)
	tool := func(ns, name string, n int) SessionTool {
		return SessionTool{Namespace: ns, Name: name, Description: strings.Repeat("d", n)}
	}
	err := h.compat.AddSessionTools(session, []SessionTool{tool("big", "f", sdkbridge.MaxNamespaceBytes/2), tool("big", "g", sdkbridge.MaxNamespaceBytes/2)})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf(`namespace "big": its names, descriptions and schemas would take %d bytes, more than the limit of %d bytes per namespace`, sdkbridge.MaxNamespaceBytes+len("bigfg"), sdkbridge.MaxNamespaceBytes)) {
		t.Fatalf("a namespace over the limit: %v", err)
	}
	per := sdkbridge.MaxNamespaceBytes - 100
	for i := range sdkbridge.MaxRegisteredBytes / sdkbridge.MaxNamespaceBytes {
		if err := h.compat.AddSessionTools(session, []SessionTool{tool(fmt.Sprintf("ns%d", i), "f", per)}); err != nil {
			t.Fatalf("namespace %d: %v", i, err)
		}
	}
	if err := h.compat.AddSessionTools(session, []SessionTool{tool("more", "f", 1000)}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than the limit of %d bytes per session", sdkbridge.MaxRegisteredBytes)) {
		t.Fatalf("a session over the limit: %v", err)
	}
	// Replacing a tool counts its new size only.
	if err := h.compat.AddSessionTools(session, []SessionTool{tool("ns0", "f", 10)}); err != nil {
		t.Fatalf("replacing a tool with a smaller one: %v", err)
	}
	if err := h.compat.AddSessionTools(session, []SessionTool{tool("more", "f", 1000)}); err != nil {
		t.Fatalf("after the replacement: %v", err)
	}
}

// TestToolTimeouts: the published client's tool_timeout_secs and tool_timeout_overrides
// bound every call of the execution, the catalog's functions as well as the session's
// tools, by the original's tool ids; the error names the function and the limit.
func TestToolTimeouts(t *testing.T) {
	h := newHarness(t, nil)
	hang := func(ctx context.Context, _ map[string]any) (any, error) { <-ctx.Done(); return nil, ctx.Err() }
	if err := h.cat.Put("go:slow_ops", catalog.Namespace{Name: "slow_ops", Tools: []catalog.Tool{{Name: "wait_long", Call: hang}}}); err != nil {
		t.Fatal(err)
	}
	session := mustSession(t, h.compat)
	if err := h.compat.AddSessionTools(session, []SessionTool{{Name: "never_answers"}}); err != nil {
		t.Fatal(err)
	}
	w := dialClient(t, h.srv.URL, session, nil) // answers no tool call
	tests := []struct {
		name   string
		code   string
		params map[string]any
		want   string
	}{
		{"a catalog function, by override", `return await SlowOps.waitLong()`, map[string]any{"tool_timeout_secs": 600, "tool_timeout_overrides": map[string]int{"slow_ops__wait_long": 1}},
			`SlowOps.waitLong: call timed out after 1s (the per-call limit tool_timeout_overrides[\"slow_ops__wait_long\"] = 1)`},
		{"a session tool, by the default", `return await Tools.neverAnswers()`, map[string]any{"tool_timeout_secs": -3},
			`Tools.neverAnswers: call timed out after 1s (the per-call limit tool_timeout_secs = 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := map[string]any{"code": tt.code}
			for k, v := range tt.params {
				params[k] = v
			}
			f := w.request("execute_typescript", params)
			if f.Error != nil || !strings.Contains(string(f.Result), `"success":false`) || !strings.Contains(string(f.Result), tt.want) {
				t.Errorf("result %s %+v, want %s", f.Result, f.Error, tt.want)
			}
		})
	}
}
