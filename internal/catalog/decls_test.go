package catalog

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDeclarationsAreTheDetails pins the one-generator rule: the type check's
// declarations of a namespace are byte for byte what get_function_details shows for all
// of its functions.
func TestDeclarationsAreTheDetails(t *testing.T) {
	fixtures, err := filepath.Glob("testdata/*.json")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	c := New()
	for _, path := range fixtures {
		mustPut(t, c, "test", loadFixture(t, path))
	}
	mustPut(t, c, "down", Namespace{Name: "down", Unavailable: "connection refused"})
	s := c.Snapshot()
	decls := s.Declarations()
	if len(decls) != len(s.spaces) {
		t.Fatalf("%d blocks for %d namespaces", len(decls), len(s.spaces))
	}
	for i, n := range s.spaces {
		if n.unavailable != "" {
			want := "/** Unavailable: connection refused */\ndeclare namespace down {}\n"
			if decls[i] != want {
				t.Errorf("unavailable block = %q, want %q", decls[i], want)
			}
			continue
		}
		var names []string
		for _, f := range n.funcs {
			names = append(names, n.name+"."+f.name)
		}
		details, err := s.Details(names)
		if err != nil {
			t.Fatal(err)
		}
		if decls[i] != details {
			t.Errorf("namespace %s: declarations differ from details:\n%s\n---\n%s", n.name, decls[i], details)
		}
	}
	if &s.Declarations()[0] != &decls[0] {
		t.Error("Declarations rebuilt for the same snapshot")
	}
	// An overlay shares its base's blocks.
	o, err := s.With(Namespace{Name: "session", Tools: []Tool{tool("f", `{"type":"object"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	od := o.Declarations()
	if len(od) != len(decls)+1 || !strings.Contains(strings.Join(od, ""), "declare namespace session {") {
		t.Fatalf("overlay declarations: %d blocks", len(od))
	}
}

func TestSignature(t *testing.T) {
	c := New()
	mustPut(t, c, "test", loadFixture(t, "testdata/server-everything.json"))
	mustPut(t, c, "test", loadFixture(t, "testdata/positional.json"))
	mustPut(t, c, "down", Namespace{Name: "down", Unavailable: "connection refused"})
	s := c.Snapshot()
	tests := []struct{ name, want string }{
		{"server_everything.get_sum", "server_everything.get_sum(args: GetSumInput): Promise<any>; interface GetSumInput { a: number; b: number; }"},
		{"server_everything.get-sum", "server_everything.get_sum(args: GetSumInput): Promise<any>; interface GetSumInput { a: number; b: number; }"},
		{"server_everything.get_env", "server_everything.get_env(args?: {}): Promise<any>;"},
		{"positional.predict_churn", "positional.predict_churn(args: { customer_id: string; threshold?: number }): Promise<any>; positional.predict_churn(customer_id: string, threshold?: number): Promise<any>;"},
		{"down.anything", "namespace down is unavailable (connection refused)"},
		{"server_everything.nope", ""},
		{"nope.nope", ""},
		{"nodot", ""},
	}
	for _, tt := range tests {
		if got := s.Signature(tt.name); got != tt.want {
			t.Errorf("Signature(%q) =\n  %q\nwant\n  %q", tt.name, got, tt.want)
		}
	}
	// A long input type leaves only the signature.
	var props []string
	for i := range 40 {
		props = append(props, `"field_`+string(rune('a'+i%26))+string(rune('a'+i/26))+`":{"type":"string"}`)
	}
	mustPut(t, c, "big", Namespace{Name: "big", Tools: []Tool{tool("wide", `{"type":"object","properties":{`+strings.Join(props, ",")+`}}`)}})
	if got := c.Snapshot().Signature("big.wide"); got != "big.wide(args?: WideInput): Promise<any>;" {
		t.Errorf("long signature = %q", got)
	}
}
