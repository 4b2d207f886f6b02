// Package redact keeps known secrets out of text that leaves pctx: log records, error
// messages, the reasons shown for an unavailable upstream.
//
// A Set collects the secret values pctx learns (everything a ${env:}, ${cmd:}, ${file:}
// or ${keychain:} reference expanded to, OAuth tokens and client secrets) and replaces
// each occurrence, including its URL-escaped forms, with "[redacted]". Values shorter
// than MinLen are not collected: redacting "info" or "true" everywhere would mangle
// messages and protect nothing.
//
// Redaction is a safety net behind the rule that code does not put secrets in messages
// in the first place; it catches what a dependency echoes (a URL with a token in its
// query in a net/http error, a server that quotes the request in its error body, a
// child process that prints its environment).
//
// A nil *Set is valid and redacts nothing. A Set is safe for concurrent use.
package redact

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// MinLen is the shortest value Add keeps.
const MinLen = 6

// Mark replaces each secret.
const Mark = "[redacted]"

// Set is a growing set of secret values.
type Set struct {
	mu   sync.RWMutex
	vals []string // longest first, so a secret containing another is replaced whole
	r    *strings.Replacer
}

// New returns a Set holding vals.
func New(vals ...string) *Set {
	s := &Set{}
	s.Add(vals...)
	return s
}

// Add collects vals (and their URL-escaped forms); empty and short values are ignored.
func (s *Set) Add(vals ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, v := range vals {
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			if len(form) < MinLen || slices.Contains(s.vals, form) {
				continue
			}
			s.vals = append(s.vals, form)
			changed = true
		}
	}
	if !changed {
		return
	}
	slices.SortFunc(s.vals, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(s.vals))
	for _, v := range s.vals {
		pairs = append(pairs, v, Mark)
	}
	s.r = strings.NewReplacer(pairs...)
}

// Len reports how many values (counting escaped forms) the Set holds.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.vals)
}

// String returns text with every secret replaced by Mark.
func (s *Set) String(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	r := s.r
	s.mu.RUnlock()
	if r == nil {
		return text
	}
	return r.Replace(text)
}

// Error returns err unchanged if its message holds no secret, else an error whose
// message is redacted and which unwraps to err (so errors.Is and errors.As still see
// the original chain). A nil err stays nil.
func (s *Set) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := s.String(msg); red != msg {
		return &redacted{msg: red, err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// Handler wraps h so that each record's message and attribute values are redacted on
// their way out. A nil Set returns h itself.
func (s *Set) Handler(h slog.Handler) slog.Handler {
	if s == nil {
		return h
	}
	return &handler{set: s, next: h}
}

type handler struct {
	set  *Set
	next slog.Handler
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.set.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &handler{set: h.set, next: h.next.WithAttrs(red)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{set: h.set, next: h.next.WithGroup(name)}
}

// attr redacts one attribute: strings, errors and Stringers are rendered and redacted;
// numbers, times and the like pass as they are.
func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.set.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.set.String(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, h.set.String(x.String()))
		case []byte:
			return slog.String(a.Key, h.set.String(string(x)))
		default:
			// Anything else (a struct, a map) is formatted by the next handler; render it
			// here so nothing inside escapes unredacted.
			return slog.String(a.Key, h.set.String(slog.AnyValue(x).String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
