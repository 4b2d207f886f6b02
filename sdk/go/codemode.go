package pctxsdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ExecResult is the outcome of one Code Mode program (docs/protocol.md §5.3). A program
// that throws is not a Go error: Error says why it failed.
type ExecResult struct {
	// Value is what the program returned, as JSON ("null" when nothing or on error).
	Value json.RawMessage `json:"value"`
	// Console holds the program's console output in order.
	Console []ConsoleLine `json:"console"`
	// Error is set when the program failed (threw, timed out, hit a limit).
	Error *ExecError `json:"error,omitempty"`
	// DurationMs is the wall-clock time of the execution in milliseconds.
	DurationMs float64 `json:"durationMs"`
	// Calls is the number of function calls the program made.
	Calls int `json:"calls"`
	// Text is the compact text the MCP tool shows a model: value, console, error, stats.
	Text string `json:"text"`
}

// ConsoleLine is one console call of a program.
type ConsoleLine struct {
	// Level is log, info, warn, error or debug.
	Level string `json:"level"`
	Text  string `json:"text"`
}

// ExecError describes why a program failed. Line and Column are 1-based in the
// submitted code, 0 when unknown.
type ExecError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Stack   string `json:"stack,omitempty"`
}

// Error formats the failure with its position.
func (e *ExecError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s at %d:%d: %s", e.Kind, e.Line, e.Column, e.Message)
	}
	return e.Kind + ": " + e.Message
}

// Err returns the program's failure as an error, or nil when it succeeded.
func (r *ExecResult) Err() error {
	if r.Error == nil {
		return nil
	}
	return r.Error
}

// Decode unmarshals the program's return value into v.
func (r *ExecResult) Decode(v any) error {
	if err := json.Unmarshal(r.Value, v); err != nil {
		return fmt.Errorf("pctxsdk: decode program value: %w", err)
	}
	return nil
}

// CodeModeTool is one of the three MCP tools pctx publishes, as the server describes it.
type CodeModeTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"inputSchema"`
}

// ListFilter narrows ListFunctions; its zero value lists everything.
type ListFilter struct {
	// Namespace is an exact (sanitised) namespace name.
	Namespace string
	// Query is a case-insensitive word match on names and descriptions.
	Query string
}

// Execute runs a TypeScript program in Code Mode, as execute_typescript does for an MCP
// client. It sees every global namespace plus this worker's session namespaces. It waits
// for Run to connect first. If ctx ends before the answer, the execution is cancelled on
// the server and Execute returns ctx's error.
func (w *Worker) Execute(ctx context.Context, code string) (*ExecResult, error) {
	var res ExecResult
	if err := w.call(ctx, "execute_typescript", executeParams{Code: code}, &res, true); err != nil {
		return nil, err
	}
	return &res, nil
}

// ListFunctions returns the compact TypeScript listing of the functions the filter
// selects, the text the MCP tool list_functions returns.
func (w *Worker) ListFunctions(ctx context.Context, f ListFilter) (string, error) {
	var res textResult
	if err := w.call(ctx, "list_functions", listFunctionsParams(f), &res, false); err != nil {
		return "", err
	}
	return res.Text, nil
}

// FunctionDetails returns the full TypeScript declarations of the named functions
// ("ns.fn"), the text the MCP tool get_function_details returns.
func (w *Worker) FunctionDetails(ctx context.Context, functions ...string) (string, error) {
	if len(functions) == 0 {
		return "", errors.New("pctxsdk: get_function_details: name at least one function")
	}
	var res textResult
	if err := w.call(ctx, "get_function_details", functionDetailsParams{Functions: functions}, &res, false); err != nil {
		return "", err
	}
	return res.Text, nil
}

// CodeModeTools returns the three Code Mode tools with the descriptions and input
// schemas the server publishes over MCP, for agent frameworks that expose them.
func (w *Worker) CodeModeTools(ctx context.Context) ([]CodeModeTool, error) {
	var res struct {
		Tools []CodeModeTool `json:"tools"`
	}
	if err := w.call(ctx, "code_mode_tools", struct{}{}, &res, false); err != nil {
		return nil, err
	}
	return res.Tools, nil
}

func (w *Worker) call(ctx context.Context, method string, params, out any, cancelOnAbort bool) error {
	c, err := w.waitConn(ctx)
	if err != nil {
		return fmt.Errorf("pctxsdk: %s: %w", method, err)
	}
	if err := c.request(ctx, method, params, out, cancelOnAbort); err != nil {
		return fmt.Errorf("pctxsdk: %s: %w", method, err)
	}
	return nil
}
