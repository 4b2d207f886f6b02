package catalog

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// An overlay laid over an unchanged snapshot is the same snapshot every time, with the
// same bindings and views; over a changed one it is made again from the same prepared
// namespaces, whose compiled validators carry over.
func TestOverlayReused(t *testing.T) {
	c := New()
	mustPut(t, c, "a", Namespace{Name: "github", Tools: []Tool{tool("list_issues", "")}})
	o, err := NewOverlay(Namespace{Name: "session", Tools: []Tool{tool("get_weather", `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}})
	if err != nil {
		t.Fatal(err)
	}
	base := c.Snapshot()
	first, err := base.WithOverlay(o)
	if err != nil {
		t.Fatal(err)
	}
	// Requests of one session racing each other share one snapshot.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			s, err := base.WithOverlay(o)
			if err != nil || s != first {
				t.Errorf("WithOverlay again = %p, %v; want the first overlay %p", s, err, first)
				return
			}
			if !sameMap(s.Functions(), first.Functions()) || s.Named(NamingCamel) != first.Named(NamingCamel) {
				t.Error("the same overlay snapshot has other bindings or views")
			}
		})
	}
	wg.Wait()
	if v, err := base.Named(NamingCamel).WithOverlay(o); err != nil || v != first.Named(NamingCamel) {
		t.Errorf("the overlay over a view = %p, %v; want the view of the overlay %p", v, err, first.Named(NamingCamel))
	}
	call := func(s *Snapshot, name string, arg any) (any, error) {
		t.Helper()
		fn := s.Functions()[name]
		if fn == nil {
			t.Fatalf("%s is not bound: %v", name, slices.Sorted(maps.Keys(s.Functions())))
		}
		return fn(context.Background(), []any{arg})
	}
	if _, err := call(first, "session.get_weather", map[string]any{"city": 3}); err == nil || !strings.Contains(err.Error(), "city") {
		t.Fatalf("invalid call: err = %v, want a validation error naming city", err)
	}
	compiled, _ := first.byName["session"].funcs[0].validator()

	mustPut(t, c, "b", Namespace{Name: "notes", Tools: []Tool{tool("count", "")}})
	after, err := c.Snapshot().WithOverlay(o)
	if err != nil {
		t.Fatal(err)
	}
	if after == first {
		t.Fatal("an overlay over a changed catalog is the old snapshot")
	}
	if got, err := call(after, "session.get_weather", "Paris"); err != nil || !reflect.DeepEqual(got, map[string]any{"city": "Paris"}) {
		t.Errorf("session.get_weather(\"Paris\") = %v, %v", got, err)
	}
	if _, err := call(after, "notes.count", map[string]any{}); err != nil {
		t.Errorf("notes.count over the changed catalog: %v", err)
	}
	if v, _ := after.byName["session"].funcs[0].validator(); v == nil || v != compiled {
		t.Error("the overlay's input schema was compiled again for the changed catalog")
	}
	if _, ok := first.Functions()["notes.count"]; ok {
		t.Error("the first overlay changed with the catalog")
	}
}

func TestOverlayConflicts(t *testing.T) {
	c := New()
	mustPut(t, c, "a", Namespace{Name: "github", Tools: []Tool{tool("t", "")}})
	base := c.Snapshot()
	mine := func(name string) *Overlay {
		o, err := NewOverlay(Namespace{Name: name, Tools: []Tool{tool("x", "")}})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"held by the catalog", func() error { _, err := base.WithOverlay(mine("github")); return err }, `"github": held by "a"`},
		{"held by the catalog, seen twice", func() error {
			o := mine("github")
			_, _ = base.WithOverlay(o)
			_, err := base.WithOverlay(o)
			return err
		}, `held by "a"`},
		{"called alike in one overlay", func() error { _, err := NewOverlay(Namespace{Name: "s-1"}, Namespace{Name: "s_1"}); return err }, `"s-1" and "s_1" would both be called s_1`},
		{"joined twice", func() error { _, err := Join(mine("s"), nil, mine("s")); return err }, `"s": held by another session-scoped namespace`},
		{"laid over another overlay", func() error {
			s, err := base.WithOverlay(mine("s"))
			if err != nil {
				return err
			}
			_, err = s.WithOverlay(mine("s"))
			return err
		}, "another session-scoped namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if !errors.Is(err, ErrNamespaceTaken) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrNamespaceTaken mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := NewOverlay(Namespace{Name: "Math", RefuseReserved: true}); !errors.Is(err, ErrReservedName) {
		t.Errorf("NewOverlay of a namespace named Math: err = %v, want ErrReservedName", err)
	}
	if s, err := base.WithOverlay(nil); s != base || err != nil {
		t.Errorf("WithOverlay(nil) = %p, %v; want the snapshot itself", s, err)
	}
}

// An overlay's bindings, which start from its base's, are exactly those of a catalog
// holding all of its namespaces, in every naming, also when the overlay's names make the
// base's namespaces take other names in a view.
func TestOverlayFunctions(t *testing.T) {
	base := []Namespace{
		{Name: "tools", Tools: []Tool{tool("add_numbers", ""), tool("addNumbers", "")}},
		{Name: "github", Tools: []Tool{tool("list-issues", "")}},
		{Name: "login", Unavailable: "needs a login"},
	}
	tests := []struct {
		name     string
		overlays [][]Namespace
		extends  bool // whether the camel view only adds to the underlying view
	}{
		{"one namespace", [][]Namespace{{{Name: "weather", Tools: []Tool{tool("get_weather", "")}}}}, true},
		{"renames the base in a view", [][]Namespace{{{Name: "Tools", Tools: []Tool{tool("now", "")}}}}, false},
		{"two overlays", [][]Namespace{{{Name: "a", Tools: []Tool{tool("x", "")}}}, {{Name: "b-b", Tools: []Tool{tool("y", "")}}, {Name: "Github", Tools: []Tool{tool("z", "")}}}}, false},
		{"unavailable", [][]Namespace{{{Name: "srv", Unavailable: "down"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ref := New(), New()
			for _, ns := range base {
				mustPut(t, c, "base", ns)
				mustPut(t, ref, "base:"+ns.Name, ns)
			}
			snap := c.Snapshot()
			for _, nss := range tt.overlays {
				o, err := NewOverlay(nss...)
				if err != nil {
					t.Fatal(err)
				}
				if snap, err = snap.WithOverlay(o); err != nil {
					t.Fatal(err)
				}
				for _, ns := range nss {
					mustPut(t, ref, "session:"+ns.Name, ns)
				}
			}
			if u := snap.Underlying(); u == nil {
				t.Error("an overlay has no underlying snapshot in registered names")
			}
			if u := snap.Named(NamingCamel).Underlying(); (u != nil) != tt.extends || u != nil && u.Naming() != NamingCamel {
				t.Errorf("the camel view's underlying snapshot = %v, want one: %v", u, tt.extends)
			}
			if c.Snapshot().Underlying() != nil {
				t.Error("the catalog's own snapshot has an underlying snapshot")
			}
			for _, n := range []Naming{NamingRegistered, NamingCamel} {
				got, want := snap.Named(n).Functions(), ref.Snapshot().Named(n).Functions()
				if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
					t.Errorf("%v: bindings\n%v\nwant\n%v", n, g, w)
				}
				for name, fn := range got {
					_, errGot := fn(context.Background(), nil)
					_, errWant := want[name](context.Background(), nil)
					if (errGot == nil) != (errWant == nil) || errGot != nil && errGot.Error() != errWant.Error() {
						t.Errorf("%v: %s() = %v, want %v", n, name, errGot, errWant)
					}
				}
			}
		})
	}
}

func sameMap[M ~map[K]V, K comparable, V any](a, b M) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestMemo(t *testing.T) {
	c := New()
	mustPut(t, c, "a", Namespace{Name: "n", Tools: []Tool{tool("f", "")}})
	type key struct{ name string }
	builds := 0
	build := func() any { builds++; return builds }
	s := c.Snapshot()
	if a, b := s.Memo(key{"x"}, build), s.Memo(key{"x"}, build); a != 1 || b != 1 {
		t.Errorf("Memo twice = %v, %v; want the first build's 1 both times", a, b)
	}
	if v := s.Memo(key{"y"}, build); v != 2 {
		t.Errorf("Memo of another key = %v, want a build of its own", v)
	}
	mustPut(t, c, "a", Namespace{Name: "m", Tools: []Tool{tool("g", "")}})
	if v := c.Snapshot().Memo(key{"x"}, build); v != 3 {
		t.Errorf("Memo on the next snapshot = %v, want a build of its own", v)
	}
}
