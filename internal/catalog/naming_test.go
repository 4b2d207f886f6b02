package catalog

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestCaseConversion(t *testing.T) {
	tests := []struct{ in, namespace, function string }{
		{"tools", "Tools", "tools"},
		{"test_http_mcp", "TestHttpMcp", "testHttpMcp"},
		{"add_numbers", "AddNumbers", "addNumbers"},
		{"fetch_data", "FetchData", "fetchData"},
		{"get-sum", "GetSum", "getSum"},
		{"getTinyImage", "GetTinyImage", "getTinyImage"},
		{"HTTPServer", "HttpServer", "httpServer"},
		{"namespaced_with_underscore", "NamespacedWithUnderscore", "namespacedWithUnderscore"},
		{"foo_bar", "FooBar", "fooBar"},
		{"ECHO", "Echo", "echo"},
		{"v2Api", "V2Api", "v2Api"},
		{"A2Bc", "A2Bc", "a2Bc"},
		{"_private", "_Private", "_private"},
		{"trailing_", "Trailing_", "trailing_"},
		{"a b.c", "ABC", "aBC"},
		{"123abc", "_123abc", "_123abc"},
		{"delete", "Delete", "delete_"},
		{"math", "Math_", "math"},
		{"console", "Console", "console"},
		{"to_string", "ToString", "toString_"}, // would replace Object.prototype.toString
		{"value-of", "ValueOf", "valueOf_"},
		{"---", "_", "_"},
		{"", "_", "_"},
		{"café_au_lait", "Caf_AuLait", "caf_AuLait"},
	}
	for _, tt := range tests {
		if got := pascalNamespace(tt.in); got != tt.namespace {
			t.Errorf("pascalNamespace(%q) = %q, want %q", tt.in, got, tt.namespace)
		}
		if got := camelIdent(tt.in); got != tt.function {
			t.Errorf("camelIdent(%q) = %q, want %q", tt.in, got, tt.function)
		}
	}
}

func TestParseNaming(t *testing.T) {
	for _, n := range []Naming{NamingRegistered, NamingCamel} {
		got, err := ParseNaming(n.String())
		if err != nil || got != n {
			t.Errorf("ParseNaming(%q) = %v, %v", n.String(), got, err)
		}
	}
	if n, err := ParseNaming(""); err != nil || n != NamingRegistered {
		t.Errorf(`ParseNaming("") = %v, %v`, n, err)
	}
	if _, err := ParseNaming("pascal"); err == nil || !strings.Contains(err.Error(), `"registered" or "camel"`) {
		t.Errorf(`ParseNaming("pascal") = %v, want an error naming the choices`, err)
	}
}

// calls records the (namespace, tool) pairs a backend was called with.
type calls struct{ got [][2]string }

func (c *calls) tool(ns, name, schema, desc string) Tool {
	t := Tool{Name: name, Description: desc, Call: func(_ context.Context, args map[string]any) (any, error) {
		c.got = append(c.got, [2]string{ns, name})
		return args, nil
	}}
	if schema != "" {
		t.InputSchema = json.RawMessage(schema)
	}
	return t
}

// publishedSession is what a published-client session sees: its own tools in namespace
// "tools" (the client's default) and "namespaced_with_underscore", over a catalog with an
// upstream "test_http_mcp".
func publishedSession(t *testing.T, c *calls) *Snapshot {
	t.Helper()
	cat := New()
	mustPut(t, cat, "upstream:test_http_mcp", Namespace{Name: "test_http_mcp", Tools: []Tool{
		c.tool("test_http_mcp", "subtract", `{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"]}`, "Subtract b from a."),
	}})
	snap, err := cat.Snapshot().With(
		Namespace{Name: "tools", Tools: []Tool{
			c.tool("tools", "add_numbers", `{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"]}`, "Add two numbers."),
			c.tool("tools", "greet", `{"type":"object","properties":{"name":{"type":"string"},"greeting":{"type":"string","default":"Hello"}},"required":["name"]}`, "Greet someone."),
			c.tool("tools", "now_timestamp", `{"type":"object","properties":{}}`, "The time now."),
			c.tool("tools", "search_logs", `{"type":"object","properties":{"query":{"type":"string","default":""},"level":{"type":"string","default":"info"},"limit":{"type":"integer","default":100}}}`, "Search the logs."),
		}},
		Namespace{Name: "namespaced_with_underscore", Tools: []Tool{c.tool("namespaced_with_underscore", "foo_bar", "", "Foo a bar.")}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return snap.Named(NamingCamel)
}

func TestNamedViewAgreesEverywhere(t *testing.T) {
	var c calls
	v := publishedSession(t, &c)
	if v.Naming() != NamingCamel {
		t.Fatalf("Naming() = %v", v.Naming())
	}

	list := v.List(ListOptions{})
	for _, want := range []string{"namespace Tools {", "  addNumbers({a, b})", "  nowTimestamp()", "  searchLogs({query?, level?, limit?})",
		"namespace TestHttpMcp {", "  subtract({a, b})", "namespace NamespacedWithUnderscore {", "  fooBar()"} {
		if !strings.Contains(list, want) {
			t.Errorf("listing lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "add_numbers") || strings.Contains(list, "namespace tools") {
		t.Errorf("listing shows registered names:\n%s", list)
	}

	// Details by the names as called and as registered give the same declarations.
	for _, name := range []string{"Tools.addNumbers", "tools.add_numbers", "tools.addNumbers"} {
		d, err := v.Details([]string{name})
		if err != nil {
			t.Fatalf("Details(%q): %v", name, err)
		}
		for _, want := range []string{"declare namespace Tools {", "function addNumbers(args: AddNumbersInput)", `@tool "add_numbers"`, "await Tools.addNumbers("} {
			if !strings.Contains(d, want) {
				t.Errorf("Details(%q) lacks %q:\n%s", name, want, d)
			}
		}
		ns, fn, err := v.Resolve(name)
		if err != nil || ns != "Tools" || fn != "addNumbers" {
			t.Errorf("Resolve(%q) = %q, %q, %v", name, ns, fn, err)
		}
	}
	if _, err := v.Details([]string{"Tools.addNumber"}); err == nil || !strings.Contains(err.Error(), "Tools.addNumbers") {
		t.Errorf("a near miss should suggest Tools.addNumbers, got %v", err)
	}

	// The bindings are keyed by the names as called and call the backend by its own names.
	fns := v.Functions()
	wantKeys := []string{"NamespacedWithUnderscore.fooBar", "TestHttpMcp.subtract", "Tools.addNumbers", "Tools.greet", "Tools.nowTimestamp", "Tools.searchLogs"}
	if got := slices.Sorted(maps.Keys(fns)); !slices.Equal(got, wantKeys) {
		t.Fatalf("Functions() keys = %q, want %q", got, wantKeys)
	}
	ctx := context.Background()
	if _, err := fns["Tools.addNumbers"](ctx, []any{map[string]any{"a": 1.0, "b": 2.0}}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]any{nil, {map[string]any{}}} { // optional-only: f() and f({})
		if _, err := fns["Tools.searchLogs"](ctx, args); err != nil {
			t.Fatalf("searchLogs(%v): %v", args, err)
		}
	}
	if _, err := fns["Tools.nowTimestamp"](ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := fns["Tools.greet"](ctx, []any{"World"}); err != nil { // the single required property alone
		t.Fatal(err)
	}
	want := [][2]string{{"tools", "add_numbers"}, {"tools", "search_logs"}, {"tools", "search_logs"}, {"tools", "now_timestamp"}, {"tools", "greet"}}
	if !slices.Equal(c.got, want) {
		t.Errorf("backend calls = %v, want %v", c.got, want)
	}
	_, err := fns["Tools.addNumbers"](ctx, []any{map[string]any{"a": "x"}})
	if err == nil || !strings.HasPrefix(err.Error(), "Tools.addNumbers: ") {
		t.Errorf("a validation error should name Tools.addNumbers, got %v", err)
	}

	// A query finds functions by any part of their names, as the published client's
	// users search them ("namespaced", "bar").
	for _, q := range []string{"namespaced", "bar", "foo_bar"} {
		if got := v.List(ListOptions{Query: q}); !strings.Contains(got, "NamespacedWithUnderscore.fooBar()") {
			t.Errorf("query %q:\n%s", q, got)
		}
	}
	if got := v.List(ListOptions{Namespace: "tools"}); !strings.Contains(got, "namespace Tools {") {
		t.Errorf("namespace filter by the registered name:\n%s", got)
	}

	outline := v.Outline()
	if outline[0].Name != "NamespacedWithUnderscore" || outline[0].Original != "namespaced_with_underscore" ||
		outline[0].Functions[0].Name != "fooBar" || outline[0].Functions[0].Original != "foo_bar" || outline[0].Functions[0].Description != "Foo a bar." {
		t.Errorf("Outline()[0] = %+v", outline[0])
	}
}

func TestNamedIsCachedAndComposes(t *testing.T) {
	cat := New()
	mustPut(t, cat, "a", Namespace{Name: "my_server", Tools: []Tool{tool("get_sum", "")}})
	base := cat.Snapshot()
	v := base.Named(NamingCamel)
	if base.Named(NamingCamel) != v || v.Named(NamingCamel) != v {
		t.Error("the view of one snapshot should be made once")
	}
	if v.Named(NamingRegistered) != base || base.Named(NamingRegistered) != base {
		t.Error("the registered view of a view should be its base")
	}
	// An overlay of a view is the view of the overlay: names are assigned over all of it.
	o, err := v.With(Namespace{Name: "MyServer", Tools: []Tool{tool("x", "")}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Naming() != NamingCamel {
		t.Fatalf("overlay naming = %v", o.Naming())
	}
	list := o.List(ListOptions{})
	for _, want := range []string{"namespace MyServer {\n  x()", `// namespace "my_server" (MyServer is another's)` + "\nnamespace MyServer_2 {\n  getSum()"} {
		if !strings.Contains(list, want) {
			t.Errorf("listing lacks %q:\n%s", want, list)
		}
	}
	// The validator is compiled once, whichever view calls first.
	cat2 := New()
	mustPut(t, cat2, "a", Namespace{Name: "n", Tools: []Tool{tool("do_it", `{"type":"object","properties":{"a":{"type":"string"}}}`)}})
	b2 := cat2.Snapshot()
	vf := b2.Named(NamingCamel).byName["N"].byName["doIt"]
	bf := b2.byName["n"].byName["do_it"]
	if s1, _ := vf.validator(); s1 == nil {
		t.Fatal("no validator")
	} else if s2, _ := bf.validator(); s1 != s2 {
		t.Error("a view and its base should share the compiled validator")
	}
}

func TestNamedCollisions(t *testing.T) {
	tests := []struct {
		name  string
		tools []string
		want  []string // listing lines, in order
	}{
		{"as written keeps it", []string{"add_numbers", "addNumbers"}, []string{"  addNumbers()", `  addNumbers_2() // tool "add_numbers"`}},
		{"byte order decides", []string{"add-numbers", "add_numbers"}, []string{"  addNumbers()", `  addNumbers_2() // tool "add_numbers"`}},
		{"three ways", []string{"a_b", "a-b", "aB"}, []string{"  aB()", `  aB_2() // tool "a-b"`, `  aB_3() // tool "a_b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rev := slices.Clone(tt.tools)
			slices.Reverse(rev)
			for _, order := range [][]string{tt.tools, rev} {
				cat := New()
				var tools []Tool
				for _, n := range order {
					tools = append(tools, tool(n, ""))
				}
				mustPut(t, cat, "a", Namespace{Name: "ns", Tools: tools})
				list := cat.Snapshot().Named(NamingCamel).List(ListOptions{})
				if want := "namespace Ns {\n" + strings.Join(tt.want, "\n") + "\n}\n"; list != want {
					t.Errorf("tools %q: listing\n%s\nwant\n%s", order, list, want)
				}
			}
		})
	}
}
