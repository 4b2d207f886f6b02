package catalog

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// callOnce puts one tool into namespace "ns" and calls it with args through Functions.
func callOnce(t *testing.T, tl Tool, args ...any) (any, error) {
	t.Helper()
	c := New()
	mustPut(t, c, "a", Namespace{Name: "ns", Tools: []Tool{tl}})
	fn := c.Snapshot().Functions()["ns."+sanitizeIdent(tl.Name)]
	if fn == nil {
		t.Fatalf("no binding for %s", tl.Name)
	}
	return fn(context.Background(), args)
}

const (
	schemaTwoRequired = `{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`
	schemaOneRequired = `{"type":"object","properties":{"id":{"type":"string"},"verbose":{"type":"boolean"}},"required":["id"]}`
	schemaObjectParam = `{"type":"object","properties":{"filter":{"type":"object"},"limit":{"type":"integer"}},"required":["filter"]}`
	schemaRefParam    = `{"type":"object","properties":{"q":{"$ref":"#/$defs/Q"}},"required":["q"],"$defs":{"Q":{"type":"object","properties":{"text":{"type":"string"}}}}}`
	schemaUntyped     = `{"type":"object","properties":{"value":{"description":"anything"}},"required":["value"]}`
	schemaPositional  = `{"type":"object","properties":{"customer_id":{"type":"string"},"threshold":{"type":"number"}},"required":["customer_id"]}`
	schemaPosObject   = `{"type":"object","properties":{"doc":{"type":"object"},"lang":{"type":"string"}},"required":["doc"]}`
)

func TestArgumentObject(t *testing.T) {
	obj := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		schema  string
		params  []string
		args    []any
		want    map[string]any // the object the backend receives
		wantErr string
	}{
		// MCP style.
		{"no arguments", `{"type":"object"}`, nil, nil, obj(), ""},
		{"undefined alone", `{"type":"object"}`, nil, []any{nil}, obj(), ""},
		{"one object", schemaTwoRequired, nil, []any{obj("a", 1.0, "b", 2.0)}, obj("a", 1.0, "b", 2.0), ""},
		{"two arguments", schemaTwoRequired, nil, []any{obj("a", 1.0), obj("b", 2.0)}, nil, "ns.f: takes one argument object, got 2 arguments (call it as f({a, b}))"},
		{"a string without shortcut", schemaTwoRequired, nil, []any{"x"}, nil, "ns.f: takes one argument object, got string (call it as f({a, b}))"},

		// The single-required-property shortcut.
		{"shortcut: string", schemaOneRequired, nil, []any{"cust_1"}, obj("id", "cust_1"), ""},
		{"shortcut: object naming the property", schemaOneRequired, nil, []any{obj("id", "c", "verbose", true)}, obj("id", "c", "verbose", true), ""},
		{"shortcut: object with an optional property only", schemaOneRequired, nil, []any{obj("verbose", true)}, nil, `ns.f: argument "id": missing required property`},
		{"shortcut: unknown keys, string property", schemaOneRequired, nil, []any{obj("idd", "c")}, nil, `ns.f: argument "id": missing required property`},
		{"shortcut: empty object", schemaOneRequired, nil, []any{obj()}, nil, `ns.f: argument "id": missing required property`},
		{"shortcut: wrong type", schemaOneRequired, nil, []any{42.0}, nil, `ns.f: argument "id": got number, want string`},
		{"shortcut: null", schemaOneRequired, nil, []any{nil, nil}, nil, `ns.f: argument "id": missing required property`},
		{"shortcut: array value", `{"type":"object","properties":{"paths":{"type":"array","items":{"type":"string"}}},"required":["paths"]}`, nil,
			[]any{[]any{"a", "b"}}, obj("paths", []any{"a", "b"}), ""},
		{"shortcut: object value for an object property", schemaObjectParam, nil, []any{obj("status", "open")}, obj("filter", obj("status", "open")), ""},
		{"shortcut: argument object for an object property", schemaObjectParam, nil, []any{obj("filter", obj("status", "open"), "limit", 3.0)},
			obj("filter", obj("status", "open"), "limit", 3.0), ""},
		{"shortcut: object through $ref", schemaRefParam, nil, []any{obj("text", "hi")}, obj("q", obj("text", "hi")), ""},
		{"shortcut: untyped property takes objects", schemaUntyped, nil, []any{obj("x", 1.0)}, obj("value", obj("x", 1.0)), ""},

		// Positional (SDK) style.
		{"positional: all", schemaPositional, []string{"customer_id", "threshold"}, []any{"c1", 0.7}, obj("customer_id", "c1", "threshold", 0.7), ""},
		{"positional: trailing optional omitted", schemaPositional, []string{"customer_id", "threshold"}, []any{"c1"}, obj("customer_id", "c1"), ""},
		{"positional: trailing undefined dropped", schemaPositional, []string{"customer_id", "threshold"}, []any{"c1", nil}, obj("customer_id", "c1"), ""},
		{"positional: undefined in the middle", `{"type":"object","properties":{"q":{"type":"string"},"k":{"type":"integer"},"f":{"type":"object"}},"required":["q","f"]}`,
			[]string{"q", "k", "f"}, []any{"x", nil, obj()}, obj("q", "x", "f", obj()), ""},
		{"positional: too many", schemaPositional, []string{"customer_id", "threshold"}, []any{"c1", 0.5, true}, nil,
			"ns.f: takes at most 2 arguments, got 3 (call it as f(customer_id, threshold?))"},
		{"positional: missing required", schemaPositional, []string{"customer_id", "threshold"}, nil, nil, `ns.f: argument "customer_id": missing required property`},
		{"positional: named-argument object", schemaPositional, []string{"customer_id", "threshold"}, []any{obj("customer_id", "c1", "threshold", 0.2)},
			obj("customer_id", "c1", "threshold", 0.2), ""},
		{"positional: object for an object parameter", schemaPosObject, []string{"doc", "lang"}, []any{obj("doc", 1.0)}, obj("doc", obj("doc", 1.0)), ""},
		{"positional: no parameters", `{"type":"object"}`, []string{}, []any{1.0}, nil, "ns.f: takes at most 0 arguments, got 1 (call it as f())"},
		{"positional: no parameters, empty object", `{"type":"object"}`, []string{}, []any{obj()}, obj(), ""},
		{"positional: optional only, empty object", `{"type":"object","properties":{"limit":{"type":"integer"}}}`, []string{"limit"}, []any{obj()}, obj(), ""},
		{"positional: required, empty object", schemaPositional, []string{"customer_id", "threshold"}, []any{obj()}, nil, `ns.f: argument "customer_id": missing required property`},
		{"positional: object parameter, empty object", schemaPosObject, []string{"doc", "lang"}, []any{obj()}, obj("doc", obj()), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := tool("f", tt.schema)
			tl.Params = tt.params
			got, err := callOnce(t, tl, tt.args...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("backend got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestValidationErrors(t *testing.T) {
	const createIssue = `{"type":"object","properties":{
		"title":{"type":"string","minLength":1},"body":{"type":"string"},
		"labels":{"type":"array","items":{"type":"string"}},
		"state":{"enum":["open","closed"]},
		"edits":{"type":"array","items":{"type":"object","properties":{"oldText":{"type":"string"}},"required":["oldText"]}}
	},"required":["title","body"],"additionalProperties":false}`
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"missing", map[string]any{"body": "b"}, `github.create_issue: argument "title": missing required property`},
		{"two missing", map[string]any{}, `github.create_issue: argument "title": missing required property; argument "body": missing required property`},
		{"wrong type", map[string]any{"title": 5.0, "body": "b"}, `github.create_issue: argument "title": got number, want string`},
		{"int64 is a number", map[string]any{"title": int64(5), "body": "b"}, `github.create_issue: argument "title": got number, want string`},
		{"nested", map[string]any{"title": "t", "body": "b", "edits": []any{map[string]any{}}}, `github.create_issue: argument "edits[0].oldText": missing required property`},
		{"array item", map[string]any{"title": "t", "body": "b", "labels": []any{"ok", true}}, `github.create_issue: argument "labels[1]": got boolean, want string`},
		{"enum", map[string]any{"title": "t", "body": "b", "state": "merged"}, `github.create_issue: argument "state": value must be one of 'open', 'closed'`},
		{"unknown property", map[string]any{"title": "t", "body": "b", "titel": "x"}, `github.create_issue: argument "titel": unknown property (not in the input schema)`},
		{"constraint", map[string]any{"title": "", "body": "b"}, `github.create_issue: argument "title": minLength: got 0, want 1`},
	}
	c := New()
	mustPut(t, c, "a", Namespace{Name: "github", Tools: []Tool{tool("create_issue", createIssue)}})
	fn := c.Snapshot().Functions()["github.create_issue"]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fn(context.Background(), []any{tt.args})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

func TestValidationOfAlternatives(t *testing.T) {
	schema := `{"type":"object","properties":{"id":{"anyOf":[{"type":"string"},{"type":"integer"}]}},"required":["id"]}`
	_, err := callOnce(t, tool("get", schema), map[string]any{"id": true})
	if err == nil || err.Error() != `ns.get: argument "id": matches none of the allowed forms` {
		t.Fatalf("err = %v", err)
	}
}

func TestUncompilableSchemaSkipsValidation(t *testing.T) {
	schema := `{"type":"object","properties":{"a":{"type":"string","pattern":"^(?!x)"}},"required":["a"]}`
	got, err := callOnce(t, tool("f", schema), map[string]any{"b": 1.0})
	if err != nil {
		t.Fatalf("call should go through unvalidated: %v", err)
	}
	if !reflect.DeepEqual(got, map[string]any{"b": 1.0}) {
		t.Fatalf("got %v", got)
	}
}

func TestSchemaCannotReadFiles(t *testing.T) {
	schema := `{"type":"object","properties":{"a":{"$ref":"file:///etc/passwd"}}}`
	c := New()
	mustPut(t, c, "x", Namespace{Name: "ns", Tools: []Tool{tool("f", schema)}})
	note := c.Snapshot().Namespaces()[0].Functions[0].Unvalidated
	if !strings.Contains(note, "does not compile") {
		t.Fatalf("a file $ref should fail to compile, note = %q", note)
	}
}

func TestCallErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		call CallFunc
		want string
		is   error
	}{
		{"error is wrapped", func(context.Context, map[string]any) (any, error) { return nil, boom }, "ns.f: boom", boom},
		{"panic becomes an error", func(context.Context, map[string]any) (any, error) { panic("oops") }, "ns.f: backend panicked: oops", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := tool("f", "")
			tl.Call = tt.call
			_, err := callOnce(t, tl)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

func TestCallPassesContextAndResult(t *testing.T) {
	type key struct{}
	tl := tool("f", "")
	tl.Call = func(ctx context.Context, args map[string]any) (any, error) {
		return ctx.Value(key{}), nil
	}
	c := New()
	mustPut(t, c, "a", Namespace{Name: "ns", Tools: []Tool{tl}})
	got, err := c.Snapshot().Functions()["ns.f"](context.WithValue(context.Background(), key{}, "v"), nil)
	if err != nil || got != "v" {
		t.Fatalf("got %v, %v", got, err)
	}
}

// TestSchemaCompiledOncePerPut: the compiled validator is kept between calls of one
// Put and rebuilt by the next Put.
func TestSchemaCompiledOncePerPut(t *testing.T) {
	c := New()
	ns := Namespace{Name: "ns", Tools: []Tool{tool("f", schemaOneRequired)}}
	mustPut(t, c, "a", ns)
	f1 := c.Snapshot().byName["ns"].byName["f"]
	fn := c.Snapshot().Functions()["ns.f"]
	for range 3 {
		if _, err := fn(context.Background(), []any{"x"}); err != nil {
			t.Fatal(err)
		}
	}
	s1, _ := f1.validator()
	if s1 == nil {
		t.Fatal("no compiled schema after calls")
	}
	if s2, _ := f1.validator(); s2 != s1 {
		t.Fatal("schema compiled again")
	}
	mustPut(t, c, "a", ns)
	if f2 := c.Snapshot().byName["ns"].byName["f"]; f2 == f1 || f2.schema != nil {
		t.Fatal("a new Put must start from a fresh, uncompiled function")
	}
}

// TestFixtureValidation calls real tool schemas (draft-07, as the npm servers send them).
func TestFixtureValidation(t *testing.T) {
	s := fixtureSnapshot(t, "server-everything", "server-filesystem")
	fns := s.Functions()
	tests := []struct {
		fn   string
		args []any
		want string // "" for success
	}{
		{"server_filesystem.read_text_file", []any{"/tmp/a"}, ""},
		{"server_filesystem.read_text_file", []any{map[string]any{"path": "/tmp/a", "head": "ten"}}, `server_filesystem.read_text_file: argument "head": got string, want number`},
		{"server_filesystem.edit_file", []any{map[string]any{"path": "p", "edits": []any{map[string]any{"oldText": "a"}}}},
			`server_filesystem.edit_file: argument "edits[0].newText": missing required property`},
		{"server_everything.get_sum", []any{map[string]any{"a": 1.0, "b": int64(2)}}, ""},
		{"server_everything.get_annotated_message", []any{"warning"}, `server_everything.get_annotated_message: argument "messageType": value must be one of 'error', 'success', 'debug'`},
		{"server_everything.get_env", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			_, err := fns[tt.fn](t.Context(), tt.args)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || err.Error() != tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
