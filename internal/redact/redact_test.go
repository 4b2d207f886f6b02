package redact

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	s := New("tok_0123456789", "short", "", "p@ss word/x")
	tests := []struct{ in, want string }{
		{"Bearer tok_0123456789", "Bearer " + Mark},
		{"twice tok_0123456789tok_0123456789", "twice " + Mark + Mark},
		{"short values stay: short", "short values stay: short"},
		{"query p%40ss+word%2Fx and path p@ss%20word%2Fx", "query " + Mark + " and path " + Mark},
		{"nothing here", "nothing here"},
	}
	for _, tc := range tests {
		if got := s.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A secret that contains another is replaced whole.
	s.Add("tok_0123456789-extended")
	if got := s.String("x tok_0123456789-extended y"); got != "x "+Mark+" y" {
		t.Errorf("longest first: %q", got)
	}
	var nilSet *Set
	nilSet.Add("whatever-secret")
	if nilSet.String("whatever-secret") != "whatever-secret" || nilSet.Len() != 0 {
		t.Error("nil Set redacted something")
	}
}

func TestError(t *testing.T) {
	s := New("hunter2-secret")
	base := fmt.Errorf("GET https://h/?key=hunter2-secret: %w", fs.ErrNotExist)
	err := s.Error(fmt.Errorf("upstream: %w", base))
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), Mark) {
		t.Fatalf("Error() = %q", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("the chain is lost")
	}
	clean := errors.New("no secret")
	if s.Error(clean) != clean {
		t.Error("an error without secrets was wrapped")
	}
	if s.Error(nil) != nil {
		t.Error("nil error became non-nil")
	}
}

type stringer struct{ s string }

func (x stringer) String() string { return x.s }

func TestHandler(t *testing.T) {
	s := New("sekrit-value-1")
	var buf bytes.Buffer
	log := slog.New(s.Handler(slog.NewTextHandler(&buf, nil)))
	log = log.With("bound", "pre sekrit-value-1")
	log.WithGroup("g").Info("msg sekrit-value-1",
		"str", "a sekrit-value-1",
		"err", errors.New("e sekrit-value-1"),
		"stringer", stringer{"s sekrit-value-1"},
		"bytes", []byte("b sekrit-value-1"),
		"map", map[string]string{"k": "sekrit-value-1"},
		"n", 42,
		slog.Group("grp", "inner", "sekrit-value-1"),
	)
	out := buf.String()
	if strings.Contains(out, "sekrit") {
		t.Fatalf("secret in log output:\n%s", out)
	}
	if got := strings.Count(out, Mark); got != 8 {
		t.Errorf("%d redactions, want 8:\n%s", got, out)
	}
	if !strings.Contains(out, "g.n=42") {
		t.Errorf("plain values changed:\n%s", out)
	}
	// Secrets learned later are redacted too.
	buf.Reset()
	s.Add("later-token-xyz")
	log.Info("got later-token-xyz")
	if strings.Contains(buf.String(), "later-token") {
		t.Errorf("late secret logged: %s", buf.String())
	}
}
