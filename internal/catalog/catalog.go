package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// CallFunc serves one call of a tool. args is the validated argument object
// (keys as the tool's input schema names them).
type CallFunc func(ctx context.Context, args map[string]any) (any, error)

// Tool is one function as a backend declares it.
type Tool struct {
	Name         string // as the backend names it; sanitised for JS by the catalog
	Description  string
	InputSchema  json.RawMessage // JSON Schema of the argument object; nil means {"type":"object"}
	OutputSchema json.RawMessage // optional
	// Params, when non-nil, is the positional parameter order (SDK tools declared from a
	// function signature): ns.fn(a, b) becomes {"p1": a, "p2": b}. Nil means MCP style:
	// one object argument (or the single required property's value alone).
	Params []string
	Call   CallFunc
}

// Namespace is a whole backend's set of tools, added or replaced atomically.
type Namespace struct {
	Name        string // as the backend names it; sanitised for JS by the catalog
	Description string // optional, shown in listings
	Tools       []Tool
	// Unavailable, when non-empty, says why the backend cannot serve now; the namespace is
	// listed as unavailable with this reason and has no callable functions.
	Unavailable string
	// RefuseReserved makes Put refuse a tool whose name would replace an Object.prototype
	// property ("toString", "constructor") instead of renaming it ("toString_"): for
	// backends whose authors choose their names (SDK workers, Go functions). A namespace
	// named after a global is refused whatever this says.
	RefuseReserved bool
}

// ListOptions filters list_functions.
type ListOptions struct {
	Namespace string // exact namespace name (sanitised, or as the backend wrote it); empty means all
	Query     string // case-insensitive match on names and descriptions, ranked
	// MaxBytes bounds the text: a longer listing is cut at a line and ends with a note
	// saying how much was left out and how to narrow the request (by namespace or query),
	// so no catalog, however large, makes an unbounded answer. Zero means
	// DefaultMaxListBytes; values under MinListBytes count as MinListBytes.
	MaxBytes int
}

// Bounds of a listing's size (ListOptions.MaxBytes). The default is about 16,000 tokens,
// room for some 1,500 functions at the listing's median of 10 tokens a line.
const (
	DefaultMaxListBytes = 64 << 10
	MinListBytes        = 2 << 10
)

// ErrNamespaceTaken is wrapped by the error of a Put for a namespace another owner holds.
var ErrNamespaceTaken = errors.New("namespace taken")

// ErrReservedName is wrapped by the error of a Put for a namespace, or (with
// RefuseReserved) a function, whose name clashes with a JavaScript builtin.
var ErrReservedName = errors.New("name clashes with a JavaScript builtin")

// Catalog is a concurrency-safe registry of namespaces. Writers (Put, Remove,
// RemoveOwner) are serialised; readers take a Snapshot, which never changes, so a
// reader never sees half of a Put. The zero value is an empty catalog, like New's.
type Catalog struct {
	mu      sync.Mutex // serialises writers
	snap    atomic.Pointer[Snapshot]
	changed chan struct{} // closed on the next visible change; nil when no one waits; guarded by mu
}

// New returns an empty catalog.
func New() *Catalog { return &Catalog{} }

var emptySnapshot = &Snapshot{byName: map[string]*namespace{}}

// Put adds or replaces the namespace ns on behalf of owner. A namespace held by another
// owner is refused with an error wrapping ErrNamespaceTaken. Namespaces are identified by
// their sanitised names, so "my-server" and "my_server" are the same namespace.
//
// Put parses the schemas and prepares the listing; input schemas are compiled for
// validation at most once per Put, on the function's first call (compiling costs about
// 20µs per tool, which would otherwise dominate Put for large catalogs).
func (c *Catalog) Put(owner string, ns Namespace) error {
	n, err := build(owner, ns)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.Snapshot()
	prev := old.byName[n.name]
	if prev != nil && prev.owner != owner {
		return fmt.Errorf("catalog: put namespace %q for %q: held by %q: %w", n.name, owner, prev.owner, ErrNamespaceTaken)
	}
	c.publish(old.replace(n.name, n), prev == nil || !prev.sameAs(n))
	return nil
}

// Remove drops owner's namespace name (raw or sanitised), if owner holds it.
func (c *Catalog) Remove(owner, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.Snapshot()
	key := sanitizeNamespace(name)
	if n := old.byName[key]; n != nil && n.owner == owner {
		c.publish(old.replace(key, nil), true)
	}
}

// RemoveOwner drops every namespace owner holds (a backend that went away).
func (c *Catalog) RemoveOwner(owner string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.Snapshot()
	removed := false
	for _, n := range s.spaces {
		if n.owner == owner {
			s = s.replace(n.name, nil)
			removed = true
		}
	}
	if removed {
		c.publish(s, true)
	}
}

// publish installs s; when visible is set it also bumps the version and wakes Changed
// waiters. A Put that only swaps call funcs (a reconnect with the same tools) is not
// visible to agents, so it does not notify. Callers hold mu.
func (c *Catalog) publish(s *Snapshot, visible bool) {
	s.version = c.Snapshot().version
	if visible {
		s.version++
		if c.changed != nil {
			close(c.changed)
			c.changed = nil // made again when someone waits
		}
	}
	c.snap.Store(s)
}

// Snapshot returns an immutable view of the catalog as it is now.
func (c *Catalog) Snapshot() *Snapshot {
	if s := c.snap.Load(); s != nil {
		return s
	}
	return emptySnapshot
}

// Changed returns a channel that is closed at the next change of what the catalog
// lists (a namespace added, removed, or its tools, descriptions or availability
// changed). Take the next channel before notifying, so that a change made while
// notifying is not missed:
//
//	ch := c.Changed()
//	for {
//		<-ch
//		ch = c.Changed()
//		notify() // e.g. send notifications/tools/list_changed
//	}
func (c *Catalog) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}

// Snapshot is an immutable, consistent view of the catalog. It is safe for concurrent use.
type Snapshot struct {
	version uint64
	spaces  []*namespace // sorted by name
	byName  map[string]*namespace

	fnsOnce sync.Once
	fns     runtime.Functions // built once: every execution on this snapshot shares it

	declOnce sync.Once
	decls    []string // Declarations, built once

	naming    Naming                // the convention of its names
	base      *Snapshot             // for a view made by Named, the snapshot with registered names
	fromBase  map[string]*namespace // for a view, its namespaces by their names in base
	camelOnce sync.Once
	camel     *Snapshot // the NamingCamel view, made once

	searchOnce sync.Once
	search     *searchIndex // built on the first search

	toolsOnce sync.Once
	tools     []ToolDef            // the sidecar's tool definitions, built on first use
	toolIndex map[string]*function // by ToolDef.Name
}

// lookup finds namespace name as called in s, sanitised, or, in a view made by Named, as
// named in the snapshot it was made from.
func (s *Snapshot) lookup(name string) *namespace {
	if n := s.byName[name]; n != nil {
		return n
	}
	key := sanitizeNamespace(name)
	if n := s.byName[key]; n != nil {
		return n
	}
	return s.fromBase[key]
}

// Version counts the visible changes of the catalog up to this snapshot; equal versions
// list the same functions. Overlays made by With share their base's version.
func (s *Snapshot) Version() uint64 { return s.version }

// replace returns a copy of s with key set to n, or removed when n is nil.
func (s *Snapshot) replace(key string, n *namespace) *Snapshot {
	out := &Snapshot{version: s.version, byName: make(map[string]*namespace, len(s.byName)+1)}
	for k, v := range s.byName {
		out.byName[k] = v
	}
	if n == nil {
		delete(out.byName, key)
	} else {
		out.byName[key] = n
	}
	out.spaces = make([]*namespace, 0, len(out.byName))
	for _, v := range out.byName {
		out.spaces = append(out.spaces, v)
	}
	sort.Slice(out.spaces, func(i, j int) bool { return out.spaces[i].name < out.spaces[j].name })
	return out
}

// With returns an overlay of s that adds the session-scoped namespaces extra (tools
// visible only to one SDK connection's executions). A name that is already in s, or
// twice in extra, is an error wrapping ErrNamespaceTaken.
func (s *Snapshot) With(extra ...Namespace) (*Snapshot, error) {
	if s.naming != NamingRegistered { // names are assigned over the whole overlay
		out, err := s.base.With(extra...)
		if err != nil {
			return nil, err
		}
		return out.Named(s.naming), nil
	}
	out := s
	for _, ns := range extra {
		n, err := build("", ns)
		if err != nil {
			return nil, err
		}
		if prev := out.byName[n.name]; prev != nil {
			holder := "another session-scoped namespace"
			if prev.owner != "" {
				holder = fmt.Sprintf("%q", prev.owner)
			}
			return nil, fmt.Errorf("catalog: session namespace %q: held by %s: %w", n.name, holder, ErrNamespaceTaken)
		}
		out = out.replace(n.name, n)
	}
	return out, nil
}

// NamespaceInfo describes one namespace of a snapshot, for listings, tests, benchmarks
// and logs.
type NamespaceInfo struct {
	Name        string // as the agent calls it
	Original    string // as the backend named it
	Owner       string // "" for session-scoped namespaces
	Description string
	Unavailable string
	// Note, when non-empty, says why a view (Snapshot.Named) gave the namespace a name
	// beyond its convention: another namespace has that name.
	Note      string
	Functions []FunctionInfo
}

// FunctionInfo describes one function of a namespace.
type FunctionInfo struct {
	Name        string // as the agent calls it
	Original    string // as the backend named it
	Description string
	// Signature is the function's line in the listing, e.g. "add({a, b})".
	Signature string
	// Note, when non-empty, says why the function has a suffixed name: its name as
	// registered, whose plain form another function has (`tool "add_numbers"`).
	Note string
	// Unvalidated, when non-empty, says why calls are not validated against the input
	// schema (it did not parse or compile); the calls still go through. Only Namespaces
	// fills it.
	Unvalidated string
}

// Outline describes the snapshot's namespaces in name order, and their functions, as the
// listing shows them. Unlike Namespaces it compiles nothing.
func (s *Snapshot) Outline() []NamespaceInfo {
	out := make([]NamespaceInfo, 0, len(s.spaces))
	for _, n := range s.spaces {
		info := NamespaceInfo{Name: n.name, Original: n.raw, Owner: n.owner, Description: n.description, Unavailable: n.unavailable, Note: n.note}
		for _, f := range n.funcs {
			info.Functions = append(info.Functions, FunctionInfo{Name: f.name, Original: f.tool.Name, Description: f.tool.Description,
				Signature: f.line, Note: strings.TrimPrefix(f.note, " // ")})
		}
		out = append(out, info)
	}
	return out
}

// Namespaces is Outline with Unvalidated filled in: it compiles the input schemas that
// were not compiled yet.
func (s *Snapshot) Namespaces() []NamespaceInfo {
	out := s.Outline()
	for i, n := range s.spaces {
		for j, f := range n.funcs {
			_, out[i].Functions[j].Unvalidated = f.validator()
		}
	}
	return out
}

// Resolve returns the names function name ("ns.fn", as called or as the backend wrote
// it) is called by in s, or the error Details would give for it.
func (s *Snapshot) Resolve(name string) (ns, fn string, err error) {
	n, f, problem := s.resolve(name)
	if problem != "" {
		return "", "", errors.New(problem)
	}
	return n.name, f.name, nil
}

// List renders the list_functions text.
func (s *Snapshot) List(opts ListOptions) string { return s.list(opts) }

// Details renders the get_function_details text for "ns.fn" names.
func (s *Snapshot) Details(names []string) (string, error) { return s.details(names) }

// Functions returns the runtime bindings for every callable function of the snapshot,
// keyed "ns.fn" with sanitised names. The map is built once per snapshot and shared by
// every caller: it must not be modified.
func (s *Snapshot) Functions() runtime.Functions {
	s.fnsOnce.Do(func() {
		s.fns = make(runtime.Functions)
		for _, n := range s.spaces {
			for _, f := range n.funcs {
				s.fns[n.name+"."+f.name] = f.bind()
			}
			if n.unavailable != "" {
				// Its functions are unknown (an upstream that never connected, or needs a
				// login): any call rejects with the reason rather than a ReferenceError.
				name, reason := n.name, n.unavailable
				s.fns[n.name+".*"] = func(context.Context, []any) (any, error) {
					return nil, fmt.Errorf("namespace %s is unavailable: %s", name, reason)
				}
			}
		}
	})
	return s.fns
}

// Size counts the snapshot's namespaces (available or not) and callable functions.
func (s *Snapshot) Size() (namespaces, functions int) {
	for _, n := range s.spaces {
		functions += len(n.funcs)
	}
	return len(s.spaces), functions
}
