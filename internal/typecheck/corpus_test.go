package typecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
)

// corpusCatalog is the catalog the corpus is written against: the tool lists captured
// from the real servers and the seed's Python tools (testdata/catalog.json).
func corpusCatalog(t testing.TB) *catalog.Snapshot {
	t.Helper()
	raw, err := os.ReadFile("testdata/catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Namespaces []struct {
			Name  string `json:"name"`
			Tools []struct {
				Name         string          `json:"name"`
				Description  string          `json:"description"`
				InputSchema  json.RawMessage `json:"inputSchema"`
				OutputSchema json.RawMessage `json:"outputSchema"`
				Params       []string        `json:"params"`
			} `json:"tools"`
		} `json:"namespaces"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	c := catalog.New()
	for _, ns := range doc.Namespaces {
		n := catalog.Namespace{Name: ns.Name}
		for _, tl := range ns.Tools {
			n.Tools = append(n.Tools, catalog.Tool{Name: tl.Name, Description: tl.Description, InputSchema: tl.InputSchema,
				OutputSchema: tl.OutputSchema, Params: tl.Params,
				Call: func(context.Context, map[string]any) (any, error) { return nil, nil }})
		}
		if err := c.Put("test", n); err != nil {
			t.Fatal(err)
		}
	}
	return c.Snapshot()
}

// corpusProgram is one program of testdata/corpus: ok/ ones must type-check, bad/ ones
// name the errors they must be refused with in a header of "// expect: LINE:COL TSCODE"
// lines; the program (and its positions) starts after the header.
type corpusProgram struct {
	Name   string
	Code   string
	Expect []string // "line:col TScode", sorted
}

var expectLine = regexp.MustCompile(`(?m)^// expect: (\d+:\d+ TS\d+)\b`)

func loadCorpus(t testing.TB, kind string) []corpusProgram {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", kind, "*.ts"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s programs: %v", kind, err)
	}
	var out []corpusProgram
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := corpusProgram{Name: strings.TrimSuffix(filepath.Base(f), ".ts"), Code: string(raw)}
		// The header is not part of the program: positions count from the line after it.
		for {
			m := expectLine.FindStringSubmatchIndex(p.Code)
			if m == nil || m[0] != 0 {
				break
			}
			p.Expect = append(p.Expect, p.Code[m[2]:m[3]])
			_, p.Code, _ = strings.Cut(p.Code, "\n")
		}
		slices.Sort(p.Expect)
		if kind == "bad" && len(p.Expect) == 0 {
			t.Fatalf("%s: no // expect: line", f)
		}
		out = append(out, p)
	}
	return out
}

func positions(diags []Diagnostic) []string {
	out := make([]string, len(diags))
	for i, d := range diags {
		out[i] = fmt.Sprintf("%d:%d TS%d", d.Line, d.Column, d.Code)
	}
	slices.Sort(out)
	return out
}

// TestCorpus checks every corpus program against the captured catalog: the correct ones
// type-check, the wrong ones fail with exactly the errors their header names.
func TestCorpus(t *testing.T) {
	c := newChecker(t, Options{})
	decls := corpusCatalog(t).Declarations()
	ctx := context.Background()
	for _, p := range loadCorpus(t, "ok") {
		diags, err := c.Check(ctx, decls, p.Code)
		if err != nil {
			t.Fatalf("ok/%s: %v", p.Name, err)
		}
		if len(diags) > 0 {
			t.Errorf("ok/%s does not type-check:\n%s", p.Name, render(diags))
		}
	}
	for _, p := range loadCorpus(t, "bad") {
		diags, err := c.Check(ctx, decls, p.Code)
		if err != nil {
			t.Fatalf("bad/%s: %v", p.Name, err)
		}
		if got := positions(diags); !slices.Equal(got, p.Expect) {
			t.Errorf("bad/%s: errors at %v, want %v:\n%s", p.Name, got, p.Expect, render(diags))
		}
	}
}

func render(diags []Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "  %s [call %q]\n", d, d.Call)
	}
	return b.String()
}

// TestCorpusOptions is the evidence for compilerOptions: each strictness option on its
// own, and "strict" as a whole, refuses correct corpus programs (agent code that runs),
// while catching no wrong program the chosen options miss.
func TestCorpusOptions(t *testing.T) {
	if testing.Short() {
		t.Skip("checks the corpus under several option sets")
	}
	decls := corpusCatalog(t).Declarations()
	ok, bad := loadCorpus(t, "ok"), loadCorpus(t, "bad")
	for _, tt := range []struct {
		name string
		opts map[string]any
	}{
		{"strict", map[string]any{"strict": true}},
		{"noImplicitAny", map[string]any{"noImplicitAny": true}},
		{"strictNullChecks", map[string]any{"strictNullChecks": true}},
		{"useUnknownInCatchVariables", map[string]any{"useUnknownInCatchVariables": true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newChecker(t, Options{Processes: 1, compilerOptions: tt.opts})
			var refused []string
			for _, p := range ok {
				diags, err := c.Check(context.Background(), decls, p.Code)
				if err != nil {
					t.Fatal(err)
				}
				if len(diags) > 0 {
					refused = append(refused, fmt.Sprintf("%s (%s)", p.Name, diags[0]))
				}
			}
			for _, p := range bad {
				diags, err := c.Check(context.Background(), decls, p.Code)
				if err != nil {
					t.Fatal(err)
				}
				if len(diags) == 0 {
					t.Errorf("%s lets bad/%s through", tt.name, p.Name)
				}
			}
			if len(refused) == 0 {
				t.Fatalf("%s refuses no correct program: reconsider compilerOptions", tt.name)
			}
			t.Logf("%s refuses %d of %d correct programs:\n  %s", tt.name, len(refused), len(ok), strings.Join(refused, "\n  "))
		})
	}
}

// TestInvokeDeclarations checks the sidecar disclosure's invoke against the corpus
// catalog: a known tool name passes and types the result; a misspelled one does not.
func TestInvokeDeclarations(t *testing.T) {
	c := newChecker(t, Options{Processes: 1})
	snap := corpusCatalog(t)
	decls := append(slices.Clip(snap.Declarations()), snap.InvokeDeclarations())
	for _, tt := range []struct {
		code string
		want []string
	}{
		{`const g = await invoke({ name: "memory__read_graph" });` + "\nreturn g.entities.length;", nil},
		{`return await invoke({ name: "everything__get_sum", arguments: { a: 1, b: 2 } });`, nil},
		{`const g = await invoke({ name: "memory__read_graph" });` + "\nreturn g.entites;", []string{"2:10 TS2551"}},
		{`return await invoke({ name: "memory__read_grahp" });`, []string{"1:23 TS2820"}},
	} {
		diags, err := c.Check(context.Background(), decls, tt.code)
		if err != nil {
			t.Fatal(err)
		}
		if got := positions(diags); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n errors %v, want %v\n%s", tt.code, got, tt.want, render(diags))
		}
	}
}
