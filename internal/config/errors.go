package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem in a config file. Load returns every problem it finds joined
// with errors.Join; errors.As reaches the first *Error.
type Error struct {
	File   string // the path given to Load
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; set only for TOML syntax errors
	Key    string // dotted key such as "servers.github.url"; empty for syntax errors
	Msg    string
}

// Error formats the problem as "file:line: key: message", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":" + strconv.Itoa(e.Column))
		}
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// keyPath is a key as its parts: table and key names, and index(i) for array elements.
type keyPath []string

// indexMark starts a part that is an array index (String renders it as "[i]"); a TOML
// key would need a \u0000 escape to start with it.
const indexMark = "\x00"

func index(i int) string { return indexMark + strconv.Itoa(i) }

func kp(parts ...string) keyPath { return parts }

func (k keyPath) with(parts ...string) keyPath {
	return append(slices.Clip(k), parts...)
}

// String renders the path the way a user would write it in TOML.
func (k keyPath) String() string {
	var b strings.Builder
	for i, p := range k {
		switch {
		case strings.HasPrefix(p, indexMark):
			b.WriteString("[" + p[len(indexMark):] + "]")
			continue
		case i > 0:
			b.WriteByte('.')
		}
		b.WriteString(tomlKey(p))
	}
	return b.String()
}

// problems collects errors while a file is checked, each with its key.
type problems struct {
	file string
	pos  *layout
	errs []*Error
	bad  map[string]bool // joined keys whose value did not decode or expand; not checked further
}

// isBad reports whether k or a table holding it failed to decode or expand.
func (p *problems) isBad(k keyPath) bool {
	for i := 1; i <= len(k); i++ {
		if p.bad[joinKey(k[:i])] {
			return true
		}
	}
	return false
}

func (p *problems) add(k keyPath, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: p.pos.line(k), Key: k.String(), Msg: fmt.Sprintf(format, args...)})
}

// err sorts the problems by line (unknown lines last), then key, then message, and
// joins them.
func (p *problems) err() error {
	slices.SortStableFunc(p.errs, func(a, b *Error) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = math.MaxInt
		}
		if lb == 0 {
			lb = math.MaxInt
		}
		return cmp.Or(cmp.Compare(la, lb), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Msg, b.Msg))
	})
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}
