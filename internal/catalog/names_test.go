package catalog

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestSanitizeIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"get_sum", "get_sum"},
		{"getSum", "getSum"},
		{"$x", "$x"},
		{"get-sum", "get_sum"},
		{"get.sum", "get_sum"},
		{"get sum", "get_sum"},
		{"123abc", "_123abc"},
		{"9", "_9"},
		{"a1", "a1"},
		{"delete", "delete_"},
		{"class", "class_"},
		{"await", "await_"},
		{"__proto__", "__proto___"},
		{"", "_"},
		{"café", "caf_"},
		{"日本", "__"},
		{"-", "_"},
	}
	for _, tt := range tests {
		if got := sanitizeIdent(tt.in); got != tt.want {
			t.Errorf("sanitizeIdent(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSanitizeNamespace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"github", "github"},
		{"my-server", "my_server"},
		{"console", "console_"},
		{"Math", "Math_"},
		{"run", "run_"},
		{"new", "new_"},
	}
	for _, tt := range tests {
		if got := sanitizeNamespace(tt.in); got != tt.want {
			t.Errorf("sanitizeNamespace(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAssignNames(t *testing.T) {
	tests := []struct {
		name     string
		raw      []string
		want     []string
		collided []bool
	}{
		{"no collisions", []string{"a", "b-c"}, []string{"a", "b_c"}, []bool{false, false}},
		{"valid name keeps it", []string{"get-sum", "get_sum"}, []string{"get_sum_2", "get_sum"}, []bool{true, false}},
		{"byte order decides the suffixes", []string{"get.sum", "get-sum", "get_sum"}, []string{"get_sum_3", "get_sum_2", "get_sum"}, []bool{true, true, false}},
		{"suffix skips taken names", []string{"a-b", "a_b_2", "a.b"}, []string{"a_b", "a_b_2", "a_b_3"}, []bool{false, false, true}},
		{"duplicates", []string{"x", "x"}, []string{"x", "x_2"}, []bool{false, true}},
		{"reserved", []string{"delete", "delete_"}, []string{"delete__2", "delete_"}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, collided := assignNames(tt.raw)
			if !slices.Equal(got, tt.want) || !slices.Equal(collided, tt.collided) {
				t.Fatalf("assignNames(%q) = %q %v, want %q %v", tt.raw, got, collided, tt.want, tt.collided)
			}
			// The input order must not matter (except between equal names).
			if len(tt.raw) != len(setOf(tt.raw...)) {
				return
			}
			rev := slices.Clone(tt.raw)
			slices.Reverse(rev)
			gotRev, _ := assignNames(rev)
			slices.Reverse(gotRev)
			if !slices.Equal(gotRev, tt.want) {
				t.Fatalf("reversed input: got %q, want %q", gotRev, tt.want)
			}
		})
	}
}

// TestCheckNames: CheckNames refuses exactly what Put refuses for a namespace with
// RefuseReserved set, so a backend can refuse a clash at registration.
func TestCheckNames(t *testing.T) {
	tests := []struct {
		ns, fn string
		bad    bool
	}{
		{"github", "list_issues", false},
		{"my-server", "get-sum", false},
		{"constructor", "keys", true},
		{"escape", "length", true},
		{"console", "log", true},
		{"run", "x", true},
		{"tools", "toString", true},
		{"tools", "hasOwnProperty", true},
		{"tools", "__proto__", false}, // renamed __proto___, which is harmless
		{"tools", "keys", false},
	}
	for _, tt := range tests {
		err := CheckNames(tt.ns, tt.fn)
		if (err != nil) != tt.bad || (err != nil && !errors.Is(err, ErrReservedName)) {
			t.Errorf("CheckNames(%q, %q) = %v, want refused %v", tt.ns, tt.fn, err, tt.bad)
		}
		putErr := New().Put("test", Namespace{Name: tt.ns, RefuseReserved: true, Tools: []Tool{{Name: tt.fn, Call: func(context.Context, map[string]any) (any, error) { return nil, nil }}}})
		if (putErr == nil) != (err == nil) || (err != nil && putErr.Error() != err.Error()) {
			t.Errorf("Put %s.%s = %v, CheckNames = %v: want the same answer", tt.ns, tt.fn, putErr, err)
		}
	}
}
