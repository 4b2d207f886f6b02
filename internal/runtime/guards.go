package runtime

import (
	"fmt"
	"strconv"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
)

// regexpTimeout bounds one match of a backtracking regular expression. goja runs
// patterns that RE2 accepts on Go's linear-time regexp and the rest (backreferences,
// lookaround) on regexp2, which backtracks and cannot be interrupted by vm.Interrupt.
// regexp2's only bound is a match timeout fixed when a pattern is compiled, so this
// package sets regexp2.DefaultMatchTimeout once, process-wide, unless someone already
// chose one. A timed-out match returns "no match" to goja; the exec guard below turns
// that into a timeout error so the agent never sees a silently wrong answer.
const regexpTimeout = time.Second

func init() {
	if regexp2.DefaultMatchTimeout > 24*time.Hour {
		regexp2.DefaultMatchTimeout = regexpTimeout
	}
}

// Sizes used to estimate what a builtin is about to allocate in one step.
const (
	bytesPerChar  = 2  // goja stores non-ASCII strings as UTF-16
	bytesPerValue = 16 // one goja.Value (an interface) per array element
)

// installGuards replaces the builtins that can allocate a huge amount, or run a long
// non-interruptible loop, in a single call with versions that first estimate the size
// and end the execution with a memory error when one call alone would exceed
// MaxMemory. Growth made of many small steps is the memory watchdog's job.
func (e *execution) installGuards() error {
	vm := e.vm
	proto := func(ctor string) *goja.Object {
		return vm.Get(ctor).(*goja.Object).Get("prototype").(*goja.Object)
	}
	str, arr := proto("String"), proto("Array")
	length := func(v goja.Value) int64 {
		if obj, ok := v.(*goja.Object); ok {
			return obj.Get("length").ToInteger()
		}
		if s, ok := v.(goja.String); ok {
			return int64(s.Length())
		}
		return int64(len(v.String()))
	}
	arrayLike := func(v goja.Value) int64 {
		obj, ok := v.(*goja.Object)
		if !ok {
			return 0
		}
		return obj.Get("length").ToInteger()
	}
	type guard struct {
		obj  *goja.Object
		name string
		what string
		size func(goja.FunctionCall) int64 // estimated bytes the call allocates
	}
	guards := []guard{
		{str, "repeat", "String.prototype.repeat", func(c goja.FunctionCall) int64 {
			return mul(length(c.This), c.Argument(0).ToInteger(), bytesPerChar)
		}},
		{str, "padStart", "String.prototype.padStart", func(c goja.FunctionCall) int64 {
			return mul(c.Argument(0).ToInteger(), bytesPerChar, 1)
		}},
		{str, "padEnd", "String.prototype.padEnd", func(c goja.FunctionCall) int64 {
			return mul(c.Argument(0).ToInteger(), bytesPerChar, 1)
		}},
		{arr, "fill", "Array.prototype.fill", func(c goja.FunctionCall) int64 {
			return mul(arrayLike(c.This), bytesPerValue, 1)
		}},
		{arr, "join", "Array.prototype.join", func(c goja.FunctionCall) int64 {
			sep := int64(1)
			if a := c.Argument(0); !goja.IsUndefined(a) {
				sep = length(a)
			}
			return mul(arrayLike(c.This), sep, bytesPerChar)
		}},
		{vm.Get("Array").(*goja.Object), "from", "Array.from", func(c goja.FunctionCall) int64 {
			return mul(arrayLike(c.Argument(0)), bytesPerValue, 1)
		}},
		{proto("Function"), "apply", "Function.prototype.apply", func(c goja.FunctionCall) int64 {
			return mul(arrayLike(c.Argument(1)), bytesPerValue, 1)
		}},
		{vm.Get("Reflect").(*goja.Object), "apply", "Reflect.apply", func(c goja.FunctionCall) int64 {
			return mul(arrayLike(c.Argument(2)), bytesPerValue, 1)
		}},
		{vm.Get("Reflect").(*goja.Object), "construct", "Reflect.construct", func(c goja.FunctionCall) int64 {
			return mul(arrayLike(c.Argument(1)), bytesPerValue, 1)
		}},
	}
	// Array methods loop over indexes 0..length-1 in Go, where vm.Interrupt cannot
	// reach: on a sparse array or array-like of length 2^32-1, indexOf alone runs for
	// minutes. No dense array longer than MaxMemory/bytesPerValue fits in memory, so a
	// longer length is refused as a memory error before the loop starts.
	overLength := func(c goja.FunctionCall) int64 { return mul(arrayLike(c.This), bytesPerValue, 1) }
	for _, name := range []string{
		"copyWithin", "every", "filter", "find", "findIndex", "findLast", "findLastIndex",
		"flatMap", "forEach", "includes", "indexOf", "lastIndexOf", "map", "reduce",
		"reduceRight", "reverse", "shift", "slice", "some", "sort", "splice",
		"toLocaleString", "toReversed", "toSorted", "toSpliced", "unshift", "with",
	} {
		guards = append(guards, guard{arr, name, "Array.prototype." + name, overLength})
	}
	guards = append(guards,
		guard{arr, "concat", "Array.prototype.concat", func(c goja.FunctionCall) int64 {
			n := arrayLike(c.This)
			for _, a := range c.Arguments {
				n += arrayLike(a)
			}
			return mul(n, bytesPerValue, 1)
		}},
		guard{arr, "flat", "Array.prototype.flat", func(c goja.FunctionCall) int64 {
			depth := int64(1)
			if d := c.Argument(0); !goja.IsUndefined(d) {
				depth = d.ToInteger()
			}
			limit := e.lim.MaxMemory / bytesPerValue
			return mul(flatCount(c.This, depth, limit+1, 0, 0), bytesPerValue, 1)
		}},
	)
	for _, g := range guards {
		orig, ok := goja.AssertFunction(g.obj.Get(g.name))
		if !ok {
			continue // a method this goja version lacks needs no guard
		}
		size, what := g.size, g.what
		fn := vm.ToValue(func(call goja.FunctionCall) goja.Value {
			if fatal := e.fatalErr(); fatal != nil {
				panic(vm.NewGoError(fatal)) // ended: abort whatever builtin loop called us
			}
			// Builtins calling builtins (join -> toString -> join on nested arrays) recurse
			// in Go without passing goja's call-stack limit; count them here.
			e.nativeDepth++
			defer func() { e.nativeDepth-- }()
			if e.nativeDepth > e.lim.MaxStackDepth {
				e.kill(e.stackError(what))
				panic(vm.NewGoError(e.fatalErr()))
			}
			if n := size(call); n > e.lim.MaxMemory {
				e.kill(e.allocError(what, n))
				return goja.Undefined()
			}
			v, err := orig(call.This, call.Arguments...)
			if err != nil {
				panic(err)
			}
			return v
		})
		if err := g.obj.DefineDataProperty(g.name, fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return fmt.Errorf("guard %s: %w", g.what, err)
		}
	}
	if err := e.guardStringify(); err != nil {
		return err
	}
	if err := e.guardParse(); err != nil {
		return err
	}
	if err := e.guardBuffers(); err != nil {
		return err
	}
	return e.guardRegExp(proto("RegExp"))
}

// flatCount counts the elements flat(depth) would produce, giving up once the count
// passes limit. Nested arrays are walked once per reference, as flat itself does, so a
// small value made of shared subarrays is measured by what it expands to. Nesting
// deeper than maxNesting counts as over the limit: goja's flat recurses in Go too.
func flatCount(v goja.Value, depth, limit, count int64, level int) int64 {
	obj, ok := v.(*goja.Object)
	if !ok {
		return count
	}
	if level > maxNesting {
		return limit + 1
	}
	n := obj.Get("length").ToInteger()
	for i := int64(0); i < n && count <= limit; i++ {
		el, isObj := obj.Get(strconv.FormatInt(i, 10)).(*goja.Object)
		if isObj && depth > 0 && el.ClassName() == "Array" {
			count = flatCount(el, depth-1, limit, count, level+1)
			continue
		}
		count++
	}
	return count
}

// guardStringify makes JSON.stringify interruptible and bounded. goja serializes in one
// Go call, so a small value of shared subarrays could expand to gigabytes with no JS
// instruction (hence no interrupt check) in between. With a replacer function goja calls
// back once per value; a Go replacer that passes values through (after the agent's own
// replacer, if any) can count the output and stop it. An array replacer, which selects
// keys, is left as it is.
func (e *execution) guardStringify() error {
	vm := e.vm
	json := vm.Get("JSON").(*goja.Object)
	orig, ok := goja.AssertFunction(json.Get("stringify"))
	if !ok {
		return fmt.Errorf("JSON.stringify is not a function")
	}
	fn := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		replacer := call.Argument(1)
		if obj, isObj := replacer.(*goja.Object); isObj && obj.ClassName() == "Array" {
			v, err := orig(call.This, call.Arguments...)
			if err != nil {
				panic(err)
			}
			return v
		}
		user, _ := goja.AssertFunction(replacer)
		indent := int64(1)
		if sp := call.Argument(2); !goja.IsUndefined(sp) {
			if s, isStr := sp.(goja.String); isStr {
				indent += int64(min(s.Length(), 10))
			} else {
				indent += min(max(sp.ToInteger(), 0), 10)
			}
		}
		var size int64
		counter := vm.ToValue(func(c goja.FunctionCall) goja.Value {
			if fatal := e.fatalErr(); fatal != nil {
				panic(vm.NewGoError(fatal))
			}
			v := c.Argument(1)
			if user != nil {
				var err error
				if v, err = user(c.This, c.Argument(0), v); err != nil {
					panic(err)
				}
			}
			size += int64(len(c.Argument(0).String())) + 8*indent
			if s, isStr := v.(goja.String); isStr {
				size += int64(s.Length())
			}
			if n := mul(size, bytesPerChar, 1); n > e.lim.MaxMemory {
				e.kill(e.allocError("JSON.stringify", n))
				panic(vm.NewGoError(e.fatalErr()))
			}
			return v
		})
		v, err := orig(call.This, call.Argument(0), counter, call.Argument(2))
		if err != nil {
			panic(err)
		}
		return v
	})
	return json.DefineDataProperty("stringify", fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// guardParse refuses JSON text nested deeper than the stack limit before goja's
// recursive parser sees it: deep enough input overflows the Go stack, which kills the
// process rather than the execution.
func (e *execution) guardParse() error {
	vm := e.vm
	json := vm.Get("JSON").(*goja.Object)
	orig, ok := goja.AssertFunction(json.Get("parse"))
	if !ok {
		return fmt.Errorf("JSON.parse is not a function")
	}
	fn := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		if jsonDepth(call.Argument(0).String()) > e.lim.MaxStackDepth {
			e.kill(e.stackError("JSON.parse"))
			panic(vm.NewGoError(e.fatalErr()))
		}
		v, err := orig(call.This, call.Arguments...)
		if err != nil {
			panic(err)
		}
		return v
	})
	return json.DefineDataProperty("parse", fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// jsonDepth is the deepest nesting of arrays and objects in JSON text (strings skipped).
func jsonDepth(s string) int {
	depth, deepest := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if depth++; depth > deepest {
				deepest = depth
			}
		case ']', '}':
			depth--
		}
	}
	return deepest
}

func (e *execution) stackError(what string) *Error {
	return &Error{Kind: KindStack, Message: fmt.Sprintf("RangeError: Maximum call stack size exceeded in %s (limit %d frames)", what, e.lim.MaxStackDepth)}
}

// guardBuffers puts ArrayBuffer and the typed-array constructors behind proxies that
// check the byte size before allocating. A proxy keeps prototype, statics, instanceof
// and subclassing intact.
func (e *execution) guardBuffers() error {
	vm := e.vm
	ctors := map[string]int64{
		"ArrayBuffer": 1, "Int8Array": 1, "Uint8Array": 1, "Uint8ClampedArray": 1,
		"Int16Array": 2, "Uint16Array": 2, "Int32Array": 4, "Uint32Array": 4,
		"Float32Array": 4, "Float64Array": 8, "BigInt64Array": 8, "BigUint64Array": 8,
	}
	for name, elem := range ctors {
		target, ok := vm.Get(name).(*goja.Object)
		if !ok {
			continue // not every goja version has every typed array
		}
		construct, ok := goja.AssertConstructor(target)
		if !ok {
			return fmt.Errorf("%s is not a constructor", name)
		}
		what := "new " + name
		p := vm.NewProxy(target, &goja.ProxyTrapConfig{
			Construct: func(_ *goja.Object, args []goja.Value, newTarget *goja.Object) *goja.Object {
				if len(args) > 0 {
					n := args[0].ToInteger()
					if obj, isObj := args[0].(*goja.Object); isObj {
						n = 0
						if obj.ClassName() != "ArrayBuffer" {
							n = obj.Get("length").ToInteger()
						}
					}
					if size := mul(n, elem, 1); size > e.lim.MaxMemory {
						e.kill(e.allocError(what, size))
						return vm.NewObject()
					}
				}
				obj, err := construct(newTarget, args...)
				if err != nil {
					panic(err)
				}
				return obj
			},
		})
		if err := vm.Set(name, p); err != nil {
			return fmt.Errorf("guard %s: %w", name, err)
		}
	}
	return nil
}

// guardRegExp wraps RegExp.prototype.exec, through which goja then routes most regexp
// operations (match, replace, split, search, matchAll), and RegExp.prototype.test,
// which goja runs directly, to turn a regexp2 match timeout into a timeout error.
func (e *execution) guardRegExp(proto *goja.Object) error {
	for _, name := range []string{"exec", "test"} {
		orig, ok := goja.AssertFunction(proto.Get(name))
		if !ok {
			return fmt.Errorf("RegExp.prototype.%s is not a function", name)
		}
		fn := e.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			if e.fatalErr() != nil {
				return goja.Null() // ended: let a builtin's loop over matches finish at once
			}
			start := time.Now()
			v, err := orig(call.This, call.Arguments...)
			if err != nil {
				panic(err)
			}
			if !v.ToBoolean() && time.Since(start) >= regexpTimeout {
				e.kill(&Error{Kind: KindTimeout, Message: fmt.Sprintf("a regular expression ran longer than %s (catastrophic backtracking?): %s", regexpTimeout, call.This)})
			}
			return v
		})
		if err := proto.DefineDataProperty(name, fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return fmt.Errorf("guard RegExp.prototype.%s: %w", name, err)
		}
	}
	return nil
}

func (e *execution) allocError(what string, n int64) *Error {
	if n >= 1<<40 {
		return &Error{Kind: KindMemory, Message: fmt.Sprintf("memory limit: %s on a length far beyond anything that fits in %d MiB", what, e.lim.MaxMemory>>20)}
	}
	return &Error{Kind: KindMemory, Message: fmt.Sprintf("memory limit: %s would need over %d MiB at once; the limit is %d MiB", what, n>>20, e.lim.MaxMemory>>20)}
}

// mul multiplies non-negative sizes, saturating instead of overflowing.
func mul(a, b, c int64) int64 {
	const limit = 1 << 62
	if a <= 0 || b <= 0 || c <= 0 {
		return 0
	}
	if a > limit/b {
		return limit
	}
	ab := a * b
	if ab > limit/c {
		return limit
	}
	return ab * c
}
