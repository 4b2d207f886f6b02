package runtime

import (
	"fmt"
	"reflect"

	"github.com/dop251/goja/ast"
)

// esbuild's and goja's parsers are recursive descent and goja's compiler is quadratic
// in expression depth; a Go stack overflow is fatal to the whole process, not a
// recoverable panic. So the code is checked before it reaches them:
//
//   - maxCodeBytes bounds the input, hence the deepest recursion any construct can
//     cause (about 2 KiB of parser stack per level, at least 2 bytes of source per
//     level once the checks below are passed);
//   - checkNesting bounds bracket depth, runs of one-character prefix operators
//     (!!!!x) and the number of tokens in a statement without a separator (; , { }),
//     which bounds chains like if(a)if(a)..., x=x=x..., a=>a=>..., a?b:a?b:...;
//   - astDepth bounds the depth of goja's AST before compilation.
const (
	maxCodeBytes   = 128 << 10
	maxCodeNesting = 1000
	maxRunTokens   = 1500
	maxASTDepth    = 2000
)

// checkNesting scans the source the way a tokenizer would (skipping strings, template
// text and comments) and refuses code whose brackets nest deeper than maxCodeNesting or
// that chains more than maxCodeNesting prefix operators. Regular expression literals
// are not recognized; their brackets are balanced in practice.
func checkNesting(code string) *Error {
	if len(code) > maxCodeBytes {
		return &Error{Kind: KindSyntax, Message: fmt.Sprintf("SyntaxError: the code is %d bytes; the limit is %d", len(code), maxCodeBytes)}
	}
	depth, run, tokens := 0, 0, 0
	inWord := false
	var templates []int // bracket depth at which each open template's ${ started
	line := 1
	fail := func(what string) *Error {
		return &Error{Kind: KindSyntax, Message: fmt.Sprintf("SyntaxError: %s deeper than %d levels", what, maxCodeNesting), Line: line}
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == '\n':
			line++
			inWord = false
			continue
		case c == ' ' || c == '\t' || c == '\r':
			inWord = false
			continue
		case c == '/' && i+1 < len(code) && code[i+1] == '/':
			for i < len(code) && code[i] != '\n' {
				i++
			}
			i--
			continue
		case c == '/' && i+1 < len(code) && code[i+1] == '*':
			i += 2
			for i+1 < len(code) && !(code[i] == '*' && code[i+1] == '/') {
				if code[i] == '\n' {
					line++
				}
				i++
			}
			i++
			continue
		case c == '\'' || c == '"':
			for i++; i < len(code) && code[i] != c && code[i] != '\n'; i++ {
				if code[i] == '\\' {
					i++
				}
			}
		case c == '`' || c == '}' && len(templates) > 0 && templates[len(templates)-1] == depth:
			if c == '}' {
				templates = templates[:len(templates)-1]
			}
			// Template text up to the closing backquote or the next ${.
			for i++; i < len(code) && code[i] != '`'; i++ {
				if code[i] == '\\' {
					i++
				} else if code[i] == '\n' {
					line++
				} else if code[i] == '$' && i+1 < len(code) && code[i+1] == '{' {
					i++
					templates = append(templates, depth)
					if len(templates) > maxCodeNesting {
						return fail("template literals nest")
					}
					break
				}
			}
		case c == '(' || c == '[' || c == '{':
			if depth++; depth > maxCodeNesting {
				return fail("brackets nest")
			}
		case c == ')' || c == ']' || c == '}':
			depth = max(depth-1, 0)
		}
		word := c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
		switch {
		case c == ';' || c == ',' || c == '{' || c == '}':
			tokens = 0
		case !word || !inWord:
			if tokens++; tokens > maxRunTokens {
				return &Error{Kind: KindSyntax, Message: fmt.Sprintf("SyntaxError: a statement of more than %d tokens without ; or , (too deeply nested to compile safely)", maxRunTokens), Line: line}
			}
		}
		inWord = word
		if c == '!' || c == '~' || c == '+' || c == '-' {
			if run++; run > maxCodeNesting {
				return fail("prefix operators chain")
			}
		} else {
			run = 0
		}
	}
	return nil
}

// astDepth is the deepest nesting of AST nodes in prg, computed without recursion so
// that it is safe on any tree the parser produced. It stops counting past limit.
func astDepth(prg *ast.Program, limit int) int {
	type item struct {
		v     reflect.Value
		depth int
	}
	stack := []item{{reflect.ValueOf(prg), 0}}
	deepest := 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		v, d := it.v, it.depth
		switch v.Kind() {
		case reflect.Interface:
			if !v.IsNil() {
				stack = append(stack, item{v.Elem(), d})
			}
		case reflect.Pointer:
			if v.IsNil() || v.Type() == fileType {
				continue
			}
			if d++; d > deepest {
				if deepest = d; deepest > limit {
					return deepest
				}
			}
			stack = append(stack, item{v.Elem(), d})
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					stack = append(stack, item{v.Field(i), d})
				}
			}
		case reflect.Slice:
			for i := range v.Len() {
				stack = append(stack, item{v.Index(i), d})
			}
		}
	}
	return deepest
}
