package main

import (
	"strings"
	"testing"
)

func TestTargets(t *testing.T) {
	r := &Report{
		Latency: LatencySection{
			Runs:          []Run{{Name: "trivial", Transport: "HTTP", Summary: Summary{N: 10, P50: 0.6}}},
			UpstreamRatio: 1.25,
		},
		Peer:      PeerSection{Ran: true, Trivial: Summary{P50: 2}, PctxTrivial: Summary{N: 5, P50: 0.1}, PctxUncached: Summary{N: 5, P50: 0.5}},
		Tokens:    TokenSection{All: ToolSetTokens{Functions: 40, PerFunctionMedian: Tokens{11, 16}}},
		Workflows: []WorkflowResult{{Workflow: Workflow{Name: "w"}, All: Comparison{Ratio: 12}}, {Workflow: Workflow{Name: "v"}, All: Comparison{Ratio: 12}}},
		Disclosure: DisclosureSection{Default: "auto", Runs: []ModeRun{
			{Workflow: "w", Catalog: catAll, Disclosure: "catalog", Result: Comparison{Ratio: 4}},
			{Workflow: "w", Catalog: catAll, Disclosure: "auto", Result: Comparison{Ratio: 11}},
			{Workflow: "w", Catalog: catOwn, Disclosure: "catalog", Result: Comparison{Ratio: 0.8}},
			{Workflow: "w", Catalog: catOwn, Disclosure: "sidecar", Result: Comparison{Ratio: 1.6}},
			{Workflow: "v", Catalog: catOwn, Disclosure: "auto", Result: Comparison{Ratio: 1.2}},
		}, Search: SearchQuality{Queries: 50, First: 44}},
	}
	got := map[string]string{}
	for _, tg := range Targets(r) {
		got[tg.Name] = tg.Status
	}
	want := map[string]string{
		"trivial execution over HTTP": "met",
		"per-upstream-call overhead":  "missed",
		"trivial execution vs the peer (@utcp/code-mode), both in-process, same program repeated":                      "met",
		"trivial execution vs the peer (@utcp/code-mode), both in-process, a new program every run, as an agent sends": "missed",
		"tokens per function in list_functions":                                                                 "missed", // o200k median 16
		"workflow tokens: w (all configured tools in context), default disclosure (auto)":                       "met",
		"workflow tokens: v (all configured tools in context), catalog disclosure":                              "met", // no disclosure runs: section 2's
		"workflow tokens: w (only the workflow's own tools in context), best disclosure":                        "met", // sidecar 1.6×
		"workflow tokens: v (only the workflow's own tools in context), best disclosure":                        "missed",
		"search_functions: the right function first, 50 natural-language queries over the 100-function catalog": "missed", // 88%
	}
	for name, st := range want {
		if got[name] != st {
			t.Errorf("target %q = %q, want %q (all: %v)", name, got[name], st, got)
		}
	}
	empty := Targets(&Report{})
	for _, tg := range empty {
		if tg.Status != "not measured" {
			t.Errorf("empty report: target %q = %q, want not measured", tg.Name, tg.Status)
		}
	}
}

func TestRenderMarkdown(t *testing.T) {
	r := &Report{GeneratedAt: "2026-11-25T08:00:00Z", Machine: Machine{CPUs: 2, LoadBefore: "5.10 4.00 3.00", LoadAfter: "1.00 1.00 1.00"},
		Peer: PeerSection{Error: "install failed: isolated-vm needs Node 22"}}
	r.Targets = Targets(r)
	md := RenderMarkdown(r)
	for _, want := range []string{"# pctx benchmark report", "## Targets", "| trivial execution over HTTP | p50 ≤ 1 ms |", "The load was high", "The peer did not run: install failed: isolated-vm needs Node 22", "Not run in this report."} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	r.Machine.LoadBefore, r.Machine.LoadAfter = "0.50 0.40 0.30", "1.90 1.00 1.00"
	if md := RenderMarkdown(r); strings.Contains(md, "The load was high") {
		t.Error("low load reported as high")
	}
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		status string
		want   int
		ok     bool
	}{
		{"Name:\tpctx\nVmPeak:\t  900 kB\nVmRSS:\t   17920 kB\nThreads: 7\n", 17920, true},
		{"Name:\tpctx\n", 0, false},
		{"VmRSS:\n", 0, false},
		{"VmRSS:\tlots kB\n", 0, false},
	}
	for _, tt := range tests {
		got, err := parseVmRSS(tt.status)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseVmRSS(%q) = %d, %v; want %d, ok=%v", tt.status, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-quick", "-root", "/repo"})
	if err != nil {
		t.Fatal(err)
	}
	if o.goBench || o.iter >= 1000 || o.out == "/repo/bench" || o.venv != "/repo/.cache/venv" || o.peer != "/repo/.cache/peer" {
		t.Errorf("-quick options = %+v", o)
	}
	o, err = parseOptions([]string{"-root", "/repo", "-npm", "/npm"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.goBench || o.out != "/repo/bench" || o.npm != "/npm" || o.iter != 1000 {
		t.Errorf("default options = %+v", o)
	}
	if _, err := parseOptions([]string{"-root", "/repo", "extra"}); err == nil {
		t.Error("a stray argument was accepted")
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		stat string
		want float64
		ok   bool
	}{
		{"4242 (pctx) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 50 0 0 20 0 9 0 100 0 0", 3, true},
		{"4242 (my prog) R 1 4242 4242 0 -1 4194560 1500 0 0 0 7 3 0 0 20 0 9 0 100 0 0", 0.1, true},
		{"4242 (pctx) S 1 2", 0, false},
		{"garbage", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStatCPU(tt.stat)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStatCPU(%q) = %v, %v; want %v, ok=%v", tt.stat, got, err, tt.want, tt.ok)
		}
	}
}
