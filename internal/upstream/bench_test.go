package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/config"
)

// BenchmarkCallStdio is one tools/call round trip to a stdio child through
// the Manager (the fake server answers at once): pctx's per-call overhead
// plus two pipe hops.
func BenchmarkCallStdio(b *testing.B) {
	reg := newFakeRegistry()
	startManager(b, reg, testTuning, fakeConfig(b, "fake", "basic"))
	tool := reg.tool(b, "fake", "add")
	args := map[string]any{"a": 1.0, "b": 2.0}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tool.Call(context.Background(), args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConvertResult(b *testing.B) {
	for _, bc := range []struct{ name, raw string }{
		{"text", `{"content":[{"type":"text","text":"The sum of 2 and 3 is 5."}]}`},
		{"json-text", `{"content":[{"type":"text","text":"{\"id\":7,\"tags\":[\"a\",\"b\"],\"ok\":true}"}]}`},
		{"structured", `{"content":[{"type":"text","text":"{}"}],"structuredContent":{"temperature":36,"conditions":"rain"}}`},
		{"mixed", `{"content":[{"type":"text","text":"1"},{"type":"image","data":"aGk=","mimeType":"image/png"}]}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			raw := json.RawMessage(bc.raw)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := convertResult("s", "t", raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLineFilter measures the stdout filter on one 10 MB message.
func BenchmarkLineFilter(b *testing.B) {
	line := []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("x", 10<<20) + `"}]}}` + "\n")
	logger, _ := newTestLogger(b)
	sess := newSession(context.Background(), &server{}, config.Upstream{}, slog.New(slog.DiscardHandler))
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		f := newLineFilter(bytes.NewReader(line), DefaultMaxResultBytes, sess, logger)
		if _, err := io.Copy(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}
