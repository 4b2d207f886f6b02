package pctxlog

import (
	"log/slog"
	"testing"
)

// TestListeningURL parses the line exactly as the CLI's slog text handler writes it.
func TestListeningURL(t *testing.T) {
	var b Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info(ListeningMsg, "url", "http://127.0.0.1:4321", "mcp", "/mcp")
	if got, ok := ListeningURL(b.String()); !ok || got != "http://127.0.0.1:4321" {
		t.Fatalf("ListeningURL(%q) = %q, %v", b.String(), got, ok)
	}
	if _, ok := ListeningURL(`level=INFO msg="upstream: connected"`); ok {
		t.Fatal("found a URL in a line without one")
	}
}
