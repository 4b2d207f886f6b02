package catalog

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestDetailsErrors(t *testing.T) {
	s := fixtureSnapshot(t, "server-everything", "server-filesystem")
	tests := []struct {
		name  string
		names []string
		want  string
	}{
		{"none", nil, "no function names given"},
		{"typo", []string{"server_filesystem.read_fil"},
			`unknown function "server_filesystem.read_fil" (did you mean server_filesystem.read_file?)`},
		{"partial", []string{"server_filesystem.directory"},
			`unknown function "server_filesystem.directory" (did you mean server_filesystem.create_directory, server_filesystem.directory_tree, server_filesystem.list_directory?)`},
		{"no namespace", []string{"get_sum"}, `unknown function "get_sum" (did you mean server_everything.get_sum?)`},
		{"wrong namespace", []string{"github.echo"}, `unknown function "github.echo" (did you mean server_everything.echo?)`},
		{"nothing near", []string{"qqqqqqqq"}, `unknown function "qqqqqqqq" (names look like "namespace.function")`},
		{"several", []string{"server_everything.echo", "x.y", "server_everything.ech"},
			`unknown function "x.y"; unknown function "server_everything.ech" (did you mean server_everything.echo?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Details(tt.names)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestDetailsLookup(t *testing.T) {
	s := fixtureSnapshot(t, "server-everything", "server-filesystem")
	// Original names resolve too, duplicates collapse, and blocks follow request order.
	got, err := s.Details([]string{"server-filesystem.write_file", "server_everything.get-sum", "server_everything.get_sum", "server_filesystem.move_file"})
	if err != nil {
		t.Fatal(err)
	}
	fs := strings.Index(got, "declare namespace server_filesystem {")
	ev := strings.Index(got, "declare namespace server_everything {")
	if fs < 0 || ev < 0 || fs > ev {
		t.Fatalf("blocks missing or out of order:\n%s", got)
	}
	if n := strings.Count(got, "function get_sum("); n != 1 {
		t.Errorf("get_sum declared %d times", n)
	}
	if !strings.Contains(got, "function move_file(") || !strings.Contains(got, "function write_file(") {
		t.Errorf("missing functions:\n%s", got)
	}
}

func TestDetailsOfOneFunction(t *testing.T) {
	s := fixtureSnapshot(t, "server-everything")
	got, err := s.Details([]string{"server_everything.get_structured_content"})
	if err != nil {
		t.Fatal(err)
	}
	want := `declare namespace server_everything {
  interface GetStructuredContentInput {
    /** Choose city */
    location: "New York" | "Chicago" | "Los Angeles";
  }
  interface GetStructuredContentOutput {
    /** Temperature in celsius */
    temperature: number;
    /** Weather conditions description */
    conditions: string;
    /** Humidity percentage */
    humidity: number;
  }
  /**
   * Returns structured content along with an output schema for client data validation
   * @tool "get-structured-content"
   * @example await server_everything.get_structured_content({ location: "New York" })
   */
  function get_structured_content(location: "New York" | "Chicago" | "Los Angeles"): Promise<GetStructuredContentOutput>;
  function get_structured_content(args: GetStructuredContentInput): Promise<GetStructuredContentOutput>;
}
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	docs := []string{
		`{"b":1,"a":[true,false,null,"x\u00e9\n",-1.5e3],"c":{}}`,
		`"\ud83d\ude00 and \"quotes\""`,
		`[]`,
		` 12 `,
	}
	for _, d := range docs {
		v, err := parseJSON([]byte(d))
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		var want any
		dec := json.NewDecoder(strings.NewReader(d))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if got := plain(v); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", d, got, want)
		}
	}
	if o, _ := parseJSON([]byte(`{"z":1,"a":2,"m":3,"a":4}`)); strings.Join(o.(*object).keys, "") != "zam" || o.(*object).val("a") != json.Number("4") {
		t.Errorf("key order or duplicate handling wrong: %v %v", o.(*object).keys, o.(*object).vals)
	}
	// Objects past 16 keys take the indexed path.
	big := `{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k3":33,"k17":17}`
	if o, err := parseJSON([]byte(big)); err != nil || len(o.(*object).keys) != 18 || o.(*object).val("k3") != json.Number("33") || o.(*object).val("k17") != json.Number("17") {
		t.Errorf("big object parsed wrong: %v %v", o, err)
	}
	for _, bad := range []string{``, `{`, `{"a"}`, `[1,]`, `"abc`, `01x`, `tru`, `{"a":1}x`, "\"\x01\"", strings.Repeat("[", 300) + strings.Repeat("]", 300)} {
		if _, err := parseJSON([]byte(bad)); err == nil {
			t.Errorf("parseJSON(%q) should fail", bad)
		}
	}
}

// plain converts parsed values to what encoding/json produces, for comparison.
func plain(v any) any {
	switch x := v.(type) {
	case *object:
		m := map[string]any{}
		for i, k := range x.keys {
			m[k] = plain(x.vals[i])
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// FuzzSchema feeds arbitrary input and output schemas through every path that reads
// them: none may panic, and Details must always produce a declaration.
func FuzzSchema(f *testing.F) {
	for _, seed := range []string{
		`{"type":"object","properties":{"a":{"$ref":"#"}}}`,
		`{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`,
		`{"allOf":[{"$ref":"#/allOf/0"}],"anyOf":[{"items":[{"$ref":"#/anyOf"}]}]}`,
		`{"type":["object","array"],"prefixItems":[1],"items":{"enum":[{"a":[]}]},"required":[1]}`,
		`{"properties":{"p":{"type":"object","additionalProperties":{"$ref":"#/properties"}}},"required":["p"]}`,
		`[1,2,3]`,
		`null`,
	} {
		f.Add(seed, seed)
	}
	f.Fuzz(func(t *testing.T, in, out string) {
		c := New()
		tl := tool("f", "")
		tl.InputSchema = json.RawMessage(in)
		tl.OutputSchema = json.RawMessage(out)
		if err := c.Put("a", Namespace{Name: "ns", Tools: []Tool{tl}}); err != nil {
			t.Fatal(err)
		}
		s := c.Snapshot()
		_ = s.List(ListOptions{})
		d, err := s.Details([]string{"ns.f"})
		if err != nil || !strings.Contains(d, "function f(") {
			t.Fatalf("Details: %v\n%s", err, d)
		}
		_ = s.Namespaces()
		for _, args := range [][]any{nil, {"x"}, {map[string]any{"a": 1.0}}, {map[string]any{"zz": []any{}}}} {
			_, _ = s.Functions()["ns.f"](t.Context(), args)
		}
	})
}

// TestFanOutStaysLinear: 12 definitions, each with 12 required properties referring to
// the next, would expand to 12^12 values if refs were inlined. Declarations, the
// example and the shortcut check must stay small.
func TestFanOutStaysLinear(t *testing.T) {
	defs := map[string]any{}
	const n = 12
	for i := range n {
		props := map[string]any{}
		var req []string
		for j := range n {
			name := fmt.Sprintf("p%d", j)
			req = append(req, name)
			if i+1 < n {
				props[name] = map[string]any{"$ref": fmt.Sprintf("#/$defs/d%d", i+1)}
			} else {
				props[name] = map[string]any{"type": "string"}
			}
		}
		defs[fmt.Sprintf("d%d", i)] = map[string]any{"type": "object", "properties": props, "required": req}
	}
	schema, _ := json.Marshal(map[string]any{
		"type": "object", "$defs": defs, "required": []string{"root"},
		"properties": map[string]any{"root": map[string]any{"$ref": "#/$defs/d0"}},
	})
	c := New()
	mustPut(t, c, "a", Namespace{Name: "ns", Tools: []Tool{tool("f", string(schema))}})
	s := c.Snapshot()
	d, err := s.Details([]string{"ns.f"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d) > 64<<10 {
		t.Fatalf("details are %d bytes: refs were expanded", len(d))
	}
	if _, err := s.Functions()["ns.f"](t.Context(), []any{map[string]any{"x": 1.0}}); err == nil {
		t.Fatal("expected a validation error")
	}
}
