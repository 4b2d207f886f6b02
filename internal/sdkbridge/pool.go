package sdkbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pctx-dev/pctx/internal/catalog"
)

// A pool is the set of connections serving one global namespace with identical tool
// definitions (docs/protocol.md §3.2). The namespace is in the catalog once, owned by
// "pool:<name>"; each call goes to the member with the fewest calls in flight.
type pool struct {
	name  string
	owner string
	def   []toolDef // the definition every member registered, sorted by name

	mu      sync.Mutex
	members []*member
	next    int // round-robin start among equally loaded members
}

type member struct {
	c        *conn
	inflight int
}

// toolDef is the part of a tool that must match across a pool: names, schemas and
// positional parameters. Descriptions may differ (a pool serves the first member's).
type toolDef struct {
	Name   string
	Input  json.RawMessage // canonical JSON
	Output json.RawMessage // canonical JSON
	Params []string
}

// errNeverSent: the picked member closed before the call was sent; another member may
// take the call without the worker ever having seen it.
var errNeverSent = errors.New("call not sent: the worker is closing")

func poolOwner(name string) string { return "pool:" + name }

// definition canonicalises a register request's tools for comparison.
func definition(p registerParams) ([]toolDef, error) {
	out := make([]toolDef, 0, len(p.Tools))
	for _, t := range p.Tools {
		in, err := canonical(nullToNil(t.InputSchema))
		if err != nil {
			return nil, fmt.Errorf("tool %q inputSchema: %w", t.Name, err)
		}
		outSchema, err := canonical(nullToNil(t.OutputSchema))
		if err != nil {
			return nil, fmt.Errorf("tool %q outputSchema: %w", t.Name, err)
		}
		out = append(out, toolDef{Name: t.Name, Input: in, Output: outSchema, Params: t.Params})
	}
	slices.SortFunc(out, func(a, b toolDef) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// canonical re-encodes raw JSON with sorted object keys and numbers kept as written.
// An absent schema and {"type":"object"} are the same input schema, but the caller
// compares outputs too, so nil stays nil.
func canonical(raw json.RawMessage) (json.RawMessage, error) {
	if raw == nil {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v) // maps marshal with sorted keys
}

// defDiff describes how mine differs from the pool's definition have; "" when equal.
func defDiff(have, mine []toolDef) string {
	byName := func(ds []toolDef) map[string]toolDef {
		m := make(map[string]toolDef, len(ds))
		for _, d := range ds {
			m[d.Name] = d
		}
		return m
	}
	h, m := byName(have), byName(mine)
	var diffs []string
	for _, d := range mine {
		o, ok := h[d.Name]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("tool %q is extra (the pool has no such tool)", d.Name))
			continue
		}
		if s := jsonDiff(o.Input, d.Input, ""); s != "" {
			diffs = append(diffs, fmt.Sprintf("tool %q input schema differs: %s", d.Name, s))
		}
		if s := jsonDiff(o.Output, d.Output, ""); s != "" {
			diffs = append(diffs, fmt.Sprintf("tool %q output schema differs: %s", d.Name, s))
		}
		if !slices.Equal(o.Params, d.Params) {
			diffs = append(diffs, fmt.Sprintf("tool %q params differ: the pool has %s, yours %s", d.Name, paramsText(o.Params), paramsText(d.Params)))
		}
	}
	for _, d := range have {
		if _, ok := m[d.Name]; !ok {
			diffs = append(diffs, fmt.Sprintf("tool %q is missing (the pool has it)", d.Name))
		}
	}
	const maxShown = 5
	if len(diffs) > maxShown {
		diffs = append(diffs[:maxShown], fmt.Sprintf("and %d more differences", len(diffs)-maxShown))
	}
	return strings.Join(diffs, "; ")
}

// jsonDiff names the first place where the canonical JSON values a and b differ, as a
// path like `property "x" type`; "" when they are equal.
func jsonDiff(a, b json.RawMessage, path string) string {
	if bytes.Equal(a, b) {
		return ""
	}
	var va, vb any
	_ = json.Unmarshal(a, &va)
	_ = json.Unmarshal(b, &vb)
	return valueDiff(va, vb, path)
}

func valueDiff(a, b any, path string) string {
	at := func() string {
		if path == "" {
			return "the schema"
		}
		return path
	}
	ma, aok := a.(map[string]any)
	mb, bok := b.(map[string]any)
	if aok && bok {
		for _, k := range sortedKeys(ma, mb) {
			va, ina := ma[k]
			vb, inb := mb[k]
			sub := stepName(path, k)
			switch {
			case !inb:
				return fmt.Sprintf("%s is %s in the pool, absent in yours", sub, jsonText(va))
			case !ina:
				return fmt.Sprintf("%s is absent in the pool, %s in yours", sub, jsonText(vb))
			}
			if s := valueDiff(va, vb, sub); s != "" {
				return s
			}
		}
		return ""
	}
	if jsonText(a) == jsonText(b) {
		return ""
	}
	return fmt.Sprintf("%s is %s in the pool, %s in yours", at(), jsonText(a), jsonText(b))
}

// stepName extends a schema path readably: properties.x becomes `property "x"`.
func stepName(path, key string) string {
	switch {
	case strings.HasSuffix(path, "properties") && path != "":
		return strings.TrimSuffix(path, "properties") + fmt.Sprintf("property %q", key)
	case path == "":
		return key
	default:
		return path + " " + key
	}
}

func sortedKeys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func paramsText(ps []string) string {
	if ps == nil {
		return "absent"
	}
	return jsonText(ps)
}

func jsonText(v any) string {
	if v == nil {
		return "absent"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// joinPool makes c serve global namespace ns. The first connection creates the pool and
// puts the namespace into the catalog; later ones join if their definition is identical.
// A pool's only member may replace its definition.
func (b *Bridge) joinPool(c *conn, ns catalog.Namespace, p registerParams) *rpcError {
	def, err := definition(p)
	if err != nil {
		return errorf(CodeInvalidParams, "register: namespace %q: %v", p.Namespace, err)
	}
	b.poolMu.Lock()
	defer b.poolMu.Unlock()
	pl := b.pools[p.Namespace]
	if pl == nil {
		pl = &pool{name: p.Namespace, owner: poolOwner(p.Namespace), def: def}
		if err := b.reg.Put(pl.owner, pl.namespace(ns)); err != nil {
			if errors.Is(err, catalog.ErrNamespaceTaken) {
				return c.takenError(p.Namespace, err)
			}
			return errorf(CodeInvalidParams, "register: namespace %q refused: %v", p.Namespace, err)
		}
		pl.members = []*member{{c: c}}
		b.pools[p.Namespace] = pl
		return nil
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	isMember := slices.ContainsFunc(pl.members, func(m *member) bool { return m.c == c })
	diff := defDiff(pl.def, def)
	switch {
	case isMember && len(pl.members) == 1: // its only worker replaces the namespace
		if err := b.reg.Put(pl.owner, pl.namespace(ns)); err != nil {
			return errorf(CodeInvalidParams, "register: namespace %q refused: %v", p.Namespace, err)
		}
		pl.def = def
		return nil
	case diff == "" && isMember:
		return nil
	case diff == "":
		pl.members = append(pl.members, &member{c: c})
		return nil
	}
	ids := make([]string, 0, len(pl.members))
	for _, m := range pl.members {
		if m.c != c {
			ids = append(ids, "worker:"+m.c.id)
		}
	}
	return &rpcError{
		Code: CodeNamespaceTaken,
		Message: fmt.Sprintf("register: namespace %q is taken by %s (%s), whose tools differ: %s. Workers sharing a global namespace form a pool and must register identical tools (names, schemas, params); to keep your own version, register it with scope \"session\" or choose another name",
			p.Namespace, pl.owner, strings.Join(ids, ", "), diff),
		Data: map[string]any{"namespace": p.Namespace, "owner": pl.owner, "workers": ids, "differences": diff},
	}
}

// leavePool removes c from the pool of namespace name; the last member to leave takes
// the namespace out of the catalog. Calls in flight to c are c's own to reject.
func (b *Bridge) leavePool(c *conn, name string) {
	b.poolMu.Lock()
	defer b.poolMu.Unlock()
	pl := b.pools[name]
	if pl == nil {
		return
	}
	pl.mu.Lock()
	pl.members = slices.DeleteFunc(pl.members, func(m *member) bool { return m.c == c })
	empty := len(pl.members) == 0
	pl.mu.Unlock()
	if empty {
		b.reg.Remove(pl.owner, name)
		delete(b.pools, name)
	}
}

// namespace returns ns with every tool's calls dispatched through the pool.
func (pl *pool) namespace(ns catalog.Namespace) catalog.Namespace {
	out := ns
	out.Tools = make([]catalog.Tool, len(ns.Tools))
	for i, t := range ns.Tools {
		name := t.Name
		t.Call = func(ctx context.Context, args map[string]any) (any, error) {
			return pl.call(ctx, name, args)
		}
		out.Tools[i] = t
	}
	return out
}

// call sends one call to the least busy member. A member that closed before the call
// was sent is skipped; one that leaves with the call in flight rejects it.
func (pl *pool) call(ctx context.Context, tool string, args map[string]any) (any, error) {
	tried := map[*member]bool{}
	for {
		m := pl.pick(tried)
		if m == nil {
			return nil, failure(fmt.Sprintf("worker for namespace %q disconnected", pl.name), ErrWorkerGone)
		}
		v, err := m.c.call(ctx, pl.name, tool, args)
		pl.mu.Lock()
		m.inflight--
		pl.mu.Unlock()
		if !errors.Is(err, errNeverSent) {
			return v, err
		}
		tried[m] = true
	}
}

// pick reserves the member with the fewest calls in flight, rotating among ties.
func (pl *pool) pick(skip map[*member]bool) *member {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var best *member
	n := len(pl.members)
	for i := range n {
		m := pl.members[(pl.next+i)%n]
		if skip[m] {
			continue
		}
		if best == nil || m.inflight < best.inflight {
			best = m
		}
	}
	if best == nil {
		return nil
	}
	pl.next = (pl.next + 1) % n
	best.inflight++
	return best
}
