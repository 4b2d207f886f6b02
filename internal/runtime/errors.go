package runtime

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// stackLine matches one frame of a goja stack string that lies in the agent's code:
// "at name (agent.ts:7:11(42))" or "at agent.ts:7:11(42)".
var stackLine = regexp.MustCompile(`^\s*at (?:(.*?) \()?` + regexp.QuoteMeta(sourceName) + `:(\d+):(\d+)(?:\(\d+\))?\)?\s*$`)

// maxFrames is how many stack frames an error keeps, as in Node.
const maxFrames = 10

// jsError describes a thrown or rejected JS value. frames, when known, is the stack at
// the throw; Error objects carry their own stack string, which is preferred.
func (e *execution) jsError(val goja.Value, frames []goja.StackFrame, prefix string) *Error {
	out := &Error{Kind: KindRuntime}
	obj, _ := val.(*goja.Object)
	if obj != nil && obj.ClassName() == "Error" {
		header := errorHeader(obj)
		out.Message = prefix + header
		stack := ""
		if s := obj.Get("stack"); s != nil && !goja.IsUndefined(s) {
			stack = s.String()
		}
		out.Line, out.Column, out.Stack = parseStack(e.code, stack, header)
		if out.Line == 0 {
			out.Line, out.Column, out.Stack = framesPosition(e.code, frames, header)
		}
		return out
	}
	out.Message = prefix + "Uncaught " + e.inspect(val)
	out.Line, out.Column, out.Stack = framesPosition(e.code, frames, "")
	return out
}

// errorHeader is "Name: message", the first line Node prints for an error.
func errorHeader(obj *goja.Object) string {
	name, msg := "Error", ""
	if v := obj.Get("name"); v != nil && !goja.IsUndefined(v) {
		name = v.String()
	}
	if v := obj.Get("message"); v != nil && !goja.IsUndefined(v) {
		msg = v.String()
	}
	if msg == "" {
		return name
	}
	if name == "" {
		return msg
	}
	return name + ": " + msg
}

// parseStack keeps the frames of a goja stack string that lie in the agent's code and
// returns the position of the innermost one.
func parseStack(code, stack, header string) (line, col int, trimmed string) {
	var b strings.Builder
	b.WriteString(header)
	frames := 0
	for _, l := range strings.Split(stack, "\n") {
		m := stackLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ln, _ := strconv.Atoi(m[2])
		cn, _ := strconv.Atoi(m[3])
		ln, cn = agentPosition(code, ln, cn+1) // goja reports the source map's 0-based column
		if line == 0 {
			line, col = ln, cn
		}
		if frames++; frames <= maxFrames {
			writeFrame(&b, m[1], ln, cn)
		}
	}
	if line == 0 {
		return 0, 0, ""
	}
	return line, col, b.String()
}

func framesPosition(code string, frames []goja.StackFrame, header string) (line, col int, trimmed string) {
	var b strings.Builder
	b.WriteString(header)
	n := 0
	for i := range frames {
		ln, cn, ok := framePosition(code, &frames[i])
		if !ok {
			continue
		}
		if line == 0 {
			line, col = ln, cn
		}
		if n++; n <= maxFrames {
			writeFrame(&b, frameName(&frames[i]), ln, cn)
		}
	}
	if line == 0 {
		return 0, 0, ""
	}
	return line, col, strings.TrimPrefix(b.String(), "\n")
}

func writeFrame(b *strings.Builder, name string, line, col int) {
	if name == "" || name == "<anonymous>" {
		fmt.Fprintf(b, "\n    at %s:%d:%d", sourceName, line, col)
		return
	}
	fmt.Fprintf(b, "\n    at %s (%s:%d:%d)", name, sourceName, line, col)
}

// framePosition is the agent-code position of a frame, if it lies in the agent's code.
func framePosition(code string, f *goja.StackFrame) (line, col int, ok bool) {
	p := f.Position()
	if p.Filename != sourceName || p.Line == 0 {
		return 0, 0, false
	}
	line, col = agentPosition(code, p.Line, p.Column+1) // the source map's column is 0-based
	return line, col, true
}

func frameName(f *goja.StackFrame) string {
	n := f.FuncName()
	if n == "<anonymous>" || n == "<native>" {
		return ""
	}
	return n
}
