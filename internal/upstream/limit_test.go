package upstream

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/config"
)

func TestIDScanner(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // "" means not found
	}{
		{"first", `{"id":7,"result":{}}`, `7`},
		{"last", `{"result":{"id":99,"content":[{"id":"x"}]},"jsonrpc":"2.0","id":12}`, `12`},
		{"string id", `{"jsonrpc":"2.0","id":"req-\"1\"","result":{}}`, `"req-\"1\""`},
		{"spaces", `{ "id" : 3 , "result" : { } }`, `3`},
		{"escaped key lookalike", `{"text":"\"id\":5","id":6}`, `6`},
		{"nested only", `{"result":{"id":1}}`, ``},
		{"escaped key", `{"i\u0064":8,"result":{}}`, `8`},
		{"fully escaped key", `{"\u0069\u0064":9,"result":{}}`, `9`},
		{"duplicate keeps the last", `{"id":1,"result":{},"id":2}`, `2`},
		{"long key is not id", `{"identifier":5,"result":{}}`, ``},
		{"key id as a value", `{"method":"id","params":{}}`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sc idScanner
			// Feed byte by byte: the scanner must not depend on chunking.
			for i := range len(tt.in) {
				sc.feed([]byte{tt.in[i]})
			}
			got := ""
			if sc.found {
				got = string(sc.id)
			}
			if got != tt.want {
				t.Fatalf("id = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLineFilter(t *testing.T) {
	const max = 64
	big := strings.Repeat("x", 100)
	tests := []struct {
		name, in, want string
		oversized      string // request id marked as oversized
	}{
		{"passes lines", "{\"a\":1}\n{\"b\":2}\n", "{\"a\":1}\n{\"b\":2}\n", ""},
		{"last line without newline", "{\"a\":1}\n{\"b\"", "{\"a\":1}\n{\"b\"", ""},
		{"oversized response", `{"result":"` + big + `","id":4}` + "\n{\"c\":3}\n",
			`{"jsonrpc":"2.0","id":4,"error":{"code":-32603,"message":"response exceeds 64 bytes"}}` + "\n{\"c\":3}\n", "int64:4"},
		{"oversized notification dropped", `{"method":"x","params":"` + big + `"}` + "\n{\"c\":3}\n", "{\"c\":3}\n", ""},
		{"oversized at EOF", `{"id":"s","result":"` + big, `{"jsonrpc":"2.0","id":"s","error":{"code":-32603,"message":"response exceeds 64 bytes"}}` + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, _ := newTestLogger(t)
			sess := newSession(context.Background(), &server{}, config.Upstream{}, slog.New(slog.DiscardHandler))
			f := newLineFilter(strings.NewReader(tt.in), max, sess, logger)
			got, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
			if tt.oversized != "" {
				if _, ok := sess.oversized.Load(tt.oversized); !ok {
					t.Fatalf("id %s not marked oversized", tt.oversized)
				}
			}
			select {
			case <-f.done:
			default:
				t.Fatal("done not closed at EOF")
			}
		})
	}
}

func TestRateLimiter(t *testing.T) {
	l := rateLimiter{rate: 10, burst: 3}
	start := time.Unix(0, 0)
	steps := []struct {
		at          time.Duration
		ok          bool
		wantDropped int
	}{
		{0, true, 0}, {0, true, 0}, {0, true, 0}, // the burst
		{0, false, 0}, {50 * time.Millisecond, false, 0}, // empty; half a token back
		{100 * time.Millisecond, true, 2}, // a token back: reports the two dropped
		{100 * time.Millisecond, false, 0},
		{10 * time.Second, true, 1}, {10 * time.Second, true, 0}, {10 * time.Second, true, 0}, // refilled to the burst only
		{10 * time.Second, false, 0},
	}
	for i, s := range steps {
		dropped, ok := l.allow(start.Add(s.at))
		if ok != s.ok || dropped != s.wantDropped {
			t.Fatalf("step %d: allow = (%d, %v), want (%d, %v)", i, dropped, ok, s.wantDropped, s.ok)
		}
	}
}
