package typecheck

import (
	"strings"
	"unicode/utf8"
)

// The program is checked as the body of an async function, as the runtime runs it, so
// that top-level await and return are legal. The prefix has a line of its own: agent
// line n is line n+1 of the checked file and columns are unchanged.
const (
	wrapPrefix = "async function __pctx_program(): Promise<any> {\n"
	wrapSuffix = "\n}\n"
)

func wrap(code string) string { return wrapPrefix + code + wrapSuffix }

// Limits on what a refusal carries: the first errors are the ones to fix, and a
// compiler elaboration can run deep.
const (
	maxDiagnostics   = 20
	maxChainLines    = 6
	maxMessageBytes  = 1000
	categoryError    = 1
	messageLineLimit = 300
)

// rawDiagnostic is tsgo's DiagnosticResponse (internal/api/proto.go).
type rawDiagnostic struct {
	Pos          int             `json:"pos"` // UTF-16 offset in the checked file
	End          int             `json:"end"`
	Code         int             `json:"code"`
	Category     int             `json:"category"`
	Text         string          `json:"text"`
	MessageChain []rawDiagnostic `json:"messageChain"`
	Related      []rawDiagnostic `json:"relatedInformation"`
}

// pointerCodes are related information that only points into the declarations ("'x'
// is declared here.", "The last overload is declared here."): the signature hint says it
// better.
var pointerCodes = map[int]bool{2728: true, 2771: true}

// missingGlobalCodes are "Cannot find name 'x'" for Node's and the DOM's globals, whose
// advice (install @types/node, change the lib option) does not apply in the sandbox.
var missingGlobalCodes = map[int]bool{2580: true, 2581: true, 2582: true, 2583: true, 2584: true, 2591: true, 2592: true, 2593: true}

func hasErrors(raw []rawDiagnostic) bool {
	for _, d := range raw {
		if d.Category == categoryError {
			return true
		}
	}
	return false
}

// diagnostics maps tsgo's errors on the wrapped program to the agent's code.
func diagnostics(code string, raw []rawDiagnostic) []Diagnostic {
	var out []Diagnostic
	var spans []callSpan
	scanned := false
	for _, d := range raw {
		if d.Category != categoryError {
			continue
		}
		if len(out) == maxDiagnostics {
			break
		}
		off := agentOffset(code, d.Pos)
		if probesGlobal(code, off, d.Code) {
			continue
		}
		line, col := lineColumn(code, off)
		if !scanned {
			spans, scanned = scanCalls(code), true
		}
		out = append(out, Diagnostic{Line: line, Column: col, Code: d.Code, Message: message(d), Call: callAt(spans, off)})
	}
	return out
}

// probesGlobal reports whether a "cannot find name" error is on the operand of typeof:
// `typeof github === "undefined"` is legal JavaScript, and how a program asks whether a
// namespace is there; TypeScript refuses it, the sandbox does not.
func probesGlobal(code string, off, tsCode int) bool {
	if tsCode != 2304 && tsCode != 2552 && !missingGlobalCodes[tsCode] {
		return false
	}
	before := strings.TrimRight(code[:off], " \t\r\n(")
	return strings.HasSuffix(before, "typeof") && (len(before) == 6 || !isIdentByte(before[len(before)-7]))
}

// message is d's text with its elaborations indented below it, bounded.
func message(d rawDiagnostic) string {
	var b strings.Builder
	text := d.Text
	if missingGlobalCodes[d.Code] {
		name, _, _ := strings.Cut(text, ". ")
		text = name + ". The sandbox has no Node.js or browser globals: only the catalog's functions, console and timers."
	}
	b.WriteString(clip(text))
	lines := 0
	var walk func(chain []rawDiagnostic, depth int)
	walk = func(chain []rawDiagnostic, depth int) {
		for _, c := range chain {
			if lines == maxChainLines || b.Len() > maxMessageBytes {
				return
			}
			lines++
			b.WriteString("\n" + strings.Repeat("  ", depth) + clip(c.Text))
			walk(c.MessageChain, depth+1)
		}
	}
	walk(d.MessageChain, 1)
	// Related information adds hints such as "Did you forget to use 'await'?".
	for _, r := range d.Related {
		if !pointerCodes[r.Code] && lines < maxChainLines && b.Len() <= maxMessageBytes {
			lines++
			b.WriteString("\n  " + clip(r.Text))
		}
	}
	return b.String()
}

func clip(s string) string {
	if len(s) <= messageLineLimit {
		return s
	}
	cut := messageLineLimit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// agentOffset converts a UTF-16 offset in the wrapped program to a byte offset in code,
// clamped to the code: the wrapper's lines belong to its first and last positions.
func agentOffset(code string, utf16 int) int {
	pos := utf16 - len(wrapPrefix) // the prefix is ASCII: one unit per byte
	if pos <= 0 {
		return 0
	}
	units := 0
	for i, r := range code {
		if units >= pos {
			return i
		}
		units++
		if r >= 0x10000 {
			units++
		}
	}
	return len(code)
}

// lineColumn turns a byte offset in code into a 1-based line and character column.
func lineColumn(code string, off int) (int, int) {
	before := code[:off]
	line := strings.Count(before, "\n") + 1
	start := strings.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCountInString(before[start:]) + 1
}

// callSpan is a call written ident.ident(...): the callee from the first identifier to
// the closing parenthesis (or the end of the code when unclosed).
type callSpan struct {
	name       string
	start, end int
}

// callAt returns the innermost call whose span contains off.
func callAt(spans []callSpan, off int) string {
	best := -1
	for i, s := range spans {
		if s.start <= off && off <= s.end && (best < 0 || s.start >= spans[best].start) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return spans[best].name
}

// scanCalls finds every call written a.b(...) in code, the way a tokenizer would:
// skipping strings, template text, comments and regular expressions. It is a hint for
// diagnostics, so it errs quietly (a misread regular expression loses a hint).
func scanCalls(code string) []callSpan {
	type tok struct {
		kind  byte // 'i' identifier, 'p' punctuation, 'v' value (string, number, regexp, template)
		text  string
		start int
	}
	var (
		out    []callSpan
		toks   [4]tok // the last four significant tokens, newest last
		parens []int  // index into out of each open call, or -1
		braces int
		tmpl   []int // brace depth at which each open template's ${ started
	)
	push := func(t tok) { toks[0], toks[1], toks[2], toks[3] = toks[1], toks[2], toks[3], t }
	regexAllowed := func() bool {
		t := toks[3]
		switch t.kind {
		case 0:
			return true
		case 'p':
			return t.text != ")" && t.text != "]" && t.text != "}"
		case 'i':
			switch t.text {
			case "return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "await", "yield":
				return true
			}
		}
		return false
	}
	i := 0
	// template scans template text from i (after ` or a closing }) to its end or ${.
	template := func() {
		for i < len(code) {
			switch code[i] {
			case '\\':
				i += 2
				continue
			case '`':
				i++
				push(tok{kind: 'v'})
				return
			case '$':
				if i+1 < len(code) && code[i+1] == '{' {
					i += 2
					tmpl = append(tmpl, braces)
					braces++
					push(tok{kind: 'p', text: "{"})
					return
				}
			}
			i++
		}
	}
	for i < len(code) {
		c := code[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/' && i+1 < len(code) && code[i+1] == '/':
			for i < len(code) && code[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(code) && code[i+1] == '*':
			end := strings.Index(code[i+2:], "*/")
			if end < 0 {
				i = len(code)
			} else {
				i += end + 4
			}
		case c == '\'' || c == '"':
			i++
			for i < len(code) && code[i] != c && code[i] != '\n' {
				if code[i] == '\\' {
					i++
				}
				i++
			}
			i++
			push(tok{kind: 'v'})
		case c == '`':
			i++
			template()
		case c == '/' && regexAllowed():
			i++
			inClass := false
			for i < len(code) && code[i] != '\n' {
				if code[i] == '\\' {
					i += 2
					continue
				}
				if code[i] == '[' {
					inClass = true
				} else if code[i] == ']' {
					inClass = false
				} else if code[i] == '/' && !inClass {
					break
				}
				i++
			}
			i++
			for i < len(code) && isIdentByte(code[i]) {
				i++ // flags
			}
			push(tok{kind: 'v'})
		case isIdentStart(c):
			start := i
			for i < len(code) && isIdentByte(code[i]) {
				i++
			}
			push(tok{kind: 'i', text: code[start:i], start: start})
		case c >= '0' && c <= '9':
			for i < len(code) && (isIdentByte(code[i]) || code[i] == '.') {
				i++
			}
			push(tok{kind: 'v'})
		case c == '(':
			call := -1
			// ns.fn( but not x.ns.fn(: functions hang off namespaces, which are globals.
			if toks[3].kind == 'i' && toks[2].text == "." && toks[1].kind == 'i' && toks[0].text != "." {
				call = len(out)
				out = append(out, callSpan{name: toks[1].text + "." + toks[3].text, start: toks[1].start, end: len(code)})
			}
			parens = append(parens, call)
			i++
			push(tok{kind: 'p', text: "("})
		case c == ')':
			if n := len(parens); n > 0 {
				if call := parens[n-1]; call >= 0 {
					out[call].end = i
				}
				parens = parens[:n-1]
			}
			i++
			push(tok{kind: 'p', text: ")"})
		case c == '{':
			braces++
			i++
			push(tok{kind: 'p', text: "{"})
		case c == '}':
			braces--
			i++
			if n := len(tmpl); n > 0 && tmpl[n-1] == braces {
				tmpl = tmpl[:n-1]
				template()
				continue
			}
			push(tok{kind: 'p', text: "}"})
		case c == '.':
			i++
			push(tok{kind: 'p', text: "."})
		default:
			_, size := utf8.DecodeRuneInString(code[i:])
			if c >= utf8.RuneSelf {
				// Non-ASCII identifier characters: part of a name, never a call we know.
				push(tok{kind: 'i', text: code[i : i+size], start: i})
			} else {
				push(tok{kind: 'p', text: code[i : i+1]})
			}
			i += size
		}
	}
	return out
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentByte(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// NoCheck reports whether code opts out of checking as TypeScript files do: a
// // @ts-nocheck comment among the comments it starts with.
func NoCheck(code string) bool {
	rest := code
	for {
		rest = strings.TrimLeft(rest, " \t\r\n")
		switch {
		case strings.HasPrefix(rest, "//"):
			line, after, _ := strings.Cut(rest, "\n")
			if strings.HasPrefix(strings.TrimSpace(line[2:]), "@ts-nocheck") {
				return true
			}
			rest = after
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest, "*/")
			if end < 0 {
				return false
			}
			rest = rest[end+2:]
		default:
			return false
		}
	}
}
