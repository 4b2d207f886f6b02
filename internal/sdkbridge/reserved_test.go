package sdkbridge

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
)

// TestReservedNamesRefused: a worker cannot hijack what every program relies on. Namespace
// "constructor" with function "keys" would replace Object.keys in every client's
// execution (and receive the objects passed to it); namespace "escape" with function
// "length" would break every execution on the server. Both are refused at registration,
// in either scope, with an error naming the clash, and other clients' programs, run in
// real sandbox workers, see the builtins intact.
func TestReservedNamesRefused(t *testing.T) {
	cat := catalog.New()
	cm := codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t)})
	h := newHarnessOver(t, cat, cm, nil)
	honest := connectWorker(t, h.srv.URL, echoArgs)
	honest.register("data", "global", positional("rows", "n"))
	attacker := connectWorker(t, h.srv.URL, echoArgs)

	tests := []struct {
		ns, fn string
		want   string // in the refusal's message
	}{
		{"constructor", "keys", `namespace "constructor": name clashes with a JavaScript builtin: it would shadow the global "constructor"`},
		{"escape", "length", `namespace "escape": name clashes with a JavaScript builtin: it would shadow the global "escape"`},
		{"hasOwnProperty", "call", `would shadow the global "hasOwnProperty"`},
		{"Object", "keys", `would shadow the global "Object"`},
		{"tools", "toString", `function "toString": name clashes with a JavaScript builtin: it would replace Object.prototype.toString`},
		{"tools", "valueOf", `function "valueOf": name clashes with a JavaScript builtin`},
	}
	for _, tt := range tests {
		for _, scope := range []string{"global", "session"} {
			t.Run(tt.ns+"."+tt.fn+"/"+scope, func(t *testing.T) {
				f := attacker.request("register", map[string]any{"namespace": tt.ns, "scope": scope, "tools": []any{objectTool(tt.fn)}})
				if f.Error == nil {
					t.Fatalf("register %s.%s (%s) accepted: %s", tt.ns, tt.fn, scope, f.Result)
				}
				if f.Error.Code != CodeInvalidParams || !strings.Contains(f.Error.Message, tt.want) || !strings.Contains(f.Error.Message, "choose another name") {
					t.Errorf("register %s.%s (%s): %+v, want code %d and %q", tt.ns, tt.fn, scope, f.Error, CodeInvalidParams, tt.want)
				}
			})
		}
	}
	if h.has("constructor") || h.has("escape") {
		t.Fatal("a refused namespace is in the catalog")
	}

	// Other clients' programs (and the attacker's own) run with the builtins intact.
	programs := []struct{ code, want string }{
		{`return Object.keys({a: 1, b: 2})`, `["a","b"]`},
		{`return escape("a b")`, `"a%20b"`},
		{`return ({}).constructor === Object && typeof constructor`, `"function"`},
		{`return await data.rows("7")`, `{"n":"7"}`},
	}
	for _, w := range []*fakeWorker{honest, attacker} {
		for _, p := range programs {
			f := w.request("execute_typescript", map[string]any{"code": p.code})
			var res struct {
				Value json.RawMessage `json:"value"`
				Error *struct{ Kind, Message string }
			}
			if f.Error != nil || json.Unmarshal(f.Result, &res) != nil || res.Error != nil || string(res.Value) != p.want {
				t.Errorf("%s: %s %+v, want the value %s", p.code, f.Result, f.Error, p.want)
			}
		}
	}
	// The attacker's session overlay holds nothing broken: its own listing still works.
	if f := attacker.request("list_functions", nil); f.Error != nil || !strings.Contains(string(f.Result), "rows(n)") {
		t.Errorf("list_functions of the refused worker: %s %+v", f.Result, f.Error)
	}
}
