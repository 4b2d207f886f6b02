package hardening

import (
	"fmt"
	"strings"
	"testing"
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
