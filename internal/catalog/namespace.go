package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// namespace is the catalog's prepared, immutable form of a Namespace.
type namespace struct {
	name, raw   string
	owner       string
	description string
	unavailable string
	note        string      // for the listing: why a view renamed it beyond its convention
	camel       sync.Map    // view name → *namespace: its NamingCamel views without a note, made once
	funcs       []*function // sorted by name; empty when unavailable
	byName      map[string]*function
	byRaw       map[string]*function

	declOnce sync.Once
	decl     string // the whole declaration block, see declarationBlock
}

// function is one prepared tool. What the listing needs is read at build time; the
// parsed schemas and the compiled validator are made on first use, at most once.
type function struct {
	ns, name string // as called
	rawNS    string // the namespace as the backend named it
	tool     Tool
	top      []param   // input's top-level properties, without their schemas
	outTop   []param   // output's top-level properties, without their schemas
	shortcut string    // the single required property of an MCP-style tool, or ""
	inNote   string    // why the input schema could not even be scanned, if so
	line     string    // compact signature for the listing
	note     string    // for the listing: the tool's own name when a collision renamed it
	base     *function // for a renamed view (Snapshot.Named), the function whose schemas it shares

	parseOnce sync.Once
	parsed    *schemas

	searchOnce sync.Once
	search     *searchText

	docOnce sync.Once
	doc     searchDoc // search_functions' document, shared by every snapshot holding f

	compileOnce sync.Once
	schema      *jsonschema.Schema
	schemaNote  string
}

// schemas are a function's parsed input and output schemas.
type schemas struct {
	in, out any     // out is nil when there is none
	props   []param // top-level properties of in, with their schemas
	inNote  string  // why the input schema is not used, if it is not
}

func (s *schemas) param(name string) (param, bool) {
	for _, p := range s.props {
		if p.name == name {
			return p, true
		}
	}
	return param{}, false
}

// param is a top-level property of the input schema.
type param struct {
	name     string
	schema   any
	required bool
}

// emptyObjectSchema stands in for a missing input schema.
var emptyObjectSchema = &object{keys: []string{"type"}, vals: []any{"object"}}

func build(owner string, ns Namespace) (*namespace, error) {
	if strings.TrimSpace(ns.Name) == "" {
		return nil, errors.New("catalog: namespace name is empty")
	}
	if err := checkNamespaceName(ns.Name); err != nil {
		return nil, err
	}
	n := &namespace{
		name:        sanitizeNamespace(ns.Name),
		raw:         ns.Name,
		owner:       owner,
		description: ns.Description,
		unavailable: ns.Unavailable,
	}
	if n.unavailable != "" {
		return n, nil
	}
	raws := make([]string, len(ns.Tools))
	for i, t := range ns.Tools {
		raws[i] = t.Name
		if ns.RefuseReserved {
			if err := checkFunctionName(ns.Name, t.Name); err != nil {
				return nil, err
			}
		}
	}
	names, collided := assignNames(raws)
	n.funcs = make([]*function, len(ns.Tools))
	n.byName = make(map[string]*function, len(ns.Tools))
	n.byRaw = make(map[string]*function, len(ns.Tools))
	for i, t := range ns.Tools {
		if t.Call == nil {
			return nil, fmt.Errorf("catalog: namespace %q: tool %q has no call func", ns.Name, t.Name)
		}
		f := prepare(n.name, names[i], collided[i], t)
		f.rawNS = ns.Name
		n.funcs[i] = f
		n.byName[f.name] = f
		if _, dup := n.byRaw[t.Name]; !dup {
			n.byRaw[t.Name] = f
		}
	}
	slices.SortFunc(n.funcs, func(a, b *function) int { return strings.Compare(a.name, b.name) })
	return n, nil
}

// CheckNames returns the error Put would give a Namespace with RefuseReserved set that is
// named namespace and has these functions, when one of the names clashes with a
// JavaScript builtin (wrapping ErrReservedName); nil otherwise. Backends that hold
// namespaces outside the catalog (session-scoped registrations) call it at registration,
// so the clash is refused there rather than at every later request.
func CheckNames(namespace string, functions ...string) error {
	if err := checkNamespaceName(namespace); err != nil {
		return err
	}
	for _, f := range functions {
		if err := checkFunctionName(namespace, f); err != nil {
			return err
		}
	}
	return nil
}

func checkNamespaceName(name string) error {
	if plain := sanitizeIdent(name); reservedNamespace(plain) {
		return fmt.Errorf("catalog: namespace %q: %w: it would shadow the global %q that every program uses; choose another name", name, ErrReservedName, plain)
	}
	return nil
}

func checkFunctionName(namespace, name string) error {
	if plain := sanitizeIdent(name); runtime.ReservedProperty(plain) {
		return fmt.Errorf("catalog: namespace %q: function %q: %w: it would replace Object.prototype.%s on the namespace object; choose another name", namespace, name, ErrReservedName, plain)
	}
	return nil
}

func prepare(ns, name string, collided bool, t Tool) *function {
	f := &function{ns: ns, name: name, tool: t}
	if len(bytes.TrimSpace(t.InputSchema)) > 0 {
		top, err := scanTop(t.InputSchema)
		if err != nil {
			f.inNote = "input schema: " + err.Error()
		}
		f.top = top
	}
	if len(bytes.TrimSpace(t.OutputSchema)) > 0 {
		f.outTop, _ = scanTop(t.OutputSchema)
	}
	if t.Params == nil {
		for _, p := range f.top {
			if p.required {
				if f.shortcut != "" {
					f.shortcut = ""
					break
				}
				f.shortcut = p.name
			}
		}
	}
	f.line = f.signature()
	if collided {
		f.note = fmt.Sprintf(" // tool %q", t.Name)
	}
	return f
}

// schemas parses the input and output schemas on first use. An input schema that does
// not parse counts as {"type":"object"}; an output schema that does not, as none.
func (f *function) schemas() *schemas {
	if f.base != nil {
		return f.base.schemas()
	}
	f.parseOnce.Do(func() {
		s := &schemas{in: emptyObjectSchema, inNote: f.inNote}
		if s.inNote == "" && len(bytes.TrimSpace(f.tool.InputSchema)) > 0 {
			if v, err := parseJSON(f.tool.InputSchema); err != nil {
				s.inNote = "input schema: " + err.Error()
			} else {
				s.in = v
			}
		}
		if len(bytes.TrimSpace(f.tool.OutputSchema)) > 0 {
			if v, err := parseJSON(f.tool.OutputSchema); err == nil {
				s.out = v
			}
		}
		s.props = topParams(s.in)
		f.parsed = s
	})
	return f.parsed
}

// declared reports whether name is a top-level property of the input schema.
func (f *function) declared(name string) bool {
	for _, p := range f.top {
		if p.name == name {
			return true
		}
	}
	return false
}

// topParams lists the input schema's top-level properties in order, then required
// names that have no property schema.
func topParams(in any) []param {
	o, ok := in.(*object)
	if !ok {
		return nil
	}
	required := stringSet(o.val("required"))
	var out []param
	seen := map[string]bool{}
	if props, ok := o.val("properties").(*object); ok {
		for i, k := range props.keys {
			seen[k] = true
			out = append(out, param{name: k, schema: props.vals[i], required: required[k]})
		}
	}
	for _, k := range stringList(o.val("required")) {
		if !seen[k] {
			seen[k] = true
			out = append(out, param{name: k, schema: true, required: true})
		}
	}
	return out
}

// sameAs reports whether m lists exactly like n (call funcs aside).
func (n *namespace) sameAs(m *namespace) bool {
	if n.name != m.name || n.raw != m.raw || n.description != m.description ||
		n.unavailable != m.unavailable || len(n.funcs) != len(m.funcs) {
		return false
	}
	for i, a := range n.funcs {
		b := m.funcs[i]
		if a.name != b.name || a.tool.Name != b.tool.Name || a.tool.Description != b.tool.Description ||
			!bytes.Equal(a.tool.InputSchema, b.tool.InputSchema) ||
			!bytes.Equal(a.tool.OutputSchema, b.tool.OutputSchema) || !slices.Equal(a.tool.Params, b.tool.Params) ||
			(a.tool.Params == nil) != (b.tool.Params == nil) {
			return false
		}
	}
	return true
}

// validator compiles the input schema on first use. A schema that does not compile
// leaves the function callable without validation; note says why.
func (f *function) validator() (sch *jsonschema.Schema, note string) {
	if f.base != nil {
		return f.base.validator()
	}
	f.compileOnce.Do(func() {
		if note := f.schemas().inNote; note != "" {
			f.schemaNote = note
			return
		}
		if len(bytes.TrimSpace(f.tool.InputSchema)) == 0 {
			return // nothing to check beyond "an object", which binding ensures
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(f.tool.InputSchema))
		if err != nil {
			f.schemaNote = "input schema: " + err.Error()
			return
		}
		c := jsonschema.NewCompiler()
		// No loader: a schema must not make pctx read files or fetch URLs.
		c.UseLoader(jsonschema.SchemeURLLoader{})
		const loc = "mem:///input.json"
		if err := c.AddResource(loc, doc); err != nil {
			f.schemaNote = "input schema: " + err.Error()
			return
		}
		s, err := c.Compile(loc)
		if err != nil {
			f.schemaNote = "input schema does not compile: " + err.Error()
			return
		}
		f.schema = s
	})
	return f.schema, f.schemaNote
}
