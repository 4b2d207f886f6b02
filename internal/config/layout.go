package config

import (
	"bytes"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// layout is where things are in a TOML document: the line of every key and table, and
// the line span of every top-level expression. koanf hands us plain maps, so this second
// pass over the text (with go-toml's own parser) is how errors get their line numbers
// and how RemoveServer finds the lines it deletes.
type layout struct {
	keys      map[string]int // joined key path → first line that defines it
	exprs     []expr
	lineStart []int // byte offset where each line starts; lineStart[0] == 0
	data      []byte
}

// expr is one top-level expression of the document.
type expr struct {
	kind       unstable.Kind // Table, ArrayTable, KeyValue or Comment
	path       keyPath       // the table's path, or the key/value's full path
	start, end int           // 1-based lines, inclusive
}

// joinKey makes a map key of k (the unit separator does not occur in real keys).
func joinKey(k keyPath) string { return strings.Join(k, "\x1f") }

// parseLayout indexes data, which must be TOML that go-toml already accepted.
func parseLayout(data []byte) (*layout, error) {
	l := &layout{keys: map[string]int{}, data: data, lineStart: []int{0}}
	for i, c := range data {
		if c == '\n' {
			l.lineStart = append(l.lineStart, i+1)
		}
	}
	p := unstable.Parser{KeepComments: true}
	p.Reset(data)
	var table keyPath
	for p.NextExpression() {
		n := p.Expression()
		e := expr{kind: n.Kind}
		switch n.Kind {
		case unstable.Comment:
			e.start = l.lineAt(n.Raw.Offset)
		case unstable.Table, unstable.ArrayTable:
			it := n.Key()
			table, e.start = l.keyOf(&it)
			e.path = table
			l.record(table, e.start)
		case unstable.KeyValue:
			e.path, e.start = l.keyValue(table, n)
		}
		l.exprs = append(l.exprs, e)
	}
	if err := p.Error(); err != nil {
		return nil, err
	}
	// An expression ends on the last non-blank line before the next one begins.
	for i := range l.exprs {
		next := len(l.lineStart) + 1
		if i+1 < len(l.exprs) {
			next = l.exprs[i+1].start
		}
		end := next - 1
		for end > l.exprs[i].start && l.blank(end) {
			end--
		}
		l.exprs[i].end = end
	}
	return l, nil
}

// keyValue records a key/value (and, inside inline tables, its sub-keys) under table and
// returns its full path and line.
func (l *layout) keyValue(table keyPath, n *unstable.Node) (keyPath, int) {
	it := n.Key()
	key, line := l.keyOf(&it)
	full := table.with(key...)
	for i := len(table) + 1; i <= len(full); i++ {
		l.record(full[:i], line)
	}
	if v := n.Value(); v.Kind == unstable.InlineTable {
		for c := v.Children(); c.Next(); {
			if c.Node().Kind == unstable.KeyValue {
				l.keyValue(full, c.Node())
			}
		}
	}
	return full, line
}

// keyOf reads a (possibly dotted) key and the line of its first part.
func (l *layout) keyOf(it *unstable.Iterator) (keyPath, int) {
	var k keyPath
	line := 0
	for it.Next() {
		n := it.Node()
		if line == 0 {
			line = l.lineAt(n.Raw.Offset)
		}
		k = append(k, string(n.Data))
	}
	return k, line
}

// record remembers the first line that defines k (and the tables it implies).
func (l *layout) record(k keyPath, line int) {
	for i := 1; i <= len(k); i++ {
		if _, ok := l.keys[joinKey(k[:i])]; !ok {
			l.keys[joinKey(k[:i])] = line
		}
	}
}

func (l *layout) lineAt(offset uint32) int {
	return sort.Search(len(l.lineStart), func(i int) bool { return l.lineStart[i] > int(offset) })
}

// blank reports whether 1-based line holds only whitespace.
func (l *layout) blank(line int) bool {
	return len(bytes.TrimSpace(l.lineBytes(line))) == 0
}

// blankOrComment reports whether 1-based line holds only whitespace or a comment.
func (l *layout) blankOrComment(line int) bool {
	b := bytes.TrimSpace(l.lineBytes(line))
	return len(b) == 0 || b[0] == '#'
}

func (l *layout) lineBytes(line int) []byte {
	if line < 1 || line > len(l.lineStart) {
		return nil
	}
	end := len(l.data)
	if line < len(l.lineStart) {
		end = l.lineStart[line]
	}
	return l.data[l.lineStart[line-1]:end]
}

// line is the line that defines k or, failing that, its nearest enclosing key or
// table; 0 when none is known (or l is nil).
func (l *layout) line(k keyPath) int {
	if l == nil {
		return 0
	}
	var parts keyPath
	for _, p := range k {
		if !strings.HasPrefix(p, indexMark) {
			parts = append(parts, p)
		}
	}
	for i := len(parts); i > 0; i-- {
		if line, ok := l.keys[joinKey(parts[:i])]; ok {
			return line
		}
	}
	return 0
}

// duplicate finds the first table or key defined a second time (a [table] header for a
// table that dotted keys already made counts too): its path, its line and the line of
// the first definition; line is 0 when there is none.
func (l *layout) duplicate() (k keyPath, line, first int) {
	seen := map[string]int{}
	for _, e := range l.exprs {
		if e.kind != unstable.Table && e.kind != unstable.KeyValue {
			continue
		}
		j := joinKey(e.path)
		if prev, ok := seen[j]; ok {
			return e.path, e.start, prev
		}
		seen[j] = e.start
		if e.kind == unstable.KeyValue {
			// The tables a dotted key creates below the current table.
			for n := len(e.path) - 1; n > 0; n-- {
				if _, ok := seen[joinKey(e.path[:n])]; ok {
					break
				}
				seen[joinKey(e.path[:n])] = e.start
			}
		}
	}
	return nil, 0, 0
}
