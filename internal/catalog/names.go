package catalog

import (
	"sort"
	"strconv"
	"strings"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// reservedWords cannot name a namespace or a function: ECMAScript keywords, strict-mode
// reserved words, literals, and the few names that misbehave as bindings or properties.
var reservedWords = setOf(
	"break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete",
	"do", "else", "enum", "export", "extends", "false", "finally", "for", "function", "if",
	"import", "in", "instanceof", "new", "null", "return", "super", "switch", "this", "throw",
	"true", "try", "typeof", "var", "void", "while", "with", "yield", "let", "static",
	"implements", "interface", "package", "private", "protected", "public", "await",
	"arguments", "eval", "undefined", "NaN", "Infinity", "__proto__",
)

// reservedNamespace reports whether a namespace called name would shadow what every
// program's globalThis resolves (runtime.ReservedGlobal: builtins, console, timers and the
// Object.prototype names the global object inherits), the run() convention or the
// sidecar disclosure's invoke.
func reservedNamespace(name string) bool {
	return name == "run" || name == InvokeName || runtime.ReservedGlobal(name)
}

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// sanitizeIdent turns name into a JavaScript identifier: every character other than
// ASCII letters, digits, '_' and '$' becomes '_', a leading digit gets a '_' prefix, an
// empty name becomes "_", and a reserved word gets a '_' suffix. Names that are already
// valid come back unchanged.
func sanitizeIdent(name string, reserved ...func(string) bool) string {
	if isIdentifier(name) && !reservedWords[name] && !anyHas(reserved, name) {
		return name // the common case, without allocating
	}
	var b strings.Builder
	b.Grow(len(name) + 1)
	for i, r := range name {
		switch {
		case r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" {
		return "_"
	}
	if reservedWords[s] || anyHas(reserved, s) {
		return s + "_"
	}
	return s
}

func anyHas(preds []func(string) bool, s string) bool {
	for _, reserved := range preds {
		if reserved(s) {
			return true
		}
	}
	return false
}

// sanitizeNamespace is sanitizeIdent that also keeps clear of the sandbox's globals.
func sanitizeNamespace(name string) string { return sanitizeIdent(name, reservedNamespace) }

// NamespaceName returns the name agents call a namespace by when a backend declares it as
// name: two declared names with the same NamespaceName claim the same namespace.
func NamespaceName(name string) string { return sanitizeNamespace(name) }

// assignNames maps each raw name to a unique identifier, deterministically. Names that
// are valid identifiers as written keep them first; then the others, in byte order of
// their raw names, take their sanitised form or, if that is taken, the smallest free
// form with a "_2", "_3", ... suffix. The results are indexed like raw; collided[i]
// says name i got a suffix.
func assignNames(raw []string) (names []string, collided []bool) {
	return assignNamesWith(raw, func(s string) string { return sanitizeIdent(s, runtime.ReservedProperty) })
}

// assignNamesWith is assignNames with convert in place of sanitising: names that convert
// to themselves keep them first, the others take their converted form in byte order of
// their raw names, with a "_2", "_3", ... suffix when it is taken.
func assignNamesWith(raw []string, convert func(string) string) (names []string, collided []bool) {
	names = make([]string, len(raw))
	collided = make([]bool, len(raw))
	sanitized := make([]string, len(raw))
	taken := make(map[string]bool, len(raw))
	order := make([]int, len(raw))
	for i := range order {
		order[i] = i
		sanitized[i] = convert(raw[i])
	}
	sort.SliceStable(order, func(a, b int) bool { return raw[order[a]] < raw[order[b]] })
	var pending []int
	for _, i := range order {
		if s := sanitized[i]; s == raw[i] && !taken[s] {
			names[i] = s
			taken[s] = true
			continue
		}
		pending = append(pending, i)
	}
	for _, i := range pending {
		name := sanitized[i]
		for n := 2; taken[name]; n++ {
			name = sanitized[i] + "_" + strconv.Itoa(n)
			collided[i] = true
		}
		names[i] = name
		taken[name] = true
	}
	return names, collided
}
