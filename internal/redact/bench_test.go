package redact

import (
	"io"
	"log/slog"
	"strconv"
	"testing"
)

// BenchmarkHandler measures redaction's cost on a typical upstream log record, with the
// set holding 20 secrets (and their escaped forms): compare "redacted" with "plain".
func BenchmarkHandler(b *testing.B) {
	s := New()
	for i := range 20 {
		s.Add("secret-token-value-" + strconv.Itoa(i) + "/x+y")
	}
	plain := slog.New(slog.NewTextHandler(io.Discard, nil)).With("upstream", "github")
	red := slog.New(s.Handler(slog.NewTextHandler(io.Discard, nil))).With("upstream", "github")
	for _, tc := range []struct {
		name string
		log  *slog.Logger
	}{{"plain", plain}, {"redacted", red}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.log.Warn("upstream: unavailable, will retry", "err", "Post \"https://api.example.com/mcp\": dial tcp 10.0.0.1:443: connect: connection refused", "attempt", 3)
			}
		})
	}
}
