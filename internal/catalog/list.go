package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// The listing is for an agent deciding what to call, so it is as terse as it can be
// while still showing how to call: each line is the name to call and its parameter
// names, "?" marking optional ones, plus the output's property names when the tool
// declares a short output schema. Types and descriptions are left to
// get_function_details. Measured with cl100k_base per function line (TestListTokens),
// server-everything / server-filesystem:
//
//	names only (this format)           median  8 / 11 tokens, 143 / 165 in all
//	with primitive parameter types     median 12 / 15 tokens, +33% in all
//	with the description's 1st sentence median 22 / 25 tokens, 2.2× in all
//
// So types would sit right at the 15-token budget and descriptions far beyond it. A
// query's result, being short, does carry the first sentence (see listQuery).

// maxSignatureBytes is where a listing line stops naming parameters ("…" stands for the
// rest): a schema with thousands of properties must not make one line the whole listing.
const maxSignatureBytes = 400

// signature renders the listing line of f (without indentation).
func (f *function) signature() string {
	return f.callLine(maxSignatureBytes, func(key, _ string) string { return key })
}

// callLine renders f's call form: its name, its parameters (positional, or the input
// object's top-level properties) and a short return. Each parameter is written as
// text(key, name), key being its identifier or property key with "?" when optional;
// with limit > 0 the line stops naming parameters ("…") once it would pass limit bytes.
func (f *function) callLine(limit int, text func(key, name string) string) string {
	var b strings.Builder
	// add writes one parameter; false when the limit stops the line.
	add := func(i int, bare string, optional bool, name string) bool {
		if i > 0 {
			b.WriteString(", ")
		}
		if limit > 0 && b.Len()+len(bare) > limit {
			b.WriteString("…")
			return false
		}
		if optional {
			bare += "?"
		}
		b.WriteString(text(bare, name))
		return true
	}
	b.WriteString(f.name)
	b.WriteByte('(')
	switch {
	case f.tool.Params != nil:
		for i, p := range f.tool.Params {
			if !add(i, sanitizeIdent(p), !f.paramRequired(p), p) {
				break
			}
		}
	case len(f.top) > 0:
		b.WriteByte('{')
		for i, p := range f.top {
			if !add(i, propertyKey(p.name), !p.required, p.name) {
				break
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(')')
	if r := shortReturn(f.outTop); r != "" {
		b.WriteString(": ")
		b.WriteString(r)
	}
	return b.String()
}

func (f *function) paramRequired(name string) bool {
	for _, p := range f.top {
		if p.name == name {
			return p.required
		}
	}
	return false
}

// shortReturn renders an output schema's top-level property names, e.g. "{content}",
// or "" when there are none or they would be long.
func shortReturn(props []param) string {
	if len(props) == 0 || len(props) > 4 {
		return ""
	}
	names := make([]string, len(props))
	for i, p := range props {
		names[i] = propertyKey(p.name)
		if !p.required {
			names[i] += "?"
		}
	}
	if r := "{" + strings.Join(names, ", ") + "}"; len(r) <= 100 {
		return r
	}
	return ""
}

// listNoteRoom is the part of a listing's MaxBytes kept for the note that ends a cut
// listing; the note's list of left-out namespaces is cut to fit it.
const listNoteRoom = 1 << 10

// list renders the list_functions text, at most opts.MaxBytes long.
func (s *Snapshot) list(opts ListOptions) string {
	limit := opts.MaxBytes
	if limit == 0 {
		limit = DefaultMaxListBytes
	}
	limit = max(limit, MinListBytes)
	spaces := s.spaces
	if opts.Namespace != "" {
		n := s.lookup(opts.Namespace)
		if n == nil {
			return fmt.Sprintf("// no namespace %q; namespaces: %s\n", oneLine(opts.Namespace, 200), nameList(s.names(), limit-300))
		}
		spaces = []*namespace{n}
	}
	if len(spaces) == 0 {
		return "// no functions are available\n"
	}
	if strings.TrimSpace(opts.Query) != "" {
		return listQuery(spaces, opts.Query, limit)
	}
	budget := limit - listNoteRoom
	var b strings.Builder
	for i, n := range spaces {
		header := namespaceHeader(n)
		if b.Len()+len(header)+len("}\n") > budget {
			return b.String() + cutNote(limit, spaces[i:], 0)
		}
		b.WriteString(header)
		if n.unavailable != "" {
			continue
		}
		for j, f := range n.funcs {
			if b.Len()+2+len(f.line)+len(f.note)+1+len("}\n") > budget {
				b.WriteString("}\n")
				return b.String() + cutNote(limit, spaces[i:], j)
			}
			b.WriteString("  ")
			b.WriteString(f.line)
			b.WriteString(f.note)
			b.WriteByte('\n')
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// cutNote ends a listing cut at limit bytes: rest are the namespaces not fully shown, the
// first of them shown up to its function shown.
func cutNote(limit int, rest []*namespace, shown int) string {
	fns := -shown
	names := make([]string, len(rest))
	for i, n := range rest {
		fns += len(n.funcs)
		names[i] = n.name
	}
	head := fmt.Sprintf("// … listing cut at %d bytes: %d more functions in %d namespaces are not shown (", limit, fns, len(rest))
	tail := "). Narrow the request: list_functions with a namespace, or a query of a few words.\n"
	return head + nameList(names, listNoteRoom-len(head)-len(tail)) + tail
}

// nameList joins names with ", ", cut to about room bytes with a count of the rest.
func nameList(names []string, room int) string {
	var b strings.Builder
	for i, n := range names {
		if b.Len()+len(n)+2 > room-len("… and 1000000 more") {
			fmt.Fprintf(&b, "… and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
	}
	return b.String()
}

func namespaceHeader(n *namespace) string {
	if n.unavailable != "" {
		return fmt.Sprintf("// namespace %s: unavailable (%s)\n", n.name, oneLine(n.unavailable, 200))
	}
	var header string
	if d := firstSentence(n.description); d != "" {
		header = "// " + d + "\n"
	}
	if n.note != "" {
		header += "// " + n.note + "\n"
	}
	return header + "namespace " + n.name + " {\n"
}

func (s *Snapshot) names() []string {
	out := make([]string, len(s.spaces))
	for i, n := range s.spaces {
		out[i] = n.name
	}
	return out
}

// A query is split into terms at spaces and at the separators of tool names ("_", "-",
// "."), so "read file", "read_file" and "read-file" all find read_file. A function
// matches when every term occurs (case-insensitively) in its namespace or function name
// or in its description. Hits are ranked: an exact name match first, then by how many
// terms matched the name rather than only the description, then by name.
func queryTerms(q string) []string {
	return strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '_' || r == '-' || r == '.' || r == '/'
	})
}

// searchText is what queries match against, lowercased once per Put: the names, the
// description, and the function's name and qualified name as query terms.
func (f *function) searchText() *searchText {
	f.searchOnce.Do(func() {
		f.search = &searchText{
			name:      strings.ToLower(f.ns + " " + f.name + " " + f.tool.Name),
			desc:      strings.ToLower(f.tool.Description),
			terms:     strings.Join(queryTerms(f.name), " "),
			qualified: strings.Join(queryTerms(f.ns+"."+f.name), " "),
		}
	})
	return f.search
}

type searchText struct{ name, desc, terms, qualified string }

type hit struct {
	f     *function
	exact bool
	named int
}

func listQuery(spaces []*namespace, q string, limit int) string {
	terms := queryTerms(q)
	joined := strings.Join(terms, " ")
	var hits []hit
	for _, n := range spaces {
		for _, f := range n.funcs {
			st := f.searchText()
			h := hit{f: f}
			ok := true
			for _, t := range terms {
				switch {
				case strings.Contains(st.name, t):
					h.named++
				case !strings.Contains(st.desc, t):
					ok = false
				}
			}
			if !ok {
				continue
			}
			h.exact = joined == st.terms || joined == st.qualified
			hits = append(hits, h)
		}
	}
	if len(hits) == 0 {
		return fmt.Sprintf("// no functions match %q\n", q)
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.exact != b.exact {
			return a.exact
		}
		if a.named != b.named {
			return a.named > b.named
		}
		if a.f.ns != b.f.ns {
			return a.f.ns < b.f.ns
		}
		return a.f.name < b.f.name
	})
	// A query's hits are few, so each line also carries the first sentence of the
	// description: it is often why the function matched.
	var b strings.Builder
	fmt.Fprintf(&b, "// %d matching %q, best first\n", len(hits), q)
	budget := limit - listNoteRoom
	for i, h := range hits {
		line := h.f.ns + "." + h.f.line
		if d := firstSentence(h.f.tool.Description); d != "" {
			line += " // " + d
		}
		if b.Len()+len(line)+1 > budget {
			fmt.Fprintf(&b, "// … listing cut at %d bytes: %d more matches are not shown. Narrow the request: more specific words, or a namespace.\n", limit, len(hits)-i)
			break
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// firstSentence returns the first sentence of s on one line, cut at 100 characters.
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?') && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n') {
			s = s[:i+1]
			break
		}
		if s[i] == '\n' {
			s = s[:i]
			break
		}
	}
	return oneLine(s, 100)
}

// oneLine collapses whitespace and cuts s to at most limit bytes (at a rune boundary).
func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
