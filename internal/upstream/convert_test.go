package upstream

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/runtime"
)

// TestConvertResult pins the Go types convertResult hands the runtime: JSON
// stays json.RawMessage (exact numbers, key order), everything else is a
// string, nil or a slice of those.
func TestConvertResult(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	tests := []struct {
		name string
		in   string
		want any
		err  string
	}{
		{"structured wins over content", `{"content":[{"type":"text","text":"{}"}],"structuredContent":{"b":1,"a":1234567890123456789}}`, raw(`{"b":1,"a":1234567890123456789}`), ""},
		{"structured skips malformed content", `{"content":[7],"structuredContent":[1]}`, raw(`[1]`), ""},
		{"null structured falls back to content", `{"content":[{"type":"text","text":"hi"}],"structuredContent":null}`, "hi", ""},
		{"JSON text", `{"content":[{"type":"text","text":" {\"id\":1234567890123456789} "}]}`, raw(`{"id":1234567890123456789}`), ""},
		{"plain text", `{"content":[{"type":"text","text":"not json"}]}`, "not json", ""},
		{"empty text", `{"content":[{"type":"text","text":""}]}`, "", ""},
		{"image stays the wire object", `{"content":[{"type":"image","mimeType":"image/png","data":"AA=="}]}`, raw(`{"type":"image","mimeType":"image/png","data":"AA=="}`), ""},
		{"several items", `{"content":[{"type":"text","text":"a"},{"type":"text","text":"2"}]}`, []any{"a", raw(`2`)}, ""},
		{"no content", `{"content":[]}`, nil, ""},
		{"text without string", `{"content":[{"type":"text","text":7}]}`, nil, `upstream "s": tool "t": malformed content item 0: text content without a text string`},
		{"null item", `{"content":[null]}`, nil, `upstream "s": tool "t": malformed content item 0: not an object`},
		{"error", `{"isError":true,"content":[{"type":"text","text":"boom"}],"structuredContent":{"x":1}}`, nil, `upstream "s": tool "t": boom`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := convertResult("s", "t", json.RawMessage(tt.in))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

// TestResultsThroughRuntime runs converted results through the runtime as
// the agent's code sees them. A JS number cannot hold 1234567890123456789; it
// must come out as Node's JSON.parse gives it, whichever path it took. Objects
// keep the upstream's key order, which a decode into Go maps would lose.
func TestResultsThroughRuntime(t *testing.T) {
	results := map[string]string{
		"structured": `{"content":[],"structuredContent":{"id":1234567890123456789}}`,
		"text":       `{"content":[{"type":"text","text":"{\"id\":1234567890123456789}"}]}`,
		"items":      `{"content":[{"type":"text","text":"{\"id\":7}"},{"type":"image","mimeType":"image/png","data":"AA=="}]}`,
		"ordered":    `{"content":[{"type":"text","text":"{\"zeta\":1,\"alpha\":{\"b\":2,\"a\":1}}"}]}`,
	}
	var tools []catalog.Tool
	for name, res := range results {
		tools = append(tools, catalog.Tool{Name: name, Call: func(context.Context, map[string]any) (any, error) {
			return convertResult("ids", name, json.RawMessage(res))
		}})
	}
	c := catalog.New()
	if err := c.Put("upstream:ids", catalog.Namespace{Name: "ids", Tools: tools}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ code, want string }{
		{"const r = await ids.structured({}); return [r.id === 1234567890123456789, String(r.id)].join()", "true,1234567890123456800"},
		{"const r = await ids.text({}); return [r.id === 1234567890123456789, String(r.id)].join()", "true,1234567890123456800"},
		{"const [a, b] = await ids.items({}); return a.id + ' ' + b.mimeType", "7 image/png"},
		{"return JSON.stringify(await ids.ordered({}))", `{"zeta":1,"alpha":{"b":2,"a":1}}`},
	}
	for _, tt := range tests {
		res := runtime.Execute(t.Context(), tt.code, c.Snapshot().Functions(), runtime.Limits{})
		if res.Error != nil || res.Value != tt.want {
			t.Errorf("%s: value %#v, error %v", tt.code, res.Value, res.Error)
		}
	}
}
