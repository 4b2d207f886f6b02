package catalog

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// searchCatalog loads testdata/search/catalog.json: 100 tools in their namespaces.
func searchCatalog(t testing.TB) *Snapshot {
	t.Helper()
	raw, err := os.ReadFile("testdata/search/catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	var tools []struct {
		Namespace string `json:"namespace"`
		fixtureTool
	}
	if err := json.Unmarshal(raw, &tools); err != nil {
		t.Fatal(err)
	}
	var order []string
	byNS := map[string]*Namespace{}
	for _, ft := range tools {
		ns := byNS[ft.Namespace]
		if ns == nil {
			ns = &Namespace{Name: ft.Namespace}
			byNS[ft.Namespace] = ns
			order = append(order, ft.Namespace)
		}
		ns.Tools = append(ns.Tools, Tool{Name: ft.Name, Description: ft.Description, InputSchema: ft.InputSchema,
			OutputSchema: ft.OutputSchema, Params: ft.Params, Call: nopCall})
	}
	c := New()
	for _, name := range order {
		if err := c.Put("test", *byNS[name]); err != nil {
			t.Fatal(err)
		}
	}
	return c.Snapshot()
}

type searchQuery struct {
	Query string `json:"query"`
	Want  string `json:"want"`
}

func searchQueries(t testing.TB, file string) []searchQuery {
	t.Helper()
	raw, err := os.ReadFile("testdata/search/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var qs []searchQuery
	if err := json.Unmarshal(raw, &qs); err != nil {
		t.Fatal(err)
	}
	return qs
}

// TestSearchQuality is the acceptance bar of search_functions: over the 100-function
// catalog, the right function ranks first for at least 45 of the 50 queries of
// queries.json. Those were written, as an agent would state a need, before the ranker
// (see the commit history); the ranker's synonyms and verb classes were then tuned on
// them. heldout.json's 30 queries were written after that tuning and never tuned on: they
// show how well it generalises (measured: 21/30 first, 28/30 in the top 3), and guard
// against a regression at that level.
func TestSearchQuality(t *testing.T) {
	snap := searchCatalog(t)
	if n := len(snap.Functions()); n != 100 {
		t.Fatalf("the search catalog has %d functions, want 100", n)
	}
	for _, set := range []struct {
		file          string
		n             int
		first, inTop3 int // percent of the queries
	}{{"queries.json", 50, 90, 90}, {"heldout.json", 30, 70, 90}} {
		qs := searchQueries(t, set.file)
		if len(qs) != set.n {
			t.Fatalf("%s: %d queries, want %d", set.file, len(qs), set.n)
		}
		first, top3, misses := searchScore(t, snap, qs)
		t.Logf("%s: right function first: %d/%d; in the top 3: %d/%d", set.file, first, len(qs), top3, len(qs))
		for _, m := range misses {
			t.Log("  miss: " + m)
		}
		if first*100 < len(qs)*set.first {
			t.Errorf("%s: the right function is first for %d of %d queries, want at least %d%%", set.file, first, len(qs), set.first)
		}
		if top3*100 < len(qs)*set.inTop3 {
			t.Errorf("%s: the right function is in the top 3 for %d of %d queries, want at least %d%%", set.file, top3, len(qs), set.inTop3)
		}
	}
}

// searchScore counts the queries whose function ranks first and in the top 3.
func searchScore(t testing.TB, snap *Snapshot, qs []searchQuery) (first, top3 int, misses []string) {
	for _, q := range qs {
		if _, ok := snap.Functions()[q.Want]; !ok {
			t.Fatalf("query %q wants %s, which the catalog does not have", q.Query, q.Want)
		}
		hits := snap.Search(q.Query, 3)
		rank := slices.IndexFunc(hits, func(h SearchHit) bool { return h.Function == q.Want })
		if rank == 0 {
			first++
		} else {
			var got []string
			for _, h := range hits {
				got = append(got, fmt.Sprintf("%s %.2f", h.Function, h.Score))
			}
			misses = append(misses, fmt.Sprintf("%q: want %s, got [%s]", q.Query, q.Want, strings.Join(got, ", ")))
		}
		if rank >= 0 {
			top3++
		}
	}
	return first, top3, misses
}

func TestSearchWords(t *testing.T) {
	tests := []struct{ in, want string }{
		{"getFileInfo", "getfileinfo get fil info"},
		{"get_file_info", "get fil info"},
		{"get-file-info", "get fil info"},
		{"HTTPServer v2", "httpserver http server v2 v 2"},
		{"GitHub", "github git hub"},
		{"Created the issues", "creat issu"},
		{"creating creation creates created", "creat creat creat creat"},
		{"running files file directories recursively", "run fil fil directory recursiv"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(searchWords(tt.in), " "); got != tt.want {
			t.Errorf("searchWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSearchBehaviour(t *testing.T) {
	c := New()
	err := c.Put("test", Namespace{Name: "files", Tools: []Tool{
		{Name: "delete_file", Description: "Delete a file.", Call: nopCall},
		{Name: "readFile", Description: "Read a file's contents.", Call: nopCall,
			InputSchema: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string","description":"Absolute path"}}}`)},
		{Name: "list", Description: "List a directory.", Call: nopCall},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put("test2", Namespace{Name: "down", Unavailable: "connection refused"}); err != nil {
		t.Fatal(err)
	}
	s := c.Snapshot()
	tests := []struct {
		query string
		k     int
		want  []string
	}{
		{"read file", 2, []string{"files.readFile", "files.delete_file"}},
		{"remove a file", 1, []string{"files.delete_file"}}, // a synonym of a word the catalog lacks
		{"folder", 5, []string{"files.list"}},               // folder → directory
		{"absolute path", 5, []string{"files.readFile"}},    // parameter name and description
		{"the of and", 5, nil},                              // stop words only
		{"zebra", 5, nil},
		{"", 5, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, h := range s.Search(tt.query, tt.k) {
			got = append(got, h.Function)
			if h.Score <= 0 {
				t.Errorf("%q: %s has score %v", tt.query, h.Function, h.Score)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Search(%q, %d) = %v, want %v", tt.query, tt.k, got, tt.want)
		}
	}
	text := s.SearchText("read file", 1)
	if !strings.Contains(text, "files.readFile({path?})") || !strings.Contains(text, "// Read a file's contents.") || strings.Contains(text, "delete_file") {
		t.Errorf("SearchText:\n%s", text)
	}
	if text := s.SearchText("zebra", 3); !strings.Contains(text, `no functions match "zebra"`) {
		t.Errorf("SearchText without hits:\n%s", text)
	}
}

func BenchmarkSearch100(b *testing.B) {
	snap := searchCatalog(b)
	snap.Search("warm up", 5)
	b.ResetTimer()
	for b.Loop() {
		snap.Search("find unread emails from Ada", 5)
	}
}

// BenchmarkSearchIndex100 builds the index of a new snapshot of the 100 functions (their
// documents are made once per function, then shared).
func BenchmarkSearchIndex100(b *testing.B) {
	snap := searchCatalog(b)
	snap.Search("warm up", 5)
	b.ResetTimer()
	for b.Loop() {
		s, err := snap.With(Namespace{Name: "extra", Tools: []Tool{{Name: "x", Call: nopCall}}})
		if err != nil {
			b.Fatal(err)
		}
		s.Search("find unread emails from Ada", 5)
	}
}
