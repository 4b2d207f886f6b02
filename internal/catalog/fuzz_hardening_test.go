package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// FuzzSanitize: identifier sanitising and collision resolution over arbitrary names
// (newline-separated in the input). Every name an agent is shown must be a plain ASCII
// JavaScript identifier that is no reserved word (and, for namespaces, no sandbox
// global); sanitising is idempotent and keeps valid names; assigned names are distinct
// and do not depend on the order the backend listed its tools in.
func FuzzSanitize(f *testing.F) {
	for _, seed := range []string{
		"get-sum\nget_sum\nget.sum",
		"delete\ndelete_\ndelete__2",
		"a-b\na_b_2\na.b\na_b",
		"123\n_123\n\n-",
		"café\n日本\n__proto__\nconstructor",
		"console\nMath\nrun\nglobalThis",
		"x\nx\nx_2\nx-2",
		"$\n$$\n\x00\n\xff\xfe",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		raw := strings.Split(in, "\n")
		if len(raw) > 64 {
			raw = raw[:64]
		}
		for _, r := range raw {
			s := sanitizeIdent(r)
			if !isIdentifier(s) || reservedWords[s] {
				t.Fatalf("sanitizeIdent(%q) = %q: not a usable identifier", r, s)
			}
			if sanitizeIdent(s) != s {
				t.Fatalf("sanitizeIdent not idempotent: %q -> %q -> %q", r, s, sanitizeIdent(s))
			}
			if isIdentifier(r) && !reservedWords[r] && s != r {
				t.Fatalf("valid name %q changed to %q", r, s)
			}
			ns := sanitizeNamespace(r)
			if !isIdentifier(ns) || reservedWords[ns] || reservedNamespace(ns) {
				t.Fatalf("sanitizeNamespace(%q) = %q: shadows a keyword or a global", r, ns)
			}
		}

		names, collided := assignNames(raw)
		seen := map[string]int{}
		for i, n := range names {
			if !isIdentifier(n) || reservedWords[n] {
				t.Fatalf("assignNames gave %q for %q: not a usable identifier", n, raw[i])
			}
			if j, dup := seen[n]; dup {
				t.Fatalf("assignNames gave %q to both %q and %q", n, raw[j], raw[i])
			}
			seen[n] = i
			if collided[i] != (n != sanitizeIdent(raw[i], runtime.ReservedProperty)) {
				t.Fatalf("%q -> %q: collided = %v", raw[i], n, collided[i])
			}
		}
		if len(setOf(raw...)) != len(raw) {
			return // order only matters between equal names
		}
		rev := slices.Clone(raw)
		slices.Reverse(rev)
		got, _ := assignNames(rev)
		slices.Reverse(got)
		if !slices.Equal(got, names) {
			t.Fatalf("assignNames depends on order: %q vs reversed %q", names, got)
		}
	})
}
