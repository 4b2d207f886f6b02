package catalog

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// fixtureSnapshot puts the named testdata fixtures, each under its own owner.
func fixtureSnapshot(t *testing.T, fixtures ...string) *Snapshot {
	t.Helper()
	c := New()
	for _, f := range fixtures {
		mustPut(t, c, f, loadFixture(t, "testdata/"+f+".json"))
	}
	return c.Snapshot()
}

func TestList(t *testing.T) {
	s := fixtureSnapshot(t, "server-everything", "names", "positional")
	tests := []struct {
		name string
		opts ListOptions
		want string
	}{
		{"namespace by sanitised name", ListOptions{Namespace: "names"}, `// Tool names that are not identifiers, reserved words and collisions.
namespace names {
  $dollar()
  _()
  _123abc()
  caf_()
  delete_()
  dup()
  dup_2() // tool "dup"
  get_sum()
  get_sum_2() // tool "get-sum"
  get_sum_3() // tool "get.sum"
}
`},
		{"namespace by original name", ListOptions{Namespace: "server-everything", Query: "sum"},
			"// 1 matching \"sum\", best first\nserver_everything.get_sum({a, b}) // Returns the sum of two numbers\n"},
		{"positional signatures", ListOptions{Namespace: "positional"}, `// SDK tools declared from a function signature take positional arguments.
namespace positional {
  analyze_sentiment(text)
  fetch_database_metrics()
  predict_churn(customer_id, threshold?)
  search(query, top_k?, filters, debug_mode?)
}
`},
		{"unknown namespace", ListOptions{Namespace: "nope"}, "// no namespace \"nope\"; namespaces: names, positional, server_everything\n"},
		{"no match", ListOptions{Query: "zzz"}, "// no functions match \"zzz\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.List(tt.opts); got != tt.want {
				t.Fatalf("List(%+v) =\n%s\nwant\n%s", tt.opts, got, tt.want)
			}
		})
	}
	if got := New().Snapshot().List(ListOptions{}); got != "// no functions are available\n" {
		t.Errorf("empty catalog: %q", got)
	}
}

// TestListQuery checks matching and ranking: exact names first, then more terms in the
// name, then name order; matching is case-insensitive and separator-agnostic.
func TestListQuery(t *testing.T) {
	s := fixtureSnapshot(t, "server-everything", "server-filesystem")
	tests := []struct {
		query string
		want  []string // the functions, in rank order
	}{
		{"read_file", []string{"server_filesystem.read_file", "server_filesystem.read_media_file",
			"server_filesystem.read_multiple_files", "server_filesystem.read_text_file",
			"server_filesystem.create_directory", "server_filesystem.directory_tree", "server_filesystem.get_file_info"}},
		{"GET-SUM", []string{"server_everything.get_sum"}},
		{"echo", []string{"server_everything.echo"}},
		// "environment" occurs only in a description.
		{"Environment", []string{"server_everything.get_env"}},
		// "sum" is in get_sum's name; "numbers" only in its description.
		{"sum numbers", []string{"server_everything.get_sum"}},
		{"roots", []string{"server_everything.get_roots_list"}},
		// name matches rank above description-only matches
		{"directory", []string{"server_filesystem.create_directory", "server_filesystem.directory_tree",
			"server_filesystem.list_directory", "server_filesystem.list_directory_with_sizes",
			"server_filesystem.get_file_info", "server_filesystem.move_file", "server_filesystem.search_files"}},
		{"server_filesystem.list_directory", []string{"server_filesystem.list_directory", "server_filesystem.list_directory_with_sizes"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := s.List(ListOptions{Query: tt.query})
			lines := strings.Split(strings.TrimSpace(got), "\n")[1:]
			var fns []string
			for _, l := range lines {
				fns = append(fns, l[:strings.IndexByte(l, '(')])
			}
			if strings.Join(fns, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("query %q ranked\n%s\nwant\n%s\nfull text:\n%s", tt.query, strings.Join(fns, "\n"), strings.Join(tt.want, "\n"), got)
			}
		})
	}
}

// bigCatalog holds spaces namespaces of perNS functions each, every one with two
// parameters: a listing far over the default bound.
func bigCatalog(t *testing.T, spaces, perNS int) *Snapshot {
	t.Helper()
	c := New()
	schema := json.RawMessage(`{"type":"object","properties":{"owner":{"type":"string"},"repo":{"type":"string"}},"required":["owner"]}`)
	for i := range spaces {
		ns := Namespace{Name: fmt.Sprintf("ns%03d", i), Description: "A namespace of many functions."}
		for j := range perNS {
			ns.Tools = append(ns.Tools, Tool{Name: fmt.Sprintf("function_number_%04d", j), Description: "Lists the things.", InputSchema: schema, Call: echoCall})
		}
		mustPut(t, c, "owner"+ns.Name, ns)
	}
	return c.Snapshot()
}

// TestListBounded: however large the catalog, a listing stays within MaxBytes, is cut at
// a line, and ends with a note that counts what was left out exactly and says how to
// narrow the request.
func TestListBounded(t *testing.T) {
	const spaces, perNS = 30, 400
	s := bigCatalog(t, spaces, perNS)
	full := s.List(ListOptions{MaxBytes: 1 << 30})
	if len(full) <= DefaultMaxListBytes {
		t.Fatalf("the fixture's full listing has %d bytes, not over the default bound", len(full))
	}
	noteRE := regexp.MustCompile(`(?m)^// … listing cut at (\d+) bytes: (\d+) more functions in (\d+) namespaces are not shown \((.*)\)\. Narrow the request: list_functions with a namespace, or a query of a few words\.\n\z`)
	tests := []struct {
		name    string
		opts    ListOptions
		limit   int
		total   int // functions the unbounded listing has
		nsTotal int
	}{
		{"default", ListOptions{}, DefaultMaxListBytes, spaces * perNS, spaces},
		{"small", ListOptions{MaxBytes: 10 << 10}, 10 << 10, spaces * perNS, spaces},
		{"below the minimum", ListOptions{MaxBytes: 10}, MinListBytes, spaces * perNS, spaces},
		{"one namespace", ListOptions{Namespace: "ns007", MaxBytes: 8 << 10}, 8 << 10, perNS, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.List(tt.opts)
			if len(got) > tt.limit {
				t.Errorf("listing of %d bytes, over the bound of %d", len(got), tt.limit)
			}
			m := noteRE.FindStringSubmatch(got)
			if m == nil {
				t.Fatalf("listing does not end with the note:\n…%s", got[max(0, len(got)-600):])
			}
			shown := strings.Count(got, "\n  function_number_")
			more, _ := strconv.Atoi(m[2])
			nsLeft, _ := strconv.Atoi(m[3])
			if m[1] != strconv.Itoa(tt.limit) || shown+more != tt.total || shown == 0 {
				t.Errorf("%d functions shown + %d in the note, want %d in all (note %q)", shown, more, tt.total, m[0])
			}
			if opened := strings.Count(got, "namespace ns"); opened+nsLeft != tt.nsTotal+1 || strings.Count(got, "{\n") != strings.Count(got, "}\n") {
				t.Errorf("%d namespaces opened, %d in the note (the cut one in both), want %d in all; braces balanced", opened, nsLeft, tt.nsTotal)
			}
			if tt.opts.Namespace == "" && (!strings.HasPrefix(m[4], "ns0") || !strings.Contains(m[4], "ns029")) {
				t.Errorf("note names %q, want the left-out namespaces", m[4])
			}
		})
	}
	t.Run("query", func(t *testing.T) {
		got := s.List(ListOptions{Query: "function", MaxBytes: 8 << 10})
		m := regexp.MustCompile(`// … listing cut at 8192 bytes: (\d+) more matches are not shown\. Narrow the request: more specific words, or a namespace\.\n\z`).FindStringSubmatch(got)
		if len(got) > 8<<10 || m == nil {
			t.Fatalf("query listing of %d bytes:\n…%s", len(got), got[max(0, len(got)-300):])
		}
		more, _ := strconv.Atoi(m[1])
		if shown := strings.Count(got, "\nns"); shown+more != spaces*perNS {
			t.Errorf("%d matches shown + %d in the note, want %d", shown, more, spaces*perNS)
		}
	})
	t.Run("unknown namespace", func(t *testing.T) {
		got := s.List(ListOptions{Namespace: strings.Repeat("x", 5000), MaxBytes: MinListBytes})
		if len(got) > MinListBytes || !strings.Contains(got, "ns000, ns001") {
			t.Errorf("unknown namespace answer of %d bytes: %s", len(got), got)
		}
	})
	if got := s.List(ListOptions{Namespace: "ns001", Query: "number 0007"}); strings.Contains(got, "cut") {
		t.Errorf("a short listing was cut:\n%s", got)
	}
}

// TestListLongSignature: a schema with thousands of properties makes one line of bounded
// length, its parameters past the bound shown as "…".
func TestListLongSignature(t *testing.T) {
	props := map[string]any{}
	for i := range 5000 {
		props[fmt.Sprintf("property_%04d", i)] = map[string]any{"type": "string"}
	}
	props[strings.Repeat("z", 10000)] = map[string]any{"type": "string"}
	schema, _ := json.Marshal(map[string]any{"type": "object", "properties": props})
	c := New()
	mustPut(t, c, "o", Namespace{Name: "wide", Tools: []Tool{{Name: "f", InputSchema: schema, Call: echoCall}, {Name: "g", InputSchema: schema, Params: []string{strings.Repeat("z", 10000)}, Call: echoCall}}})
	got := c.Snapshot().List(ListOptions{})
	for _, line := range strings.Split(got, "\n") {
		if len(line) > maxSignatureBytes+20 {
			t.Errorf("a line of %d bytes: %.80s…", len(line), line)
		}
	}
	if !strings.Contains(got, "  f({property_0000?, ") || !strings.Contains(got, ", …})") || !strings.Contains(got, "  g(…)") {
		t.Errorf("listing:\n%s", got)
	}
}
