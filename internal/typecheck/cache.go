package typecheck

import (
	"container/list"
	"hash/maphash"
	"slices"
	"sync"
)

// resultCache remembers the errors of recent checks by catalog and program text, so an
// execution that repeats one (a retry, a program run on a schedule) costs no check.
type resultCache struct {
	mu    sync.Mutex
	seed  maphash.Seed
	ll    *list.List // front: most recently used; values are *cached
	items map[uint64]*list.Element
	max   int
}

type cached struct {
	key   uint64
	code  string
	diags []Diagnostic
}

func newResultCache(max int) *resultCache {
	return &resultCache{seed: maphash.MakeSeed(), ll: list.New(), items: map[uint64]*list.Element{}, max: max}
}

func (c *resultCache) key(decls []string, code string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	for _, d := range decls {
		h.WriteString(d)
		h.WriteByte(0)
	}
	h.WriteByte(1)
	h.WriteString(code)
	return h.Sum64()
}

func (c *resultCache) get(key uint64, code string) ([]Diagnostic, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok || el.Value.(*cached).code != code {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return slices.Clone(el.Value.(*cached).diags), true
}

func (c *resultCache) put(key uint64, code string, diags []Diagnostic) {
	diags = slices.Clone(diags)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value = &cached{key, code, diags}
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&cached{key, code, diags})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cached).key)
	}
}
