package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/pctx-dev/pctx/internal/runtime"
	"github.com/pctx-dev/pctx/internal/textdist"
)

// The sidecar disclosure lists every function as an ordinary tool definition and lets a
// program call any of them as invoke({name, arguments}), the original pctx's form, beside
// the namespaces.

// ToolDef is one function as a tool definition: a name every model API accepts, the
// function's description and its input schema as the backend gave it.
type ToolDef struct {
	// Name is "ns__fn", at most MaxToolNameBytes of [A-Za-z0-9_-]: one-to-one with
	// Function within a snapshot (a rare clash or an over-long name gets a deterministic
	// suffix).
	Name         string
	Function     string // "ns.fn", as a program calls it
	Description  string
	InputSchema  json.RawMessage // a JSON Schema of an object; {"type":"object"} when the backend gave none or a broken one
	OutputSchema json.RawMessage // the backend's, or nil
}

// MaxToolNameBytes bounds tool names: the strictest common limit of model APIs.
const MaxToolNameBytes = 64

// InvokeName is the global function of the sidecar disclosure.
const InvokeName = "invoke"

var objectSchema = json.RawMessage(`{"type":"object"}`)

// ToolDefs lists the snapshot's callable functions as tool definitions, ordered by
// Function. The result is built once per snapshot and shared: do not modify it.
func (s *Snapshot) ToolDefs() []ToolDef {
	s.toolsOnce.Do(func() {
		var defs []ToolDef
		for _, n := range s.spaces {
			for _, f := range n.funcs {
				in := f.tool.InputSchema
				if f.inNote != "" || len(bytes.TrimSpace(in)) == 0 || !json.Valid(in) {
					in = objectSchema
				}
				out := f.tool.OutputSchema
				if len(bytes.TrimSpace(out)) == 0 || !json.Valid(out) {
					out = nil
				}
				defs = append(defs, ToolDef{Name: toolName(n.name, f.name), Function: n.name + "." + f.name,
					Description: f.tool.Description, InputSchema: in, OutputSchema: out})
			}
		}
		sort.Slice(defs, func(i, j int) bool { return defs[i].Function < defs[j].Function })
		s.toolIndex = make(map[string]*function, len(defs))
		for i := range defs {
			base := defs[i].Name
			for k := 2; s.toolIndex[defs[i].Name] != nil; k++ {
				suffix := fmt.Sprintf("_%d", k)
				defs[i].Name = base[:min(len(base), MaxToolNameBytes-len(suffix))] + suffix
			}
			ns, fn, _ := strings.Cut(defs[i].Function, ".")
			s.toolIndex[defs[i].Name] = s.byName[ns].byName[fn]
		}
		s.tools = defs
	})
	return s.tools
}

// toolName is "ns__fn" with every character outside [A-Za-z0-9_-] replaced by '_'; a
// name over MaxToolNameBytes keeps its start and ends in a hash of the whole.
func toolName(ns, fn string) string {
	name := strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, ns+"__"+fn)
	if len(name) <= MaxToolNameBytes {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%s_%08x", name[:MaxToolNameBytes-9], h.Sum32())
}

// ToolFunction maps a tool name of ToolDefs to its "ns.fn"; it also accepts "ns.fn"
// itself, as the program calls it.
func (s *Snapshot) ToolFunction(name string) (string, bool) {
	f := s.toolFunc(name)
	if f == nil {
		return "", false
	}
	return f.ns + "." + f.name, true
}

func (s *Snapshot) toolFunc(name string) *function {
	s.ToolDefs()
	if f := s.toolIndex[name]; f != nil {
		return f
	}
	if ns, fn, ok := strings.Cut(name, "."); ok {
		if n := s.lookup(ns); n != nil && n.byName != nil {
			return n.byName[fn]
		}
	}
	return nil
}

// CallTool calls the function a tool name (or "ns.fn") names with the argument object,
// validated against its input schema as a call from a program would be.
func (s *Snapshot) CallTool(ctx context.Context, name string, args map[string]any) (any, error) {
	f := s.toolFunc(name)
	if f == nil {
		return nil, s.unknownTool(name)
	}
	if args == nil {
		args = map[string]any{}
	}
	if err := f.validate(args); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	res, err := f.call(ctx, args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

func (s *Snapshot) unknownTool(name string) error {
	name = oneLine(name, 100)
	var near []string
	for _, d := range s.ToolDefs() {
		if textdist.Levenshtein(strings.ToLower(name), strings.ToLower(d.Name)) <= max(2, len(name)/4) {
			near = append(near, d.Name)
		}
	}
	if len(near) > 3 {
		near = near[:3]
	}
	if len(near) > 0 {
		return fmt.Errorf("unknown tool %q (did you mean %s?)", name, strings.Join(near, ", "))
	}
	return fmt.Errorf("unknown tool %q: name one of the listed tools, like \"namespace__function\"", name)
}

// Invoke is the sidecar's global invoke({name, arguments}) as a runtime function: name
// is a tool name of ToolDefs (or "ns.fn"), arguments the tool's argument object (absent
// means {}). It resolves names against s, so bind it with the snapshot the execution
// runs on.
func (s *Snapshot) Invoke() runtime.Func {
	return func(ctx context.Context, args []any) (any, error) {
		call, ok := firstArg(args).(map[string]any)
		if !ok {
			return nil, errors.New(`invoke: takes one object, like invoke({ name: "namespace__function", arguments: { ... } })`)
		}
		name, ok := call["name"].(string)
		if !ok || name == "" {
			return nil, errors.New(`invoke: "name" must be a tool's name, like "namespace__function"`)
		}
		var obj map[string]any
		switch a := call["arguments"].(type) {
		case nil:
		case map[string]any:
			obj = a
		default:
			return nil, fmt.Errorf("invoke %s: \"arguments\" must be an object, got %s", oneLine(name, 100), jsType(a))
		}
		res, err := s.CallTool(ctx, name, obj)
		if err != nil {
			return nil, fmt.Errorf("invoke: %w", err)
		}
		return res, nil
	}
}

func firstArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

// InvokeDeclarations declares invoke for a type checker: a map from every tool name to
// its function's type, taken from the namespace declarations (so it needs them in scope,
// as Details renders them). A misspelled tool name is a type error and the result has the
// function's result type.
func (s *Snapshot) InvokeDeclarations() string {
	var b strings.Builder
	b.WriteString("type InvokeMap = {\n")
	for _, d := range s.ToolDefs() {
		fmt.Fprintf(&b, "  %s: typeof %s;\n", jsonText(d.Name), d.Function)
	}
	b.WriteString("};\n")
	// Arguments are checked against the tool's schema when invoke runs; a function with a
	// shortcut overload or positional parameters has no single parameter type to reuse.
	b.WriteString("declare function invoke<K extends keyof InvokeMap>(call: { name: K; arguments?: { [key: string]: unknown } }): ReturnType<InvokeMap[K]>;\n")
	return b.String()
}
