package pctxsdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/token"
	"reflect"
	"strings"
)

var (
	// ErrUnauthorized is returned by Run when the server refuses the API key (HTTP 401).
	ErrUnauthorized = errors.New("pctx refused the API key (HTTP 401)")
	// ErrConnectionLost is the error of a request whose connection closed before its
	// answer, and the cause of a handler's context when its connection closes.
	ErrConnectionLost = errors.New("connection to pctx lost")
	// ErrCallTimedOut is the cause (context.Cause) of a handler's context when the
	// call's deadline (timeoutMs) passed or the server cancelled it for a timeout.
	ErrCallTimedOut = errors.New("call timed out")
	// ErrCallCancelled is the cause of a handler's context when the server cancelled the
	// call because the execution that made it ended.
	ErrCallCancelled = errors.New("call cancelled by pctx")
	// ErrWorkerStopped is the cause of a handler's context when Run's context ended.
	ErrWorkerStopped = errors.New("worker stopped")
)

// ErrorTyper is implemented by errors that name their own type for the agent. A
// handler error's type shows in the agent's error message,
// `infra.restart_service: <type>: <message>`; without ErrorTyper it is the error's Go
// type name when that type is exported (`fs.PathError`), and omitted otherwise (the
// errors of errors.New and fmt.Errorf).
type ErrorTyper interface {
	ErrorType() string
}

// ArgsError reports arguments that do not fit a tool's input type. The agent sees it as
// an invalid-arguments error (code -32602). Handlers may return it themselves.
type ArgsError struct {
	Err error
}

// Error says the arguments are invalid, and why.
func (e *ArgsError) Error() string { return "invalid arguments: " + e.Err.Error() }

// Unwrap returns the reason.
func (e *ArgsError) Unwrap() error { return e.Err }

// panicError is a recovered handler panic.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// toolError turns a handler's failure into the protocol's error object (§4.1).
func toolError(err error) *RPCError {
	var args *ArgsError
	if errors.As(err, &args) {
		return &RPCError{Code: CodeInvalidParams, Message: err.Error()}
	}
	var data toolErrorData
	var p *panicError
	msg := err.Error()
	if errors.As(err, &p) {
		// The type says it was a panic: "ns.fn: panic: <value>".
		data = toolErrorData{Type: "panic", Traceback: string(p.stack)}
		msg = fmt.Sprint(p.value)
	} else {
		data.Type = errorType(err)
	}
	e := &RPCError{Code: CodeToolError, Message: msg}
	if data != (toolErrorData{}) {
		e.Data, _ = json.Marshal(data)
	}
	return e
}

// errorType names err's type for the agent (see ErrorTyper).
func errorType(err error) string {
	var typer ErrorTyper
	if errors.As(err, &typer) {
		return typer.ErrorType()
	}
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !token.IsExported(t.Name()) {
		return ""
	}
	pkg := t.PkgPath()
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		pkg = pkg[i+1:]
	}
	if pkg == "" {
		return t.Name()
	}
	return pkg + "." + t.Name()
}
