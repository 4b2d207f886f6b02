package catalog

import (
	"strings"
)

// example renders a call of f with placeholder values for its required arguments, e.g.
// `await filesystem.read_file({ path: "..." })`. The values fit the declared types, so
// the golden tests can type-check the examples too.
func (f *function) example() string {
	s := f.schemas()
	e := exampler{root: s.in, refs: map[string]bool{}, budget: maxExampleValues}
	var args []string
	switch {
	case f.tool.Params != nil:
		last := -1
		for i, name := range f.tool.Params {
			if p, ok := s.param(name); ok && p.required {
				last = i
			}
		}
		for _, name := range f.tool.Params[:last+1] {
			if p, _ := s.param(name); p.required {
				args = append(args, e.value(p.schema, 0))
			} else {
				args = append(args, "undefined")
			}
		}
	case anyRequired(s.props):
		args = append(args, e.objectFrom(s.props, 0))
	}
	return "await " + f.ns + "." + f.name + "(" + strings.Join(args, ", ") + ")"
}

type exampler struct {
	root   any
	refs   map[string]bool // $refs being expanded, to stop on cycles
	budget int             // values left to render: $refs can fan out exponentially
}

const (
	maxExampleDepth  = 6
	maxExampleValues = 200
)

// value renders a JavaScript value that satisfies node's TypeScript type.
func (e *exampler) value(node any, depth int) string {
	n, ok := node.(*object)
	e.budget--
	if !ok || depth > maxExampleDepth || e.budget < 0 {
		return "null as any"
	}
	if ref, ok := n.val("$ref").(string); ok {
		ptr, ok := localPointer(ref)
		target, found := resolvePointer(e.root, ptr)
		if !ok || !found || e.refs[ptr] {
			return "null as any"
		}
		e.refs[ptr] = true
		defer delete(e.refs, ptr)
		return e.value(target, depth+1)
	}
	for _, kw := range []string{"default", "const"} {
		if v, ok := n.get(kw); ok {
			return jsonText(v)
		}
	}
	for _, kw := range []string{"examples", "enum"} {
		if arr, ok := n.val(kw).([]any); ok && len(arr) > 0 {
			return jsonText(arr[0])
		}
	}
	// The value must satisfy allOf and the first alternative of anyOf/oneOf at once.
	members, _ := n.val("allOf").([]any)
	for _, kw := range []string{"anyOf", "oneOf"} {
		if arr, ok := n.val(kw).([]any); ok && len(arr) > 0 {
			members = append(members[:len(members):len(members)], arr[0])
		}
	}
	if len(members) > 0 {
		return e.allOf(n, members, depth)
	}
	switch firstType(n) {
	case "string":
		return `"..."`
	case "number", "integer":
		if v, ok := n.get("minimum"); ok {
			return jsonText(v)
		}
		return "0"
	case "boolean":
		return "false"
	case "null":
		return "null"
	case "array":
		return e.array(n, depth)
	case "object":
		return e.objectFrom(topParams(n), depth)
	}
	return `"..."`
}

// firstType is the first non-null type node allows, inferred from its keywords if absent.
func firstType(n *object) string {
	switch t := n.val("type").(type) {
	case string:
		return t
	case []any:
		for _, v := range t {
			if s, ok := v.(string); ok && s != "null" {
				return s
			}
		}
		return "null"
	}
	switch {
	case hasAny(n, "properties", "required", "additionalProperties"):
		return "object"
	case hasAny(n, "items", "prefixItems"):
		return "array"
	}
	return ""
}

func (e *exampler) array(n *object, depth int) string {
	prefix, isTuple := n.val("prefixItems").([]any)
	items := n.val("items")
	if arr, ok := items.([]any); ok {
		prefix, isTuple = arr, true
	}
	minItems := 0
	if v, ok := numberOf(n.val("minItems")); ok {
		minItems = int(v)
	}
	var elems []string
	if isTuple {
		for i := 0; i < len(prefix) && i < minItems; i++ {
			elems = append(elems, e.value(prefix[i], depth+1))
		}
	} else if minItems > 0 && items != nil {
		elems = append(elems, e.value(items, depth+1))
	}
	return "[" + strings.Join(elems, ", ") + "]"
}

// allOf renders a value for n and all of members: the first member that is not an
// object decides alone; object members have their required properties merged with n's.
func (e *exampler) allOf(n *object, members []any, depth int) string {
	props := topParams(n)
	for _, m := range members {
		if mo, ok := m.(*object); ok {
			if ref, ok := mo.val("$ref").(string); ok {
				if ptr, ok := localPointer(ref); ok && !e.refs[ptr] {
					if t, ok := resolvePointer(e.root, ptr); ok {
						m = t
					}
				}
			}
			if mo, ok := m.(*object); ok && firstType(mo) != "object" && firstType(n) != "object" {
				return e.value(m, depth+1)
			}
		}
		props = append(props, topParams(m)...)
	}
	return e.objectFrom(props, depth)
}

// objectFrom renders an object literal with the required properties of props.
func (e *exampler) objectFrom(props []param, depth int) string {
	var parts []string
	seen := map[string]bool{}
	for _, p := range props {
		if !p.required || seen[p.name] {
			continue
		}
		seen[p.name] = true
		parts = append(parts, propertyKey(p.name)+": "+e.value(p.schema, depth+1))
	}
	if len(parts) == 0 {
		return "{}"
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}
