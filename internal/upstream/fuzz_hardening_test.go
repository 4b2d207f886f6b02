package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/pctx-dev/pctx/internal/config"
)

// Upstream output is untrusted: these targets feed arbitrary bytes to the two places that
// read it before mcp-go does (the stdio line filter) and after (result conversion).

// FuzzLineFilter: whatever a stdio upstream writes, the filter never panics, passes every
// line within the limit unchanged and in order, and replaces an overlong line with
// nothing or with one well-formed JSON-RPC error response.
func FuzzLineFilter(f *testing.F) {
	for _, seed := range []string{
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n",
		"{\"id\":4,\"result\":\"" + string(bytes.Repeat([]byte("x"), 80)) + "\"}\n{\"c\":3}\n",
		"{\"result\":\"" + string(bytes.Repeat([]byte("y"), 80)) + "\",\"id\":\"s\\\"q\"}",
		"log line on stdout\n{\"id\":1e2,\"result\":" + string(bytes.Repeat([]byte("["), 70)) + "\n",
		"{\"i\\u0064\":7,\"pad\":\"" + string(bytes.Repeat([]byte("z"), 80)) + "\"}\n",
		"\n\n\r\n{}",
	} {
		f.Add([]byte(seed), uint8(64))
	}
	f.Fuzz(func(t *testing.T, in []byte, limit uint8) {
		max := int(limit) + 16
		sess := newSession(context.Background(), &server{}, config.Upstream{}, slog.New(slog.DiscardHandler))
		filter := newLineFilter(bytes.NewReader(in), max, sess, slog.New(slog.NewTextHandler(io.Discard, nil)))
		out, err := io.ReadAll(filter)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		rest := out
		for len(in) > 0 {
			line := in
			if i := bytes.IndexByte(in, '\n'); i >= 0 {
				line = in[:i+1]
			}
			in = in[len(line):]
			if len(line) <= max {
				if !bytes.HasPrefix(rest, line) {
					t.Fatalf("line %q within the limit was not passed on; output left: %q", line, rest)
				}
				rest = rest[len(line):]
				continue
			}
			// Oversized: dropped, or one error response that is valid JSON-RPC.
			if !bytes.HasPrefix(rest, []byte(`{"jsonrpc":"2.0","id":`)) {
				continue
			}
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				t.Fatalf("replacement for an oversized line has no newline: %q", rest)
			}
			var resp struct {
				ID    json.RawMessage `json:"id"`
				Error struct {
					Code int `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rest[:i], &resp); err != nil || resp.Error.Code == 0 || len(resp.ID) == 0 {
				t.Fatalf("replacement for an oversized line is not a JSON-RPC error: %q (%v)", rest[:i], err)
			}
			rest = rest[i+1:]
		}
		if len(rest) > 0 {
			t.Fatalf("output has more than the input: %q", rest)
		}
	})
}

// FuzzConvertResult: any tools/call result either converts to plain JSON data or fails
// with an error naming the upstream and tool; it never panics.
func FuzzConvertResult(f *testing.F) {
	for _, seed := range []string{
		`{"content":[{"type":"text","text":"{\"a\":1}"}]}`,
		`{"content":[{"type":"text","text":"plain"},{"type":"image","data":"AA==","mimeType":"image/png"}]}`,
		`{"structuredContent":{"x":[1,2]},"content":[]}`,
		`{"isError":true,"content":[{"type":"text","text":"boom"}]}`,
		`{"isError":true,"content":[{"type":"image"}]}`,
		`{"content":[null]}`,
		`{"content":[{"type":"text","text":7}]}`,
		`{"structuredContent":null}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := convertResult("srv", "tool", raw)
		if err != nil {
			if !bytes.Contains([]byte(err.Error()), []byte(`upstream "srv": tool "tool": `)) {
				t.Fatalf("error does not name the upstream and tool: %v", err)
			}
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("converted value is not plain JSON data: %#v: %v", v, err)
		}
	})
}
