package catalog

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func sidecarCatalog(t *testing.T) *Snapshot {
	t.Helper()
	c := New()
	echo := func(_ context.Context, args map[string]any) (any, error) { return args, nil }
	err := c.Put("a", Namespace{Name: "github", Tools: []Tool{
		{Name: "create_issue", Description: "Create an issue.", Call: echo,
			InputSchema: json.RawMessage(`{"type":"object","properties":{"repo":{"type":"string"},"title":{"type":"string"}},"required":["repo","title"]}`)},
		{Name: "get-me", Call: echo}, // no schema
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Put("b", Namespace{Name: "ml", Tools: []Tool{
		{Name: "predict_churn", Params: []string{"customer_id"}, Call: echo,
			InputSchema: json.RawMessage(`{"type":"object","properties":{"customer_id":{"type":"string"}},"required":["customer_id"]}`)},
		{Name: "broken", Call: echo, InputSchema: json.RawMessage(`{"type":`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// "a__b"."c" and "a"."b__c" both make a__b__c: the later one gets a suffix.
	if err := c.Put("c", Namespace{Name: "a__b", Tools: []Tool{{Name: "c", Call: echo}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Put("d", Namespace{Name: "a", Tools: []Tool{{Name: "b__c", Call: echo}, {Name: strings.Repeat("x", 80), Call: echo}}}); err != nil {
		t.Fatal(err)
	}
	return c.Snapshot()
}

func TestToolDefs(t *testing.T) {
	s := sidecarCatalog(t)
	got := map[string]string{}
	for _, d := range s.ToolDefs() {
		got[d.Function] = d.Name
		if len(d.Name) > MaxToolNameBytes || strings.Trim(d.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
			t.Errorf("%s: tool name %q is not [A-Za-z0-9_-]{1,64}", d.Function, d.Name)
		}
		if !json.Valid(d.InputSchema) {
			t.Errorf("%s: input schema %s", d.Function, d.InputSchema)
		}
		if fn, ok := s.ToolFunction(d.Name); !ok || fn != d.Function {
			t.Errorf("ToolFunction(%q) = %q, %v; want %q", d.Name, fn, ok, d.Function)
		}
	}
	want := map[string]string{
		"github.create_issue": "github__create_issue",
		"github.get_me":       "github__get_me",
		"ml.predict_churn":    "ml__predict_churn",
		"ml.broken":           "ml__broken",
		"a.b__c":              "a__b__c",
		"a__b.c":              "a__b__c_2",
	}
	for fn, name := range want {
		if got[fn] != name {
			t.Errorf("%s: tool name %q, want %q", fn, got[fn], name)
		}
	}
	if long := got["a."+strings.Repeat("x", 80)]; len(long) != MaxToolNameBytes || !strings.HasPrefix(long, "a__xxx") {
		t.Errorf("long name became %q", long)
	}
	for _, d := range s.ToolDefs() {
		if d.Function == "ml.broken" || d.Function == "github.get_me" {
			if string(d.InputSchema) != `{"type":"object"}` {
				t.Errorf("%s: input schema %s, want the empty object schema", d.Function, d.InputSchema)
			}
		}
	}
}

func TestInvoke(t *testing.T) {
	s := sidecarCatalog(t)
	invoke := s.Invoke()
	ctx := context.Background()
	tests := []struct {
		name    string
		arg     any
		want    string // JSON of the result
		wantErr string
	}{
		{"object tool", map[string]any{"name": "github__create_issue", "arguments": map[string]any{"repo": "a/b", "title": "t"}}, `{"repo":"a/b","title":"t"}`, ""},
		{"ns.fn accepted", map[string]any{"name": "github.create_issue", "arguments": map[string]any{"repo": "a/b", "title": "t"}}, `{"repo":"a/b","title":"t"}`, ""},
		{"positional tool takes its object", map[string]any{"name": "ml__predict_churn", "arguments": map[string]any{"customer_id": "c1"}}, `{"customer_id":"c1"}`, ""},
		{"no arguments", map[string]any{"name": "github__get_me"}, `{}`, ""},
		{"validated", map[string]any{"name": "github__create_issue", "arguments": map[string]any{"repo": "a/b"}}, "", `invoke: github__create_issue: `},
		{"unknown with suggestion", map[string]any{"name": "github__create_isue"}, "", `unknown tool "github__create_isue" (did you mean github__create_issue?)`},
		{"not an object", "github__get_me", "", "invoke: takes one object"},
		{"no name", map[string]any{"arguments": map[string]any{}}, "", `"name" must be`},
		{"bad arguments", map[string]any{"name": "github__get_me", "arguments": []any{1}}, "", `"arguments" must be an object, got array`},
	}
	for _, tt := range tests {
		res, err := invoke(ctx, []any{tt.arg})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if b, _ := json.Marshal(res); string(b) != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, b, tt.want)
		}
	}
	decl := s.InvokeDeclarations()
	if !strings.Contains(decl, `"github__create_issue": typeof github.create_issue;`) || !strings.Contains(decl, "declare function invoke<K extends keyof InvokeMap>") {
		t.Errorf("InvokeDeclarations:\n%s", decl)
	}
}

func TestCompact(t *testing.T) {
	s := sidecarCatalog(t)
	got := s.Compact()
	for _, line := range []string{
		"namespace github {\n  create_issue({repo: string, title: string})\n  get_me()\n}",
		"namespace ml {\n  broken()\n  predict_churn(customer_id: string)\n}",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("Compact lacks %q:\n%s", line, got)
		}
	}
}
