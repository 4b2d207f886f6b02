package catalog

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// Overlay is a set of session-scoped namespaces (tools visible only to one SDK
// connection's or one published-client session's requests), prepared once: schemas
// scanned, names assigned, and each input schema compiled at its function's first call,
// all kept for as long as the Overlay is. Snapshot.WithOverlay lays it over a snapshot and
// remembers the result, so laying it over the same snapshot again costs nothing: a
// session whose namespaces and catalog have not changed pays nothing per request that a
// global namespace would not. An Overlay never changes (a backend makes a new one when
// its session's namespaces change) and is safe for concurrent use.
type Overlay struct {
	spaces []*namespace // sorted by name, owner ""
	last   atomic.Pointer[overlaid]
}

// overlaid is the last snapshot an Overlay made: itself over base.
type overlaid struct {
	base, out *Snapshot
	err       error
}

// NewOverlay prepares the session-scoped namespaces ns. A namespace is refused as Put
// would refuse it; two that programs would call alike ("s-1" and "s_1") are an error
// wrapping ErrNamespaceTaken.
func NewOverlay(ns ...Namespace) (*Overlay, error) {
	spaces := make([]*namespace, 0, len(ns))
	for _, x := range ns {
		n, err := build("", x)
		if err != nil {
			return nil, err
		}
		spaces = append(spaces, n)
	}
	return newOverlay(spaces)
}

// Join returns one overlay holding the namespaces of every overlay in os (nil ones
// skipped). The namespaces are shared, not prepared again, so what they compiled is kept.
// A name in two of them is an error wrapping ErrNamespaceTaken.
func Join(os ...*Overlay) (*Overlay, error) {
	var spaces []*namespace
	for _, o := range os {
		if o != nil {
			spaces = append(spaces, o.spaces...)
		}
	}
	return newOverlay(spaces)
}

func newOverlay(spaces []*namespace) (*Overlay, error) {
	// By name, then as registered, so that a clash is reported the same way every time.
	slices.SortFunc(spaces, func(a, b *namespace) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.raw, b.raw))
	})
	for i := 1; i < len(spaces); i++ {
		a, b := spaces[i-1], spaces[i]
		switch {
		case a.name != b.name:
		case a.raw == b.raw:
			return nil, fmt.Errorf("catalog: session namespace %q: held by another session-scoped namespace: %w", b.name, ErrNamespaceTaken)
		default:
			return nil, fmt.Errorf("catalog: session namespaces %q and %q would both be called %s: %w", a.raw, b.raw, b.name, ErrNamespaceTaken)
		}
	}
	return &Overlay{spaces: spaces}, nil
}

// Len is the number of namespaces in o; a nil o has none.
func (o *Overlay) Len() int {
	if o == nil {
		return 0
	}
	return len(o.spaces)
}

// With returns an overlay of s that adds the session-scoped namespaces extra: WithOverlay
// of NewOverlay(extra...), for a one-off view. A backend that lays the same namespaces
// over many requests keeps an Overlay instead.
func (s *Snapshot) With(extra ...Namespace) (*Snapshot, error) {
	o, err := NewOverlay(extra...)
	if err != nil {
		return nil, err
	}
	return s.WithOverlay(o)
}

// WithOverlay returns s with o's namespaces added, in s's naming (a view made by Named
// gets the same view of the overlay, names assigned over all of it). A name that is
// already in s is an error wrapping ErrNamespaceTaken. A nil or empty o gives s itself.
// The result over a given snapshot is made once and shared: its Functions, naming views,
// search index and declarations are built once for every request that uses it.
func (s *Snapshot) WithOverlay(o *Overlay) (*Snapshot, error) {
	if o.Len() == 0 {
		return s, nil
	}
	if s.naming != NamingRegistered { // names are assigned over the whole overlay
		out, err := s.base.WithOverlay(o)
		if err != nil {
			return nil, err
		}
		return out.Named(s.naming), nil
	}
	if l := o.last.Load(); l != nil && l.base == s {
		return l.out, l.err
	}
	out, err := s.overlay(o.spaces)
	// Racing requests may each make one; any of them is right, the last is kept.
	o.last.Store(&overlaid{base: s, out: out, err: err})
	return out, err
}

// overlay returns s with extra (sorted by name) added.
func (s *Snapshot) overlay(extra []*namespace) (*Snapshot, error) {
	for _, n := range extra {
		if prev := s.byName[n.name]; prev != nil {
			holder := "another session-scoped namespace"
			if prev.owner != "" {
				holder = fmt.Sprintf("%q", prev.owner)
			}
			return nil, fmt.Errorf("catalog: session namespace %q: held by %s: %w", n.name, holder, ErrNamespaceTaken)
		}
	}
	out := &Snapshot{version: s.version, under: s, byName: make(map[string]*namespace, len(s.byName)+len(extra))}
	maps.Copy(out.byName, s.byName)
	for _, n := range extra {
		out.byName[n.name] = n
	}
	// Both are sorted: merge them.
	out.spaces = make([]*namespace, 0, len(s.spaces)+len(extra))
	i, j := 0, 0
	for i < len(s.spaces) || j < len(extra) {
		if j == len(extra) || i < len(s.spaces) && s.spaces[i].name < extra[j].name {
			out.spaces = append(out.spaces, s.spaces[i])
			i++
		} else {
			out.spaces = append(out.spaces, extra[j])
			j++
		}
	}
	return out, nil
}

// bindings builds the map Functions returns. An overlay (or a view of one whose names for
// the underlying snapshot's namespaces are that snapshot's view's) starts from a copy of
// the underlying snapshot's map, which is built once and much cheaper to copy than to
// fill; every function's binding is made once and shared by every snapshot holding it.
func (s *Snapshot) bindings() runtime.Functions {
	under := s.Underlying()
	var fns runtime.Functions
	if under != nil {
		fns = maps.Clone(under.Functions())
	} else {
		size := 0
		for _, n := range s.spaces {
			size += len(n.funcs) + 1
		}
		under, fns = nil, make(runtime.Functions, size)
	}
	for _, n := range s.spaces {
		if under == nil || under.byName[n.name] != n {
			n.bindInto(fns)
		}
	}
	return fns
}

// Underlying returns, for an overlay made by WithOverlay (or a view of one), the snapshot
// it was laid over, in s's naming, when s only adds namespaces to it: every function of
// that snapshot is in s's Functions under the same name and binding. Otherwise (a
// snapshot of the catalog, or a view whose names for the underlying namespaces differ
// because the overlay's took theirs) it returns nil. What is derived from Functions can
// then be derived for an overlay from the underlying snapshot's, which every session
// shares.
func (s *Snapshot) Underlying() *Snapshot {
	under := s.under
	if s.naming != NamingRegistered && s.base != nil && s.base.under != nil {
		under = s.base.under.Named(s.naming)
	}
	if under == nil || !s.extends(under) {
		return nil
	}
	return under
}

// extends reports whether every namespace of u is in s under the same name.
func (s *Snapshot) extends(u *Snapshot) bool {
	if len(u.spaces) > len(s.spaces) {
		return false
	}
	for _, n := range u.spaces {
		if s.byName[n.name] != n {
			return false
		}
	}
	return true
}

// bindInto adds n's bindings to fns, keyed "ns.fn".
func (n *namespace) bindInto(fns runtime.Functions) {
	for _, f := range n.funcs {
		key, fn := f.binding()
		fns[key] = fn
	}
	if n.unavailable != "" {
		// Its functions are unknown (an upstream that never connected, or needs a login):
		// any call rejects with the reason rather than a ReferenceError.
		name, reason := n.name, n.unavailable
		fns[n.name+".*"] = func(ctx context.Context, _ []any) (any, error) {
			return nil, fmt.Errorf("namespace %s is unavailable: %s", name, reason)
		}
	}
}
