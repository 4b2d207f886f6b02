package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestConversationCost(t *testing.T) {
	tk := newTK(t)
	c := Conversation{Tools: "tool definitions here", Prompt: "do the thing", Steps: []Step{
		{Call: `{"name":"a"}`, Result: "result one"},
		{Call: `{"name":"b"}`, Result: "a much longer second result with many more words in it"},
		{Call: "done"},
	}}
	got := c.Cost(tk)
	base := tk.Count(c.Tools).Add(tk.Count(c.Prompt))
	var history, in, out Tokens
	for i, s := range c.Steps {
		wantTurn := TurnTokens{Input: base.Add(history), Output: tk.Count(s.Call)}
		if got.Turns[i] != wantTurn {
			t.Errorf("turn %d = %+v, want %+v", i, got.Turns[i], wantTurn)
		}
		in, out = in.Add(wantTurn.Input), out.Add(wantTurn.Output)
		history = history.Add(tk.Count(s.Call)).Add(tk.Count(s.Result))
	}
	if got.Input != in || got.Output != out || got.Total != in.Add(out) {
		t.Errorf("totals = %+v / %+v / %+v, want %+v / %+v", got.Input, got.Output, got.Total, in, out)
	}
	// Tool definitions are paid once per request: n requests, n times.
	more := c
	more.Tools += strings.Repeat(" definitions", 100)
	extra := tk.Count(more.Tools).Cl100k - tk.Count(c.Tools).Cl100k
	if d := more.Cost(tk).Total.Cl100k - got.Total.Cl100k; d != extra*len(c.Steps) {
		t.Errorf("bigger tool definitions cost %d more, want %d × %d requests", d, extra, len(c.Steps))
	}
}

func TestToolCall(t *testing.T) {
	got := ToolCall("get_customer", map[string]any{"customer_id": "cust_1"})
	if want := `{"name":"get_customer","arguments":{"customer_id":"cust_1"}}`; got != want {
		t.Errorf("ToolCall = %s, want %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Error("ToolCall is not JSON")
	}
}

func TestNewPayloads(t *testing.T) {
	for _, rows := range []int{0, 3, 240} {
		p := NewPayloads(rows)
		if len(p.Metrics) != rows {
			t.Errorf("NewPayloads(%d): %d metric rows", rows, len(p.Metrics))
		}
		if !reflect.DeepEqual(p, NewPayloads(rows)) {
			t.Errorf("NewPayloads(%d) is not deterministic", rows)
		}
	}
	p := NewPayloads(8)
	if p.Metrics[0]["name"] != "p99_latency_ms" || p.Metrics[4]["timestamp"] != "2026-11-25T08:59:00Z" {
		t.Errorf("metric rows = %v", p.Metrics)
	}
	// The seed's programs branch on these: both workflows must take their action.
	if p.Sentiment["negative"] <= 0.7 || p.Churn["churn_probability"].(float64) <= 0.8 {
		t.Error("payloads do not trigger the seed programs' actions")
	}
}

func TestSeedWorkflows(t *testing.T) {
	ws := SeedWorkflows(NewPayloads(240))
	if len(ws) != 2 {
		t.Fatalf("%d workflows, want 2", len(ws))
	}
	known := map[string]bool{}
	py := loadFixture(t)
	for _, d := range append(py, StandIns()...) {
		known[d.Namespace+"."+d.Name] = true
	}
	for _, w := range ws {
		if len(w.Calls) != len(w.Functions) {
			t.Errorf("%s: %d sequential calls for %d functions", w.Name, len(w.Calls), len(w.Functions))
		}
		for i, f := range w.Functions {
			ns, name, _ := strings.Cut(f, ".")
			if !known[f] {
				t.Errorf("%s: %s is neither a seed Python tool nor a stand-in", w.Name, f)
			}
			if !strings.Contains(w.Program, f+"(") {
				t.Errorf("%s: the program does not call %s", w.Name, f)
			}
			if !slices.Contains(w.Namespaces, ns) {
				t.Errorf("%s: namespace %s of %s not in %v", w.Name, ns, f, w.Namespaces)
			}
			if w.Calls[i].Tool != name {
				t.Errorf("%s: call %d is %s, want %s", w.Name, i, w.Calls[i].Tool, name)
			}
		}
	}
	// Sequentially the model must write the metrics into the issue body itself.
	body := ws[0].Calls[3].Args.(map[string]any)["body"].(string)
	if !strings.Contains(body, jsonText(NewPayloads(240).Metrics)) {
		t.Error("the sequential create_issue body does not carry the metrics")
	}
}

func TestWorkflowConversations(t *testing.T) {
	tk := newTK(t)
	w := SeedWorkflows(NewPayloads(240))[0]
	seq := w.Sequential(`[{"name":"x"}]`)
	if len(seq.Steps) != len(w.Calls)+1 || seq.Steps[len(seq.Steps)-1].Call != w.Final {
		t.Fatalf("sequential steps = %d, want %d ending in the final answer", len(seq.Steps), len(w.Calls)+1)
	}
	cm := w.CodeMode(CodeModeTexts{Tools: "three tools", Listing: "listing", Details: "details", Result: "null"})
	var names []string
	for _, s := range cm.Steps[:3] {
		var call struct{ Name string }
		if err := json.Unmarshal([]byte(s.Call), &call); err != nil {
			t.Fatal(err)
		}
		names = append(names, call.Name)
	}
	if want := []string{"list_functions", "get_function_details", "execute_typescript"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Code Mode calls = %v, want %v", names, want)
	}
	if !strings.Contains(cm.Steps[2].Call, jsonText(w.Program)[1:20]) {
		t.Error("execute_typescript does not carry the seed's program")
	}
	// With a 240-row metrics payload, Code Mode must be far cheaper even with tiny tool lists.
	if s, c := seq.Cost(tk).Total.Cl100k, cm.Cost(tk).Total.Cl100k; s < 5*c {
		t.Errorf("sequential %d tokens vs Code Mode %d: expected the payload to dominate", s, c)
	}
}

func TestParallelBatches(t *testing.T) {
	tk := newTK(t)
	for _, w := range SeedWorkflows(NewPayloads(60)) {
		n := 0
		for _, b := range w.Batches {
			n += b
		}
		if n != len(w.Calls) {
			t.Fatalf("%s: batches %v cover %d of %d calls", w.Name, w.Batches, n, len(w.Calls))
		}
		seq, par := w.Sequential("defs"), w.Parallel("defs")
		if len(par.Steps) != len(w.Batches)+1 {
			t.Errorf("%s: %d parallel steps, want %d", w.Name, len(par.Steps), len(w.Batches)+1)
		}
		// Fewer requests, same payloads: cheaper, but every result still appears.
		if ps, ss := par.Cost(tk).Total.Cl100k, seq.Cost(tk).Total.Cl100k; ps >= ss {
			t.Errorf("%s: parallel %d tokens, sequential %d: want fewer", w.Name, ps, ss)
		}
		var all strings.Builder
		for _, s := range par.Steps {
			all.WriteString(s.Result)
		}
		for _, c := range w.Calls {
			if !strings.Contains(all.String(), resultText(c.Result)) {
				t.Errorf("%s: the parallel variant lost the result of %s", w.Name, c.Tool)
			}
		}
	}
}

func loadFixture(t *testing.T) []ToolDef {
	t.Helper()
	b, err := assets.ReadFile("assets/python-tools.json")
	if err != nil {
		t.Fatal(err)
	}
	var defs []ToolDef
	if err := json.Unmarshal(b, &defs); err != nil {
		t.Fatal(err)
	}
	return defs
}
