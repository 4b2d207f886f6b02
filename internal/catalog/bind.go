package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pctx-dev/pctx/internal/runtime"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// bind returns the runtime binding of f: JS arguments → argument object → validation →
// Tool.Call. Every error names the function: "ns.fn: <cause>".
func (f *function) bind() runtime.Func {
	return func(ctx context.Context, args []any) (res any, err error) {
		obj, err := f.argObject(args)
		if err == nil {
			err = f.validate(obj)
		}
		if err == nil {
			res, err = f.call(ctx, obj)
		}
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", f.ns, f.name, err)
		}
		return res, nil
	}
}

// call runs the backend's CallFunc; a panic in it becomes an error rather than taking
// the whole server down.
func (f *function) call(ctx context.Context, obj map[string]any) (res any, err error) {
	return f.callWithLimit(ctx, func(ctx context.Context) (res any, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("backend panicked: %v", r)
			}
		}()
		return f.tool.Call(ctx, obj)
	})
}

// argObject turns a call's JS arguments into the tool's argument object.
//
// Trailing undefined/null arguments are dropped first (the runtime passes both as nil,
// and omitting lets the backend's defaults apply). Then:
//
// Positional tools (Params set): argument i becomes property Params[i], except that an
// undefined/null argument is left out (so f(x, undefined, y) skips the middle
// parameter, as JS callers expect); more arguments than parameters is an error. A lone plain-object argument whose keys are all parameter
// names (or none: {}) is taken as the argument object itself (named-argument style), unless
// the first parameter accepts objects, in which case it is that parameter's value.
//
// MCP-style tools: no argument is {}; one plain object is the argument object; more than
// one argument is an error. When the input has exactly one required property P, a lone
// argument v is P's value instead (the call becomes {P: v}) when:
//   - v is not a plain object (a string, number, array or boolean); or
//   - v is a non-empty object none of whose keys is a property of the input schema,
//     and P's schema accepts objects.
//
// So an object that names P, or any declared property, or is empty, is always the
// argument object; validation then reports what is missing.
func (f *function) argObject(args []any) (map[string]any, error) {
	for len(args) > 0 && args[len(args)-1] == nil {
		args = args[:len(args)-1]
	}
	if f.tool.Params != nil {
		return f.positional(args)
	}
	switch len(args) {
	case 0:
		return map[string]any{}, nil
	case 1:
	default:
		return nil, fmt.Errorf("takes one argument object, got %d arguments (call it as %s)", len(args), f.line)
	}
	v := args[0]
	m, isObj := v.(map[string]any)
	if f.shortcut != "" && (!isObj || f.valueObject(m)) {
		return map[string]any{f.shortcut: v}, nil
	}
	if !isObj {
		return nil, fmt.Errorf("takes one argument object, got %s (call it as %s)", jsType(v), f.line)
	}
	return m, nil
}

// valueObject reports whether m is the shortcut property's value rather than the
// argument object (see argObject).
func (f *function) valueObject(m map[string]any) bool {
	if len(m) == 0 {
		return false
	}
	for k := range m {
		if f.declared(k) {
			return false
		}
	}
	s := f.schemas()
	p, _ := s.param(f.shortcut)
	budget := maxAdmitsSteps
	return admitsObject(s.in, p.schema, &budget)
}

func (f *function) positional(args []any) (map[string]any, error) {
	ps := f.tool.Params
	if len(args) == 1 {
		// An empty object is the empty argument object too (f({}) for a tool whose
		// parameters are all optional, or that has none), as the declarations promise.
		if m, ok := args[0].(map[string]any); ok && allParams(m, ps) && (len(ps) == 0 || !f.firstParamAdmitsObject()) {
			return m, nil
		}
	}
	if len(args) > len(ps) {
		return nil, fmt.Errorf("takes at most %d arguments, got %d (call it as %s)", len(ps), len(args), f.line)
	}
	obj := make(map[string]any, len(args))
	for i, a := range args {
		if a != nil {
			obj[ps[i]] = a
		}
	}
	return obj, nil
}

func (f *function) firstParamAdmitsObject() bool {
	s := f.schemas()
	p, ok := s.param(f.tool.Params[0])
	budget := maxAdmitsSteps
	return !ok || admitsObject(s.in, p.schema, &budget)
}

func allParams(m map[string]any, ps []string) bool {
	for k := range m {
		found := false
		for _, p := range ps {
			if p == k {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// maxAdmitsSteps bounds admitsObject's walk: $refs and combinators can fan out.
const maxAdmitsSteps = 64

// admitsObject reports whether schema node (of document root) may accept a JSON object.
// It errs towards yes: that only decides how an ambiguous call is read.
func admitsObject(root, node any, budget *int) bool {
	if *budget--; *budget < 0 {
		return true
	}
	n, ok := node.(*object)
	if !ok {
		return node != false
	}
	if ref, ok := n.val("$ref").(string); ok {
		if ptr, ok := localPointer(ref); ok {
			if t, ok := resolvePointer(root, ptr); ok && !admitsObject(root, t, budget) {
				return false
			}
		}
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		if arr, ok := n.val(kw).([]any); ok && len(arr) > 0 {
			some := false
			for _, m := range arr {
				some = some || admitsObject(root, m, budget)
			}
			if !some {
				return false
			}
		}
	}
	if arr, ok := n.val("allOf").([]any); ok {
		for _, m := range arr {
			if !admitsObject(root, m, budget) {
				return false
			}
		}
	}
	if c, ok := n.get("const"); ok {
		_, isObj := c.(*object)
		return isObj
	}
	if arr, ok := n.val("enum").([]any); ok {
		for _, v := range arr {
			if _, isObj := v.(*object); isObj {
				return true
			}
		}
		return false
	}
	switch t := n.val("type").(type) {
	case string:
		return t == "object"
	case []any:
		for _, v := range t {
			if v == "object" {
				return true
			}
		}
		return false
	}
	return !hasAny(n, "items", "prefixItems")
}

// jsType names a converted JS value's type for error messages.
func jsType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case float64, float32, int, int64, int32:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// validate checks obj against the input schema; a schema that could not be compiled
// lets everything through (see validator).
func (f *function) validate(obj map[string]any) error {
	sch, _ := f.validator()
	if sch == nil {
		return nil
	}
	err := sch.Validate(obj)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("invalid arguments: %w", err)
	}
	var msgs []string
	collectViolations(ve, &msgs)
	const maxShown = 3
	if len(msgs) > maxShown {
		msgs = append(msgs[:maxShown], fmt.Sprintf("and %d more", len(msgs)-maxShown))
	}
	if len(msgs) == 0 {
		msgs = []string{"arguments do not match the input schema"}
	}
	return errors.New(strings.Join(msgs, "; "))
}

var printer = message.NewPrinter(language.English)

// collectViolations flattens a validation error into "argument "x": why" lines. It
// stops at anyOf/oneOf: listing why each alternative failed would bury the point.
func collectViolations(e *jsonschema.ValidationError, out *[]string) {
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, fmt.Sprintf("argument %q: missing required property", fieldPath(append(e.InstanceLocation[:len(e.InstanceLocation):len(e.InstanceLocation)], m))))
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, fmt.Sprintf("argument %q: unknown property (not in the input schema)", fieldPath(append(e.InstanceLocation[:len(e.InstanceLocation):len(e.InstanceLocation)], p))))
		}
		return
	case *kind.AnyOf, *kind.OneOf:
		*out = append(*out, located(e.InstanceLocation, "matches none of the allowed forms"))
		return
	}
	if len(e.Causes) == 0 {
		*out = append(*out, located(e.InstanceLocation, e.ErrorKind.LocalizedString(printer)))
		return
	}
	for _, c := range e.Causes {
		collectViolations(c, out)
	}
}

func located(loc []string, msg string) string {
	if len(loc) == 0 {
		return "arguments: " + msg
	}
	return fmt.Sprintf("argument %q: %s", fieldPath(loc), msg)
}

// fieldPath renders an instance location like "edits[0].oldText".
func fieldPath(loc []string) string {
	var b strings.Builder
	for i, tok := range loc {
		if _, err := strconv.Atoi(tok); err == nil && i > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}
