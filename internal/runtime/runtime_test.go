package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// regexp2 keeps a clock goroutine alive for about a second after its last timed
	// match; it is regexp2's, bounded, and stops by itself.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/dlclark/regexp2/v2.runClock"))
}

// run executes code with no functions and default limits.
func run(t *testing.T, code string) *Result {
	t.Helper()
	return Execute(context.Background(), code, nil, Limits{})
}

// asJSON renders a value the way a caller would send it, so expectations can be
// written as JSON text.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestValues(t *testing.T) {
	tests := []struct {
		name, code, want string
	}{
		{"arithmetic", "return 1+1", "2"},
		{"no return", "const x = 1", "null"},
		{"undefined", "return undefined", "null"},
		{"top-level await", "const x = await Promise.resolve(20); return x + 1", "21"},
		{"await in loop", "let s = 0; for (const p of [1,2,3].map(async x => x)) s += await p; return s", "6"},
		{"string", `return "héllo"`, `"héllo"`},
		{"float", "return 0.5", "0.5"},
		{"negative zero", "return -0", "0"},
		{"NaN and Infinity", "return [NaN, Infinity, -Infinity]", "[null,null,null]"},
		{"big integer number", "return 2**60", "1152921504606847000"},
		{"nested", "return {a: [1, {b: null}], c: true}", `{"a":[1,{"b":null}],"c":true}`},
		{"undefined members", "return {a: undefined, b: [undefined, 1]}", `{"b":[null,1]}`},
		{"functions dropped", "return {f() {}, g: 1, h: [() => 1]}", `{"g":1,"h":[null]}`},
		{"symbols dropped", "return {s: Symbol('x'), t: 1}", `{"t":1}`},
		{"date", "return new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6))", `"2024-01-02T03:04:05.006Z"`},
		{"invalid date", "return new Date(NaN)", "null"},
		{"map with string keys", "return new Map([['a', 1], ['b', new Set([2])]])", `{"a":1,"b":[2]}`},
		{"map with other keys", "return new Map([[1, 'x'], [{k: 2}, 'y']])", `[[1,"x"],[{"k":2},"y"]]`},
		{"set", "return new Set([1, 'a', 1])", `[1,"a"]`},
		{"small bigint", "return 42n", "42"},
		{"huge bigint", "return 2n ** 80n", `"1208925819614629174706176"`},
		{"regexp", "return /a+/gi", `"/a+/gi"`},
		{"error value", "return new TypeError('bad')", `{"message":"bad","name":"TypeError"}`},
		{"class instance", "class P { x = 1; constructor(public y: number) {} m() {} } return new P(2)", `{"x":1,"y":2}`},
		{"toJSON", "return {toJSON() { return 'custom' }}", `"custom"`},
		{"shared not cyclic", "const o = {v: 1}; return [o, o]", `[{"v":1},{"v":1}]`},
		{"typed array", "return new Uint8Array([1, 2, 255])", "[1,2,255]"},
		{"boxed primitives", "return [new String('s'), new Number(2), new Boolean(false)]", `["s",2,false]`},
		{"promise member", "return {p: Promise.resolve(1)}", `{"p":{}}`},
		{"getter", "return {get g() { return 7 }}", `{"g":7}`},
		{"returned promise is awaited", "return Promise.resolve(5)", "5"},
		{"arguments object", "return (function() { return arguments })(1, 2)", "[1,2]"},
		{"sparse array", "const a = []; a[2] = 1; return a", "[null,null,1]"},
		{"proxy", "return new Proxy({a: 1}, {})", `{"a":1}`},
		{"object key order survives", "return Object.keys({b: 1, a: 2})", `["b","a"]`},

		// The run() convention.
		{"run declaration", "async function run() { return 'ran' }", `"ran"`},
		{"run arrow", "const run = async () => { await null; return 3 }", "3"},
		{"run sync", "function run() { return [1] }", "[1]"},
		{"run called explicitly", "let n = 0; async function run() { n++; return n }\nawait run(); return n", "1"},
		{"run called without return", "async function run() { return 1 }\nawait run()", "null"},
		{"run referenced", "async function run() { return 1 }\nconst f = run; return typeof f", `"function"`},
		{"run shorthand property", "function run() { return 1 }\nreturn {run}.run === run", "true"},
		{"run recursive", "function run(n = 3): number { return n ? run(n - 1) + 1 : 0 }", "3"},
		{"run with top-level return", "function run() { return 'no' }\nreturn 'yes'", `"yes"`},
		{"run as method only", "const o = {run() { return 1 }}; return o.run()", "1"},
		{"run that is not a function", "const run = 5\nconst x = run + 1", "null"},
		{"run function expression", "const run = async function () { return 'expr' }", `"expr"`},
		{"run nested is not top-level", "function outer() { function run() { return 1 } }", "null"},

		// TypeScript syntax.
		{"types and interfaces", "interface P { x: number; y?: string }\nconst p: P = {x: 1}\nreturn p.y ?? p.x", "1"},
		{"enum", "enum Color { Red, Green = 5, Blue }\nreturn [Color.Red, Color.Blue, Color[5]]", `[0,6,"Green"]`},
		{"const enum", "const enum D { Up = 'up' }\nreturn D.Up", `"up"`},
		{"generics", "function id<T>(x: T): T { return x }\nreturn id<string>('g')", `"g"`},
		{"optional chaining", "const o: any = {a: {b: null}}\nreturn [o?.a?.b?.c, o.x?.y, o.a?.['b']]", "[null,null,null]"},
		{"type assertion and satisfies", "const x = ({a: 1} as const) satisfies {a: number}\nreturn (x as any).a", "1"},
		{"abstract class", "abstract class A { abstract f(): number; g() { return this.f() + 1 } }\nclass B extends A { f() { return 1 } }\nreturn new B().g()", "2"},
		{"parameter properties", "class C { constructor(private a: number, readonly b = 2) {} sum() { return this.a + this.b } }\nreturn new C(1).sum()", "3"},
		{"type-only import is erased", "type T = {a: number}\nconst t: T = {a: 1}\nreturn t.a", "1"},

		// Modern syntax that goja lacks and esbuild lowers, and syntax goja has.
		{"async generator and for await", "async function* g() { yield 1; yield 2 }\nconst out: number[] = []\nfor await (const x of g()) out.push(x)\nreturn out", "[1,2]"},
		{"for await over promises", "const out = []\nfor await (const x of [Promise.resolve(1), 2]) out.push(x)\nreturn out", "[1,2]"},
		{"class fields and private members", "class A { #x = 1; static y = 2; #m() { return this.#x } get x() { return this.#m() } static { A.y++ } }\nreturn new A().x + A.y", "4"},
		{"private in", "class A { #p = 1; static has(o: any) { return #p in o } }\nreturn A.has(new A())", "true"},
		{"optional catch binding", "try { throw 1 } catch { return 'caught' }", `"caught"`},
		{"logical assignment", "let a: any = null; a ??= 1; a ||= 2; a &&= 3; return a", "3"},
		{"numeric separators", "return 1_000_000", "1000000"},
		{"using declaration", "const log: string[] = []\n{ using r = {[Symbol.dispose]() { log.push('disposed') }}; log.push('body') }\nreturn log", `["body","disposed"]`},
		{"destructuring and spread", "const {a, ...rest} = {a: 1, b: 2, c: 3}; return [a, {...rest}, [...'hi']]", `[1,{"b":2,"c":3},["h","i"]]`},
		{"labels and generators", "function* g() { yield* [1, 2] } outer: for (const x of g()) { for (;;) { if (x === 2) break outer; break } } return [...g()]", "[1,2]"},
		{"array helpers", "return [[1, [2]].flat(), [1, 2].at(-1), Object.fromEntries([['k', 1]]), 'aXbX'.replaceAll('X', '-')]", `[[1,2],2,{"k":1},"a-b-"]`},
		{"promise combinators", "const r = await Promise.allSettled([Promise.reject(new Error('x')), 1]); return [r.map(x => x.status), await Promise.any([Promise.reject(1), 2])]", `[["rejected","fulfilled"],2]`},
		{"json round trip", `return JSON.parse(JSON.stringify({a: [1, "x"]}))`, `{"a":[1,"x"]}`},
		{"regexp features", `return ['2024-01'.match(/(?<y>\d+)-(?<m>\d+)/)!.groups!.m, /(?<=a)b/.test('ab'), /a.b/s.test('a\nb')]`, `["01",true,true]`},
		{"timer arguments", "return await new Promise(r => setTimeout(r, 1, 'arg'))", `"arg"`},
		{"clearTimeout", "let fired = false\nconst id = setTimeout(() => { fired = true }, 1)\nclearTimeout(id)\nawait new Promise(r => setTimeout(r, 5))\nreturn fired", "false"},
		{"setInterval", "let n = 0\nawait new Promise<void>(r => { const id = setInterval(() => { if (++n === 3) { clearInterval(id); r() } }, 1) })\nreturn n", "3"},
		{"caught rejection", "try { await Promise.reject(new Error('x')) } catch (e: any) { return e.message }", `"x"`},
		{"rejection handled later in the same tick", "const p = Promise.reject(new Error('x')); p.catch(() => {}); return 1", "1"},
		{"globals are plain", "return [typeof require, typeof process, typeof fetch, typeof module, typeof Deno, typeof globalThis.console]", `["undefined","undefined","undefined","undefined","undefined","object"]`},
		{"eval of own code is sandboxed", "return eval('typeof process') + ' ' + new Function('return typeof require')()", `"undefined undefined"`},
		{"constructor escape finds nothing", "const g = (function(this: any) { return this }).constructor('return this')(); return [typeof g.process, typeof g.require]", `["undefined","undefined"]`},
		{"string with html", `return "<a>&"`, `"<a>&"`},
		{"JSON.stringify keeps its semantics", `return [JSON.stringify({a: [1, {b: 2}], u: undefined, d: new Date(0)}), JSON.stringify({a: 1, b: 2}, ['b']), JSON.stringify({a: 1}, (k, v) => typeof v === 'number' ? v * 2 : v), JSON.stringify([1], null, 2), JSON.stringify(undefined) ?? 'undef', JSON.stringify({toJSON() { return 'x' }})]`, `["{\"a\":[1,{\"b\":2}],\"d\":\"1970-01-01T00:00:00.000Z\"}","{\"b\":2}","{\"a\":2}","[\n  1\n]","undef","\"x\""]`},
		{"guarded array methods keep their semantics", "const a = [3, 1, 2]; return [a.indexOf(1), a.includes(2), a.map(x => x * 2), a.slice(1), [...a].sort(), a.concat([4], 5), [[1, [2]], 3].flat(Infinity), a.join('-'), 'ab'.padStart(4, '.'), [0, 0].fill(7), Array.from('ab'), Math.max.apply(null, a)]", `[1,true,[6,2,4],[1,2],[1,2,3],[3,1,2,4,5],[1,2,3],"3-1-2","..ab",[7,7],["a","b"],3]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, tt.code)
			if res.Error != nil {
				t.Fatalf("error: %+v", res.Error)
			}
			if got := asJSON(t, res.Value); got != tt.want {
				t.Errorf("value = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		code      string
		kind      ErrorKind
		message   string // substring
		line, col int    // 0 = not checked
		stack     string // substring of the stack, if checked
	}{
		{"thrown error on line 7", "const a = 1\nconst b = 2\n\nfunction f() {\n  return 1\n}\n  throw new Error('seven')", KindRuntime, "Error: seven", 7, 9, "at agent.ts:7:9"}, // like V8, the position of `new`
		{"type error on line 7", "// 1\n// 2\n// 3\n// 4\n// 5\nconst o: any = undefined\nconst x = o.field", KindRuntime, "TypeError", 7, 0, ""},
		{"error inside function", "function inner() {\n  throw new RangeError('deep')\n}\nfunction outer() { inner() }\nouter()", KindRuntime, "RangeError: deep", 2, 9, "at inner (agent.ts:2:9)\n    at outer (agent.ts:4:"},
		{"error after await", "await null\n\nthrow new Error('later')", KindRuntime, "Error: later", 3, 0, ""},
		{"error on first line", "throw new Error('one')", KindRuntime, "Error: one", 1, 7, ""},
		{"error below type-only lines", "interface A {\n  x: number\n}\ntype B = string\nenum E { X }\nconst e: E = E.X\nnull!.y", KindRuntime, "TypeError", 7, 0, ""},
		{"thrown string", "throw 'plain'", KindRuntime, `Uncaught "plain"`, 0, 0, ""},
		{"thrown object", "throw {code: 42}", KindRuntime, `Uncaught {"code":42}`, 0, 0, ""},
		{"thrown undefined", "throw undefined", KindRuntime, "Uncaught undefined", 0, 0, ""},
		{"unhandled rejection", "Promise.reject(new Error('lost'))\nawait new Promise(r => setTimeout(r, 5))", KindRuntime, "Uncaught (in promise) Error: lost", 1, 16, ""},
		{"rejected run", "async function run() {\n  throw new Error('in run')\n}", KindRuntime, "Error: in run", 2, 9, ""},
		{"exception in timer", "setTimeout(() => { throw new Error('tick') }, 1)\nawait new Promise(r => setTimeout(r, 10))", KindRuntime, "Error: tick", 1, 0, ""},
		{"syntax error", "const x = 1\nconst = 2", KindSyntax, "SyntaxError", 2, 7, ""},
		{"syntax error on line 7", "\n\n\n\n\n\nlet x: number = )", KindSyntax, "SyntaxError", 7, 17, ""},
		{"unterminated", "const s = {\n  a: 1,", KindSyntax, "Unexpected end of input", 2, 0, ""},
		{"unterminated string", "const s = 'abc", KindSyntax, "Unterminated string", 1, 0, ""},
		{"import is refused", "import fs from 'fs'", KindSyntax, "import and export are not available", 1, 0, ""},
		{"export is refused", "export async function run() {}", KindSyntax, "import and export are not available", 1, 1, ""},
		{"dynamic import is refused", "const x = 1\nawait import('fs')", KindSyntax, "SyntaxError", 2, 0, ""},
		{"never settles", "await new Promise(() => {})", KindUnsettled, "nothing can settle", 0, 0, ""},
		{"cycle in result", "const o: any = {a: {b: [1]}}\no.a.b.push(o)\nreturn o", KindResult, "result contains a cycle at result.a.b[1]", 0, 0, ""},
		{"cycle through a map", "const m = new Map<string, any>()\nm.set('self', m)\nreturn m", KindResult, "cycle at result.self", 0, 0, ""},
		{"result nests too deep", "let o: any = 1\nfor (let i = 0; i < 2000; i++) o = [o]\nreturn o", KindResult, "nests deeper than 1000", 0, 0, ""},
		{"getter throws during conversion", "return {get bad() { throw new Error('getter') }}", KindRuntime, "Error: getter", 1, 0, ""},
		{"stack overflow", "function f(n: number): number { return f(n + 1) + 1 }\nreturn f(0)", KindStack, "Maximum call stack size exceeded", 1, 0, "at f (agent.ts:1:"},
		{"string in setTimeout is refused", "setTimeout('1+1', 1)", KindRuntime, "TypeError", 1, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, tt.code)
			e := res.Error
			if e == nil {
				t.Fatalf("no error; value %v", asJSON(t, res.Value))
			}
			if e.Kind != tt.kind || !strings.Contains(e.Message, tt.message) {
				t.Fatalf("error = %+v, want kind %s containing %q", e, tt.kind, tt.message)
			}
			if tt.line != 0 && e.Line != tt.line {
				t.Errorf("line = %d, want %d (%+v)", e.Line, tt.line, e)
			}
			if tt.col != 0 && e.Column != tt.col {
				t.Errorf("column = %d, want %d (%+v)", e.Column, tt.col, e)
			}
			if tt.stack != "" && !strings.Contains(e.Stack, tt.stack) {
				t.Errorf("stack %q does not contain %q", e.Stack, tt.stack)
			}
			if strings.Contains(e.Stack, "(native)") || strings.Contains(e.Stack, "<eval>") {
				t.Errorf("stack not trimmed to agent frames: %q", e.Stack)
			}
			if n := strings.Count(e.Stack, "\n    at "); n > maxFrames {
				t.Errorf("stack has %d frames, want at most %d", n, maxFrames)
			}
		})
	}
}

func TestConsole(t *testing.T) {
	tests := []struct {
		name, code string
		want       []ConsoleLine
	}{
		{"levels", "console.log('l'); console.info('i'); console.warn('w'); console.error('e'); console.debug('d')",
			[]ConsoleLine{{"log", "l"}, {"info", "i"}, {"warn", "w"}, {"error", "e"}, {"debug", "d"}}},
		{"mixed arguments", "console.log('n', 1, 1.5, true, null, undefined, 10n, Symbol('s'))",
			[]ConsoleLine{{"log", "n 1 1.5 true null undefined 10n Symbol(s)"}}},
		{"objects as JSON in key order", "console.log({b: 1, a: 'x', n: {d: new Date(0)}}, [1, 'two'])",
			[]ConsoleLine{{"log", `{"b":1,"a":"x","n":{"d":"1970-01-01T00:00:00.000Z"}} [1,"two"]`}}},
		{"nested strings are quoted, top-level raw", "console.log('top', ['in'])",
			[]ConsoleLine{{"log", `top ["in"]`}}},
		{"cycles are marked", "const o: any = {a: 1}; o.self = o; console.log(o)",
			[]ConsoleLine{{"log", `{"a":1,"self":"[Circular]"}`}}},
		{"functions", "console.log(function named() {}, () => 1, {f() {}})",
			[]ConsoleLine{{"log", `[Function: named] [Function (anonymous)] {"f":"[Function: f]"}`}}},
		{"map and set", "console.log(new Map([['k', 1]]), new Set([1]))",
			[]ConsoleLine{{"log", `{"k":1} [1]`}}},
		{"errors print their stack", "console.error(new Error('boom'))",
			[]ConsoleLine{{"error", "Error: boom\n    at agent.ts:1:15"}}},
		{"format directives", "console.log('%s is %d years and %i%% %f', 'Al', 42.5, 3.9, 1.5, 'extra')",
			[]ConsoleLine{{"log", "Al is 42.5 years and 3% 1.5 extra"}}},
		{"json directive", "console.log('%j %o', {a: 1}, [2])",
			[]ConsoleLine{{"log", `{"a":1} [2]`}}},
		{"empty", "console.log()", []ConsoleLine{{"log", ""}}},
		{"no html escaping", "console.log({s: '<&>'})", []ConsoleLine{{"log", `{"s":"<&>"}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, tt.code)
			if res.Error != nil {
				t.Fatalf("error: %+v", res.Error)
			}
			if !reflect.DeepEqual(res.Console, tt.want) {
				t.Errorf("console = %q, want %q", res.Console, tt.want)
			}
		})
	}
}

// recorder is a Func that records its arguments and returns a fixed value or error.
func recorder(got *[]any, ret any, err error) Func {
	var mu sync.Mutex
	return func(ctx context.Context, args []any) (any, error) {
		mu.Lock()
		*got = append(*got, args)
		mu.Unlock()
		return ret, err
	}
}

func TestFunctions(t *testing.T) {
	type item struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	tests := []struct {
		name     string
		code     string
		ret      any
		err      error
		wantArgs string // JSON of the recorded argument lists
		want     string // JSON of the value
		wantErr  string // substring of the error message, when an error is expected
		line     int
	}{
		{"object argument", "return await ns.fn({a: 1, b: 'x', c: [true, null], d: 1.5})", "ok", nil, `[[{"a":1,"b":"x","c":[true,null],"d":1.5}]]`, `"ok"`, "", 0},
		{"positional arguments", "return await ns.fn('cust_1', 2, undefined)", 1, nil, `[["cust_1",2,null]]`, "1", "", 0},
		{"no arguments", "return await ns.fn()", nil, nil, `[[]]`, "null", "", 0},
		{"argument conversion", "return await ns.fn({d: new Date(0), m: new Map([['k', 1]]), s: new Set([1]), b: 5n, f() {}, u: undefined})", nil, nil, `[[{"b":5,"d":"1970-01-01T00:00:00.000Z","m":{"k":1},"s":[1]}]]`, "null", "", 0},
		{"map result becomes a JS object", "const r = await ns.fn(); return [r.a.b[1], Object.getPrototypeOf(r) === Object.prototype, Array.isArray(r.a.b)]", map[string]any{"a": map[string]any{"b": []any{1, "two"}}}, nil, `[[]]`, `["two",true,true]`, "", 0},
		{"result is a fresh JS array", "const r = await ns.fn(); r.push(3); return r.length", []any{1, 2}, nil, `[[]]`, "3", "", 0},
		{"struct result goes through JSON", "const r = await ns.fn(); return r.map((x: any) => x.name + x.n)", []item{{"a", 1}, {"b", 2}}, nil, `[[]]`, `["a1","b2"]`, "", 0},
		{"raw JSON result", "return (await ns.fn()).k", json.RawMessage(`{"k": [1, 2]}`), nil, `[[]]`, "[1,2]", "", 0},
		{"raw JSON keeps the backend's key order", "return Object.keys(await ns.fn())", json.RawMessage(`{"zeta": 1, "alpha": {"b": 2, "a": 1}, "mid": null}`), nil, `[[]]`, `["zeta","alpha","mid"]`, "", 0},
		{"raw JSON __proto__ is a plain key", "const r = await ns.fn(); return [Object.getPrototypeOf(r) === Object.prototype, r.__proto__ !== undefined, ({} as any).polluted]", json.RawMessage(`{"__proto__": {"polluted": true}}`), nil, `[[]]`, `[true,true,null]`, "", 0},
		{"raw JSON numbers", "return await ns.fn()", json.RawMessage(`[9007199254740993, 1.5, -3, 1e3]`), nil, `[[]]`, "[9007199254740992,1.5,-3,1000]", "", 0},
		{"bad raw JSON rejects", "try { await ns.fn() } catch (e: any) { return e.message.startsWith('ns.fn: unusable result: decode JSON') }", json.RawMessage(`{"a": 1} {"b": 2}`), nil, `[[]]`, "true", "", 0},
		{"result types", "return await ns.fn()", []any{int64(1 << 40), float32(0.5), uint8(7), json.Number("12")}, nil, `[[]]`, "[1099511627776,0.5,7,12]", "", 0},
		{"error rejects, can be caught", "try { await ns.fn() } catch (e: any) { return [e instanceof Error, e.message] }", nil, errors.New("backend down"), `[[]]`, `[true,"ns.fn: backend down"]`, "", 0},
		{"uncaught rejection ends the execution", "const x = 1\n\nawait ns.fn()", nil, errors.New("boom"), `[[]]`, "", "Error: ns.fn: boom", 3},
		{"unawaited rejection ends the execution", "ns.fn()\nawait new Promise(r => setTimeout(r, 20))", nil, errors.New("lost"), `[[]]`, "", "Uncaught (in promise) Error: ns.fn: lost", 1},
		{"message already naming the function is kept", "await ns.fn()", nil, errors.New("ns.fn: timed out"), `[[]]`, "", "Error: ns.fn: timed out", 1},
		{"cyclic argument is a TypeError", "const o: any = {}; o.o = o\ntry { ns.fn(o) } catch (e: any) { return e.name + ': ' + e.message }", nil, nil, `null`, `"TypeError: argument 1 of ns.fn contains a cycle at args[0].o"`, "", 0},
		{"unusable result rejects", "try { await ns.fn() } catch (e: any) { return e.message }", func() {}, nil, `[[]]`, `"ns.fn: unusable result: func() is not plain data: json: unsupported type: func()"`, "", 0},
		{"every call returns a promise", "const p = ns.fn(); return [p instanceof Promise, await p]", 5, nil, `[[]]`, "[true,5]", "", 0},
		{"run convention with calls", "async function run() {\n  const [a, b] = await Promise.all([ns.fn(1), ns.fn(2)])\n  return a + b\n}", 10, nil, "", "20", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []any
			fns := Functions{"ns.fn": recorder(&got, tt.ret, tt.err)}
			res := Execute(context.Background(), tt.code, fns, Limits{})
			if tt.wantErr != "" {
				if res.Error == nil || !strings.Contains(res.Error.Message, tt.wantErr) {
					t.Fatalf("error = %+v, want %q", res.Error, tt.wantErr)
				}
				if tt.line != 0 && res.Error.Line != tt.line {
					t.Errorf("line = %d, want %d (%+v)", res.Error.Line, tt.line, res.Error)
				}
			} else {
				if res.Error != nil {
					t.Fatalf("error: %+v", res.Error)
				}
				if v := asJSON(t, res.Value); v != tt.want {
					t.Errorf("value = %s, want %s", v, tt.want)
				}
			}
			if tt.wantArgs != "" {
				if a := asJSON(t, got); a != tt.wantArgs {
					t.Errorf("args = %s, want %s", a, tt.wantArgs)
				}
			}
			if res.Calls != len(got) {
				t.Errorf("Calls = %d, want %d", res.Calls, len(got))
			}
		})
	}
}

func TestNamespaces(t *testing.T) {
	fns := Functions{
		"github.list_issues": func(ctx context.Context, args []any) (any, error) { return "issues", nil },
		"github.get_issue":   func(ctx context.Context, args []any) (any, error) { return "issue", nil },
		"ml.predict":         func(ctx context.Context, args []any) (any, error) { return 0.9, nil },
	}
	res := Execute(context.Background(), "return [await github.list_issues(), await github.get_issue(), await ml.predict(), Object.keys({a: 1}), Math.max(1, 2)]", fns, Limits{})
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	if got := asJSON(t, res.Value); got != `["issues","issue",0.9,["a"],2]` {
		t.Errorf("value = %s", got)
	}

	// Names that resolve to builtins are never bound, inherited ones included: the catalog
	// refuses them, and this is the second line. "constructor" would reach Object.
	for _, name := range []string{"Math.answer", "constructor.keys", "escape.length", "ns.toString", "ns.__proto__"} {
		clash := Execute(context.Background(), "return Object.keys({a: 1})", Functions{name: fns["ml.predict"]}, Limits{})
		if clash.Error == nil || clash.Error.Kind != KindInternal || !strings.Contains(clash.Error.Message, "clashes with a JavaScript builtin") {
			t.Errorf("%s: error = %+v", name, clash.Error)
		}
	}

	// A bare name is a global function, counted and limited like any other call.
	global := Execute(context.Background(), "return [await invoke({ name: 'x' }), typeof invoke]",
		Functions{"invoke": func(ctx context.Context, args []any) (any, error) { return args[0], nil }}, Limits{})
	if global.Error != nil || asJSON(t, global.Value) != `[{"name":"x"},"function"]` || global.Calls != 1 {
		t.Errorf("global function: %+v, value %s, calls %d", global.Error, asJSON(t, global.Value), global.Calls)
	}

	// A name without a namespace or a function, or a global that would replace a builtin.
	for _, name := range []string{".fn", "ns.", "", "Object", "console"} {
		bad := Execute(context.Background(), "return 1", Functions{name: fns["ml.predict"]}, Limits{})
		if bad.Error == nil || bad.Error.Kind != KindInternal || !strings.Contains(bad.Error.Message, fmt.Sprintf("%q", name)) {
			t.Errorf("bad name %q: error = %+v", name, bad.Error)
		}
	}
}

// TestCallsOverlap checks that Funcs run concurrently: 100 calls under Promise.all
// that each wait until all 100 have started can only complete if all are in flight
// together (sequential calls would wait forever, and the hang-catching timeout end it).
func TestCallsOverlap(t *testing.T) {
	const n = 100
	var started atomic.Int32
	all := make(chan struct{})
	fns := Functions{"ns.barrier": func(ctx context.Context, args []any) (any, error) {
		if started.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return args[0], nil
	}}
	code := fmt.Sprintf("const r = await Promise.all(Array.from({length: %d}, (_, i) => ns.barrier(i)))\nreturn r.reduce((a, b) => a + b, 0)", n)
	res := Execute(context.Background(), code, fns, Limits{Timeout: hangTimeout, MaxCallsInFlight: n})
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	if got := asJSON(t, res.Value); got != "4950" {
		t.Errorf("value = %s, want 4950", got)
	}
	if res.Calls != n {
		t.Errorf("Calls = %d, want %d", res.Calls, n)
	}
}

// TestAbandonedCalls checks that when the code finishes, or a limit ends it, calls
// still in flight see their context cancelled, and nothing outlives Execute but them.
func TestAbandonedCalls(t *testing.T) {
	for _, tt := range []struct {
		name, code string
		lim        Limits
		kind       ErrorKind
	}{
		{"finished", "ns.block(); return 1", Limits{}, ""},
		{"timeout", "await ns.block()", Limits{Timeout: 50 * time.Millisecond}, KindTimeout},
		{"thrown", "ns.block(); throw new Error('x')", Limits{}, KindRuntime},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cancelled := make(chan struct{})
			started := make(chan struct{})
			fns := Functions{"ns.block": func(ctx context.Context, args []any) (any, error) {
				close(started)
				<-ctx.Done()
				close(cancelled)
				return nil, ctx.Err()
			}}
			res := Execute(context.Background(), tt.code, fns, tt.lim)
			if tt.kind == "" && res.Error != nil || tt.kind != "" && (res.Error == nil || res.Error.Kind != tt.kind) {
				t.Fatalf("error = %+v, want kind %q", res.Error, tt.kind)
			}
			<-started
			<-cancelled // would hang (and the test time out) if the context were not cancelled
		})
	}
}

func TestCallerContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fns := Functions{"ns.wait": func(c context.Context, args []any) (any, error) {
		cancel()
		<-c.Done()
		return nil, c.Err()
	}}
	res := Execute(ctx, "await ns.wait()", fns, Limits{})
	if res.Error == nil || res.Error.Kind != KindCanceled {
		t.Fatalf("error = %+v, want canceled", res.Error)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer dcancel()
	res = Execute(dctx, "for (;;) {}", nil, Limits{})
	if res.Error == nil || res.Error.Kind != KindTimeout {
		t.Fatalf("error = %+v, want timeout from the caller's deadline", res.Error)
	}
}

func TestLimits(t *testing.T) {
	slow := func(ctx context.Context, args []any) (any, error) {
		select {
		case <-time.After(time.Millisecond):
			return 1, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	tests := []struct {
		name string
		code string
		lim  Limits
		kind ErrorKind
		msg  string
	}{
		{"timeout", "while (true) {}", Limits{Timeout: 50 * time.Millisecond}, KindTimeout, "time limit"},
		{"timeout while awaiting", "await new Promise(r => setTimeout(r, 60000))", Limits{Timeout: 50 * time.Millisecond}, KindTimeout, ""},
		{"timeout cannot be caught", "try { for (;;) {} } catch { } finally { }\nreturn 1", Limits{Timeout: 50 * time.Millisecond}, KindTimeout, ""},
		{"stack depth", "function f(n: number): number { return n === 0 ? 0 : 1 + f(n - 1) }\nreturn f(200)", Limits{MaxStackDepth: 100}, KindStack, "limit 100"},
		{"stack depth is catchable? no", "function f(): number { return f() }\ntry { f() } catch { return 'caught' }", Limits{MaxStackDepth: 100}, KindStack, ""},
		{"total calls", "for (let i = 0; i < 6; i++) await ns.slow()", Limits{MaxCalls: 5}, KindCalls, "limit is 5"},
		{"calls in flight", "await Promise.all(Array.from({length: 6}, () => ns.slow()))", Limits{MaxCallsInFlight: 5}, KindCallsInFlight, "limit is 5"},
		{"timers count as in flight", "for (let i = 0; i < 6; i++) setTimeout(() => {}, 1000)", Limits{MaxCallsInFlight: 5}, KindCallsInFlight, ""},
		{"console bytes", "for (let i = 0; i < 100; i++) console.log('0123456789')", Limits{MaxConsoleBytes: 100}, KindConsole, "100-byte limit"},
		{"one huge console line", "console.log('x'.repeat(1000))", Limits{MaxConsoleBytes: 100}, KindConsole, ""},
		{"huge object in console", "console.log({a: 'x'.repeat(1000)})", Limits{MaxConsoleBytes: 100}, KindConsole, ""},
		{"result bytes", "return 'x'.repeat(200)", Limits{MaxResultBytes: 100}, KindResult, "100-byte limit"},
		{"result bytes of many small values", "return Array.from({length: 100}, (_, i) => i)", Limits{MaxResultBytes: 100}, KindResult, ""},
		{"result bytes counted exactly", "return '\"'.repeat(60)", Limits{MaxResultBytes: 100}, KindResult, ""},
		{"repeat guard", "return 'abc'.repeat(2 ** 28)", Limits{}, KindMemory, "String.prototype.repeat"},
		{"padStart guard", "return ''.padStart(2 ** 30)", Limits{}, KindMemory, "padStart"},
		{"padEnd guard", "return ''.padEnd(2 ** 30, 'ab')", Limits{}, KindMemory, "padEnd"},
		{"fill guard", "const a = new Array(2 ** 31); a.fill(0)", Limits{}, KindMemory, "fill"},
		{"join guard", "const a = []; a.length = 2 ** 31; return a.join('xx')", Limits{}, KindMemory, "join"},
		{"Array.from guard", "return Array.from({length: 2 ** 31})", Limits{}, KindMemory, "Array.from"},
		{"apply guard", "return Math.max.apply(null, {length: 2 ** 31} as any)", Limits{}, KindMemory, "apply"},
		{"Reflect.apply guard", "return Reflect.apply(Math.max, null, {length: 2 ** 31} as any)", Limits{}, KindMemory, "Reflect.apply"},
		{"ArrayBuffer guard", "return new ArrayBuffer(2 ** 31)", Limits{}, KindMemory, "ArrayBuffer"},
		{"typed array guard", "return new Float64Array(2 ** 28)", Limits{}, KindMemory, "Float64Array"},
		{"typed array from array-like guard", "return new Uint8Array({length: 2 ** 31})", Limits{}, KindMemory, "Uint8Array"},
		{"growth", "const a: number[][] = []\nfor (;;) a.push(new Array(1e4).fill(1))", Limits{MaxMemory: 32 << 20}, KindMemory, "heap"},
		{"string growth", "let s = 'x'; const keep: string[] = []\nfor (;;) { s = s + s.slice(0, 1e5) + 'y'; keep.push(s) }", Limits{MaxMemory: 32 << 20}, KindMemory, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Execute(context.Background(), tt.code, Functions{"ns.slow": slow}, tt.lim)
			if res.Error == nil {
				t.Fatalf("no error; value %s", asJSON(t, res.Value))
			}
			if res.Error.Kind != tt.kind || !strings.Contains(res.Error.Message, tt.msg) {
				t.Fatalf("error = %+v, want kind %s with %q", res.Error, tt.kind, tt.msg)
			}
		})
	}
}

func TestLimitsAllowUpToTheBound(t *testing.T) {
	one := func(ctx context.Context, args []any) (any, error) { return 1, nil }
	tests := []struct {
		name, code string
		lim        Limits
	}{
		{"calls", "for (let i = 0; i < 5; i++) await ns.one()", Limits{MaxCalls: 5}},
		{"calls in flight", "await Promise.all([ns.one(), ns.one(), ns.one()]); await Promise.all([ns.one(), ns.one(), ns.one()])", Limits{MaxCallsInFlight: 3}},
		{"console", "console.log('0123456789')", Limits{MaxConsoleBytes: 10}},
		{"result", "return 'x'.repeat(8)", Limits{MaxResultBytes: 10}},
		{"stack", "function f(n: number): number { return n === 0 ? 0 : 1 + f(n - 1) }\nreturn f(50)", Limits{MaxStackDepth: 100}},
		{"repeat below the limit", "return 'x'.repeat(1 << 20).length", Limits{}},
		{"catastrophe-free regexp", "return /(a+)+$/.test('a'.repeat(40) + '!')", Limits{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Execute(context.Background(), tt.code, Functions{"ns.one": one}, tt.lim)
			if res.Error != nil {
				t.Fatalf("error: %+v", res.Error)
			}
		})
	}
}

// TestFreshVM checks that nothing one execution does is visible to the next.
func TestFreshVM(t *testing.T) {
	steps := []string{
		"Object.prototype.polluted = 'yes'; Array.prototype.push = () => 0; (globalThis as any).leak = 1; JSON.stringify = () => 'x'",
		"return [({} as any).polluted, (globalThis as any).leak, [].push(1), JSON.stringify(1)]",
	}
	if res := run(t, steps[0]); res.Error != nil {
		t.Fatal(res.Error)
	}
	res := run(t, steps[1])
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	if got := asJSON(t, res.Value); got != `[null,null,1,"1"]` {
		t.Errorf("second execution saw %s", got)
	}
}

// TestTamperingDoesNotBreakTheHost checks that code overwriting the builtins the runtime
// itself uses still gets its result converted and its errors reported.
func TestTamperingDoesNotBreakTheHost(t *testing.T) {
	for _, code := range []string{
		"(globalThis as any).Error = null; (globalThis as any).Promise = null; return {a: [1]}",
		"Object.prototype.toJSON = () => 'hijacked'; return {a: 1}",
		"Array.prototype[Symbol.iterator] = null; Map.prototype[Symbol.iterator] = null; return new Map([['a', 1]])",
	} {
		res := Execute(context.Background(), code, Functions{"ns.f": func(context.Context, []any) (any, error) { return nil, errors.New("x") }}, Limits{})
		if res.Error != nil && res.Error.Kind == KindInternal {
			t.Errorf("%q: internal error %+v", code, res.Error)
		}
	}
	res := Execute(context.Background(), "(globalThis as any).Error = function() {}\nawait ns.f()", Functions{"ns.f": func(context.Context, []any) (any, error) { return nil, errors.New("down") }}, Limits{})
	if res.Error == nil || !strings.Contains(res.Error.Message, "ns.f: down") {
		t.Errorf("error = %+v, want the call's error", res.Error)
	}
}

func TestFuncPanicIsAnError(t *testing.T) {
	fns := Functions{"ns.bad": func(context.Context, []any) (any, error) { panic("oops") }}
	res := Execute(context.Background(), "try { await ns.bad() } catch (e: any) { return e.message }", fns, Limits{})
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	if got := asJSON(t, res.Value); got != `"ns.bad: panic: oops"` {
		t.Errorf("value = %s", got)
	}
}

// TestConcurrentExecutions runs 8 executions at once (run it with -race): each must see
// only its own functions, globals and console.
func TestConcurrentExecutions(t *testing.T) {
	const n = 8
	var wg sync.WaitGroup
	results := make([]*Result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fns := Functions{"ns.id": func(ctx context.Context, args []any) (any, error) {
				time.Sleep(time.Millisecond)
				return i, nil
			}}
			code := fmt.Sprintf(`(globalThis as any).mine = %d
Object.prototype.owner = %d
const ids = await Promise.all(Array.from({length: 20}, () => ns.id()))
await new Promise(r => setTimeout(r, 5))
console.log("exec", (globalThis as any).mine)
return {ids: [...new Set(ids)], mine: (globalThis as any).mine, owner: ({} as any).owner}`, i, i)
			results[i] = Execute(context.Background(), code, fns, Limits{})
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.Error != nil {
			t.Fatalf("execution %d: %+v", i, res.Error)
		}
		want := fmt.Sprintf(`{"ids":[%d],"mine":%d,"owner":%d}`, i, i, i)
		if got := asJSON(t, res.Value); got != want {
			t.Errorf("execution %d: value %s, want %s", i, got, want)
		}
		if len(res.Console) != 1 || res.Console[0].Text != fmt.Sprintf("exec %d", i) {
			t.Errorf("execution %d: console %q", i, res.Console)
		}
		if res.Calls != 20 {
			t.Errorf("execution %d: Calls = %d", i, res.Calls)
		}
	}
}

func TestResultIsJSON(t *testing.T) {
	res := run(t, "console.log('x'); return {a: 1}")
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"value", "console", "duration", "calls"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
}

func TestDefaultLimits(t *testing.T) {
	want := Limits{DefaultTimeout, DefaultMaxMemory, DefaultMaxStackDepth, DefaultMaxCalls, DefaultMaxCallsInFlight, DefaultMaxConsoleBytes, DefaultMaxResultBytes, DefaultMaxArgumentBytes, 2 * DefaultTimeout}
	if got := DefaultLimits(); got != want {
		t.Errorf("DefaultLimits() = %+v", got)
	}
	custom := Limits{Timeout: time.Second, MaxCalls: 3, MaxMemory: -1}
	got := custom.withDefaults()
	if got.Timeout != time.Second || got.MaxCalls != 3 || got.MaxMemory != DefaultMaxMemory || got.MaxStackDepth != DefaultMaxStackDepth {
		t.Errorf("withDefaults() = %+v", got)
	}
}

func TestTransformCache(t *testing.T) {
	code := "return 'cache-" + t.Name() + "'"
	a, b := compileCached(code), compileCached(code)
	if a != b {
		t.Error("second compile of the same code missed the cache")
	}
	for i := range cacheEntries + 10 {
		compileCached(fmt.Sprintf("return %d", i))
	}
	cache.mu.Lock()
	n := cache.ll.Len()
	cache.mu.Unlock()
	if n > cacheEntries {
		t.Errorf("cache holds %d entries, bound is %d", n, cacheEntries)
	}
	if compileCached(code) == a {
		t.Error("least recently used entry was not evicted")
	}
	// A cached syntax error is handed out as a copy.
	bad := "let = ;"
	r1 := run(t, bad)
	r1.Error.Message = "changed"
	if r2 := run(t, bad); r2.Error.Message == "changed" {
		t.Error("cached error shared between results")
	}
}

// TestConversionBounds: an argument or a result too large for its limit is refused
// before its elements are converted, so a one-line program cannot make the converter
// allocate what the limit forbids.
func TestConversionBounds(t *testing.T) {
	called := false
	fns := Functions{"ns.echo": func(ctx context.Context, args []any) (any, error) { called = true; return args[0], nil }}
	for _, tc := range []struct {
		code, kind, says string
	}{
		{`return await ns.echo(new Array(2 ** 32 - 1))`, "runtime", "argument 1 of ns.echo is larger than the 1024-byte limit (an array of 4294967295 elements)"},
		{`return await ns.echo({a: "x".repeat(600)}, "y".repeat(600))`, "runtime", "argument 2 of ns.echo is larger than"},
		{`return new Uint8Array(2 ** 22)`, "result", "result is larger than the 2048-byte limit"},
		{`return new Array(2 ** 32 - 1)`, "result", "an array of 4294967295 elements"},
	} {
		res := Execute(context.Background(), tc.code, fns, Limits{MaxArgumentBytes: 1024, MaxResultBytes: 2048})
		if res.Error == nil || string(res.Error.Kind) != tc.kind || !strings.Contains(res.Error.Message, tc.says) {
			t.Errorf("%s: error = %+v, want %s saying %q", tc.code, res.Error, tc.kind, tc.says)
		}
	}
	if called {
		t.Error("a call with oversized arguments reached its function")
	}
}

// TestResultTooLargeToBuild: a backend result whose JS values would exceed the memory
// limit ends the execution with a memory error before any value is built (building is
// one loop the VM cannot interrupt).
func TestResultTooLargeToBuild(t *testing.T) {
	big := []byte("[" + strings.Repeat(`{"k":1},`, 100_000) + `{"k":1}]`) // 781 KiB of JSON, ~50 MB of values
	fns := Functions{"ns.big": func(context.Context, []any) (any, error) { return json.RawMessage(big), nil }}
	res := Execute(context.Background(), `const r = await ns.big(); return r.length`, fns, Limits{MaxMemory: 16 << 20})
	if res.Error == nil || res.Error.Kind != KindMemory || !strings.Contains(res.Error.Message, "the result of ns.big (781 KiB of JSON) would take over 52 MiB") {
		t.Fatalf("error = %+v", res.Error)
	}
	res = Execute(context.Background(), `const r = await ns.big(); return r.length`, fns, Limits{MaxMemory: 256 << 20})
	if res.Error != nil || res.Value != int64(100_001) {
		t.Fatalf("within the limit: %v %+v", res.Value, res.Error)
	}
}

// TestCatchAllNamespace: a namespace bound with "ns.*" answers every function name with
// its Func (here, why it is unavailable), and is harmless to await, print or convert.
func TestCatchAllNamespace(t *testing.T) {
	fns := Functions{"gh.*": func(context.Context, []any) (any, error) {
		return nil, errors.New("needs login: run `pctx auth login gh`")
	}}
	res := Execute(context.Background(), `
		let msg = "";
		try { await gh.search_issues({q: "x"}) } catch (e) { msg = e.message }
		const same = gh.search_issues === gh.search_issues;
		await gh; // not a thenable
		return [msg, same, typeof gh.anything, String(gh), JSON.stringify(gh)]`, fns, Limits{})
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	want := "[\"gh.search_issues: needs login: run `pctx auth login gh`\",true,\"function\",\"[object Object]\",\"{}\"]"
	if got := asJSON(t, res.Value); got != want {
		t.Errorf("value = %s\nwant    %s", got, want)
	}
	clash := Execute(context.Background(), "return 1", Functions{"gh.*": fns["gh.*"], "gh.x": fns["gh.*"]}, Limits{})
	if clash.Error == nil || !strings.Contains(clash.Error.Message, "both functions and a catch-all") {
		t.Errorf("functions and catch-all: %+v", clash.Error)
	}
}

// TestNamespaceObjects: a namespace's functions are its own properties, listed in name
// order and made on first read, and a program cannot replace one.
func TestNamespaceObjects(t *testing.T) {
	f := func(context.Context, []any) (any, error) { return "ok", nil }
	fns := Functions{"gh.search": f, "gh.create_issue": f, "ml.predict": f}
	res := Execute(context.Background(), `
		const keys = Object.keys(gh);
		const same = gh.search === gh.search;
		const before = gh.search;
		try { (gh as any).search = () => "mine" } catch {}
		return [keys, same, typeof gh.missing, "search" in gh, await gh.search(), gh.search === before, typeof ml.predict]`, fns, Limits{})
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	if got := asJSON(t, res.Value); got != `[["create_issue","search"],true,"undefined",true,"ok",true,"function"]` {
		t.Errorf("value = %s", got)
	}
}

// TestExecuteCalls: one Caller serves every function, answering on the loop itself or
// later from another goroutine; limits and errors work as with Funcs.
func TestExecuteCalls(t *testing.T) {
	call := func(_ context.Context, name string, args []any, done func(any, error)) {
		switch name {
		case "ns.now":
			done(json.RawMessage(`{"n":1}`), nil) // on the loop, before the call returns
		case "ns.later":
			go done(args[0], nil)
		default:
			go done(nil, errors.New("no such tool"))
		}
	}
	res := ExecuteCalls(context.Background(), `
		const a = await ns.now();
		const b = await Promise.all([ns.later(2), ns.later(3)]);
		let msg = "";
		try { await ns.other() } catch (e) { msg = e.message }
		return [a.n, b, msg]`, []string{"ns.now", "ns.later", "ns.other"}, call, Limits{})
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	if got := asJSON(t, res.Value); got != `[1,[2,3],"ns.other: no such tool"]` {
		t.Errorf("value = %s", got)
	}
	over := ExecuteCalls(context.Background(), `for (;;) await ns.now()`, []string{"ns.now"}, call, Limits{MaxCalls: 5})
	if over.Error == nil || over.Error.Kind != KindCalls {
		t.Errorf("call limit: %+v", over.Error)
	}
}
