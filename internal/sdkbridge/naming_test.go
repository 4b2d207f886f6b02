package sdkbridge

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
)

// namedHarness is a harness whose bridge offers every naming.
func namedHarness(t *testing.T) *harness {
	cat := catalog.New()
	return newHarnessOver(t, cat, &fakeCodeMode{cat: cat}, &Options{
		Named: func(n catalog.Naming) CodeMode { return &fakeCodeMode{cat: cat, naming: n} },
	})
}

// TestInitializeNaming: a connection may ask for a naming convention; its Code Mode
// requests then use it, while calls reach the worker by the names it registered.
func TestInitializeNaming(t *testing.T) {
	h := namedHarness(t)
	camel := dialWorker(t, h.srv.URL, echoArgs, nil)
	f := camel.request("initialize", map[string]any{"protocolVersion": "pctx/1", "naming": "camel"})
	var res struct {
		Naming string `json:"naming"`
	}
	if f.Error != nil || json.Unmarshal(f.Result, &res) != nil || res.Naming != "camel" {
		t.Fatalf("initialize: %s %+v", f.Result, f.Error)
	}
	camel.calls = make(chan toolCall, 1)
	camel.register("my_tools", "global", objectTool("add_numbers"))
	registered := connectWorker(t, h.srv.URL, nil)

	for _, tt := range []struct {
		w          *fakeWorker
		list, call string
	}{
		{camel, "namespace MyTools {\n  addNumbers()", "MyTools.addNumbers"},
		{registered, "namespace my_tools {\n  add_numbers()", "my_tools.add_numbers"},
	} {
		f := tt.w.request("list_functions", map[string]any{})
		if f.Error != nil || !strings.Contains(string(f.Result), strings.ReplaceAll(tt.list, "\n", `\n`)) {
			t.Errorf("list_functions = %s %+v, want %q", f.Result, f.Error, tt.list)
		}
		if f := tt.w.request("get_function_details", map[string]any{"functions": []string{tt.call}}); f.Error != nil {
			t.Errorf("get_function_details(%s): %+v", tt.call, f.Error)
		}
		f = tt.w.request("execute_typescript", map[string]any{"code": "call " + tt.call + " [{\"a\":1}]"})
		if f.Error != nil || strings.Contains(string(f.Result), "error") {
			t.Errorf("execute %s: %s %+v", tt.call, f.Result, f.Error)
		}
		if c := <-camel.calls; c.Namespace != "my_tools" || c.Name != "add_numbers" {
			t.Errorf("execute_tool %+v, want my_tools.add_numbers", c)
		}
	}
	if h.cat.Snapshot().Naming() != catalog.NamingRegistered || !h.has("my_tools") {
		t.Error("the catalog itself keeps the names as registered")
	}
}

func TestInitializeNamingRefused(t *testing.T) {
	for _, tt := range []struct {
		name, naming, want string
		h                  func(*testing.T) *harness
	}{
		{"unknown", "pascal", `initialize: naming: unknown naming "pascal": want "registered" or "camel"`, namedHarness},
		{"no choice offered", "camel", `initialize: naming "camel": this server offers no choice of naming`, func(t *testing.T) *harness { return newHarness(t, nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := dialWorker(t, tt.h(t).srv.URL, nil, nil)
			f := w.request("initialize", map[string]any{"protocolVersion": "pctx/1", "naming": tt.naming})
			if f.Error == nil || f.Error.Code != CodeInvalidParams || f.Error.Message != tt.want {
				t.Errorf("initialize: %+v, want -32602 %q", f.Error, tt.want)
			}
			if f := w.request("initialize", map[string]any{"protocolVersion": "pctx/1"}); f.Error != nil {
				t.Errorf("a refused initialize should leave the connection uninitialized: %+v", f.Error)
			}
		})
	}
}

// TestToolTimeouts: execute_typescript's tool_timeout_secs and tool_timeout_overrides
// bound each call, clamped to 1–600 s, in place of Options.CallTimeout.
func TestToolTimeouts(t *testing.T) {
	h := newHarness(t, nil)
	var answer atomic.Bool
	w := connectWorker(t, h.srv.URL, func(w *fakeWorker, c toolCall) {
		if answer.Load() {
			echoArgs(w, c)
		}
	})
	w.calls = make(chan toolCall, 1)
	w.register("ns", "session", objectTool("slow"))

	// 0 is clamped to 1 s; the worker never answers.
	f := w.request("execute_typescript", map[string]any{"code": `call ns.slow [{}]`, "tool_timeout_secs": 0})
	if want := "ns.slow: call timed out after 1s (the per-call limit tool_timeout_secs = 1)"; f.Error != nil || !strings.Contains(string(f.Result), want) {
		t.Errorf("execute: %s %+v, want %q", f.Result, f.Error, want)
	}
	if c := <-w.calls; c.TimeoutMs > 1000 {
		t.Errorf("execute_tool timeoutMs = %d, want at most 1000", c.TimeoutMs)
	}

	// An override of 700 s is clamped to 600 s, longer than the bridge's 60 s default.
	answer.Store(true)
	f = w.request("execute_typescript", map[string]any{"code": `call ns.slow [{}]`, "tool_timeout_secs": 1, "tool_timeout_overrides": map[string]int{"ns__slow": 700}})
	if f.Error != nil || strings.Contains(string(f.Result), "error") {
		t.Errorf("execute: %s %+v", f.Result, f.Error)
	}
	if c := <-w.calls; c.TimeoutMs <= 60_000 || c.TimeoutMs > 600_000 {
		t.Errorf("execute_tool timeoutMs = %d, want the override clamped to 600 s", c.TimeoutMs)
	}
}
