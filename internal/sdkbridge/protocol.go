package sdkbridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/runtime"
)

// ProtocolVersion is the worker protocol version this bridge speaks (docs/protocol.md).
const ProtocolVersion = "pctx/1"

// JSON-RPC error codes of docs/protocol.md §8.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
	CodeToolError      = -32000
	CodeCancelled      = -32001
	CodeNotInitialized = -32002
	CodeNamespaceTaken = -32010
	CodeTooBusy        = -32011
)

// message is one decoded JSON-RPC 2.0 frame. Exactly one of the three kinds holds:
// a request (Method and ID set), a notification (Method set, no ID) or a response
// (Result or Error set, ID set).
type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

func (m *message) isRequest() bool      { return m.Method != "" && m.ID != nil }
func (m *message) isNotification() bool { return m.Method != "" && m.ID == nil }

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

func errorf(code int, format string, args ...any) *rpcError {
	return &rpcError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// decode parses one frame. A non-nil error is fatal for the connection (docs/protocol.md
// §8): its code is CodeParseError or CodeInvalidRequest and its message says what was
// wrong.
func decode(frame []byte) (*message, *rpcError) {
	trimmed := bytes.TrimLeft(frame, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if len(trimmed) > 0 && trimmed[0] == '[' {
			return nil, errorf(CodeInvalidRequest, "invalid request: batches are not supported, send one message per frame")
		}
		return nil, errorf(CodeParseError, "parse error: a frame must hold one JSON object")
	}
	var raw struct {
		JSONRPC json.RawMessage `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  json.RawMessage `json:"method"`
		Params  json.RawMessage `json:"params"`
		Result  json.RawMessage `json:"result"`
		Error   json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, errorf(CodeParseError, "parse error: %v", err)
	}
	m := &message{Params: raw.Params, Result: raw.Result}
	if string(raw.JSONRPC) != `"2.0"` {
		return nil, errorf(CodeInvalidRequest, `invalid request: "jsonrpc" must be "2.0"`)
	}
	m.JSONRPC = "2.0"
	if raw.ID != nil {
		if !validID(raw.ID) {
			return nil, errorf(CodeInvalidRequest, "invalid request: id must be a string or an integer, got %s", clip(raw.ID))
		}
		m.ID = raw.ID
	}
	if raw.Method != nil {
		if err := json.Unmarshal(raw.Method, &m.Method); err != nil || m.Method == "" {
			return nil, errorf(CodeInvalidRequest, "invalid request: method must be a non-empty string")
		}
		if m.ID != nil && isNull(m.ID) {
			return nil, errorf(CodeInvalidRequest, "invalid request: a request id must not be null")
		}
		if raw.Result != nil || raw.Error != nil {
			return nil, errorf(CodeInvalidRequest, "invalid request: a request cannot carry result or error")
		}
		if raw.Params != nil && !isNull(raw.Params) && bytes.TrimLeft(raw.Params, " \t\r\n")[0] != '{' {
			return nil, errorf(CodeInvalidRequest, "invalid request: params must be an object")
		}
		return m, nil
	}
	// A response.
	if (raw.Result == nil) == (raw.Error == nil) {
		return nil, errorf(CodeInvalidRequest, "invalid request: a message needs a method, or exactly one of result and error")
	}
	if raw.ID == nil {
		return nil, errorf(CodeInvalidRequest, "invalid request: a response needs an id")
	}
	if raw.Error != nil {
		m.Error = new(rpcError)
		if err := json.Unmarshal(raw.Error, m.Error); err != nil {
			return nil, errorf(CodeInvalidRequest, "invalid request: error must be {code, message, data?}: %v", err)
		}
	}
	return m, nil
}

// validID reports whether raw is a JSON string or an integer. A null id is accepted only
// in responses (a worker's answer to a frame it could not parse), where it matches nothing.
func validID(raw json.RawMessage) bool {
	switch {
	case isNull(raw):
		return true
	case raw[0] == '"':
		var s string
		return json.Unmarshal(raw, &s) == nil
	default:
		_, err := strconv.ParseInt(string(raw), 10, 64)
		return err == nil
	}
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// callID returns the server-issued call id a response answers, or false when the id is not
// one the server could have issued.
func callID(raw json.RawMessage) (int64, bool) {
	id, err := strconv.ParseInt(string(raw), 10, 64)
	return id, err == nil && id > 0
}

// clip shortens a raw JSON value for an error message.
func clip(raw []byte) string {
	const max = 40
	if len(raw) > max {
		return string(raw[:max]) + "…"
	}
	return string(raw)
}

// unmarshalParams decodes a request's params into v, naming the method on failure.
func unmarshalParams(m *message, v any) *rpcError {
	if m.Params == nil || isNull(m.Params) {
		return nil
	}
	if err := json.Unmarshal(m.Params, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return errorf(CodeInvalidParams, "%s: params.%s must be %s", m.Method, te.Field, jsonKind(te.Type.Kind().String()))
		}
		return errorf(CodeInvalidParams, "%s: invalid params: %v", m.Method, err)
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "a boolean"
	default:
		return "a number"
	}
}

// Wire types of docs/protocol.md.

type clientInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type initializeParams struct {
	ProtocolVersion string     `json:"protocolVersion"`
	Client          clientInfo `json:"client"`
	Naming          string     `json:"naming"`
}

type initializeResult struct {
	ProtocolVersion string     `json:"protocolVersion"`
	Server          clientInfo `json:"server"`
	ConnectionID    string     `json:"connectionId"`
	MaxMessageBytes int64      `json:"maxMessageBytes"`
	CallTimeoutMs   int64      `json:"callTimeoutMs"`
	PingIntervalMs  int64      `json:"pingIntervalMs"`
	Naming          string     `json:"naming,omitempty"`
}

type toolSpec struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema"`
	Params       []string        `json:"params"`
}

type registerParams struct {
	Namespace   string     `json:"namespace"`
	Description string     `json:"description"`
	Scope       string     `json:"scope"`
	Tools       []toolSpec `json:"tools"`
}

type registerResult struct {
	Namespace string   `json:"namespace"`
	Scope     string   `json:"scope"`
	Functions []string `json:"functions"`
}

type namespaceParams struct {
	Namespace string `json:"namespace"`
}

type executeToolParams struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Args      map[string]any `json:"args"`
	TimeoutMs int64          `json:"timeoutMs"`
	Deadline  int64          `json:"deadline"`
	// Meta carries the call's W3C trace context (traceparent, tracestate), when it has one.
	Meta map[string]any `json:"_meta,omitempty"`
}

type executeToolRequest struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      int64             `json:"id"`
	Method  string            `json:"method"`
	Params  executeToolParams `json:"params"`
}

// toolResult accepts pctx/1's {value} and the published client's {output}.
type toolResult struct {
	Value  json.RawMessage `json:"value"`
	Output json.RawMessage `json:"output"`
}

type cancelParams struct {
	ID     json.RawMessage `json:"id"`
	Reason string          `json:"reason,omitempty"`
}

type notification struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type listParams struct {
	Namespace string `json:"namespace"`
	Query     string `json:"query"`
}

type detailsParams struct {
	Functions []string `json:"functions"`
}

type textResult struct {
	Text string `json:"text"`
}

type executeParams struct {
	Code string `json:"code"`
	// Meta may carry the caller's W3C trace context (traceparent, tracestate).
	Meta map[string]any `json:"_meta"`
	// Per-call limits (docs/protocol.md §5.3), the published pctx-client's fields.
	ToolTimeoutSecs      *int           `json:"tool_timeout_secs"`
	ToolTimeoutOverrides map[string]int `json:"tool_timeout_overrides"`
	// The published client's disclosure (docs/protocol.md §10.3).
	Disclosure string `json:"disclosure"`
}

// callTimeouts are p's per-call limits, clamped to 1–600 s as the original pctx does.
func (p executeParams) callTimeouts() catalog.CallTimeouts {
	var t catalog.CallTimeouts
	if p.ToolTimeoutSecs != nil {
		t.Default = catalog.ClampCallTimeout(*p.ToolTimeoutSecs)
	}
	if len(p.ToolTimeoutOverrides) > 0 {
		t.PerTool = make(map[string]time.Duration, len(p.ToolTimeoutOverrides))
		for id, secs := range p.ToolTimeoutOverrides {
			t.PerTool[id] = catalog.ClampCallTimeout(secs)
		}
	}
	return t
}

// executeResult is the pctx/1 execute_typescript result (docs/protocol.md §5.3).
func executeResult(r *runtime.Result, text string) map[string]any {
	out := map[string]any{
		"value":      r.Value,
		"console":    r.Console,
		"durationMs": float64(r.Duration.Microseconds()) / 1000,
		"calls":      r.Calls,
		"text":       text,
	}
	if r.Console == nil {
		out["console"] = []runtime.ConsoleLine{}
	}
	if r.Error != nil {
		out["error"] = r.Error
	}
	return out
}
