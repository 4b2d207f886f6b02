package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/client"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/server"
)

// The disclosure section bills each seed workflow in each disclosure (catalog,
// filesystem, sidecar, auto) against three catalogs: the workflow's own four functions,
// all configured tools (the live pctx of section 2), and the 100-function search catalog
// (internal/catalog/testdata/search). Every text in a conversation is a pctx answer in
// this run: tools/list of a session in that disclosure, the discovery calls an agent
// makes there, and the seed's program really executed.

// Catalog names in the disclosure section.
const (
	catOwn = "workflow's own tools"
	catAll = "all configured tools"
	cat100 = "100-function catalog"
)

// ModeRun is one workflow in one disclosure against one catalog.
type ModeRun struct {
	Workflow   string     `json:"workflow"`
	Catalog    string     `json:"catalog"`
	Disclosure string     `json:"disclosure"`
	Functions  int        `json:"functions"`
	Inline     bool       `json:"inline,omitempty"` // auto put the declarations inline
	Calls      []string   `json:"calls"`            // the tool calls of the Code Mode run
	Tools      Tokens     `json:"tools_context"`    // the disclosure's tools, context JSON
	Result     Comparison `json:"comparison"`
}

// ToolListTokens is one disclosure's tools/list for one catalog.
type ToolListTokens struct {
	Catalog    string `json:"catalog"`
	Disclosure string `json:"disclosure"`
	Functions  int    `json:"functions"`
	Tools      int    `json:"tools"`
	Inline     bool   `json:"inline,omitempty"`
	Context    Tokens `json:"context_json"`
}

// SearchQuality is search_functions over MCP on the 100-function catalog.
type SearchQuality struct {
	Queries       int      `json:"queries"`
	First         int      `json:"first"`
	Top3          int      `json:"top3"`
	HeldOut       int      `json:"held_out_queries"`
	HeldOutFirst  int      `json:"held_out_first"`
	HeldOutTop3   int      `json:"held_out_top3"`
	Misses        []string `json:"misses"`
	HeldOutMisses []string `json:"held_out_misses"`
}

// DisclosureSection is the disclosures' measurements.
type DisclosureSection struct {
	Default   string           `json:"default"`
	ToolLists []ToolListTokens `json:"tool_lists"`
	Runs      []ModeRun        `json:"runs"`   // by workflow, then catalog, then disclosure
	Search    SearchQuality    `json:"search"` // empty when not measured
}

var disclosureNames = []string{"catalog", "filesystem", "sidecar", "auto"}

// payloadCall serves a seed function with its payload, any other function with a small
// acknowledgement, as the Python worker and the stand-ins do.
func payloadCall(p Payloads, fn string) catalog.CallFunc {
	results := map[string]any{
		"data.analyze_sentiment": p.Sentiment, "data.fetch_database_metrics": p.Metrics, "search.vector_search": p.Search,
		"github.create_issue": p.Issue, "ml.predict_churn": p.Churn, "stripe.get_customer": p.Customer,
		"data.update_risk_score": nil, "zendesk.create_ticket": p.Ticket,
	}
	return func(context.Context, map[string]any) (any, error) {
		if v, ok := results[fn]; ok {
			return v, nil
		}
		return map[string]any{"ok": true}, nil
	}
}

// inProcessPctx serves defs through pctx's own catalog, Code Mode service and MCP server
// on a loopback listener; stop ends it.
func inProcessPctx(defs []ToolDef, p Payloads) (url string, stop func(), err error) {
	cat := catalog.New()
	byNS := map[string][]catalog.Tool{}
	var order []string
	for _, d := range defs {
		if _, ok := byNS[d.Namespace]; !ok {
			order = append(order, d.Namespace)
		}
		byNS[d.Namespace] = append(byNS[d.Namespace], catalog.Tool{Name: d.Name, Description: d.Description,
			InputSchema: d.InputSchema, OutputSchema: d.OutputSchema, Params: d.Params, Call: payloadCall(p, d.Namespace+"."+d.Name)})
	}
	for _, ns := range order {
		if err := cat.Put("bench", catalog.Namespace{Name: ns, Tools: byNS[ns]}); err != nil {
			return "", nil, fmt.Errorf("in-process catalog: %w", err)
		}
	}
	// In-process executions: these catalogs run only the seed's programs.
	srv := server.New(codemode.New(cat, &codemode.Options{Executor: codemode.InProcess}), nil)
	handler, closeSessions := srv.HTTPHandler()
	ts := httptest.NewServer(handler)
	return ts.URL, func() {
		_ = closeSessions(context.Background())
		ts.Close()
		srv.Close()
	}, nil
}

// searchCatalogDefs reads the 100-function search catalog.
func searchCatalogDefs(root string) ([]ToolDef, error) {
	raw, err := os.ReadFile(filepath.Join(root, "internal/catalog/testdata/search/catalog.json"))
	if err != nil {
		return nil, err
	}
	var defs []ToolDef
	if err := json.Unmarshal(raw, &defs); err != nil {
		return nil, fmt.Errorf("search catalog: %w", err)
	}
	return defs, nil
}

// disclosureConversation runs w as an agent would in the session c (whose tools are
// tools): discover (list and details; or cat the README and the .d.ts files; or nothing
// where the declarations are at hand), execute the seed's program, answer.
func disclosureConversation(ctx context.Context, c *client.Client, w Workflow, tools []ToolDef) (Conversation, []string, error) {
	has := func(name string) bool {
		return slices.ContainsFunc(tools, func(d ToolDef) bool { return d.Name == name })
	}
	conv := Conversation{Tools: ContextJSON(tools), Prompt: w.Prompt}
	var calls []string
	step := func(tool string, args map[string]any) error {
		text, err := callText(ctx, c, tool, args)
		if err != nil {
			return err
		}
		conv.Steps = append(conv.Steps, Step{Call: ToolCall(tool, args), Result: text})
		calls = append(calls, tool)
		return nil
	}
	switch {
	case has("list_functions"):
		if err := step("list_functions", map[string]any{}); err != nil {
			return conv, nil, err
		}
		if err := step("get_function_details", map[string]any{"functions": w.Functions}); err != nil {
			return conv, nil, err
		}
	case has("execute_bash"):
		if err := step("execute_bash", map[string]any{"command": "cat README.md"}); err != nil {
			return conv, nil, err
		}
		var files []string
		for _, fn := range w.Functions {
			files = append(files, strings.Replace(fn, ".", "/", 1)+".d.ts")
		}
		if err := step("execute_bash", map[string]any{"command": "cat " + strings.Join(files, " ")}); err != nil {
			return conv, nil, err
		}
	}
	if err := step("execute_typescript", map[string]any{"code": w.Program}); err != nil {
		return conv, nil, err
	}
	conv.Steps = append(conv.Steps, Step{Call: w.Final})
	return conv, calls, nil
}

func compareConversation(tk *Tokenizer, w Workflow, baselineJSON string, conv Conversation) Comparison {
	seq := w.Sequential(baselineJSON).Cost(tk)
	par := w.Parallel(baselineJSON).Cost(tk)
	cm := conv.Cost(tk)
	return Comparison{Sequential: seq, Parallel: par, CodeMode: cm,
		Ratio:         ratio(seq.Total.Cl100k, cm.Total.Cl100k),
		RatioO200k:    ratio(seq.Total.O200k, cm.Total.O200k),
		RatioParallel: ratio(par.Total.Cl100k, cm.Total.Cl100k)}
}

// disclosureTarget is one catalog the workflows run against.
type disclosureTarget struct {
	name      string
	url       string    // MCP endpoint without the query
	baseline  []ToolDef // its tools as sequential tool calling puts them in context
	functions int
}

// measureDisclosures fills r.Disclosure. allURL is the live pctx's /mcp (section 2's);
// allDefs its tools; ownDefs every seed function's definition.
func measureDisclosures(ctx context.Context, tk *Tokenizer, o options, r *Report, workflows []Workflow, p Payloads, allURL string, allDefs, ownDefs []ToolDef, logf func(string, ...any)) error {
	r.Disclosure.Default = string(codemode.DefaultDisclosure)
	defs100, err := searchCatalogDefs(o.root)
	if err != nil {
		return err
	}
	url100, stop100, err := inProcessPctx(defs100, p)
	if err != nil {
		return err
	}
	defer stop100()
	listed := map[string]bool{}
	for _, w := range workflows {
		var own []ToolDef
		for _, d := range ownDefs {
			if slices.Contains(w.Functions, d.Namespace+"."+d.Name) {
				own = append(own, d)
			}
		}
		ownURL, stopOwn, err := inProcessPctx(own, p)
		if err != nil {
			return err
		}
		targets := []disclosureTarget{{catOwn, ownURL + "/mcp", own, len(own)}, {cat100, url100 + "/mcp", defs100, len(defs100)}}
		if allURL != "" {
			targets = slices.Insert(targets, 1, disclosureTarget{catAll, allURL, allDefs, len(allDefs)})
		}
		for _, tg := range targets {
			for _, d := range disclosureNames {
				logf("workflow %s, %s, %s disclosure", w.Name, tg.name, d)
				c, err := mcpHTTP(ctx, tg.url+"?disclosure="+d)
				if err != nil {
					stopOwn()
					return err
				}
				tools, err := listTools(ctx, c)
				if err != nil {
					c.Close()
					stopOwn()
					return err
				}
				inline := d == "auto" && len(tools) > 0 && !slices.ContainsFunc(tools, func(t ToolDef) bool { return t.Name == "list_functions" })
				conv, calls, err := disclosureConversation(ctx, c, w, tools)
				c.Close()
				if err != nil {
					stopOwn()
					return fmt.Errorf("workflow %q, %s, %s: %w", w.Name, tg.name, d, err)
				}
				r.Disclosure.Runs = append(r.Disclosure.Runs, ModeRun{Workflow: w.Name, Catalog: tg.name, Disclosure: d, Functions: tg.functions, Inline: inline,
					Calls: calls, Tools: tk.Count(ContextJSON(tools)), Result: compareConversation(tk, w, ContextJSON(tg.baseline), conv)})
				key := tg.name + "/" + d
				if tg.name == catOwn {
					key += "/" + w.Name
				}
				if !listed[key] {
					listed[key] = true
					name := tg.name
					if tg.name == catOwn {
						name += " (" + w.Name + ")"
					}
					r.Disclosure.ToolLists = append(r.Disclosure.ToolLists, ToolListTokens{Catalog: name, Disclosure: d, Functions: tg.functions,
						Tools: len(tools), Inline: inline, Context: tk.Count(ContextJSON(tools))})
				}
			}
		}
		stopOwn()
	}
	logf("search_functions quality over MCP")
	sq, err := searchQuality(ctx, o.root, url100+"/mcp?disclosure=catalog")
	if err != nil {
		return err
	}
	r.Disclosure.Search = sq
	return nil
}

// searchQuality asks search_functions (k = 3) every query of the committed and the
// held-out sets and counts where the wanted function ranks.
func searchQuality(ctx context.Context, root, url string) (SearchQuality, error) {
	var sq SearchQuality
	c, err := mcpHTTP(ctx, url)
	if err != nil {
		return sq, err
	}
	defer c.Close()
	for _, set := range []struct {
		file           string
		n, first, top3 *int
		misses         *[]string
	}{{"queries.json", &sq.Queries, &sq.First, &sq.Top3, &sq.Misses}, {"heldout.json", &sq.HeldOut, &sq.HeldOutFirst, &sq.HeldOutTop3, &sq.HeldOutMisses}} {
		raw, err := os.ReadFile(filepath.Join(root, "internal/catalog/testdata/search", set.file))
		if err != nil {
			return sq, err
		}
		var qs []struct{ Query, Want string }
		if err := json.Unmarshal(raw, &qs); err != nil {
			return sq, fmt.Errorf("%s: %w", set.file, err)
		}
		for _, q := range qs {
			text, err := callText(ctx, c, "search_functions", map[string]any{"query": q.Query, "k": 3})
			if err != nil {
				return sq, err
			}
			got := searchHits(text)
			*set.n++
			switch i := slices.Index(got, q.Want); {
			case i == 0:
				*set.first++
				*set.top3++
			case i > 0:
				*set.top3++
				fallthrough
			default:
				*set.misses = append(*set.misses, fmt.Sprintf("%q → %s (wanted %s)", q.Query, strings.Join(got, ", "), q.Want))
			}
		}
	}
	return sq, nil
}

// searchHits reads the functions of a search_functions answer, best first: each line
// after the header is "SCORE ns.fn(...) // summary".
func searchHits(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "//") || line == "" {
			continue
		}
		_, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '('); i > 0 {
			out = append(out, rest[:i])
		}
	}
	return out
}

// bestRun returns the cheapest disclosure (by cl100k ratio) of workflow against the
// named catalog.
func (s DisclosureSection) bestRun(workflow, catalogName string) (ModeRun, bool) {
	var best ModeRun
	found := false
	for _, run := range s.Runs {
		if run.Workflow == workflow && run.Catalog == catalogName && (!found || run.Result.Ratio > best.Result.Ratio) {
			best, found = run, true
		}
	}
	return best, found
}

// run returns workflow's run in disclosure d against the named catalog.
func (s DisclosureSection) run(workflow, catalogName, d string) (ModeRun, bool) {
	for _, run := range s.Runs {
		if run.Workflow == workflow && run.Catalog == catalogName && run.Disclosure == d {
			return run, true
		}
	}
	return ModeRun{}, false
}

// renderDisclosures writes section 2b.
func renderDisclosures(p func(string, ...any), r *Report) {
	d := r.Disclosure
	if len(d.Runs) == 0 {
		return
	}
	p("\n## 2b. By disclosure: each workflow × each disclosure × each catalog\n\n")
	p("The same workflows and payloads as section 2, billed the same way, with the Code Mode side in each disclosure (the default is **%s**). Every text is pctx's answer in this run: tools/list of an MCP session that chose the disclosure (`/mcp?disclosure=NAME`), then what an agent calls there before writing the program: *catalog* `list_functions` and `get_function_details` for the workflow's functions; *filesystem* `execute_bash` `cat README.md`, then `cat` of the workflow's four `.d.ts` files; *sidecar* nothing (the functions are tools, with their schemas); *auto* nothing when the declarations are inline, else as catalog. Then one `execute_typescript` with the seed's program (really run) and the final answer. Catalogs: *%s*, an in-process pctx holding only the workflow's four functions; *%s*, the live pctx of section 2 (its Python worker also registers `bench.echo`, one function more than the baseline's 45); *%s*, an in-process pctx with `internal/catalog/testdata/search/catalog.json` (the three npm servers' tools as captured, the seed's Python tools and stand-ins), the baseline being those 100 tools in context. In-process catalogs answer calls with the same payloads as the worker.\n\n", d.Default, catOwn, catAll, cat100)
	for _, w := range r.Workflows {
		p("%s:\n\n| catalog | functions | disclosure | tools in context | calls | Code Mode total | sequential total | ratio cl100k | ratio o200k |\n|---|---:|---|---:|---|---:|---:|---:|---:|\n", w.Workflow.Name)
		for _, run := range d.Runs {
			if run.Workflow != w.Workflow.Name {
				continue
			}
			name := run.Disclosure
			if run.Inline {
				name += " (inline)"
			}
			if run.Disclosure == d.Default {
				name = "**" + name + "**"
			}
			p("| %s | %d | %s | %d | %s | %d | %d | **%.1f×** | %.1f× |\n", run.Catalog, run.Functions, name, run.Tools.Cl100k,
				strings.Join(run.Calls, ", "), run.Result.CodeMode.Total.Cl100k, run.Result.Sequential.Total.Cl100k, run.Result.Ratio, run.Result.RatioO200k)
		}
		p("\n")
	}
	p("Each disclosure's tool definitions as a client puts them in context (cl100k / o200k), what every request of a conversation pays:\n\n| catalog | functions | disclosure | tools | context JSON |\n|---|---:|---|---:|---:|\n")
	for _, t := range d.ToolLists {
		name := t.Disclosure
		if t.Inline {
			name += " (inline)"
		}
		p("| %s | %d | %s | %d | %s |\n", t.Catalog, t.Functions, name, t.Tools, tok(t.Context))
	}
	p("\nWhy the disclosures differ. *catalog* pays two discovery round trips, each carrying its answer to the end of the conversation; *filesystem* pays the same with a bigger README (a summary per function); *sidecar* pays every function's JSON Schema in every request, as sequential calling does, but only two requests; *auto* puts the compact declarations (about 16 tokens per function) in execute_typescript's description while they fit its budget (4 KB, about 1,000 tokens), so a workflow is two requests with no discovery, and is catalog above it (the 100-function catalog). search_functions is offered past 50 functions (the 100-function catalog); these runs do not use it.\n")
	sq := d.Search
	if sq.Queries > 0 {
		p("\n### search_functions\n\n`search_functions` (k = 3) over MCP on the 100-function catalog: the right function first for **%d of %d** queries of `internal/catalog/testdata/search/queries.json` (%.0f%%), in the top 3 for %d. Those queries were written before the ranker and the ranker was then tuned on them; the %d queries of `heldout.json`, written afterwards and never tuned on, show how it generalises: %d first (%.0f%%), %d in the top 3 (%.0f%%). The same numbers are `go test ./internal/catalog -run TestSearchQuality`'s bar.\n\nMisses:\n\n", sq.First, sq.Queries, percent(sq.First, sq.Queries), sq.Top3, sq.HeldOut, sq.HeldOutFirst, percent(sq.HeldOutFirst, sq.HeldOut), sq.HeldOutTop3, percent(sq.HeldOutTop3, sq.HeldOut))
		for _, m := range sq.Misses {
			p("- %s\n", oneLine(m))
		}
		for _, m := range sq.HeldOutMisses {
			p("- held out: %s\n", oneLine(m))
		}
	}
}
