package compat

import (
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/runtime"
)

var update = flag.Bool("update", false, "rewrite testdata/legacy_result.jsonl")

// TestLegacyResultGolden pins the published client's execute result byte for byte
// (testdata/legacy_result.jsonl, one result a line; -update rewrites it): an upstream
// call, a call of a session's MCP server and a session tool's call as trace events, the
// console split into stdout and stderr, and a program that failed.
func TestLegacyResultGolden(t *testing.T) {
	const path = "testdata/legacy_result.jsonl"
	var got strings.Builder
	for _, rec := range goldenRecords(time.Unix(1700000000, 123456789)) {
		data, err := json.Marshal(legacyResult(rec, map[string]bool{"fs": true}))
		if err != nil {
			t.Fatal(err)
		}
		got.Write(data)
		got.WriteByte('\n')
	}
	if *update {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("legacy results:\n%s\nwant (%s):\n%s", got.String(), path, want)
	}
}

func goldenRecords(t0 time.Time) []*codemode.Record {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	return []*codemode.Record{
		{Code: "return 1", Started: t0, Ended: at(5), Result: &runtime.Result{Value: 1.0,
			Console: []runtime.ConsoleLine{{Level: "log", Text: "a"}, {Level: "warn", Text: "w"}, {Level: "info", Text: "b"}}},
			Calls: []codemode.Call{
				{Backend: "upstream", Source: "github", RegisteredNamespace: "github", RegisteredFunction: "list_issues", Started: at(1), Ended: at(2), Outcome: "ok"},
				{Backend: "session", RegisteredNamespace: "fs", RegisteredFunction: "read", Started: at(2), Ended: at(3), Outcome: "error", Error: "no such file"},
				{Backend: "session", RegisteredNamespace: "tools", RegisteredFunction: "add", Started: at(3), Ended: at(4), Outcome: "timeout"},
			}},
		{Code: "boom", Started: t0, Ended: at(1), Result: &runtime.Result{Error: &runtime.Error{Kind: "syntax", Message: "Unexpected", Line: 2, Column: 3}}},
	}
}
