package runtime

import (
	"container/list"
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
	"github.com/evanw/esbuild/pkg/api"
	"github.com/go-sourcemap/sourcemap"
)

// sourceName is the file name the agent's code carries in positions and stacks.
const sourceName = "agent.ts"

// The agent's code becomes the body of an async function so that top-level await and
// top-level return work. The prefix sits on the agent's first line, so every line keeps
// its number and only first-line columns shift (by len(wrapPrefix)).
const (
	wrapPrefix = "(async function () {"
	wrapSuffix = "\n})"
)

// autorunCall is appended to the wrapper body when the code defines run and never
// refers to it: the code's own return, if any, still wins because it comes first.
const autorunCall = "\nreturn await run();\n"

// cacheEntries bounds the transform cache, keyed by the SHA-256 of the code. With code
// capped at maxCodeBytes, the cache holds at most a few tens of MiB of programs.
const cacheEntries = 512

// goja (2026-09) parses ES2022 except async generators and for-await; esbuild lowers
// those. `using` declarations are lowered because ES2022 predates them.
var transformOptions = api.TransformOptions{
	Loader:     api.LoaderTS,
	Target:     api.ES2022,
	Supported:  map[string]bool{"async-generator": false, "for-await": false},
	Sourcemap:  api.SourceMapExternal,
	Sourcefile: sourceName,
	Charset:    api.CharsetUTF8,
	LogLevel:   api.LogLevelSilent,
}

// program is the cached outcome of turning agent code into a goja program: either a
// compiled program or the syntax error that prevented it.
type program struct {
	prog *goja.Program
	err  *Error
}

type programCache struct {
	mu    sync.Mutex
	ll    *list.List // front = most recently used; values are *cacheEntry
	items map[[32]byte]*list.Element
}

type cacheEntry struct {
	key [32]byte
	p   *program
}

var cache = &programCache{ll: list.New(), items: make(map[[32]byte]*list.Element)}

// compileCached returns the program for code, compiling it on a cache miss. Safe for
// concurrent use: goja programs are immutable and may run in many runtimes at once.
func compileCached(code string) *program {
	key := sha256.Sum256([]byte(code))
	cache.mu.Lock()
	if el, ok := cache.items[key]; ok {
		cache.ll.MoveToFront(el)
		p := el.Value.(*cacheEntry).p
		cache.mu.Unlock()
		return p
	}
	cache.mu.Unlock()

	// Compile outside the lock; two concurrent misses on the same code both compile and
	// the second insert wins, which is harmless.
	p := compileCode(code)
	cache.mu.Lock()
	defer cache.mu.Unlock()
	if el, ok := cache.items[key]; ok {
		el.Value.(*cacheEntry).p = p
		cache.ll.MoveToFront(el)
		return p
	}
	cache.items[key] = cache.ll.PushFront(&cacheEntry{key: key, p: p})
	for cache.ll.Len() > cacheEntries {
		last := cache.ll.Back()
		cache.ll.Remove(last)
		delete(cache.items, last.Value.(*cacheEntry).key)
	}
	return p
}

// compileCode transpiles TypeScript with esbuild, decides the run() convention and
// compiles the result for goja, attaching esbuild's source map so that goja reports
// positions in the agent's code.
func compileCode(code string) *program {
	if err := checkNesting(code); err != nil {
		return &program{err: err}
	}
	res := api.Transform(wrapPrefix+code+wrapSuffix, transformOptions)
	if len(res.Errors) > 0 {
		return &program{err: esbuildError(code, res.Errors[0])}
	}
	js := string(res.Code)
	sm, err := sourcemap.Parse(sourceName, res.Map)
	if err != nil {
		return &program{err: &Error{Kind: KindInternal, Message: fmt.Sprintf("parse esbuild source map: %v", err)}}
	}
	prg, perr := parseJS(code, js, sm)
	if perr != nil {
		return &program{err: perr}
	}
	if astDepth(prg, maxASTDepth) > maxASTDepth {
		return &program{err: &Error{Kind: KindSyntax, Message: fmt.Sprintf("SyntaxError: expressions nest deeper than %d levels", maxASTDepth)}}
	}
	if wantsAutorun(prg) {
		end := strings.LastIndex(js, "})")
		if end < 0 {
			return &program{err: &Error{Kind: KindInternal, Message: "unexpected esbuild output: no closing wrapper"}}
		}
		js = js[:end] + autorunCall + js[end:]
		if prg, perr = parseJS(code, js, sm); perr != nil {
			return &program{err: perr}
		}
	}
	gp, err := goja.CompileAST(prg, false)
	if err != nil {
		return &program{err: &Error{Kind: KindSyntax, Message: err.Error()}}
	}
	return &program{prog: gp}
}

// parseJS parses esbuild's output and attaches the source map. Source maps named in the
// text are never loaded: the sandbox must not read files.
func parseJS(code, js string, sm *sourcemap.Consumer) (*ast.Program, *Error) {
	prg, err := parser.ParseFile(nil, sourceName, js, 0, parser.WithDisableSourceMaps)
	if err != nil {
		e := &Error{Kind: KindSyntax, Message: "SyntaxError: " + err.Error()}
		if list, ok := err.(parser.ErrorList); ok && len(list) > 0 {
			e.Message = "SyntaxError: " + list[0].Message
			if _, _, line, col, ok := sm.Source(list[0].Position.Line, list[0].Position.Column-1); ok {
				e.Line, e.Column = agentPosition(code, line, col+1)
			}
		}
		return nil, e
	}
	prg.File.SetSourceMap(sm)
	return prg, nil
}

// esbuildError turns esbuild's first diagnostic into an Error positioned in the agent's
// code. esbuild columns are 0-based byte offsets; ours are 1-based characters.
func esbuildError(code string, m api.Message) *Error {
	e := &Error{Kind: KindSyntax, Message: "SyntaxError: " + m.Text}
	if loc := m.Location; loc != nil {
		if loc.Line > strings.Count(code, "\n")+1 {
			// The parser reached the wrapper's closing brace: the code ended too soon.
			e.Message = "SyntaxError: Unexpected end of input"
		}
		line := loc.LineText
		if loc.Line == 1 {
			line = strings.TrimPrefix(line, wrapPrefix)
		}
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "import") || strings.HasPrefix(line, "export") {
			e.Message += " (the code runs as the body of an async function: import and export are not available; call functions as namespace.name(...))"
		}
		col := loc.Column
		if col > len(loc.LineText) {
			col = len(loc.LineText)
		}
		e.Line, e.Column = agentPosition(code, loc.Line, utf8.RuneCountInString(loc.LineText[:col])+1)
	}
	return e
}

// agentPosition converts a 1-based line and column in the wrapped source into the
// agent's own coordinates: first-line columns lose the prefix and positions in the
// wrapper's closing line clamp to the end of the agent's code.
func agentPosition(code string, line, col int) (int, int) {
	lines := strings.Count(code, "\n") + 1
	if line > lines {
		last := code[strings.LastIndexByte(code, '\n')+1:]
		return lines, utf8.RuneCountInString(last) + 1
	}
	if line == 1 {
		col -= len(wrapPrefix)
		if col < 1 {
			col = 1
		}
	}
	return line, col
}

// wantsAutorun reports whether the wrapper body declares run at its top level and nothing
// outside that declaration refers to it (calls it, passes it on, exports it in an object).
func wantsAutorun(prg *ast.Program) bool {
	body := wrapperBody(prg)
	if body == nil {
		return false
	}
	var decl any
	for _, st := range body.List {
		switch st := st.(type) {
		case *ast.FunctionDeclaration:
			if st.Function.Name != nil && st.Function.Name.Name == "run" {
				decl = st
			}
		case *ast.LexicalDeclaration:
			if b := runBinding(st.List); b != nil {
				decl = b
			}
		case *ast.VariableStatement:
			if b := runBinding(st.List); b != nil {
				decl = b
			}
		}
	}
	if decl == nil {
		return false
	}
	w := &refWalker{skip: decl, seen: make(map[*ast.Identifier]bool)}
	for _, st := range body.List {
		w.walk(reflect.ValueOf(st))
	}
	return w.refs == 0
}

// runBinding finds `run = <function>` among a declaration's bindings.
func runBinding(list []*ast.Binding) *ast.Binding {
	for _, b := range list {
		id, ok := b.Target.(*ast.Identifier)
		if !ok || id.Name != "run" {
			continue
		}
		switch b.Initializer.(type) {
		case *ast.FunctionLiteral, *ast.ArrowFunctionLiteral:
			return b
		}
	}
	return nil
}

// wrapperBody finds the body of the async function wrapping the agent's code.
func wrapperBody(prg *ast.Program) *ast.BlockStatement {
	if len(prg.Body) == 0 {
		return nil
	}
	st, ok := prg.Body[0].(*ast.ExpressionStatement)
	if !ok {
		return nil
	}
	fn, ok := st.Expression.(*ast.FunctionLiteral)
	if !ok {
		return nil
	}
	return fn.Body
}

// refWalker counts references to the identifier run anywhere in an AST, except inside
// the node skip (run's own declaration, which may recurse).
type refWalker struct {
	skip any
	seen map[*ast.Identifier]bool
	refs int
}

var (
	identType = reflect.TypeOf((*ast.Identifier)(nil))
	fileType  = reflect.TypeOf((*file.File)(nil))
)

func (w *refWalker) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem())
		}
	case reflect.Pointer:
		if v.IsNil() || v.Type() == fileType {
			return
		}
		if v.CanInterface() && v.Interface() == w.skip {
			return
		}
		if v.Type() == identType {
			id := v.Interface().(*ast.Identifier)
			if id.Name == "run" && !w.seen[id] {
				w.seen[id] = true
				w.refs++
			}
			return
		}
		if ps, ok := v.Interface().(*ast.PropertyShort); ok && ps.Name.Name == "run" {
			w.refs++ // {run} refers to run through a value-typed Identifier
		}
		w.walk(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				w.walk(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			w.walk(v.Index(i))
		}
	}
}
