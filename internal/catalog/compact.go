package catalog

import (
	"strings"
)

// Compact renders every callable function as one typed line, grouped by namespace: the
// listing's call form with each parameter's type where the type is short. It is what the
// auto disclosure puts inline in execute_typescript's description for a small catalog,
// so a model can write the program without a discovery call:
//
//	namespace stripe {
//	  get_customer({customer_id: string, expand?: string[]})
//	}
//
// Types longer than maxCompactType characters are left out (the name stays), as are
// descriptions: measured on the seed's 45 functions, a first sentence per function
// would double the text. Unavailable namespaces are listed with their reason.
func (s *Snapshot) Compact() string {
	var b strings.Builder
	for _, n := range s.spaces {
		if n.unavailable != "" {
			b.WriteString("// namespace " + n.name + ": unavailable (" + oneLine(n.unavailable, 200) + ")\n")
			continue
		}
		b.WriteString("namespace " + n.name + " {\n")
		for _, f := range n.funcs {
			b.WriteString("  ")
			b.WriteString(f.compactLine())
			b.WriteString(f.note)
			b.WriteByte('\n')
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// maxCompactType bounds a parameter type shown in Compact.
const maxCompactType = 48

// compactLine is the listing line of f with parameter types.
func (f *function) compactLine() string {
	s := f.schemas()
	g := newTypeGen(s.in, newTypeNamer())
	return f.callLine(0, func(key, name string) string {
		p, ok := s.param(name)
		if !ok {
			return key
		}
		t := strings.Join(strings.Fields(g.structural(p.schema, "").text), " ")
		// A named type would be declared elsewhere; unknown says nothing.
		if len(g.decls) > 0 || t == "unknown" || len(t) > maxCompactType {
			g.decls = nil
			return key
		}
		return key + ": " + t
	})
}
