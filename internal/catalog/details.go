package catalog

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/pctx-dev/pctx/internal/textdist"
)

// details renders full declarations for the requested "ns.fn" names, one
// `declare namespace` block per namespace, in order of first request.
func (s *Snapshot) details(names []string) (string, error) {
	if len(names) == 0 {
		return "", errors.New("no function names given: pass names like \"namespace.function\" as list_functions shows them")
	}
	var order []*namespace
	picked := map[*namespace][]*function{}
	seen := map[*function]bool{}
	var problems []string
	for _, name := range names {
		n, f, problem := s.resolve(name)
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		if seen[f] {
			continue
		}
		seen[f] = true
		if _, ok := picked[n]; !ok {
			order = append(order, n)
		}
		picked[n] = append(picked[n], f)
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	var b strings.Builder
	for i, n := range order {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeBlock(&b, n, picked[n])
	}
	return b.String(), nil
}

// resolve finds name ("ns.fn", sanitised or as the backend wrote it) or explains why not.
func (s *Snapshot) resolve(name string) (*namespace, *function, string) {
	nsName, fnName, ok := strings.Cut(strings.TrimSpace(name), ".")
	if ok {
		if n := s.lookup(nsName); n != nil {
			if n.unavailable != "" {
				return nil, nil, fmt.Sprintf("namespace %s is unavailable (%s)", n.name, oneLine(n.unavailable, 200))
			}
			if f := n.byName[fnName]; f != nil {
				return n, f, ""
			}
			if f := n.byRaw[fnName]; f != nil {
				return n, f, ""
			}
		}
	}
	msg := fmt.Sprintf("unknown function %q", oneLine(name, 100))
	if near := s.nearMatches(name, 3); len(near) > 0 {
		msg += " (did you mean " + strings.Join(near, ", ") + "?)"
	} else if !ok {
		msg += ` (names look like "namespace.function")`
	}
	return nil, nil, msg
}

// nearMatches returns up to limit "ns.fn" names whose function part is close to the
// requested one (by edit distance, or containing it). When the requested namespace
// exists, only its functions are candidates.
func (s *Snapshot) nearMatches(name string, limit int) []string {
	q := strings.ToLower(strings.TrimSpace(name))
	spaces := s.spaces
	if nsName, fnName, ok := strings.Cut(q, "."); ok {
		q = fnName
		if n := s.lookup(nsName); n != nil && len(n.funcs) > 0 {
			spaces = []*namespace{n}
		}
	}
	type cand struct {
		full string
		dist int
	}
	var cands []cand
	maxDist := max(1, len(q)/3)
	for _, n := range spaces {
		for _, f := range n.funcs {
			target := strings.ToLower(f.name)
			contains := len(q) >= 3 && (strings.Contains(target, q) || strings.Contains(q, target))
			// The length difference bounds the distance from below: skip the quadratic
			// comparison when it alone rules the name out (a long garbage name costs nothing).
			if !contains && abs(len(q)-len(target)) > maxDist {
				continue
			}
			d := textdist.Levenshtein(q, target)
			if contains {
				d = min(d, 1)
			}
			if d <= maxDist {
				cands = append(cands, cand{n.name + "." + f.name, d})
			}
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].full < cands[j].full
	})
	var out []string
	for i := 0; i < len(cands) && i < limit; i++ {
		out = append(out, cands[i].full)
	}
	return out
}

// writeBlock renders one `declare namespace` block with the declarations of fns.
func writeBlock(b *strings.Builder, n *namespace, fns []*function) {
	namer := newTypeNamer()
	if d := strings.TrimSpace(n.description); d != "" {
		writeDoc(b, "", d, nil)
	}
	b.WriteString("declare namespace " + n.name + " {\n")
	// Each function's types sit right above it, so one function reads as one unit.
	for _, f := range fns {
		decls, fn := f.declarations(namer)
		for _, d := range decls {
			b.WriteString(d)
		}
		b.WriteString(fn)
	}
	b.WriteString("}\n")
}

// declarations renders f's named types and its function declaration(s).
func (f *function) declarations(namer *typeNamer) (decls []string, fn string) {
	base := pascal(f.name)
	s := f.schemas()
	in := newTypeGen(s.in, namer)

	// Parameters. A function without parameters still takes an empty object, since that is
	// how agents call MCP tools: read_graph({}) must type-check as read_graph() does.
	var params string
	var overload string // a second signature: the shortcut, or named arguments
	switch {
	case f.tool.Params != nil && len(f.tool.Params) == 0:
		params = "args?: {}"
	case f.tool.Params != nil:
		params = f.positionalParams(in, s)
		overload = f.namedParams(in, s)
	case f.takesNoArgs():
		params = "args?: {}"
	default:
		inName := namer.name(base + "Input")
		in.refNames[""] = inName
		in.open[inName] = true
		t := in.gen(s.in, declIndent)
		delete(in.open, inName)
		in.decls = append(in.decls, declText(inName, t, ""))
		opt := ""
		if !anyRequired(s.props) {
			opt = "?"
		}
		params = "args" + opt + ": " + inName
		if f.shortcut != "" {
			// The overload for the shortcut; a long type is referred to, not repeated.
			p, _ := s.param(f.shortcut)
			ptText := in.structural(p.schema, declIndent).text
			if strings.Contains(ptText, "\n") || len(ptText) > 60 {
				ptText = inName + "[" + jsonText(f.shortcut) + "]"
			}
			overload = paramName(f.shortcut) + ": " + ptText
		}
	}
	decls = append(decls, in.decls...)

	// Result. Without an output schema the result is whatever the backend sends (parsed
	// JSON or text), so it is any: unknown would make every use of it a type error.
	ret := "any"
	if s.out != nil {
		out := newTypeGen(s.out, namer)
		out.out = true
		outName := namer.name(base + "Output")
		out.refNames[""] = outName
		out.open[outName] = true
		t := out.gen(s.out, declIndent)
		delete(out.open, outName)
		if !t.top {
			out.decls = append(out.decls, declText(outName, t, ""))
			ret = outName
		}
		decls = append(decls, out.decls...)
	}

	var b strings.Builder
	doc := strings.TrimSpace(f.tool.Description)
	var tags []string
	if f.name != f.tool.Name {
		tags = append(tags, fmt.Sprintf("@tool %q", f.tool.Name))
	}
	if f.tool.Params != nil {
		// Positional parameters have no interface to carry their docs.
		for _, name := range f.tool.Params {
			p, _ := s.param(name)
			if d := oneLine(docText(p.schema), 200); d != "" {
				tags = append(tags, "@param "+paramName(name)+" "+d)
			}
		}
	}
	tags = append(tags, "@example "+f.example())
	writeDoc(&b, declIndent, doc, tags)
	// The main form comes last: when no overload fits a call, TypeScript explains the
	// mismatch against the last one, and that explanation is what the agent reads.
	if overload != "" {
		fmt.Fprintf(&b, "%sfunction %s(%s): Promise<%s>;\n", declIndent, f.name, overload, ret)
	}
	fmt.Fprintf(&b, "%sfunction %s(%s): Promise<%s>;\n", declIndent, f.name, params, ret)
	return decls, b.String()
}

// namedParams renders the named-argument form of a positional tool, as binding accepts
// it: one object whose keys are parameter names (ml.predict_churn({ customer_id: "c1" })),
// which is also how f({}) type-checks when every parameter is optional. A tool whose
// first parameter takes objects reads a lone object as that parameter, so it has no
// such form; nor, to stay one line, does one whose parameter types span lines.
func (f *function) namedParams(g *typeGen, s *schemas) string {
	if f.firstParamAdmitsObject() {
		return ""
	}
	fields := make([]string, 0, len(f.tool.Params))
	for _, name := range f.tool.Params {
		t, required := tsUnknown, false
		if p, ok := s.param(name); ok {
			t, required = g.structural(p.schema, declIndent), p.required
		}
		if strings.Contains(t.text, "\n") {
			return ""
		}
		opt := "?"
		if required {
			opt = ""
		}
		fields = append(fields, propertyKey(name)+opt+": "+t.text)
	}
	return "args: { " + strings.Join(fields, "; ") + " }"
}

// takesNoArgs reports whether the input schema is a plain object with no properties, as
// MCP tools without arguments declare it.
func (f *function) takesNoArgs() bool {
	s := f.schemas()
	n, ok := s.in.(*object)
	if !ok || len(s.props) > 0 {
		return false
	}
	if t, ok := n.get("type"); ok && t != "object" {
		return false
	}
	return !hasAny(n, "additionalProperties", "patternProperties", "anyOf", "oneOf", "allOf", "$ref", "enum", "const", "not")
}

func anyRequired(ps []param) bool {
	for _, p := range ps {
		if p.required {
			return true
		}
	}
	return false
}

// paramName turns a property name into a parameter name.
func paramName(s string) string {
	if s == "" {
		return "value"
	}
	return sanitizeIdent(s)
}

// positionalParams renders an SDK tool's parameter list. A parameter that is optional
// but followed by a required one is written "x: T | undefined", as TypeScript has no
// optional parameter before a required one.
func (f *function) positionalParams(g *typeGen, s *schemas) string {
	props := map[string]param{}
	for _, p := range s.props {
		props[p.name] = p
	}
	lastRequired := -1
	for i, name := range f.tool.Params {
		if props[name].required {
			lastRequired = i
		}
	}
	used := map[string]bool{}
	parts := make([]string, 0, len(f.tool.Params))
	for i, name := range f.tool.Params {
		p, ok := props[name]
		t := tsUnknown
		if ok {
			t = g.structural(p.schema, declIndent)
		}
		id := paramName(name)
		for base, k := id, 2; used[id]; k++ {
			id = fmt.Sprintf("%s_%d", base, k)
		}
		used[id] = true
		switch {
		case p.required:
			parts = append(parts, id+": "+t.text)
		case i < lastRequired:
			parts = append(parts, id+": "+union([]tsType{t, prim("undefined")}).text)
		default:
			parts = append(parts, id+"?: "+t.text)
		}
	}
	return strings.Join(parts, ", ")
}

// declText renders a top-level declaration of t under name.
func declText(name string, t tsType, doc string) string {
	var b strings.Builder
	writeDoc(&b, declIndent, doc, nil)
	if t.object {
		b.WriteString(declIndent + "interface " + name + " " + t.text + "\n")
	} else {
		b.WriteString(declIndent + "type " + name + " = " + t.text + ";\n")
	}
	return b.String()
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
