package sdkbridge

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		kind  string // request, notification, response; "" when it must fail
		code  int    // the error code when it fails
	}{
		{"request", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, "request", 0},
		{"string id", ` {"jsonrpc":"2.0","id":"a","method":"ping","params":{}}`, "request", 0},
		{"null params", `{"jsonrpc":"2.0","id":1,"method":"ping","params":null}`, "request", 0},
		{"notification", `{"jsonrpc":"2.0","method":"cancel","params":{"id":3}}`, "notification", 0},
		{"result", `{"jsonrpc":"2.0","id":1,"result":{"value":1}}`, "response", 0},
		{"null result", `{"jsonrpc":"2.0","id":1,"result":null}`, "response", 0},
		{"error", `{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x","data":{"type":"E"}}}`, "response", 0},
		{"error with null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`, "response", 0},
		{"empty", ``, "", CodeParseError},
		{"truncated", `{"jsonrpc":"2.0"`, "", CodeParseError},
		{"scalar", `42`, "", CodeParseError},
		{"batch", `[]`, "", CodeInvalidRequest},
		{"wrong version", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, "", CodeInvalidRequest},
		{"float id", `{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, "", CodeInvalidRequest},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"ping"}`, "", CodeInvalidRequest},
		{"null request id", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, "", CodeInvalidRequest},
		{"empty method", `{"jsonrpc":"2.0","id":1,"method":""}`, "", CodeInvalidRequest},
		{"array params", `{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}`, "", CodeInvalidRequest},
		{"request with result", `{"jsonrpc":"2.0","id":1,"method":"ping","result":1}`, "", CodeInvalidRequest},
		{"result and error", `{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"x"}}`, "", CodeInvalidRequest},
		{"response without id", `{"jsonrpc":"2.0","result":1}`, "", CodeInvalidRequest},
		{"bad error object", `{"jsonrpc":"2.0","id":1,"error":"x"}`, "", CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := decode([]byte(tt.frame))
			if tt.kind == "" {
				if err == nil || err.Code != tt.code {
					t.Fatalf("decode(%s) = %+v, %v; want code %d", tt.frame, m, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode(%s): %v", tt.frame, err)
			}
			if got := kindOf(m); got != tt.kind {
				t.Errorf("decode(%s) is a %s, want a %s", tt.frame, got, tt.kind)
			}
		})
	}
}

// sameJSON reports whether a and b hold the same JSON value (re-encoding may escape
// differently).
func sameJSON(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

func kindOf(m *message) string {
	switch {
	case m.isRequest():
		return "request"
	case m.isNotification():
		return "notification"
	default:
		return "response"
	}
}

// FuzzDecode checks that any frame decodes to exactly one well-formed message kind or to a
// fatal error with a JSON-RPC code, and that a decoded message survives re-encoding.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"pctx/1"}}`,
		`{"jsonrpc":"2.0","id":"a","result":{"value":[1,2,{"x":null}]}}`,
		`{"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"boom","data":{"type":"ValueError"}}}`,
		`{"jsonrpc":"2.0","method":"cancel","params":{"id":3,"reason":"timeout"}}`,
		`[{"jsonrpc":"2.0"}]`,
		`{"jsonrpc":"2.0","id":null,"method":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := decode(frame)
		if err != nil {
			if err.Code != CodeParseError && err.Code != CodeInvalidRequest {
				t.Fatalf("fatal error with code %d", err.Code)
			}
			if m != nil {
				t.Fatal("both a message and an error")
			}
			return
		}
		if m.JSONRPC != "2.0" {
			t.Fatalf("decoded message with jsonrpc %q", m.JSONRPC)
		}
		switch {
		case m.Method != "":
			if m.Result != nil || m.Error != nil {
				t.Fatal("a request with a result or error")
			}
		case (m.Result == nil) == (m.Error == nil) || m.ID == nil:
			t.Fatalf("a response without exactly one of result and error, or without id: %s", frame)
		}
		again, merr := json.Marshal(m)
		if merr != nil {
			t.Fatalf("re-encode: %v", merr)
		}
		m2, err2 := decode(again)
		if err2 != nil {
			t.Fatalf("re-decode of %s: %v", again, err2)
		}
		if kindOf(m2) != kindOf(m) || m2.Method != m.Method || !sameJSON(m2.ID, m.ID) {
			t.Fatalf("round trip changed %s into %s", frame, again)
		}
	})
}
