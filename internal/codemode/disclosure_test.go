package codemode_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tiktoken-go/tokenizer"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
)

// searchCatalog fills a catalog with the 100 functions of catalog/testdata/search; every
// call answers its own name and arguments.
func searchCatalog(t testing.TB, only ...string) *catalog.Catalog {
	t.Helper()
	raw, err := os.ReadFile("../catalog/testdata/search/catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	var tools []struct {
		Namespace    string          `json:"namespace"`
		Name         string          `json:"name"`
		Description  string          `json:"description"`
		InputSchema  json.RawMessage `json:"inputSchema"`
		OutputSchema json.RawMessage `json:"outputSchema"`
		Params       []string        `json:"params"`
	}
	if err := json.Unmarshal(raw, &tools); err != nil {
		t.Fatal(err)
	}
	byNS := map[string]*catalog.Namespace{}
	var order []string
	for _, tt := range tools {
		if len(only) > 0 && !slices.Contains(only, tt.Namespace+"."+tt.Name) {
			continue
		}
		ns := byNS[tt.Namespace]
		if ns == nil {
			ns = &catalog.Namespace{Name: tt.Namespace}
			byNS[tt.Namespace] = ns
			order = append(order, tt.Namespace)
		}
		name := tt.Namespace + "." + tt.Name
		ns.Tools = append(ns.Tools, catalog.Tool{Name: tt.Name, Description: tt.Description, InputSchema: tt.InputSchema,
			OutputSchema: tt.OutputSchema, Params: tt.Params,
			Call: func(_ context.Context, args map[string]any) (any, error) {
				return map[string]any{"called": name, "args": args}, nil
			}})
	}
	c := catalog.New()
	for _, n := range order {
		if err := c.Put("test", *byNS[n]); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

var seedFunctions = []string{"data.analyze_sentiment", "data.fetch_database_metrics", "search.vector_search", "github.create_issue",
	"ml.predict_churn", "stripe.get_customer", "data.update_risk_score", "zendesk.create_ticket"}

func names(ts *codemode.ToolSet) []string {
	var out []string
	for _, t := range ts.Tools {
		out = append(out, t.Name)
	}
	return out
}

func TestToolSets(t *testing.T) {
	small := codemode.New(searchCatalog(t, seedFunctions...), &codemode.Options{Executor: codemode.InProcess})
	big := codemode.New(searchCatalog(t), &codemode.Options{Executor: codemode.InProcess})
	tests := []struct {
		name   string
		svc    *codemode.Service
		d      codemode.Disclosure
		want   []string
		inline bool
	}{
		{"catalog, small", small, codemode.Catalog, []string{"list_functions", "get_function_details", "execute_typescript"}, false},
		{"catalog, 100 functions: search on", big, codemode.Catalog, []string{"search_functions", "list_functions", "get_function_details", "execute_typescript"}, false},
		{"filesystem", small, codemode.Filesystem, []string{"execute_bash", "execute_typescript"}, false},
		{"sidecar", small, codemode.Sidecar, []string{"data__analyze_sentiment", "data__fetch_database_metrics", "data__update_risk_score",
			"github__create_issue", "ml__predict_churn", "search__vector_search", "stripe__get_customer", "zendesk__create_ticket", "execute_typescript"}, false},
		{"auto under the budget: inline", small, codemode.Auto, []string{"execute_typescript"}, true},
		{"auto over the budget: catalog and search", big, codemode.Auto, []string{"search_functions", "list_functions", "get_function_details", "execute_typescript"}, false},
		{"default is auto", small, "", []string{"execute_typescript"}, true},
		{"search off", codemode.New(searchCatalog(t), &codemode.Options{Executor: codemode.InProcess, Search: codemode.SearchOff}), codemode.Filesystem, []string{"execute_bash", "execute_typescript"}, false},
		{"search on", codemode.New(searchCatalog(t, seedFunctions...), &codemode.Options{Executor: codemode.InProcess, Search: codemode.SearchOn}), codemode.Auto, []string{"search_functions", "execute_typescript"}, true},
		{"a small budget", codemode.New(searchCatalog(t, seedFunctions...), &codemode.Options{Executor: codemode.InProcess, InlineBudget: 100}), codemode.Auto, []string{"list_functions", "get_function_details", "execute_typescript"}, false},
		{"default disclosure set", codemode.New(searchCatalog(t, seedFunctions...), &codemode.Options{Executor: codemode.InProcess, Disclosure: codemode.Filesystem}), "", []string{"execute_bash", "execute_typescript"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := tt.svc.ToolSet(tt.d)
			if got := names(ts); !slices.Equal(got, tt.want) || ts.Inline != tt.inline {
				t.Errorf("tools = %v (inline %v), want %v (inline %v)", got, ts.Inline, tt.want, tt.inline)
			}
			for _, tool := range ts.Tools {
				if tool.Description == "" && tool.Function == "" || !json.Valid(tool.InputSchema) {
					t.Errorf("%s: description %q, schema %s", tool.Name, tool.Description, tool.InputSchema)
				}
				if got, ok := ts.Tool(tool.Name); !ok || got.Name != tool.Name {
					t.Errorf("Tool(%q) = %v, %v", tool.Name, got, ok)
				}
			}
		})
	}
	inline, _ := small.ToolSet(codemode.Auto).Tool("execute_typescript")
	for _, want := range []string{"namespace stripe {\n  get_customer({customer_id: string, expand?: string[]})\n}",
		"namespace ml {\n  predict_churn(customer_id: string)\n}", `priority?: "low" | "normal" | "high" | "urgent"`} {
		if !strings.Contains(inline.Description, want) {
			t.Errorf("the inline description lacks %q:\n%s", want, inline.Description)
		}
	}
	first, second := small.ToolSet(codemode.Auto), small.ToolSet(codemode.Auto)
	if first != second {
		t.Error("an unchanged catalog made a new tool set")
	}
}

// TestToolSetFollowsCatalog: auto's inline declarations, the sidecar's tools and the
// search switch follow the catalog as it changes.
func TestToolSetFollowsCatalog(t *testing.T) {
	cat := searchCatalog(t, seedFunctions...)
	svc := codemode.New(cat, &codemode.Options{Executor: codemode.InProcess})
	before := svc.ToolSet(codemode.Auto)
	nop := func(context.Context, map[string]any) (any, error) { return nil, nil }
	if err := cat.Put("x", catalog.Namespace{Name: "weather", Tools: []catalog.Tool{{Name: "forecast", Call: nop}}}); err != nil {
		t.Fatal(err)
	}
	after := svc.ToolSet(codemode.Auto)
	if after.Version == before.Version || !strings.Contains(after.Tools[0].Description, "namespace weather {\n  forecast()\n}") {
		t.Errorf("inline declarations did not follow the catalog:\n%s", after.Tools[0].Description)
	}
	if _, ok := svc.ToolSet(codemode.Sidecar).Tool("weather__forecast"); !ok {
		t.Error("the sidecar lacks the new function's tool")
	}
	var many []catalog.Tool
	for i := range codemode.SearchThreshold {
		many = append(many, catalog.Tool{Name: fmt.Sprintf("f%d", i), Call: nop})
	}
	if err := cat.Put("x", catalog.Namespace{Name: "weather", Tools: many}); err != nil {
		t.Fatal(err)
	}
	if got := names(svc.ToolSet(codemode.Catalog)); got[0] != "search_functions" {
		t.Errorf("past %d functions the catalog disclosure offers %v", codemode.SearchThreshold, got)
	}
}

// TestSidecarExecution runs programs in the sandbox's worker processes: invoke crosses the
// pipe like any function.
func TestSidecarExecution(t *testing.T) {
	svc := codemode.New(searchCatalog(t, seedFunctions...), &codemode.Options{Executor: sandboxtest.New(t)})
	ctx := codemode.WithDisclosure(context.Background(), codemode.Sidecar)
	res, err := svc.Execute(ctx, `const a = await invoke({ name: "stripe__get_customer", arguments: { customer_id: "c1" } });
const b = await stripe.get_customer("c2");
const c = await invoke({ name: "ml__predict_churn", arguments: { customer_id: "c3" } });
return [a.args.customer_id, b.args.customer_id, c.args.customer_id]`)
	if err != nil || res.Error != nil {
		t.Fatalf("%v %+v", err, res.Error)
	}
	if got, _ := json.Marshal(res.Value); string(got) != `["c1","c2","c3"]` || res.Calls != 3 {
		t.Errorf("value %s, calls %d", got, res.Calls)
	}
	// Outside the sidecar there is no invoke.
	res, err = svc.Execute(context.Background(), `return typeof invoke`)
	if got, _ := json.Marshal(res.Value); err != nil || string(got) != `"undefined"` {
		t.Errorf("catalog disclosure: typeof invoke = %s (%v)", got, err)
	}
	// A direct call of a function's tool is a one-call program.
	res, err = svc.CallTool(context.Background(), "zendesk__create_ticket", map[string]any{"subject": "s", "customer": "a@b.c", "priority": "high"})
	if err != nil || res.Error != nil || res.Calls != 1 {
		t.Fatalf("CallTool: %v %+v", err, res)
	}
	if got, _ := json.Marshal(res.Value); !strings.Contains(string(got), `"called":"zendesk.create_ticket"`) {
		t.Errorf("CallTool value %s", got)
	}
	res, err = svc.CallTool(context.Background(), "zendesk__create_ticket", map[string]any{"subject": "s", "priority": "high"})
	if err != nil || res.Error == nil || !strings.Contains(res.Error.Message, "zendesk__create_ticket") || !strings.Contains(res.Error.Message, "customer") {
		t.Errorf("CallTool without a required argument: %v %+v", err, res.Error)
	}
	res, err = svc.CallTool(context.Background(), "nope__x", nil)
	if err != nil || res.Error == nil || !strings.Contains(res.Error.Message, `unknown tool "nope__x"`) {
		t.Errorf("CallTool of an unknown tool: %v %+v", err, res.Error)
	}
}

func TestSearchAndBash(t *testing.T) {
	svc := codemode.New(searchCatalog(t), &codemode.Options{Executor: codemode.InProcess})
	text, err := svc.SearchFunctions("refund a payment", 2)
	if err != nil || !strings.Contains(strings.Split(text, "\n")[1], "stripe.create_refund({payment_intent, amount?}) // Refund a payment") {
		t.Errorf("SearchFunctions: %v\n%s", err, text)
	}
	for _, bad := range []struct {
		q string
		k int
	}{{"", 5}, {strings.Repeat("w", codemode.MaxQueryBytes+1), 5}, {"x", -1}, {"x", 1000}} {
		if _, err := svc.SearchFunctions(bad.q, bad.k); err == nil {
			t.Errorf("SearchFunctions(%.20q, %d) succeeded", bad.q, bad.k)
		}
	}
	out, err := svc.ExecuteBash(`grep -i "refund" README.md`)
	if err != nil || out.ExitCode != 0 || !strings.Contains(out.Stdout, "create_refund({payment_intent, amount?})") {
		t.Errorf("ExecuteBash grep: %v %+v", err, out)
	}
	out, err = svc.ExecuteBash("cat stripe/create_refund.d.ts")
	if err != nil || !strings.Contains(out.Stdout, "function create_refund(") {
		t.Errorf("ExecuteBash cat: %v %+v", err, out)
	}
	if _, err := svc.ExecuteBash(strings.Repeat("x", codemode.MaxCommandBytes+1)); err == nil {
		t.Error("an over-long command was run")
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"catalog", "FILESYSTEM", "sidecar", "auto", ""} {
		if _, err := codemode.ParseDisclosure(s); err != nil {
			t.Errorf("ParseDisclosure(%q): %v", s, err)
		}
	}
	if _, err := codemode.ParseDisclosure("files"); err == nil || !strings.Contains(err.Error(), "want one of catalog, filesystem, sidecar, auto") {
		t.Errorf("ParseDisclosure(files): %v", err)
	}
	if _, err := codemode.ParseSearch("sometimes"); err == nil {
		t.Error("ParseSearch(sometimes) succeeded")
	}
}

// TestToolSetTokens measures (cl100k) every disclosure's tools as a client puts them in
// context, for the seed's 8 workflow functions and the 100-function catalog, and holds the
// Code Mode tools to their budgets: what every request pays.
func TestToolSetTokens(t *testing.T) {
	enc, err := tokenizer.Get(tokenizer.Cl100kBase)
	if err != nil {
		t.Fatal(err)
	}
	count := func(s string) int {
		ids, _, err := enc.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	type contextTool struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		InputSchema json.RawMessage `json:"input_schema"`
	}
	tokens := func(ts *codemode.ToolSet) int {
		var tools []contextTool
		for _, tool := range ts.Tools {
			tools = append(tools, contextTool{tool.Name, tool.Description, tool.InputSchema})
		}
		b, err := json.Marshal(tools)
		if err != nil {
			t.Fatal(err)
		}
		return count(string(b))
	}
	// Budgets for the tools that do not grow with the catalog.
	budget := map[codemode.Disclosure]int{codemode.Catalog: 300, codemode.Filesystem: 300}
	for _, c := range []struct {
		name string
		cat  *catalog.Catalog
	}{{"8 seed functions", searchCatalog(t, seedFunctions...)}, {"100 functions", searchCatalog(t)}} {
		svc := codemode.New(c.cat, &codemode.Options{Executor: codemode.InProcess})
		for _, d := range codemode.Disclosures {
			ts := svc.ToolSet(d)
			n := tokens(ts)
			t.Logf("%s, %s: %d tools, %d tokens (inline %v)", c.name, d, len(ts.Tools), n, ts.Inline)
			if max, ok := budget[d]; ok && n > max+80*btoi(names(ts)[0] == "search_functions") {
				t.Errorf("%s, %s: %d tokens, over the budget of %d", c.name, d, n, max)
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestInlineBudgetTokens checks the inline budget's documented token equivalent: the
// compact declarations of the reference catalogs run 3.6–4.4 bytes per cl100k token,
// so DefaultInlineBudget (4,000 bytes) is about 1,000 tokens.
func TestInlineBudgetTokens(t *testing.T) {
	enc, err := tokenizer.Get(tokenizer.Cl100kBase)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cat  *catalog.Catalog
	}{{"8 seed functions", searchCatalog(t, seedFunctions...)}, {"100 functions", searchCatalog(t)}} {
		text := c.cat.Snapshot().Compact()
		ids, _, err := enc.Encode(text)
		if err != nil {
			t.Fatal(err)
		}
		ratio := float64(len(text)) / float64(len(ids))
		t.Logf("%s: %d bytes, %d tokens, %.2f bytes/token", c.name, len(text), len(ids), ratio)
		if ratio < 3.6 || ratio > 4.4 {
			t.Errorf("%s: %.2f bytes per token: DefaultInlineBudget's documented equivalent is off", c.name, ratio)
		}
	}
}
