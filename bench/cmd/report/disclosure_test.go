package main

import (
	"slices"
	"testing"
)

func TestSearchHits(t *testing.T) {
	text := "// 3 best for \"refund a payment\" (score, best first)\n9.1 stripe.create_refund({payment_intent, amount?}) // Refund a payment.\n4.0 stripe.list_payment_intents({customer?, limit?})\n2.5 tools.get_weather(city)\n"
	if got := searchHits(text); !slices.Equal(got, []string{"stripe.create_refund", "stripe.list_payment_intents", "tools.get_weather"}) {
		t.Errorf("searchHits = %v", got)
	}
	if got := searchHits("// no functions match \"x\"; try other words, or list_functions\n"); len(got) != 0 {
		t.Errorf("searchHits of no match = %v", got)
	}
}

func TestBestRun(t *testing.T) {
	s := DisclosureSection{Runs: []ModeRun{
		{Workflow: "w", Catalog: catOwn, Disclosure: "catalog", Result: Comparison{Ratio: 1}},
		{Workflow: "w", Catalog: catOwn, Disclosure: "auto", Result: Comparison{Ratio: 3}},
		{Workflow: "w", Catalog: catAll, Disclosure: "sidecar", Result: Comparison{Ratio: 9}},
		{Workflow: "v", Catalog: catOwn, Disclosure: "sidecar", Result: Comparison{Ratio: 7}},
	}}
	if best, ok := s.bestRun("w", catOwn); !ok || best.Disclosure != "auto" {
		t.Errorf("bestRun = %+v, %v", best, ok)
	}
	if _, ok := s.run("w", catAll, "catalog"); ok {
		t.Error("run found a run that does not exist")
	}
	if got := s.otherRatios("w", catOwn); got != "by disclosure: catalog 1.0×, auto 3.0×" {
		t.Errorf("otherRatios = %q", got)
	}
}
