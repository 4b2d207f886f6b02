package codemode

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// The three tools' names and model-facing descriptions. They are the one source of truth:
// the MCP server publishes them, and SDK clients fetch them from the server (the framework
// adapters must not carry copies).
const (
	ListFunctionsName      = "list_functions"
	FunctionDetailsName    = "get_function_details"
	ExecuteTypeScriptName  = "execute_typescript"
	ListFunctionsSummary   = "List every function you can call from execute_typescript, as compact TypeScript signatures grouped by namespace. Call this first. Optional filters: `namespace` (exact name) and `query` (case-insensitive words matched against names and descriptions)."
	FunctionDetailsSummary = "Get full TypeScript declarations (argument and result types, documentation, an example call) for the functions you intend to use, named \"namespace.function\" exactly as list_functions shows them. Call this before writing code that uses a function whose types you have not seen."
)

// ExecuteTypeScriptSummary tells a model how to write programs for execute_typescript.
const ExecuteTypeScriptSummary = `Run a TypeScript program once in a fresh sandbox and get back only what it returns. Use it to call many functions in one step instead of one tool call each: filter, join and summarise data in code, and return just the answer.

How to write the program:
- First call list_functions (and get_function_details for the functions you will use); call functions exactly as listed: namespace.function(...).
- Every function is async: use await, and Promise.all to run independent calls concurrently.
- Functions listed with named parameters take them positionally: ml.predict_churn("cust_1"). Functions listed with one object parameter take an object: github.create_issue({ repo: "a/b", title: "t" }). A function whose object has exactly one required property may also be called with that value alone: stripe.get_customer("cus_1").
- Results arrive as parsed JavaScript values. A failed call rejects with an Error whose message says which function failed and why; catch it with try/catch if you can recover.
- Top-level await works. End with a top-level ` + "`return value`" + ` to get the value back as JSON (or define async function run() and it is called for you). console.log output is returned too; use it for progress notes, not for the result.
- There is no network, file system, require, process or fetch: only the listed functions. setTimeout works within the time limit.`

// ToolSpec is one of the three tools as a model sees it.
type ToolSpec struct {
	Name        string
	Description string
	InputSchema json.RawMessage
	ReadOnly    bool // it only reads: list and details
}

var toolSpecs = []ToolSpec{
	{
		Name:        ListFunctionsName,
		Description: ListFunctionsSummary,
		InputSchema: json.RawMessage(`{"type":"object","properties":{"namespace":{"type":"string","description":"Only list this namespace."},"query":{"type":"string","description":"Only list functions whose name or description matches these words."}}}`),
		ReadOnly:    true,
	},
	{
		Name:        FunctionDetailsName,
		Description: FunctionDetailsSummary,
		InputSchema: json.RawMessage(`{"type":"object","properties":{"functions":{"type":"array","items":{"type":"string"},"description":"Functions to describe, as \"namespace.function\"."}},"required":["functions"]}`),
		ReadOnly:    true,
	},
	{
		Name:        ExecuteTypeScriptName,
		Description: ExecuteTypeScriptSummary,
		InputSchema: json.RawMessage(`{"type":"object","properties":{"code":{"type":"string","description":"The TypeScript program. End with ` + "`return value`" + `."}},"required":["code"]}`),
	},
}

// Tools returns the three tools' names, descriptions and input schemas, in the order a
// model should use them.
func Tools() []ToolSpec { return slices.Clone(toolSpecs) }

// FormatResult renders an execution as the compact text a model reads: the returned value
// as JSON, then console lines, then one line of stats. For a failed execution it starts
// with the error and its position in the agent's code.
func FormatResult(r *runtime.Result) string {
	var b strings.Builder
	if r.Error != nil {
		writeError(&b, r.Error)
	} else {
		value, err := json.Marshal(r.Value)
		if err != nil {
			// runtime.Result.Value is plain data by contract; say so rather than hide it.
			fmt.Fprintf(&b, "(result not representable as JSON: %v)", err)
		} else {
			b.Write(value)
		}
		b.WriteByte('\n')
	}
	if len(r.Console) > 0 {
		b.WriteString("--- console ---\n")
		for _, line := range r.Console {
			if line.Level != "log" && line.Level != "info" {
				fmt.Fprintf(&b, "[%s] ", line.Level)
			}
			b.WriteString(line.Text)
			b.WriteByte('\n')
		}
	}
	calls := "calls"
	if r.Calls == 1 {
		calls = "call"
	}
	fmt.Fprintf(&b, "--- %s, %d %s ---", formatDuration(r.Duration.Seconds()*1000), r.Calls, calls)
	return b.String()
}

func writeError(b *strings.Builder, e *runtime.Error) {
	b.WriteString("Error")
	if e.Kind != "" {
		fmt.Fprintf(b, " (%s)", e.Kind)
	}
	if e.Line > 0 {
		fmt.Fprintf(b, " at line %d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	b.WriteByte('\n')
	// A JS stack starts with the message the line above already shows.
	stack := strings.TrimPrefix(strings.TrimRight(e.Stack, "\n"), e.Message)
	if stack = strings.TrimLeft(stack, "\n"); strings.TrimSpace(stack) != "" {
		b.WriteString(stack)
		b.WriteByte('\n')
	}
}

func formatDuration(ms float64) string {
	if ms < 10 {
		return fmt.Sprintf("%.2f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
