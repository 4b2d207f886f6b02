package catalog

import (
	"context"
	"fmt"
	"testing"
)

// benchNamespaces spreads 1,000 tools, cycling through the real server-everything and
// server-filesystem schemas, over 20 namespaces of 50.
func benchNamespaces(b *testing.B) []Namespace {
	var src []Tool
	for _, f := range []string{"server-everything", "server-filesystem"} {
		src = append(src, loadFixture(b, "testdata/"+f+".json").Tools...)
	}
	out := make([]Namespace, 20)
	for i := range out {
		out[i].Name = fmt.Sprintf("server-%d", i)
		for j := range 50 {
			t := src[(i*50+j)%len(src)]
			t.Name = fmt.Sprintf("%s-%d", t.Name, j)
			out[i].Tools = append(out[i].Tools, t)
		}
	}
	return out
}

// BenchmarkBuildAndList1000 is a catalog of 1,000 tools from nothing to listing text
// (target ≤ 5 ms).
func BenchmarkBuildAndList1000(b *testing.B) {
	spaces := benchNamespaces(b)
	b.ReportAllocs()
	for b.Loop() {
		c := New()
		for _, ns := range spaces {
			if err := c.Put("bench", ns); err != nil {
				b.Fatal(err)
			}
		}
		if len(c.Snapshot().List(ListOptions{})) == 0 {
			b.Fatal("empty listing")
		}
	}
}

// BenchmarkList1000 is the listing alone, as every list_functions call pays it.
func BenchmarkList1000(b *testing.B) {
	c := New()
	for _, ns := range benchNamespaces(b) {
		if err := c.Put("bench", ns); err != nil {
			b.Fatal(err)
		}
	}
	s := c.Snapshot()
	b.ReportAllocs()
	for b.Loop() {
		_ = s.List(ListOptions{})
	}
}

// BenchmarkQuery1000 is a ranked query over 1,000 tools.
func BenchmarkQuery1000(b *testing.B) {
	c := New()
	for _, ns := range benchNamespaces(b) {
		if err := c.Put("bench", ns); err != nil {
			b.Fatal(err)
		}
	}
	s := c.Snapshot()
	b.ReportAllocs()
	for b.Loop() {
		_ = s.List(ListOptions{Query: "read file"})
	}
}

// BenchmarkDetails10 renders get_function_details for 10 functions.
func BenchmarkDetails10(b *testing.B) {
	c := New()
	for _, f := range []string{"server-everything", "server-filesystem"} {
		if err := c.Put("bench", loadFixture(b, "testdata/"+f+".json")); err != nil {
			b.Fatal(err)
		}
	}
	s := c.Snapshot()
	names := []string{
		"server_filesystem.read_text_file", "server_filesystem.read_media_file", "server_filesystem.edit_file",
		"server_filesystem.directory_tree", "server_filesystem.search_files", "server_everything.get_sum",
		"server_everything.get_structured_content", "server_everything.gzip_file_as_resource",
		"server_everything.trigger_sampling_request", "server_everything.get_annotated_message",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Details(names); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFunctions1000 builds the runtime bindings, as every execution does.
func BenchmarkFunctions1000(b *testing.B) {
	c := New()
	for _, ns := range benchNamespaces(b) {
		if err := c.Put("bench", ns); err != nil {
			b.Fatal(err)
		}
	}
	s := c.Snapshot()
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Functions()
	}
}

// BenchmarkCall is one validated call through a binding (schema already compiled).
func BenchmarkCall(b *testing.B) {
	c := New()
	if err := c.Put("bench", loadFixture(b, "testdata/server-filesystem.json")); err != nil {
		b.Fatal(err)
	}
	fn := c.Snapshot().Functions()["server_filesystem.edit_file"]
	args := []any{map[string]any{"path": "/tmp/x", "edits": []any{map[string]any{"oldText": "a", "newText": "b"}}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fn(ctx, args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstCall includes compiling the input schema, paid once per tool per Put.
func BenchmarkFirstCall(b *testing.B) {
	ns := loadFixture(b, "testdata/server-filesystem.json")
	args := []any{map[string]any{"path": "/tmp/x", "edits": []any{map[string]any{"oldText": "a", "newText": "b"}}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c := New()
		if err := c.Put("bench", ns); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Snapshot().Functions()["server_filesystem.edit_file"](ctx, args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNamedCold1000 renames 1,000 tools into NamingCamel from scratch, as the first
// view of a catalog version pays it (later views reuse each namespace's); compare with
// BenchmarkList1000.
func BenchmarkNamedCold1000(b *testing.B) {
	c := New()
	for _, ns := range benchNamespaces(b) {
		if err := c.Put("bench", ns); err != nil {
			b.Fatal(err)
		}
	}
	s := c.Snapshot()
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range s.spaces {
			_ = n.rename(pascalNamespace(n.raw), "")
		}
	}
}

// BenchmarkCallWithLimit is BenchmarkCall under a per-call limit (tool_timeout_secs).
func BenchmarkCallWithLimit(b *testing.B) {
	c := New()
	if err := c.Put("bench", loadFixture(b, "testdata/server-filesystem.json")); err != nil {
		b.Fatal(err)
	}
	fn := c.Snapshot().Functions()["server_filesystem.edit_file"]
	args := []any{map[string]any{"path": "/tmp/x", "edits": []any{map[string]any{"oldText": "a", "newText": "b"}}}}
	ctx := WithCallTimeouts(context.Background(), CallTimeouts{Default: ClampCallTimeout(30)})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fn(ctx, args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNamedOverlay1000 is what each published-client request pays for names: a
// session's namespace over 1,000 catalog tools, overlaid and viewed in NamingCamel.
func BenchmarkNamedOverlay1000(b *testing.B) {
	c := New()
	for _, ns := range benchNamespaces(b) {
		if err := c.Put("bench", ns); err != nil {
			b.Fatal(err)
		}
	}
	session := Namespace{Name: "tools", Tools: []Tool{tool("add_numbers", ""), tool("now_timestamp", "")}}
	b.ReportAllocs()
	for b.Loop() {
		s, err := c.Snapshot().With(session)
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Named(NamingCamel)
	}
}

// BenchmarkOverlay1000 is BenchmarkNamedOverlay1000 without the view: the baseline.
func BenchmarkOverlay1000(b *testing.B) {
	c := New()
	for _, ns := range benchNamespaces(b) {
		if err := c.Put("bench", ns); err != nil {
			b.Fatal(err)
		}
	}
	session := Namespace{Name: "tools", Tools: []Tool{tool("add_numbers", ""), tool("now_timestamp", "")}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Snapshot().With(session); err != nil {
			b.Fatal(err)
		}
	}
}
