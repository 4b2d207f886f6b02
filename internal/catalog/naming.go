package catalog

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// Naming is a convention for the names agents call namespaces and functions by. The zero
// value is NamingRegistered.
type Naming int

const (
	// NamingRegistered keeps names as the backends register them, sanitised into
	// identifiers (get-sum → get_sum): the default.
	NamingRegistered Naming = iota
	// NamingCamel is the original pctx's convention, which the published pctx-client's
	// users and their models write: PascalCase namespaces and camelCase functions
	// (tools → Tools, test_http_mcp → TestHttpMcp, add_numbers → addNumbers).
	NamingCamel
)

// namingNames are the config spellings of the conventions, indexed by Naming.
var namingNames = []string{"registered", "camel"}

// String returns the convention's config spelling: "registered" or "camel".
func (n Naming) String() string {
	if int(n) >= 0 && int(n) < len(namingNames) {
		return namingNames[n]
	}
	return fmt.Sprintf("Naming(%d)", int(n))
}

// ParseNaming reads a convention's config spelling; "" is NamingRegistered.
func ParseNaming(s string) (Naming, error) {
	if s == "" {
		return NamingRegistered, nil
	}
	if i := slices.Index(namingNames, s); i >= 0 {
		return Naming(i), nil
	}
	return 0, fmt.Errorf("unknown naming %q: want \"%s\"", s, strings.Join(namingNames, `" or "`))
}

// Named returns the view of s under naming n: the same namespaces and functions, whose
// listing, declarations, bindings and lookups all use n's names. Names are assigned
// within the whole snapshot, so a view is taken after Snapshot.With. Lookups (Details,
// Resolve, ListOptions.Namespace) also accept the names as registered. Collisions that
// renaming makes (add_numbers and addNumbers) are resolved as catalog's sanitising does:
// a name the convention leaves unchanged keeps it, the others take their converted name
// in byte order of the registered names with "_2", "_3", ... and the listing shows the
// registered name beside a suffixed one. The view of the catalog's own snapshot is made
// once and shared.
func (s *Snapshot) Named(n Naming) *Snapshot {
	if n == s.naming {
		return s
	}
	if s.naming != NamingRegistered {
		return s.base.Named(n)
	}
	// NamingCamel is the only other convention.
	s.camelOnce.Do(func() { s.camel = s.renamed(NamingCamel) })
	return s.camel
}

// Naming reports the convention the snapshot's names follow.
func (s *Snapshot) Naming() Naming { return s.naming }

// renamed builds the view of s (a snapshot with registered names) under naming n.
func (s *Snapshot) renamed(n Naming) *Snapshot {
	raws := make([]string, len(s.spaces))
	for i, ns := range s.spaces {
		raws[i] = ns.raw
	}
	names, collided := assignNamesWith(raws, pascalNamespace)
	out := &Snapshot{version: s.version, naming: n, base: s, byName: make(map[string]*namespace, len(s.spaces)),
		fromBase: make(map[string]*namespace, len(s.spaces))}
	for i, ns := range s.spaces {
		note := ""
		if collided[i] {
			note = fmt.Sprintf("namespace %q (%s is another's)", ns.raw, pascalNamespace(ns.raw))
		}
		m := ns.renamed(names[i], note)
		out.byName[m.name] = m
		out.fromBase[ns.name] = m
		out.spaces = append(out.spaces, m)
	}
	slices.SortFunc(out.spaces, func(a, b *namespace) int { return strings.Compare(a.name, b.name) })
	return out
}

// renamed returns n under the view's name, its functions in camelCase. Namespaces are
// immutable and shared by successive snapshots, so a view without a collision note is
// made once per name and kept with n: an overlay's view renames only what it adds.
func (n *namespace) renamed(name, note string) *namespace {
	if note == "" {
		if m, ok := n.camel.Load(name); ok {
			return m.(*namespace)
		}
		m, _ := n.camel.LoadOrStore(name, n.rename(name, ""))
		return m.(*namespace)
	}
	return n.rename(name, note)
}

func (n *namespace) rename(name, note string) *namespace {
	m := &namespace{name: name, raw: n.raw, owner: n.owner, description: n.description, unavailable: n.unavailable, note: note}
	if n.unavailable != "" {
		return m
	}
	raws := make([]string, len(n.funcs))
	for i, f := range n.funcs {
		raws[i] = f.tool.Name
	}
	names, collided := assignNamesWith(raws, camelIdent)
	m.funcs = make([]*function, len(n.funcs))
	m.byName = make(map[string]*function, len(n.funcs))
	m.byRaw = make(map[string]*function, len(n.funcs))
	for i, f := range n.funcs {
		g := f.renamed(name, names[i], collided[i])
		m.funcs[i] = g
		m.byName[g.name] = g
		if _, dup := m.byRaw[f.tool.Name]; !dup {
			m.byRaw[f.tool.Name] = g
		}
	}
	slices.SortFunc(m.funcs, func(a, b *function) int { return strings.Compare(a.name, b.name) })
	return m
}

// renamed returns f under new names; what f derived from its schemas (parsed schemas, the
// compiled validator) stays f's, so views share that work.
func (f *function) renamed(ns, name string, collided bool) *function {
	g := &function{ns: ns, name: name, rawNS: f.rawNS, tool: f.tool, top: f.top, outTop: f.outTop, shortcut: f.shortcut, inNote: f.inNote, base: f.root()}
	g.line = g.signature()
	if collided {
		g.note = fmt.Sprintf(" // tool %q", f.tool.Name)
	}
	return g
}

// root is the function whose schemas f shares: f itself unless f is a renamed view.
func (f *function) root() *function {
	if f.base != nil {
		return f.base
	}
	return f
}

// pascalNamespace is a namespace's name under NamingCamel.
func pascalNamespace(raw string) string { return sanitizeNamespace(caseWords(raw, true)) }

// camelIdent is a function's name under NamingCamel.
func camelIdent(raw string) string {
	return sanitizeIdent(caseWords(raw, false), runtime.ReservedProperty)
}

// caseWords joins the words of s in PascalCase (pascal) or camelCase, as the original
// pctx does (Rust's heck crate): words split at every character that is not a letter or
// digit, after a lowercase letter (or a digit following one) before an uppercase one, and
// before the last capital of a run followed by a lowercase letter ("HTTPServer" → HTTP,
// Server). A leading or trailing "_" is kept. Sanitising into an identifier is left to the
// caller.
func caseWords(s string, pascal bool) string {
	var b strings.Builder
	b.Grow(len(s))
	first := true
	for _, w := range splitWords(s) {
		for i, r := range w {
			switch {
			case i == 0 && (pascal || !first):
				r = unicode.ToUpper(r)
			default:
				r = unicode.ToLower(r)
			}
			b.WriteRune(r)
		}
		first = false
	}
	out := b.String()
	if strings.HasPrefix(s, "_") && !strings.HasPrefix(out, "_") {
		out = "_" + out
	}
	if strings.HasSuffix(s, "_") && !strings.HasSuffix(out, "_") {
		out += "_"
	}
	return out
}

// splitWords splits s into words the way caseWords describes.
func splitWords(s string) []string {
	const (
		other = iota // no letter yet in this word
		lower        // the last letter was lowercase (digits keep the mode)
		upper
	)
	var words []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		rs := []rune(part)
		start, mode := 0, other
		for i, r := range rs {
			if i > start && unicode.IsUpper(r) &&
				(mode == lower || (mode == upper && i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				words = append(words, string(rs[start:i]))
				start = i
			}
			switch {
			case unicode.IsLower(r):
				mode = lower
			case unicode.IsUpper(r):
				mode = upper
			}
		}
		words = append(words, string(rs[start:]))
	}
	return words
}
