package pctxlog

import (
	"log/slog"
	"testing"
)

// TestListeningURL parses the line exactly as the CLI's slog handlers write it, in both
// [log] formats.
func TestListeningURL(t *testing.T) {
	for _, tt := range []struct {
		format  string
		handler func(*Buffer) slog.Handler
	}{
		{"text", func(b *Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"json", func(b *Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		var b Buffer
		slog.New(tt.handler(&b)).Info(ListeningMsg, "url", "http://127.0.0.1:4321", "mcp", "/mcp")
		if got, ok := ListeningURL(b.String()); !ok || got != "http://127.0.0.1:4321" {
			t.Errorf("%s: ListeningURL(%q) = %q, %v", tt.format, b.String(), got, ok)
		}
	}
	for _, line := range []string{`level=INFO msg="upstream: connected"`, `{"level":"INFO","msg":"upstream: connected"}`} {
		if _, ok := ListeningURL(line); ok {
			t.Errorf("found a URL in %q", line)
		}
	}
}
