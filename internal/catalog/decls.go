package catalog

import (
	"strings"
)

// Declarations are one generator with two views: get_function_details renders the blocks
// of the requested functions (details), the type check reads the blocks of every
// namespace (Declarations). Both come from writeBlock, so the checker judges a program
// against exactly the types the agent was shown.

// declarationBlock renders n's whole `declare namespace` block once: namespaces are
// immutable and shared by every snapshot (and session overlay) that holds them.
func (n *namespace) declarationBlock() string {
	n.declOnce.Do(func() {
		var b strings.Builder
		if n.unavailable != "" {
			// Declared but empty, so a call reads "property does not exist on typeof ns";
			// Signature says why.
			writeDoc(&b, "", "Unavailable: "+oneLine(n.unavailable, 200), nil)
			b.WriteString("declare namespace " + n.name + " {}\n")
		} else {
			writeBlock(&b, n, n.funcs)
		}
		n.decl = b.String()
	})
	return n.decl
}

// Declarations returns the TypeScript declarations of the whole snapshot: one
// `declare namespace` block per namespace, in name order, each exactly as
// get_function_details renders that namespace's functions. An unavailable namespace is
// an empty block. The slice is built once per snapshot and shared: it must not be
// modified. Blocks are separate so that a consumer can cache them one by one (a session
// overlay shares all but its own namespaces' blocks with its base).
func (s *Snapshot) Declarations() []string {
	s.declOnce.Do(func() {
		s.decls = make([]string, len(s.spaces))
		for i, n := range s.spaces {
			s.decls[i] = n.declarationBlock()
		}
	})
	return s.decls
}

// maxHintBytes bounds Signature: it is a hint beside a compiler diagnostic, and
// get_function_details has the whole text.
const maxHintBytes = 400

// Signature returns a one-line form of the declaration of function name ("ns.fn",
// sanitised or as the backend wrote it): its signature(s) and the named types they use,
// without documentation, e.g.
//
//	everything.get_sum(args: GetSumInput): Promise<any>; interface GetSumInput { a: number; b: number; }
//
// When that is longer than a short hint, only the signatures. For a function of an
// unavailable namespace it says so; for an unknown name it is "".
func (s *Snapshot) Signature(name string) string {
	nsName, fnName, ok := strings.Cut(strings.TrimSpace(name), ".")
	if !ok {
		return ""
	}
	n := s.lookup(nsName)
	if n == nil {
		return ""
	}
	if n.unavailable != "" {
		return "namespace " + n.name + " is unavailable (" + oneLine(n.unavailable, 200) + ")"
	}
	f := n.byName[fnName]
	if f == nil {
		f = n.byRaw[fnName]
	}
	if f == nil {
		return ""
	}
	decls, fn := f.declarations(newTypeNamer())
	sigs := compactDecl(fn)
	sigs = strings.ReplaceAll(sigs, "function "+f.name+"(", n.name+"."+f.name+"(")
	types := compactDecl(strings.Join(decls, ""))
	if types != "" && len(sigs)+len(types)+1 <= maxHintBytes {
		return sigs + " " + types
	}
	if len(sigs) > maxHintBytes {
		sigs = sigs[:maxHintBytes-3] + "..."
	}
	return sigs
}

// compactDecl joins declaration text into one line, dropping JSDoc comments.
func compactDecl(text string) string {
	var parts []string
	inDoc := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case inDoc:
			inDoc = !strings.HasSuffix(line, "*/")
			continue
		case strings.HasPrefix(line, "/**"):
			inDoc = !strings.HasSuffix(line, "*/")
			continue
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, " ")
}
