package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Report is everything one run measured; report.json is this struct.
type Report struct {
	GeneratedAt string            `json:"generated_at"`
	Seconds     float64           `json:"seconds"`
	Quick       bool              `json:"quick"`
	Machine     Machine           `json:"machine"`
	Binary      string            `json:"pctx_binary"`
	Tokens      TokenSection      `json:"tokens"`
	Workflows   []WorkflowResult  `json:"workflows"`
	Disclosure  DisclosureSection `json:"disclosures"`
	Latency     LatencySection    `json:"latency"`
	Peer        PeerSection       `json:"peer"`
	GoBench     []GoBenchPackage  `json:"go_benchmarks"`
	Targets     []Target          `json:"targets"`
	Notes       []string          `json:"notes"`
}

// Machine describes where the run happened; the load averages say how shared it was.
type Machine struct {
	CPU        string `json:"cpu"`
	CPUs       int    `json:"cpus"`
	GoVersion  string `json:"go"`
	OS         string `json:"os"`
	LoadBefore string `json:"loadavg_before"`
	LoadAfter  string `json:"loadavg_after"`
}

// TokenSection is the per-tool-set comparison.
type TokenSection struct {
	ThreeTools     Tokens          `json:"pctx_three_tools"`
	ThreeToolsJSON string          `json:"-"`
	Sets           []ToolSetTokens `json:"sets"`
	All            ToolSetTokens   `json:"all"`
	PctxTotal      Tokens          `json:"pctx_three_tools_plus_listing"`
}

// Comparison is one workflow billed both ways.
type Comparison struct {
	Sequential Cost    `json:"sequential"`
	Parallel   Cost    `json:"sequential_parallel_calls"`
	CodeMode   Cost    `json:"code_mode"`
	Ratio      float64 `json:"ratio_cl100k"`
	RatioO200k float64 `json:"ratio_o200k"`
	// RatioParallel is the cl100k ratio against the parallel-tool-calls variant.
	RatioParallel float64 `json:"ratio_parallel_cl100k"`
}

func compare(tk *Tokenizer, w Workflow, toolsJSON string, t CodeModeTexts) Comparison {
	seq := w.Sequential(toolsJSON).Cost(tk)
	par := w.Parallel(toolsJSON).Cost(tk)
	cm := w.CodeMode(t).Cost(tk)
	return Comparison{Sequential: seq, Parallel: par, CodeMode: cm,
		Ratio:         ratio(seq.Total.Cl100k, cm.Total.Cl100k),
		RatioO200k:    ratio(seq.Total.O200k, cm.Total.O200k),
		RatioParallel: ratio(par.Total.Cl100k, cm.Total.Cl100k)}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// WorkflowResult is one seed workflow: billed with only its own tools in context, and
// with every configured tool in context, plus its live run through pctx.
type WorkflowResult struct {
	Workflow    Workflow      `json:"workflow"`
	Only        Comparison    `json:"workflow_tools_only"`
	All         Comparison    `json:"all_configured_tools"`
	Sensitivity []Sensitivity `json:"metric_rows_sensitivity,omitempty"`
	LiveResult  string        `json:"live_result,omitempty"`
	// Code Mode's texts in this run, cl100k tokens.
	ListingTokens int     `json:"listing_all_cl100k"`
	DetailsTokens int     `json:"details_cl100k"`
	ProgramTokens int     `json:"program_cl100k"`
	ResultTokens  int     `json:"result_cl100k"`
	Latency       Summary `json:"live_latency_ms"`
}

// Sensitivity is the workflow ratio (cl100k) for another size of the metrics payload.
type Sensitivity struct {
	MetricRows int     `json:"metric_rows"`
	Only       float64 `json:"ratio_workflow_tools_only"`
	All        float64 `json:"ratio_all_configured_tools"`
}

// Run is one latency measurement, in milliseconds.
type Run struct {
	Name      string  `json:"name"`
	Transport string  `json:"transport"`
	Program   string  `json:"program"`
	Summary   Summary `json:"ms"`
}

// RSS is the resident memory of a fresh pctx (no upstreams) before and after executions.
type RSS struct {
	IdleKiB    int `json:"idle_kib"`
	AfterKiB   int `json:"after_kib"`
	Executions int `json:"executions"`
}

// LatencySection is the end-to-end measurements.
type LatencySection struct {
	Runs              []Run        `json:"runs"`
	UpstreamRatio     float64      `json:"upstream_via_pctx_over_direct_p50"`
	PythonRoundTripMs float64      `json:"python_callback_round_trip_ms"`
	Concurrency       []Throughput `json:"concurrency"`
	RSS               RSS          `json:"rss"`
}

func (l LatencySection) find(name, transport string) (Summary, bool) {
	for _, r := range l.Runs {
		if r.Name == name && r.Transport == transport {
			return r.Summary, true
		}
	}
	return Summary{}, false
}

// PeerSection compares pctx as a library with @utcp/code-mode on the same programs.
type PeerSection struct {
	Ran            bool    `json:"ran"`
	Error          string  `json:"error,omitempty"`
	Node           string  `json:"node,omitempty"`
	InstallSeconds float64 `json:"install_seconds,omitempty"`
	Trivial        Summary `json:"peer_trivial_ms"`
	Hundred        Summary `json:"peer_100_calls_ms"`
	PctxTrivial    Summary `json:"pctx_inprocess_trivial_ms"`
	PctxUncached   Summary `json:"pctx_inprocess_trivial_new_source_ms"`
	PctxHundred    Summary `json:"pctx_inprocess_100_calls_ms"`
}

// Target is one goal from the issue, met or missed by this run's numbers.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Status   string `json:"status"` // met, missed, not measured
}

func status(ok, measured bool) string {
	switch {
	case !measured:
		return "not measured"
	case ok:
		return "met"
	default:
		return "missed"
	}
}

// Targets evaluates the targets against r.
func Targets(r *Report) []Target {
	var ts []Target
	triv, ok := r.Latency.find("trivial", "HTTP")
	measuredTriv := fmt.Sprintf("p50 %.3f ms", triv.P50)
	if fresh, ok := r.Latency.find(runFresh, "HTTP"); ok {
		measuredTriv += fmt.Sprintf(" (a new program every run: %.3f ms)", fresh.P50)
	}
	ts = append(ts, Target{"trivial execution over HTTP", "p50 ≤ 1 ms", measuredTriv, status(triv.P50 <= 1, ok && triv.N > 0)})
	up := r.Latency.UpstreamRatio
	measured := fmt.Sprintf("%.2f×", up)
	via, okV := r.Latency.find(runViaPctx, transportViaPctx)
	direct, okD := r.Latency.find(runDirect, transportDirect)
	hundred, okH := r.Latency.find(runHundred, transportViaPctx)
	if okV && okD {
		measured += fmt.Sprintf(" for one call in its own execution (+%.2f ms p50)", via.P50-direct.P50)
	}
	if okH && okD && direct.P50 > 0 {
		measured += fmt.Sprintf("; %.2f× per call amortised over 100 calls in one program", hundred.P50/100/direct.P50)
	}
	ts = append(ts, Target{"per-upstream-call overhead", "via pctx ÷ direct ≤ 1.1×", measured, status(up <= 1.1, up > 0)})
	for _, v := range []struct {
		label string
		pctx  Summary
	}{{"same program repeated", r.Peer.PctxTrivial}, {"a new program every run, as an agent sends", r.Peer.PctxUncached}} {
		speed := 0.0
		if r.Peer.Ran && v.pctx.P50 > 0 {
			speed = r.Peer.Trivial.P50 / v.pctx.P50
		}
		ts = append(ts, Target{"trivial execution vs the peer (@utcp/code-mode), both in-process, " + v.label, "≥ 10× faster",
			fmt.Sprintf("%.1f× (pctx %.3f ms, peer %.3f ms p50)", speed, v.pctx.P50, r.Peer.Trivial.P50), status(speed >= 10, r.Peer.Ran && v.pctx.N > 0)})
	}
	med := r.Tokens.All.PerFunctionMedian
	ts = append(ts, Target{"tokens per function in list_functions", "median ≤ 15", fmt.Sprintf("median %d cl100k / %d o200k over %d functions", med.Cl100k, med.O200k, r.Tokens.All.Functions), status(med.Cl100k <= 15 && med.O200k <= 15, r.Tokens.All.Functions > 0)})
	d := r.Disclosure
	for _, w := range r.Workflows {
		name := w.Workflow.Name
		if def, ok := d.run(name, catAll, d.Default); ok {
			ts = append(ts, Target{"workflow tokens: " + name + " (all configured tools in context), default disclosure (" + d.Default + ")", "sequential ÷ Code Mode ≥ 10×",
				fmt.Sprintf("%.1f× cl100k, %.1f× o200k; %s", def.Result.Ratio, def.Result.RatioO200k, d.otherRatios(name, catAll)), status(def.Result.Ratio >= 10, true)})
		} else {
			ts = append(ts, Target{"workflow tokens: " + name + " (all configured tools in context), catalog disclosure", "sequential ÷ Code Mode ≥ 10×",
				fmt.Sprintf("%.1f× cl100k, %.1f× o200k (the disclosures were not measured against all tools)", w.All.Ratio, w.All.RatioO200k), status(w.All.Ratio >= 10, true)})
		}
		best, ok := d.bestRun(name, catOwn)
		ts = append(ts, Target{"workflow tokens: " + name + " (only the workflow's own tools in context), best disclosure", "sequential ÷ Code Mode ≥ 1.5×",
			fmt.Sprintf("%s %.1f× cl100k, %.1f× o200k; %s", best.Disclosure, best.Result.Ratio, best.Result.RatioO200k, d.otherRatios(name, catOwn)), status(best.Result.Ratio >= 1.5, ok)})
	}
	sq := d.Search
	ts = append(ts, Target{"search_functions: the right function first, 50 natural-language queries over the 100-function catalog", "≥ 90% of the queries",
		fmt.Sprintf("%d/%d (%.0f%%), in the top 3: %d/%d; held-out queries (written after tuning): %d/%d first, %d/%d in the top 3",
			sq.First, sq.Queries, percent(sq.First, sq.Queries), sq.Top3, sq.Queries, sq.HeldOutFirst, sq.HeldOut, sq.HeldOutTop3, sq.HeldOut),
		status(sq.First*10 >= sq.Queries*9, sq.Queries > 0)})
	return ts
}

func percent(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// otherRatios lists workflow's ratio in every disclosure against the named catalog.
func (s DisclosureSection) otherRatios(workflow, catalogName string) string {
	var parts []string
	for _, d := range disclosureNames {
		if run, ok := s.run(workflow, catalogName, d); ok {
			parts = append(parts, fmt.Sprintf("%s %.1f×", d, run.Result.Ratio))
		}
	}
	return "by disclosure: " + strings.Join(parts, ", ")
}

func ms(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// RenderMarkdown writes REPORT.md from r alone.
func RenderMarkdown(r *Report) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# pctx benchmark report\n\n")
	p("Generated by `make bench` (`go run ./bench/cmd/report`) at %s in %.0f s. Every number below comes from that run; rerun to regenerate. Raw summaries: [report.json](report.json).\n\n", r.GeneratedAt, r.Seconds)
	if r.Quick {
		p("**Quick run** (`-quick`): few iterations, no Go benchmarks; numbers are indicative only.\n\n")
	}
	p("Machine: %s, %d CPUs, %s, %s. Load average (1/5/15 min) before: %s, after: %s.", r.Machine.CPU, r.Machine.CPUs, r.Machine.OS, r.Machine.GoVersion, r.Machine.LoadBefore, r.Machine.LoadAfter)
	if loadHigh(r.Machine.LoadBefore, r.Machine.CPUs) || loadHigh(r.Machine.LoadAfter, r.Machine.CPUs) {
		p(" **The load was high: other jobs shared these cores during the run, so latencies are noisy and pessimistic; ratios measured in interleaved rounds (via pctx vs direct) are the more robust figures.**")
	}
	p("\n\n## Targets\n\n| target | goal | measured | status |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		p("| %s | %s | %s | **%s** |\n", t.Name, t.Goal, t.Measured, t.Status)
	}

	p("\n## 1. Tokens: tool definitions in context vs pctx\n\n")
	p("Offline tokenizers (tiktoken-go: cl100k_base / o200k_base). *tools/list JSON* is the server's tools/list result as sent; *context JSON* is what a client puts in every request (name, description, input schema; compact). *listing* is the namespace's block of pctx's `list_functions` text; *per function* counts one listing line.\n\n")
	for _, enc := range []struct {
		name string
		get  func(Tokens) int
	}{{"cl100k_base", func(t Tokens) int { return t.Cl100k }}, {"o200k_base", func(t Tokens) int { return t.O200k }}} {
		p("%s:\n\n| tool set | functions | tools/list JSON | context JSON | context per tool, median / max | pctx listing | listing per function, median / max | context ÷ listing |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", enc.name)
		for _, s := range append(append([]ToolSetTokens{}, r.Tokens.Sets...), r.Tokens.All) {
			g := enc.get
			p("| %s | %d | %d | %d | %d / %d | %d | %d / %d | %.1f× |\n", s.Name, s.Functions, g(s.ToolsList), g(s.Context), g(s.ContextPerToolMed), g(s.ContextPerToolMax), g(s.Listing), g(s.PerFunctionMedian), g(s.PerFunctionMax), ratio(g(s.Context), g(s.Listing)))
		}
		p("\n")
	}
	p("pctx's three tool definitions (from its own tools/list): %s tokens (cl100k / o200k); with the whole listing: %s tokens, against %s tokens of context JSON for all the tools above.\n\n", tok(r.Tokens.ThreeTools), tok(r.Tokens.PctxTotal), tok(r.Tokens.All.Context))
	p("Sources:\n\n")
	for _, s := range r.Tokens.Sets {
		p("- %s: %s\n", s.Name, s.Source)
	}

	p("\n## 2. Workflow tokens: sequential tool calling vs Code Mode\n\n")
	p("This section bills the catalog disclosure; section 2b bills every disclosure. Model: each request reads the tool definitions, the prompt and every earlier call and result, and writes one call (message framing left out on both sides). *Sequential*: one tool call per turn, results appended as compact JSON, then the final answer. *Code Mode*: pctx's three tool definitions; `list_functions` and its result; `get_function_details` for the workflow's four functions and its result; one `execute_typescript` carrying the seed's program verbatim and its result; the final answer. Listing, details and result texts are pctx's own answers in this run (the program really ran: Python tools through the SDK, stand-in MCP tools for GitHub, Stripe and Zendesk).\n\n")
	p("Payloads (the same on both sides): sentiment `{positive: 0.08, negative: 0.82, neutral: 0.1}`; `fetch_database_metrics` returns `SELECT *` over the last hour: 4 series × 60 minutes = 240 rows of `{name, value, timestamp}`; `vector_search` 5 results `{title, url, relevance}`; `create_issue` answers `{id, url}` (the GitHub MCP server's minimal answer); `predict_churn` the seed's dict; `get_customer` a Stripe customer object with its default fields; `update_risk_score` null; `create_ticket` a Zendesk ticket object's main fields. In the sequential run the model also writes the metrics into the issue body, as the seed's program does.\n\n")
	p("| workflow | tools in context | sequential input / output / total | Code Mode input / output / total | ratio cl100k | ratio o200k | ratio vs parallel tool calls |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, w := range r.Workflows {
		for _, c := range []struct {
			label string
			c     Comparison
		}{{"workflow's own tools", w.Only}, {"all configured tools", w.All}} {
			p("| %s | %s | %d / %d / %d | %d / %d / %d | **%.1f×** | %.1f× | %.1f× |\n", w.Workflow.Name, c.label,
				c.c.Sequential.Input.Cl100k, c.c.Sequential.Output.Cl100k, c.c.Sequential.Total.Cl100k,
				c.c.CodeMode.Input.Cl100k, c.c.CodeMode.Output.Cl100k, c.c.CodeMode.Total.Cl100k, c.c.Ratio, c.c.RatioO200k, c.c.RatioParallel)
		}
	}
	p("\nToken columns are cl100k. *Ratio vs parallel tool calls* bills the baseline with the calls the seed's program runs concurrently issued in one turn (fewer requests, same payloads). The seed claims \"up to 75×\".\n\n")
	p("Where the numbers come from. Sequential calling pays the tool definitions once per request and carries every result to the end, so it grows with the number of tools and the size of the results. Code Mode pays a fixed price instead: pctx's three tool definitions (%d tokens, in every request)", r.Tokens.ThreeTools.Cl100k)
	for i, w := range r.Workflows {
		if i == 0 {
			p(", the listing (%d tokens for all configured tools)", w.ListingTokens)
		}
		p("; for %s, details %d, program %d and result %d tokens", w.Workflow.Name, w.DetailsTokens, w.ProgramTokens, w.ResultTokens)
	}
	p(". So Code Mode wins big when results are large or tools are many, and can lose on a small workflow with small results and few tools (the *workflow's own tools* rows). Not modelled: prompt caching (which discounts the repeated prefix on both sides) and message framing.\n")
	for _, w := range r.Workflows {
		if len(w.Sensitivity) == 0 {
			continue
		}
		p("\nHow the %s ratio (cl100k) depends on the size of the metrics result:\n\n| metric rows | workflow's own tools | all configured tools |\n|---:|---:|---:|\n", w.Workflow.Name)
		for _, s := range w.Sensitivity {
			p("| %d | %.1f× | %.1f× |\n", s.MetricRows, s.Only, s.All)
		}
	}
	p("\nTurn by turn (cl100k input tokens per request):\n\n")
	for _, w := range r.Workflows {
		p("- %s, all tools: sequential %s; Code Mode %s\n", w.Workflow.Name, turns(w.All.Sequential), turns(w.All.CodeMode))
	}

	renderDisclosures(p, r)

	p("\n## 3. Latency and throughput (real pctx binary, real transports)\n\n")
	p("Milliseconds per call as the MCP client sees it (mcp-go unless the transport names another), after warm-up.\n\n| measurement | transport | n | p50 | p90 | p99 | max |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, run := range r.Latency.Runs {
		s := run.Summary
		p("| %s | %s | %d | %s | %s | %s | %s |\n", run.Name, run.Transport, s.N, ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
	}
	for _, w := range r.Workflows {
		if w.Latency.N > 0 {
			p("| seed workflow: %s (4 calls, Python + stand-ins) | HTTP → pctx → websocket → Python | %d | %s | %s | %s | %s |\n", w.Workflow.Name, w.Latency.N, ms(w.Latency.P50), ms(w.Latency.P90), ms(w.Latency.P99), ms(w.Latency.Max))
		}
	}
	if r.Latency.UpstreamRatio > 0 {
		p("\nOne upstream call via pctx ÷ the same call direct (p50, interleaved rounds): **%.2f×**.", r.Latency.UpstreamRatio)
	}
	hundred, okH := r.Latency.find(runHundred, transportViaPctx)
	direct, okD := r.Latency.find(runDirect, transportDirect)
	if okH && okD && hundred.N > 0 {
		p(" 100 parallel upstream calls in one program: %s ms per call amortised (p50 ÷ 100), against %s ms for one direct call.", ms(hundred.P50/100), ms(direct.P50))
	}
	if r.Latency.PythonRoundTripMs != 0 {
		p(" Python SDK callback round trip (one-call p50 − trivial p50): **%.3f ms**.", r.Latency.PythonRoundTripMs)
	}
	renderClients(p, r)
	p("\n\nConcurrency: MCP clients over HTTP, each executing `%s` back to back (about 25 ms of interpreter work each, in a sandbox worker per execution); the clients run in the runner on the same cores, in alternating rounds of 1 and 8 clients.\n\n| clients | executions | seconds | executions/s | CPU cores used (pctx and its workers) | executions per CPU-second |\n|---:|---:|---:|---:|---:|---:|\n", progConcurrency)
	var t1, t8 float64
	for _, t := range r.Latency.Concurrency {
		p("| %d | %d | %.1f | %.0f | %.2f | %.0f |\n", t.Clients, t.Executions, t.Seconds, t.PerSecond, t.CPUSeconds/t.Seconds, float64(t.Executions)/t.CPUSeconds)
		switch t.Clients {
		case 1:
			t1 = t.PerSecond
		case 8:
			t8 = t.PerSecond
		}
	}
	if t1 > 0 {
		p("\nThroughput, 8 clients ÷ 1: **%.2f×**. It can reach at most the number of cores the machine gives pctx's workers (2 here); the *cores used* column shows what it got while other jobs ran.\n", t8/t1)
	}
	if m := r.Latency.RSS; m.Executions > 0 {
		p("\nMemory (VmRSS of a fresh pctx without upstreams): idle %.1f MiB; after %d executions %.1f MiB.\n", float64(m.IdleKiB)/1024, m.Executions, float64(m.AfterKiB)/1024)
	}

	p("\n## 4. Side by side with a peer: @utcp/code-mode\n\n")
	pe := r.Peer
	if pe.Ran {
		p("Both as libraries in their own process, same programs: `%s`, and 100 calls to an in-process echo tool in one program (`Promise.all`). The peer runs on Node %s with isolated-vm (a fresh isolate per execution); its SDK's per-call console logging is silenced. pctx runs through `codemode.Service.Execute` (esbuild + a fresh goja VM per execution).\n\n", progTrivial, pe.Node)
		p("| program | pctx p50 | pctx p99 | peer p50 | peer p99 | peer ÷ pctx (p50) |\n|---|---:|---:|---:|---:|---:|\n")
		p("| trivial | %s | %s | %s | %s | **%.1f×** |\n", ms(pe.PctxTrivial.P50), ms(pe.PctxTrivial.P99), ms(pe.Trivial.P50), ms(pe.Trivial.P99), pe.Trivial.P50/pe.PctxTrivial.P50)
		p("| trivial, a new source text every run (pctx's transform cache misses) | %s | %s | %s | %s | %.1f× |\n", ms(pe.PctxUncached.P50), ms(pe.PctxUncached.P99), ms(pe.Trivial.P50), ms(pe.Trivial.P99), pe.Trivial.P50/pe.PctxUncached.P50)
		p("| 100 calls | %s | %s | %s | %s | **%.1f×** |\n", ms(pe.PctxHundred.P50), ms(pe.PctxHundred.P99), ms(pe.Hundred.P50), ms(pe.Hundred.P99), pe.Hundred.P50/pe.PctxHundred.P50)
		if pe.InstallSeconds > 0 {
			p("\nInstalling the peer (npm packages and isolated-vm's native build) took %.0f s of this run.\n", pe.InstallSeconds)
		}
	} else {
		p("The peer did not run: %s\n\npctx in-process for reference: trivial p50 %s ms, 100 calls p50 %s ms.\n", pe.Error, ms(pe.PctxTrivial.P50), ms(pe.PctxHundred.P50))
	}

	p("\n## 5. Go benchmarks\n\n")
	if len(r.GoBench) == 0 {
		p("Not run in this report.\n")
	} else {
		p("`go test -run '^$' -bench . -benchmem -count 5 -benchtime 200ms` per package; medians of the runs.\n\n| package | benchmark | runs | ns/op (median) | min | max | B/op | allocs/op |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
		for _, pkg := range r.GoBench {
			for _, bn := range pkg.Benches {
				p("| %s | %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f |\n", pkg.Package, bn.Name, bn.Runs, bn.NsPerOp, bn.NsPerOpMin, bn.NsPerOpMax, bn.BytesPerOp, bn.AllocsPerOp)
			}
			if pkg.Error != "" {
				p("| %s | *failed*: %s | | | | | | |\n", pkg.Package, oneLine(pkg.Error))
			}
		}
	}
	if len(r.Notes) > 0 {
		p("\n## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", oneLine(n))
		}
	}
	return b.String()
}

func tok(t Tokens) string { return fmt.Sprintf("%d / %d", t.Cl100k, t.O200k) }

func turns(c Cost) string {
	var parts []string
	for _, t := range c.Turns {
		parts = append(parts, strconv.Itoa(t.Input.Cl100k))
	}
	return strings.Join(parts, " → ")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// loadHigh reports whether a "1 5 15" load average exceeds the CPU count at 1 minute.
func loadHigh(load string, cpus int) bool {
	f := strings.Fields(load)
	if len(f) == 0 {
		return false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return err == nil && v > float64(cpus)
}
