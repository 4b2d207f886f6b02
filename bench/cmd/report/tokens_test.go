package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func newTK(t *testing.T) *Tokenizer {
	t.Helper()
	tk, err := NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTokenizerCount(t *testing.T) {
	tk := newTK(t)
	tests := []struct {
		text string
		want Tokens
	}{
		{"", Tokens{0, 0}},
		{"hello world", Tokens{2, 2}},
		{"hello world hello world", Tokens{4, 4}},
	}
	for _, tt := range tests {
		if got := tk.Count(tt.text); got != tt.want {
			t.Errorf("Count(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
	if got := (Tokens{1, 2}).Add(Tokens{3, 4}).Scale(2); got != (Tokens{8, 12}) {
		t.Errorf("Add/Scale = %+v", got)
	}
}

func TestContextJSON(t *testing.T) {
	defs := []ToolDef{
		{Namespace: "ns", Name: "a", Description: "Does a.", InputSchema: json.RawMessage(`{"type":"object","properties":{"x":{"type":"string"}}}`), OutputSchema: json.RawMessage(`{"type":"string"}`), Params: []string{"x"}},
		{Name: "b"},
	}
	want := `[{"name":"a","description":"Does a.","input_schema":{"type":"object","properties":{"x":{"type":"string"}}}},{"name":"b","input_schema":{"type":"object"}}]`
	if got := ContextJSON(defs); got != want {
		t.Errorf("ContextJSON =\n%s\nwant\n%s", got, want)
	}
}

const sampleListing = `// Everything server.
namespace everything {
  echo({message}): string
  get_sum({a, b})
}
// namespace broken: unavailable (connection refused)
namespace data {
  analyze_sentiment(text: string): Record<string, number>
}
`

func TestSplitListing(t *testing.T) {
	blocks, order := SplitListing(sampleListing)
	if want := []string{"everything", "broken", "data"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("order = %v, want %v", order, want)
	}
	if want := "// Everything server.\nnamespace everything {\n  echo({message}): string\n  get_sum({a, b})\n}\n"; blocks["everything"] != want {
		t.Errorf("everything block = %q, want %q", blocks["everything"], want)
	}
	if !strings.HasPrefix(blocks["broken"], "// namespace broken: unavailable") {
		t.Errorf("broken block = %q", blocks["broken"])
	}
	if got := JoinBlocks(blocks, "broken", "everything", "everything", "data") + ""; strings.Count(got, "namespace everything {") != 2 || !strings.HasSuffix(got, "}\n") {
		t.Errorf("JoinBlocks = %q", got)
	}
	if got := JoinBlocks(blocks, "missing"); got != "" {
		t.Errorf("JoinBlocks(missing) = %q, want empty", got)
	}
	if got := JoinBlocks(blocks, order...); got != sampleListing {
		t.Errorf("joining every block in order = %q, want the listing back", got)
	}
}

func TestFunctionLines(t *testing.T) {
	got := FunctionLines(sampleListing)
	want := []string{"  echo({message}): string\n", "  get_sum({a, b})\n", "  analyze_sentiment(text: string): Record<string, number>\n"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FunctionLines = %q, want %q", got, want)
	}
}

func TestMeasureToolSet(t *testing.T) {
	tk := newTK(t)
	defs := []ToolDef{
		{Name: "echo", Description: "Echoes back the input message.", InputSchema: json.RawMessage(`{"type":"object","properties":{"message":{"type":"string","description":"Message to echo"}},"required":["message"]}`)},
		{Name: "get-sum", Description: "Returns the sum of two numbers.", InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number","description":"First number"},"b":{"type":"number","description":"Second number"}},"required":["a","b"]}`)},
	}
	blocks, _ := SplitListing(sampleListing)
	listing := blocks["everything"]
	raw := `{"tools":[{"name":"echo","annotations":{"readOnlyHint":true}}]}`
	got := MeasureToolSet(tk, "everything", "test", defs, raw, listing)
	if got.Functions != 2 || got.Name != "everything" || got.Source != "test" {
		t.Errorf("header fields = %+v", got)
	}
	if got.ToolsList != tk.Count(raw) {
		t.Errorf("ToolsList = %+v, want the raw JSON's count %+v", got.ToolsList, tk.Count(raw))
	}
	if got.Context != tk.Count(ContextJSON(defs)) || got.Listing != tk.Count(listing) {
		t.Errorf("Context/Listing = %+v / %+v", got.Context, got.Listing)
	}
	a, b := tk.Count("  echo({message}): string\n"), tk.Count("  get_sum({a, b})\n")
	if got.PerFunctionMax.Cl100k != max(a.Cl100k, b.Cl100k) || got.PerFunctionMedian.Cl100k != (a.Cl100k+b.Cl100k+1)/2 {
		t.Errorf("per function = %+v / %+v, lines count %+v and %+v", got.PerFunctionMedian, got.PerFunctionMax, a, b)
	}
	if want := float64(got.Context.Cl100k) / float64(got.Listing.Cl100k); got.Ratio != want || want <= 1 {
		t.Errorf("Ratio = %v, want %v (> 1)", got.Ratio, want)
	}
	if noRaw := MeasureToolSet(tk, "py", "test", defs, "", listing); noRaw.ToolsList != noRaw.Context {
		t.Errorf("without raw tools/list, ToolsList = %+v, want Context %+v", noRaw.ToolsList, noRaw.Context)
	}
}

func TestPythonFixture(t *testing.T) {
	b, err := assets.ReadFile("assets/python-tools.json")
	if err != nil {
		t.Fatal(err)
	}
	var defs []ToolDef
	if err := json.Unmarshal(b, &defs); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range defs {
		names = append(names, d.Namespace+"."+d.Name)
		if len(d.InputSchema) == 0 || d.Description == "" {
			t.Errorf("%s.%s: no input schema or description", d.Namespace, d.Name)
		}
	}
	want := []string{"tools.get_weather", "data.analyze_sentiment", "data.fetch_database_metrics", "search.vector_search", "ml.predict_churn", "data.update_risk_score"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("fixture tools = %v, want %v", names, want)
	}
	// The fallback renders them with pctx's catalog: positional Python tools, object-style stand-ins.
	listing, err := fallbackListing(defs)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"tools", "data", "search", "ml", "github", "stripe", "zendesk"} {
		if !strings.Contains(listing, "namespace "+ns+" {") {
			t.Errorf("fallback listing lacks namespace %s:\n%s", ns, listing)
		}
	}
	if got := len(FunctionLines(listing)); got != len(defs)+len(StandIns()) {
		t.Errorf("fallback listing has %d function lines, want %d:\n%s", got, len(defs)+len(StandIns()), listing)
	}
}
