package hardening

import (
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
