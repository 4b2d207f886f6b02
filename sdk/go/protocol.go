package pctxsdk

import (
	"encoding/json"
	"fmt"
)

// ProtocolVersion is the worker protocol version this package speaks (docs/protocol.md).
const ProtocolVersion = "pctx/1"

// Version is this SDK's version, sent to the server as the client version in initialize.
const Version = "0.1.0"

// JSON-RPC error codes of the protocol (docs/protocol.md §8).
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

// message is any JSON-RPC 2.0 frame: a request (Method and ID), a notification (Method,
// no ID) or a response (ID with Result or Error).
type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *RPCError       `json:"error,omitempty"`
}

// RPCError is a JSON-RPC error response from the server: Code is one of the Code*
// constants, Data the error's optional structured details (for CodeNamespaceTaken,
// {"namespace", "owner"}).
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Error reports the code and message.
func (e *RPCError) Error() string {
	return fmt.Sprintf("pctx error %d: %s", e.Code, e.Message)
}

type clientInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type initializeParams struct {
	ProtocolVersion string     `json:"protocolVersion"`
	Client          clientInfo `json:"client"`
}

type initializeResult struct {
	ProtocolVersion string     `json:"protocolVersion"`
	Server          clientInfo `json:"server"`
	ConnectionID    string     `json:"connectionId"`
	MaxMessageBytes int64      `json:"maxMessageBytes"`
	CallTimeoutMs   int64      `json:"callTimeoutMs"`
	PingIntervalMs  int64      `json:"pingIntervalMs"`
}

type wireTool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"inputSchema,omitempty"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	Params       []string        `json:"params,omitempty"`
}

type registerParams struct {
	Namespace   string     `json:"namespace"`
	Description string     `json:"description,omitempty"`
	Scope       Scope      `json:"scope,omitempty"`
	Tools       []wireTool `json:"tools"`
}

type executeToolParams struct {
	Namespace string          `json:"namespace"`
	Name      string          `json:"name"`
	Args      json.RawMessage `json:"args"`
	TimeoutMs int64           `json:"timeoutMs"`
}

type cancelParams struct {
	ID     json.RawMessage `json:"id"`
	Reason string          `json:"reason,omitempty"`
}

type toolResult struct {
	Value any `json:"value"`
}

type toolErrorData struct {
	Type      string `json:"type,omitempty"`
	Traceback string `json:"traceback,omitempty"`
}

type listFunctionsParams struct {
	Namespace string `json:"namespace,omitempty"`
	Query     string `json:"query,omitempty"`
}

type functionDetailsParams struct {
	Functions []string `json:"functions"`
}

type textResult struct {
	Text string `json:"text"`
}

type executeParams struct {
	Code string `json:"code"`
}
