package catalog

import (
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
