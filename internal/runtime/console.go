package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// consoleLevels are the console methods the sandbox offers; each is captured under
// its own name.
var consoleLevels = []string{"log", "info", "warn", "error", "debug"}

func (e *execution) installConsole() error {
	console := e.vm.NewObject()
	for _, level := range consoleLevels {
		if err := console.Set(level, e.consoleMethod(level)); err != nil {
			return err
		}
	}
	return e.vm.Set("console", console)
}

func (e *execution) consoleMethod(level string) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		budget := e.lim.MaxConsoleBytes - e.consoleBytes
		text, ok := e.format(call.Arguments, budget)
		if !ok || len(text) > budget {
			e.kill(&Error{Kind: KindConsole, Message: fmt.Sprintf("console output exceeded the %d-byte limit", e.lim.MaxConsoleBytes)})
			return goja.Undefined()
		}
		e.consoleBytes += len(text)
		e.console = append(e.console, ConsoleLine{Level: level, Text: text})
		return goja.Undefined()
	}
}

// format renders console arguments the way Node's util.format does: a leading string
// may hold %s %d %i %f %j %o %O %c %% directives; strings print raw, other values as
// inspect shows them, separated by spaces. ok is false once the text outgrows budget.
func (e *execution) format(args []goja.Value, budget int) (string, bool) {
	var b strings.Builder
	rest := args
	if len(args) > 0 {
		if s, isStr := asString(args[0]); isStr {
			if len(s) > budget {
				return "", false
			}
			rest = args[1:]
			if strings.IndexByte(s, '%') < 0 {
				b.WriteString(s)
			} else {
				rest = e.directives(&b, s, rest, budget)
			}
		}
	}
	for _, a := range rest {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if s, isStr := asString(a); isStr {
			if b.Len()+len(s) > budget {
				return "", false
			}
			b.WriteString(s)
			continue
		}
		text, ok := e.inspectBounded(a, budget-b.Len())
		if !ok {
			return "", false
		}
		b.WriteString(text)
	}
	return b.String(), b.Len() <= budget
}

// directives expands printf-like directives in s, consuming args; it returns the
// arguments left over.
func (e *execution) directives(b *strings.Builder, s string, args []goja.Value, budget int) []goja.Value {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		verb := s[i+1]
		if verb == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if !strings.ContainsRune("sdifjoOc", rune(verb)) || len(args) == 0 {
			b.WriteByte(s[i])
			continue
		}
		a := args[0]
		args = args[1:]
		i++
		switch verb {
		case 's':
			if str, isStr := asString(a); isStr {
				b.WriteString(str)
			} else {
				text, _ := e.inspectBounded(a, budget-b.Len())
				b.WriteString(text)
			}
		case 'd', 'i':
			f := a.ToFloat()
			if verb == 'i' {
				f = math.Trunc(f)
			}
			b.WriteString(e.vm.ToValue(f).String())
		case 'f':
			b.WriteString(e.vm.ToValue(a.ToFloat()).String())
		case 'j', 'o', 'O':
			text, _ := e.inspectBounded(a, budget-b.Len())
			b.WriteString(text)
		case 'c': // CSS: ignored, as in Node
		}
		if b.Len() > budget {
			return nil
		}
	}
	return args
}

// inspectLimit bounds how much of a thrown non-Error value an error message shows.
const inspectLimit = 4096

// inspect renders a value for an error message, cut to inspectLimit bytes.
func (e *execution) inspect(v goja.Value) string {
	var text string
	var ok bool
	// Getters and toJSON may throw; this runs outside any JS call, so guard it.
	if err := e.inVM(func() { text, ok = e.inspectBounded(v, inspectLimit) }); err != nil {
		return "[a value that cannot be shown]"
	}
	if !ok {
		return text + "…"
	}
	return text
}

// inspectBounded renders any JS value for humans: objects as JSON (key order kept,
// cycles marked [Circular]), errors as their stack, primitives as JS prints them.
// ok is false if the text would exceed budget bytes; text is then a prefix.
func (e *execution) inspectBounded(v goja.Value, budget int) (text string, ok bool) {
	text, ok = e.render(v, budget)
	if len(text) > budget {
		return text[:budget], false
	}
	return text, ok
}

func (e *execution) render(v goja.Value, budget int) (string, bool) {
	if v == nil || goja.IsUndefined(v) {
		return "undefined", true
	}
	if sym, isSym := v.(*goja.Symbol); isSym {
		return "Symbol(" + sym.String() + ")", true
	}
	obj, isObj := v.(*goja.Object)
	if !isObj {
		switch x := v.Export().(type) {
		case string:
			if len(x) > budget {
				return x[:budget], false
			}
			return strconv.Quote(x), true
		case *big.Int:
			return x.String() + "n", true
		}
		return v.String(), true
	}
	if _, fn := goja.AssertFunction(obj); fn {
		return functionLabel(obj), true
	}
	if obj.ClassName() == "Error" {
		header := errorHeader(obj)
		if s := obj.Get("stack"); s != nil && !goja.IsUndefined(s) {
			if _, _, trimmed := parseStack(e.code, s.String(), header); trimmed != "" {
				return trimmed, true
			}
		}
		return header, true
	}
	c := &converter{vm: e.vm, mode: modeConsole, root: "value", maxSize: budget}
	out, _, err := c.conv(v)
	if err != nil {
		var ce *convError
		if errors.As(err, &ce) {
			return "", false
		}
		panic(err) // a JS exception from a getter or toJSON propagates to the caller
	}
	var b bytes.Buffer
	writeJSON(&b, out)
	return b.String(), true
}

// asString returns v's text when v is a string primitive (goja exports symbols as
// strings too, hence the check).
func asString(v goja.Value) (string, bool) {
	if _, isSym := v.(*goja.Symbol); isSym {
		return "", false
	}
	s, ok := v.Export().(string)
	return s, ok
}
