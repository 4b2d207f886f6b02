package codemode

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// The tools' names and model-facing descriptions, one source of truth: the MCP server
// publishes them, and SDK clients fetch the catalog disclosure's three from the server
// (the framework adapters must not carry copies). Each is as short as still tells a
// model what it needs; TestToolSetTokens measures every disclosure's tools/list.
const (
	ListFunctionsName      = "list_functions"
	FunctionDetailsName    = "get_function_details"
	ExecuteTypeScriptName  = "execute_typescript"
	ListFunctionsSummary   = "List the functions execute_typescript can call, one TypeScript signature per line, by namespace. Optional filters: namespace, query (words)."
	FunctionDetailsSummary = "Get full TypeScript declarations (argument and result types, docs) of functions named \"namespace.function\" as listed."
	SearchFunctionsSummary = "Find the functions for a need: the best matches, ranked by score, with signature and summary."
	ExecuteBashSummary     = "Read-only shell over /sdk (cwd): README.md lists every function by namespace with its signature and summary; <namespace>/<function>.d.ts has its TypeScript declarations. Commands: ls, cat, head, tail, grep, find, wc, echo, pwd, joined by |, && and ;."
)

// How programs are written: the part of execute_typescript's description every
// disclosure shares.
const executeRules = "Call `await namespace.function(...)`; Promise.all runs independent calls together. A function listed with an object parameter takes one object ({ repo: \"a/b\" }), one with named parameters takes values in order. Results are parsed values; a failed call throws. End with `return value`. No network, files or require."

// execute_typescript's description per disclosure.
const (
	executeIntro      = "Run a TypeScript program in a fresh sandbox; get back its return value and console output. Do the whole task in one program (many calls, filtering in code) and return only the answer."
	executeCatalog    = executeIntro + " First find functions with list_functions and their types with get_function_details.\n\n" + executeRules
	executeFilesystem = executeIntro + " First find functions with execute_bash (grep -i WORDS README.md; cat namespace/function.d.ts).\n\n" + executeRules
	executeSidecar    = executeIntro + " The other tools are the functions it can call, with the arguments their schemas describe: tool ns__fn is `await ns.fn(args)` or `await invoke({ name: \"ns__fn\", arguments: args })`. Prefer one program to calling the tools one by one.\n\n" + executeRules
	executeInline     = executeIntro + "\n\n" + executeRules + "\n\nFunctions (? marks optional):\n"
)

// ExecuteTypeScriptSummary is execute_typescript's description in the catalog
// disclosure, the one SDK clients get.
const ExecuteTypeScriptSummary = executeCatalog

// ToolSpec is one tool as a model sees it.
type ToolSpec struct {
	Name         string
	Description  string
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage // the sidecar's function tools: the function's, if any
	ReadOnly     bool            // it only reads: list, details, search, bash
	// Function is "ns.fn" for a sidecar function tool, "" for the Code Mode tools.
	Function string
}

var (
	listSpec = ToolSpec{
		Name:        ListFunctionsName,
		Description: ListFunctionsSummary,
		InputSchema: json.RawMessage(`{"type":"object","properties":{"namespace":{"type":"string"},"query":{"type":"string"}}}`),
		ReadOnly:    true,
	}
	detailsSpec = ToolSpec{
		Name:        FunctionDetailsName,
		Description: FunctionDetailsSummary,
		InputSchema: json.RawMessage(`{"type":"object","properties":{"functions":{"type":"array","items":{"type":"string"}}},"required":["functions"]}`),
		ReadOnly:    true,
	}
	searchSpec = ToolSpec{
		Name:        SearchFunctionsName,
		Description: SearchFunctionsSummary,
		InputSchema: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string","description":"What you need, in a few words"},"k":{"type":"integer","description":"How many (default 5)"}},"required":["query"]}`),
		ReadOnly:    true,
	}
	executeBashSpec = ToolSpec{
		Name:        ExecuteBashName,
		Description: ExecuteBashSummary,
		InputSchema: json.RawMessage(`{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}`),
		ReadOnly:    true,
	}
)

func executeSpec(description string) ToolSpec {
	return ToolSpec{
		Name:        ExecuteTypeScriptName,
		Description: description,
		InputSchema: json.RawMessage(`{"type":"object","properties":{"code":{"type":"string"}},"required":["code"]}`),
	}
}

// Tools returns the catalog disclosure's three tools, in the order a model should use
// them: what SDK clients (pctx/1's code_mode_tools) hand their frameworks.
func Tools() []ToolSpec {
	return []ToolSpec{listSpec, detailsSpec, executeSpec(executeCatalog)}
}

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
