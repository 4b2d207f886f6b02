package catalog

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// This file turns JSON Schema into TypeScript types. It never fails: whatever it cannot
// understand becomes `unknown`. Every $ref target becomes a named declaration, so output
// size stays linear in the schema and recursive schemas terminate.

// Type precedences, for parenthesising.
const (
	precUnion = iota
	precInter
	precPrimary
)

// tsType is a rendered TypeScript type.
type tsType struct {
	text   string
	prec   int
	object bool     // a plain object literal, so it can be declared as an interface
	alts   []tsType // the members of a union, so unions of unions flatten
	top    bool     // unknown or any: absorbs unions, vanishes from intersections
}

var (
	tsUnknown = tsType{text: "unknown", prec: precPrimary, top: true}
	tsAny     = tsType{text: "any", prec: precPrimary, top: true}
	tsNever   = tsType{text: "never", prec: precPrimary}
)

func prim(s string) tsType { return tsType{text: s, prec: precPrimary} }

// maxTypeDepth bounds nesting of generated types.
const maxTypeDepth = 64

// typeNamer hands out unique type names within one declaration block.
type typeNamer struct{ used map[string]bool }

// globalTypeNames are not handed out: a local declaration would shadow them and break
// the Promise<...> return types and the agent's reading of the code.
var globalTypeNames = setOf("Promise", "Array", "ReadonlyArray", "Record", "Partial",
	"Required", "Readonly", "Pick", "Omit", "Object", "String", "Number", "Boolean",
	"Function", "Symbol", "Date", "Error", "Map", "Set", "RegExp", "JSON", "Math")

func newTypeNamer() *typeNamer { return &typeNamer{used: map[string]bool{}} }

func (n *typeNamer) name(base string) string {
	base = pascal(base)
	if globalTypeNames[base] || reservedWords[strings.ToLower(base)] {
		base += "Type"
	}
	name := base
	for i := 2; n.used[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	n.used[name] = true
	return name
}

// pascal turns "create-issue", "user_id" or "$defs" into "CreateIssue", "UserId", "Defs".
func pascal(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		isAlnum := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !isAlnum {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	out := b.String()
	if out == "" || (out[0] >= '0' && out[0] <= '9') {
		out = "T" + out
	}
	return out
}

// typeGen renders the types of one schema document (a tool's input or output schema).
type typeGen struct {
	root any
	// out is set for an output schema: what the schema leaves open is typed any there, so
	// that a program can use a result (r.items.map(...)) without casting; in inputs it
	// stays unknown, which accepts every argument.
	out      bool
	namer    *typeNamer
	refNames map[string]string // JSON pointer → declared name
	decls    []string          // named declarations, rendered at indent declIndent
	// open holds declared names whose body is being rendered with no object or array in
	// between: a reference back to them there would be a circular type alias.
	open  map[string]bool
	depth int
}

const declIndent = "  "

func newTypeGen(root any, namer *typeNamer) *typeGen {
	return &typeGen{root: root, namer: namer, refNames: map[string]string{}, open: map[string]bool{}}
}

// unknown is the type of a value the schema does not describe: unknown in inputs, any in
// outputs (see typeGen.out).
func (g *typeGen) unknown() tsType {
	if g.out {
		return tsAny
	}
	return tsUnknown
}

// declare renders node, found at JSON pointer ptr of the document, as the declaration
// of name; references to ptr use that name from now on.
func (g *typeGen) declare(name, ptr string, node any, doc string) {
	g.refNames[ptr] = name
	g.open[name] = true
	t := g.gen(node, declIndent)
	delete(g.open, name)
	g.decls = append(g.decls, declText(name, t, doc))
}

// gen renders node; ind is the indentation of the line the type starts on.
func (g *typeGen) gen(node any, ind string) tsType {
	if g.depth > maxTypeDepth {
		return g.unknown()
	}
	g.depth++
	defer func() { g.depth-- }()

	switch n := node.(type) {
	case bool:
		if n {
			return g.unknown()
		}
		return tsNever
	case *object:
		return g.genObject(n, ind)
	default:
		return g.unknown()
	}
}

func (g *typeGen) genObject(n *object, ind string) tsType {
	var parts []tsType
	if ref, ok := n.get("$ref"); ok {
		if s, ok := ref.(string); ok {
			parts = append(parts, g.ref(s))
		}
	}
	base := g.base(n, ind)
	if !base.top {
		parts = append(parts, base)
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		if v, ok := n.get(kw); ok {
			if arr, ok := v.([]any); ok && len(arr) > 0 {
				members := make([]tsType, 0, len(arr))
				for _, m := range arr {
					members = append(members, g.gen(m, ind))
				}
				parts = append(parts, union(members))
			}
		}
	}
	if v, ok := n.get("allOf"); ok {
		if arr, ok := v.([]any); ok {
			for _, m := range arr {
				parts = append(parts, g.gen(m, ind))
			}
		}
	}
	t := intersection(parts)
	if t.top {
		return g.unknown()
	}
	if nb, ok := n.get("nullable"); ok && nb == true {
		t = union([]tsType{t, prim("null")})
	}
	return t
}

// base renders the keywords that describe a value directly: const, enum, type and the
// object and array keywords.
func (g *typeGen) base(n *object, ind string) tsType {
	if c, ok := n.get("const"); ok {
		return prim(jsonText(c))
	}
	if e, ok := n.get("enum"); ok {
		if arr, ok := e.([]any); ok {
			members := make([]tsType, 0, len(arr))
			for _, v := range arr {
				members = append(members, prim(jsonText(v)))
			}
			return union(members)
		}
	}
	var types []string
	switch t := n.val("type").(type) {
	case string:
		types = []string{t}
	case []any:
		for _, v := range t {
			if s, ok := v.(string); ok {
				types = append(types, s)
			}
		}
		if len(types) == 0 {
			return g.unknown()
		}
	case nil:
		switch {
		case hasAny(n, "properties", "additionalProperties", "patternProperties", "required"):
			types = []string{"object"}
		case hasAny(n, "items", "prefixItems"):
			types = []string{"array"}
		default:
			return g.unknown()
		}
	default:
		return g.unknown()
	}
	members := make([]tsType, 0, len(types))
	for _, t := range types {
		switch t {
		case "string":
			members = append(members, prim("string"))
		case "number", "integer":
			members = append(members, prim("number"))
		case "boolean":
			members = append(members, prim("boolean"))
		case "null":
			members = append(members, prim("null"))
		case "array":
			members = append(members, g.array(n, ind))
		case "object":
			members = append(members, g.object(n, ind))
		default:
			members = append(members, g.unknown())
		}
	}
	return union(members)
}

func hasAny(n *object, keys ...string) bool {
	for _, k := range keys {
		if _, ok := n.get(k); ok {
			return true
		}
	}
	return false
}

// structural renders a child of an object or array: past that boundary a reference to a
// type being declared is legal recursion, not a circular alias.
func (g *typeGen) structural(node any, ind string) tsType {
	saved := g.open
	g.open = map[string]bool{}
	t := g.gen(node, ind)
	g.open = saved
	return t
}

func (g *typeGen) array(n *object, ind string) tsType {
	items, hasItems := n.get("items")
	prefix, isTuple := n.val("prefixItems").([]any)
	rest, hasRest := items, hasItems
	if arr, ok := items.([]any); ok { // draft 4–2019 tuple form
		prefix, isTuple = arr, true
		rest, hasRest = n.get("additionalItems")
	}
	if !isTuple {
		if !hasItems {
			return prim(g.unknown().text + "[]")
		}
		return arrayOf(g.structural(items, ind))
	}
	minItems := 0
	if v, ok := numberOf(n.val("minItems")); ok {
		minItems = int(v)
	}
	elems := make([]string, 0, len(prefix)+1)
	for i, p := range prefix {
		e := g.structural(p, ind).text
		if i >= minItems {
			e += "?"
		}
		elems = append(elems, e)
	}
	// A tuple with no rest schema is rendered closed: that is what tool authors mean.
	if hasRest && rest != false {
		elems = append(elems, "..."+arrayOf(g.structural(rest, ind)).text)
	}
	return prim("[" + strings.Join(elems, ", ") + "]")
}

func arrayOf(t tsType) tsType {
	if t.prec < precPrimary {
		return prim("(" + t.text + ")[]")
	}
	return prim(t.text + "[]")
}

// object renders an object type literal, one property per line.
func (g *typeGen) object(n *object, ind string) tsType {
	props, _ := n.val("properties").(*object)
	required := stringSet(n.val("required"))
	inner := ind + "  "
	var b strings.Builder
	b.WriteString("{\n")
	var propTypes []tsType
	anyOptional := false
	seen := map[string]bool{}
	if props != nil {
		for i, k := range props.keys {
			ps := props.vals[i]
			seen[k] = true
			writeDoc(&b, inner, docText(ps), docTags(ps))
			t := g.structural(ps, inner)
			propTypes = append(propTypes, t)
			b.WriteString(inner + propertyKey(k))
			if !required[k] {
				b.WriteString("?")
				anyOptional = true
			}
			b.WriteString(": " + t.text + ";\n")
		}
	}
	// Required names without a property schema still must be present.
	for _, k := range stringList(n.val("required")) {
		if !seen[k] {
			seen[k] = true
			b.WriteString(inner + propertyKey(k) + ": " + g.unknown().text + ";\n")
			propTypes = append(propTypes, g.unknown())
		}
	}
	if idx, ok := g.indexType(n, inner); ok {
		// Every property must fit the index signature, so widen it by their types.
		if !idx.top && len(propTypes) > 0 {
			idx = union(append([]tsType{idx}, propTypes...))
			if anyOptional && !idx.top {
				idx = union([]tsType{idx, prim("undefined")})
			}
		}
		b.WriteString(inner + "[key: string]: " + idx.text + ";\n")
	}
	if b.Len() == 2 {
		if n.val("additionalProperties") == false {
			return tsType{text: "{}", prec: precPrimary, object: true}
		}
		// JSON Schema's bare "object" is any object; TypeScript's {} would be any value.
		b.WriteString(inner + "[key: string]: " + g.unknown().text + ";\n")
	}
	b.WriteString(ind + "}")
	return tsType{text: b.String(), prec: precPrimary, object: true}
}

// indexType merges additionalProperties and patternProperties into one index signature.
// An absent additionalProperties adds none: tool schemas leave it out without meaning
// "anything goes", and an index signature on every object would only add noise.
func (g *typeGen) indexType(n *object, ind string) (tsType, bool) {
	var members []tsType
	if ap, ok := n.get("additionalProperties"); ok && ap != false {
		members = append(members, g.structural(ap, ind))
	}
	if pp, ok := n.val("patternProperties").(*object); ok {
		for i := range pp.keys {
			members = append(members, g.structural(pp.vals[i], ind))
		}
	}
	if len(members) == 0 {
		return tsType{}, false
	}
	return union(members), true
}

// ref renders a $ref as the name of a declaration of its target.
func (g *typeGen) ref(ref string) tsType {
	ptr, ok := localPointer(ref)
	if !ok {
		return g.unknown()
	}
	if name, ok := g.refNames[ptr]; ok {
		if g.open[name] {
			return g.unknown()
		}
		return prim(name)
	}
	target, ok := resolvePointer(g.root, ptr)
	if !ok {
		return g.unknown()
	}
	base := "Root"
	if i := strings.LastIndexByte(ptr, '/'); i >= 0 {
		base = unescapePointerToken(ptr[i+1:])
	}
	name := g.namer.name(base)
	g.declare(name, ptr, target, docText(target))
	return prim(name)
}

// localPointer extracts the JSON pointer of an in-document reference ("#/a/b").
func localPointer(ref string) (string, bool) {
	if !strings.HasPrefix(ref, "#") {
		return "", false
	}
	frag, err := url.PathUnescape(ref[1:])
	if err != nil {
		return "", false
	}
	if frag != "" && frag[0] != '/' {
		return "", false // a named anchor: not supported
	}
	return frag, true
}

func unescapePointerToken(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
}

func resolvePointer(root any, ptr string) (any, bool) {
	cur := root
	if ptr == "" {
		return cur, true
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = unescapePointerToken(tok)
		switch c := cur.(type) {
		case *object:
			v, ok := c.get(tok)
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// union joins member types, dropping duplicates and never; unknown (or any) absorbs
// everything.
func union(members []tsType) tsType {
	var flat []tsType
	for _, m := range members {
		if m.alts != nil {
			flat = append(flat, m.alts...)
		} else {
			flat = append(flat, m)
		}
	}
	var out []tsType
	seen := map[string]bool{}
	for _, m := range flat {
		if m.top {
			return m
		}
		if m.text == "never" || seen[m.text] {
			continue
		}
		seen[m.text] = true
		out = append(out, m)
	}
	switch len(out) {
	case 0:
		return tsNever
	case 1:
		return out[0]
	}
	texts := make([]string, len(out))
	for i, m := range out {
		texts[i] = m.text
	}
	return tsType{text: strings.Join(texts, " | "), prec: precUnion, alts: out}
}

// intersection joins member types, dropping unknown (and any, which would erase the
// rest); never absorbs everything. With nothing left it is unknown.
func intersection(members []tsType) tsType {
	var out []tsType
	seen := map[string]bool{}
	for _, m := range members {
		if m.text == "never" {
			return tsNever
		}
		if m.top || seen[m.text] {
			continue
		}
		seen[m.text] = true
		out = append(out, m)
	}
	switch len(out) {
	case 0:
		return tsUnknown
	case 1:
		return out[0]
	}
	texts := make([]string, len(out))
	for i, m := range out {
		texts[i] = m.text
		if m.prec < precInter {
			texts[i] = "(" + m.text + ")"
		}
	}
	return tsType{text: strings.Join(texts, " & "), prec: precInter}
}

func stringList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func stringSet(v any) map[string]bool {
	l := stringList(v)
	m := make(map[string]bool, len(l))
	for _, s := range l {
		m[s] = true
	}
	return m
}

func numberOf(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// isIdentifier reports whether s can be written as a bare property name.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
			(i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

func propertyKey(k string) string {
	if isIdentifier(k) {
		return k
	}
	return jsonText(k)
}

// jsonText renders a parsed JSON value as JSON, which is also a valid TypeScript literal
// type (strings, numbers, booleans, null, tuples and object types alike).
func jsonText(v any) string {
	var b strings.Builder
	writeJSON(&b, v)
	return b.String()
}

func writeJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case json.Number:
		b.WriteString(string(x))
	case string:
		q, _ := json.Marshal(x)
		b.Write(q)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case *object:
		if len(x.keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{ ")
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			q, _ := json.Marshal(k)
			b.Write(q)
			b.WriteString(": ")
			writeJSON(b, x.vals[i])
		}
		b.WriteString(" }")
	default:
		b.WriteString("null")
	}
}

// docText is the description of a schema node (its title when it has none).
func docText(node any) string {
	n, ok := node.(*object)
	if !ok {
		return ""
	}
	if d, ok := n.val("description").(string); ok && strings.TrimSpace(d) != "" {
		return d
	}
	if t, ok := n.val("title").(string); ok {
		return t
	}
	return ""
}

// docKeywords are the schema keywords shown as JSDoc tags, in this order.
var docKeywords = []string{"format", "default", "minimum", "maximum", "exclusiveMinimum",
	"exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "minItems",
	"maxItems", "uniqueItems", "minProperties", "maxProperties", "examples", "deprecated"}

func docTags(node any) []string {
	n, ok := node.(*object)
	if !ok {
		return nil
	}
	var tags []string
	for _, kw := range docKeywords {
		v, ok := n.get(kw)
		if !ok {
			continue
		}
		switch {
		case kw == "deprecated":
			if v == true {
				tags = append(tags, "@deprecated")
			}
		case kw == "uniqueItems":
			if v == true {
				tags = append(tags, "@uniqueItems")
			}
		default:
			s, isStr := v.(string)
			if !isStr || kw == "default" || kw == "examples" {
				s = jsonText(v)
			}
			tags = append(tags, "@"+kw+" "+s)
		}
	}
	return tags
}

// writeDoc writes a JSDoc comment: one line when it fits, a block otherwise.
func writeDoc(b *strings.Builder, ind, text string, tags []string) {
	text = strings.TrimSpace(text)
	if text == "" && len(tags) == 0 {
		return
	}
	var lines []string
	if text != "" {
		for _, l := range strings.Split(text, "\n") {
			lines = append(lines, strings.TrimRight(l, " \t\r"))
		}
	}
	lines = append(lines, tags...)
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, "*/", "*\\/")
	}
	if len(lines) == 1 {
		b.WriteString(ind + "/** " + lines[0] + " */\n")
		return
	}
	b.WriteString(ind + "/**\n")
	for _, l := range lines {
		if l == "" {
			b.WriteString(ind + " *\n")
		} else {
			b.WriteString(ind + " * " + l + "\n")
		}
	}
	b.WriteString(ind + " */\n")
}
