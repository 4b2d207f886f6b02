// Package vshell is a tiny read-only shell over a virtual file tree: ls, cat, head, tail,
// grep, find, wc, pwd and echo, joined by |, && and ;. The "filesystem" disclosure lets a
// model explore a catalog snapshot's SDK tree (SDK: /sdk/README.md, a section per
// namespace with every function and its description, and /sdk/<Namespace>/<function>.d.ts,
// each function's declarations) with it, over the published client's
// POST /code-mode/execute-bash and over MCP's execute_bash. Nothing here touches the real
// file system or runs a process; every command line is bounded in length, words,
// commands, output, work and time.
package vshell

import (
	"context"
	"fmt"
	"math/bits"
	"path"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Root is the directory the tree lives under and relative paths resolve against.
const Root = "/sdk"

// FS is a read-only file tree: absolute path → file. Directories are implied by paths.
type FS map[string]*File

// File is a file whose content is rendered on first read: a command line usually reads
// a few of the catalog's declarations, not all of them. Not safe for concurrent use (one
// request's shell reads it).
type File struct {
	text   string
	render func() string // nil once rendered
}

// Text is a file with known content.
func Text(text string) *File { return &File{text: text} }

// Lazy is a file whose content render produces when a command first reads it.
func Lazy(render func() string) *File { return &File{render: render} }

// read returns the file's text and whether this read rendered it.
func (f *File) read() (string, bool) {
	if f.render != nil {
		f.text, f.render = f.render(), nil
		return f.text, true
	}
	return f.text, false
}

// isDir reports whether p is a directory of the tree.
func (v FS) isDir(p string) bool {
	if p == "/" {
		return true
	}
	for f := range v {
		if strings.HasPrefix(f, p+"/") {
			return true
		}
	}
	return false
}

// entries lists the names directly under directory dir, directories with a trailing /.
func (v FS) entries(dir string) []string {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	seen := map[string]bool{}
	for f := range v {
		if rest, ok := strings.CutPrefix(f, prefix); ok {
			name, _, sub := strings.Cut(rest, "/")
			if sub {
				name += "/"
			}
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (v FS) abs(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = Root + "/" + p
	}
	return path.Clean(p)
}

// Result is what one command line printed and its exit status (POST /code-mode/execute-bash's answer).
type Result struct {
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

// Bounds of one command line: a model's command must not make pctx build an answer of
// unbounded size (cat f f f …, grep -r . . . …), nor spend unbounded time on one.
const (
	maxShellOutput   = 1 << 20 // bytes of stdout plus stderr, and of any one pipe
	maxShellWords    = 1000
	maxShellCommands = 32
	maxShellLine     = 64 << 10 // bytes of the command line itself
	// maxShellWork bounds what one command line may do, in units of about a byte read or
	// matched: a regexp's bytes count once per few of its instructions, walking the tree
	// a few units per file (see the costs below). It is about a second of one core here,
	// and ends `grep -rw PATTERN . . . …` of 1,000 words, which once took 49 s, early with
	// an error; a real exploration of a large catalog spends a few percent of it.
	maxShellWork = 512 << 20
	// DefaultTimeout bounds a command line's wall-clock time in Run: the work budget's
	// backstop on a slow or busy machine.
	DefaultTimeout = 5 * time.Second
)

// workBudget is maxShellWork; tests built with the race detector, which slows matching
// some 15-fold, lower it so the lines that exhaust it end as soon.
var workBudget int64 = maxShellWork

// Work costs, in the units of maxShellWork.
const (
	costPerFile = 8  // visiting one file of the tree in a directory walk
	costPerLine = 32 // splitting off and testing one line, beyond its bytes
)

// budget is what is left of one command line's work and time.
type budget struct {
	ctx      context.Context
	left     int64
	unpolled int64  // units spent since the context was last polled
	err      string // why the line was stopped; "" while within its budget
}

// spend charges n units, reporting false (and setting err) once the work or the time is
// used up: the caller stops without doing that work.
func (b *budget) spend(n int) bool {
	if b.err != "" {
		return false
	}
	b.left -= int64(n)
	if b.left < 0 {
		b.err = fmt.Sprintf("bash: the command line needs more work than this virtual shell allows (%d units, about as many bytes read or matched); narrow it: fewer paths, one directory instead of the whole tree, a simpler pattern, grep -l or head\n", workBudget)
		return false
	}
	// Polling the context costs a lock: do it every 64 Ki units, about 50µs of work.
	if b.unpolled += int64(n); b.unpolled >= 1<<16 {
		b.unpolled = 0
		return b.poll()
	}
	return true
}

// poll checks the context, setting err when it has ended.
func (b *budget) poll() bool {
	switch err := b.ctx.Err(); {
	case err == nil:
		return true
	case err == context.DeadlineExceeded:
		b.err = "bash: the command line ran out of its time in this virtual shell; narrow it: fewer paths, one directory instead of the whole tree, a simpler pattern\n"
	default:
		b.err = "bash: the command line was cancelled\n"
	}
	return false
}

// capWriter is a strings.Builder that keeps at most limit bytes and then reports itself
// full; commands check full to stop early.
type capWriter struct {
	b     strings.Builder
	limit int
	full  bool
}

func (w *capWriter) WriteString(s string) (int, error) {
	if room := w.limit - w.b.Len(); len(s) > room {
		s = s[:max(room, 0)]
		w.full = true
	}
	return w.b.WriteString(s)
}

func (w *capWriter) Write(p []byte) (int, error) { return w.WriteString(string(p)) }

func (w *capWriter) String() string { return w.b.String() }

// Run runs one command line over the tree within DefaultTimeout.
func (v FS) Run(line string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	return v.RunContext(ctx, line)
}

// RunContext runs one command line over the tree until it ends or ctx does (give ctx a
// deadline: the work budget is counted, not timed, and a slow machine takes longer over
// it). A line stopped by its work budget or by ctx ends with exit code 1 and a message on
// stderr that says which, keeping the output so far and running no further command.
func (v FS) RunContext(ctx context.Context, line string) Result {
	if len(line) > maxShellLine {
		return Result{ExitCode: 2, Stderr: fmt.Sprintf("bash: the command line has %d bytes, more than the %d of this virtual shell\n", len(line), maxShellLine)}
	}
	toks, err := shellWords(line)
	if err != nil {
		return Result{ExitCode: 2, Stderr: "bash: " + err.Error() + "\n"}
	}
	commands := 1
	for _, t := range toks {
		if t == "|" || t == "&&" || t == ";" {
			commands++
		}
	}
	switch {
	case len(toks) > maxShellWords:
		return Result{ExitCode: 2, Stderr: fmt.Sprintf("bash: the command line has more than %d words, the limit of this virtual shell\n", maxShellWords)}
	case commands > maxShellCommands:
		return Result{ExitCode: 2, Stderr: fmt.Sprintf("bash: the command line has more than %d commands, the limit of this virtual shell\n", maxShellCommands)}
	}
	b := &budget{ctx: ctx, left: workBudget}
	if !b.poll() {
		return Result{ExitCode: 1, Stderr: b.err}
	}
	sh := shell{fs: v, b: b}
	// out and errs share one budget: whatever one takes, the other cannot.
	var out, errs strings.Builder
	room := func() int { return maxShellOutput - out.Len() - errs.Len() }
	truncated := false
	put := func(b *strings.Builder, s string) {
		if len(s) > room() {
			s, truncated = s[:room()], true
		}
		b.WriteString(s)
	}
	code := 0
	var stage [][]string // the pipeline being built
	var cur []string
	skip := false // after a failed &&
	flush := func(op string) {
		stage = append(stage, cur)
		cur = nil
		if op == "|" || truncated || b.err != "" {
			return
		}
		if !skip {
			var stdin *string
			for _, argv := range stage {
				if len(argv) == 0 {
					continue
				}
				w := &capWriter{limit: maxShellOutput}
				e, c := sh.exec(argv, stdin, w)
				put(&errs, e)
				o := w.String()
				stdin, code = &o, c
				if w.full {
					truncated = true
					break
				}
				if b.err != "" {
					break
				}
			}
			if stdin != nil {
				put(&out, *stdin)
			}
		}
		stage = nil
		skip = op == "&&" && code != 0
	}
	for _, t := range toks {
		switch t {
		case "|", "&&", ";":
			flush(t)
		case "2>/dev/null", "2>&1":
		default:
			cur = append(cur, t)
		}
	}
	flush("end")
	stderr := errs.String()
	if b.err != "" {
		code = 1
		stderr += b.err
	} else if truncated {
		code = 1
		stderr += fmt.Sprintf("bash: output truncated at %d bytes, the limit of this virtual shell; narrow the command (grep -l, head, a single file)\n", maxShellOutput)
	}
	return Result{ExitCode: code, Stdout: out.String(), Stderr: stderr}
}

// shellWords splits a command line into words and the operators |, && and ;, honouring
// single and double quotes and backslash escapes.
func shellWords(line string) ([]string, error) {
	var toks []string
	var w strings.Builder
	inWord := false
	end := func() {
		if inWord {
			toks = append(toks, w.String())
			w.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == '\'' || ch == '"':
			j := strings.IndexByte(line[i+1:], ch)
			if j < 0 {
				return nil, fmt.Errorf("unterminated %c quote", ch)
			}
			w.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case ch == '\\' && i+1 < len(line):
			w.WriteByte(line[i+1])
			inWord = true
			i++
		case ch == ' ' || ch == '\t' || ch == '\n':
			end()
		case ch == '|' || ch == ';':
			end()
			toks = append(toks, string(ch))
		case ch == '&' && i+1 < len(line) && line[i+1] == '&':
			end()
			toks = append(toks, "&&")
			i++
		default:
			w.WriteByte(ch)
			inWord = true
		}
	}
	end()
	return toks, nil
}

var shellCommands = []string{"cat", "echo", "find", "grep", "head", "ls", "pwd", "tail", "wc"}

// shell is one command line's run: the tree and what is left of the line's budget.
type shell struct {
	fs FS
	b  *budget
}

// walk charges visiting every file of the tree once, reporting whether the budget allows it.
func (sh shell) walk() bool { return sh.b.spend(costPerFile * len(sh.fs)) }

// read returns f's text, charging its bytes when this read rendered it (rendering costs
// about as much); what a command then does with the text is charged where it does it.
func (sh shell) read(f *File) (string, bool) {
	t, rendered := f.read()
	if rendered {
		return t, sh.b.spend(len(t))
	}
	return t, sh.b.err == ""
}

// exec runs one command with stdin (nil: none), writing its stdout to out (which stops
// it once full), and returns its stderr and exit code. A command stopped by the budget
// returns exit code 1 and no message of its own: the line's stderr says why.
func (sh shell) exec(argv []string, stdin *string, out *capWriter) (string, int) {
	v := sh.fs
	name, args := argv[0], argv[1:]
	fail := func(format string, a ...any) (string, int) {
		return name + ": " + fmt.Sprintf(format, a...) + "\n", 1
	}
	if !sh.b.spend(len(name) + 1) {
		return "", 1
	}
	switch name {
	case "pwd":
		out.WriteString(Root + "\n")
		return "", 0
	case "echo":
		text := strings.Join(args, " ") + "\n"
		if !sh.b.spend(len(text)) {
			return "", 1
		}
		out.WriteString(text)
		return "", 0
	case "ls":
		paths := nonFlags(args)
		if len(paths) == 0 {
			paths = []string{"."}
		}
		for _, p := range paths {
			if out.full {
				break
			}
			if !sh.walk() {
				return "", 1
			}
			a := v.abs(p)
			switch {
			case v[a] != nil:
				out.WriteString(p + "\n")
			case v.isDir(a):
				if len(paths) > 1 {
					out.WriteString(p + ":\n")
				}
				for _, e := range v.entries(a) {
					out.WriteString(e + "\n")
				}
			default:
				return fmt.Sprintf("ls: cannot access '%s': No such file or directory\n", p), 2
			}
		}
		return "", 0
	case "cat", "head", "tail", "wc":
		n, files, err := countFlag(args)
		if err != nil {
			return fail("%v", err)
		}
		var texts []string
		if len(files) == 0 {
			if stdin == nil {
				return fail("no file given")
			}
			texts = []string{*stdin}
		}
		for _, f := range files {
			a := v.abs(f)
			file, ok := v[a]
			if !ok {
				if !sh.walk() {
					return "", 1
				}
				if v.isDir(a) {
					return fail("%s: Is a directory", f)
				}
				return fail("%s: No such file or directory", f)
			}
			text, ok := sh.read(file)
			if !ok {
				return "", 1
			}
			texts = append(texts, text)
		}
		for _, t := range texts {
			if out.full {
				break
			}
			if name == "cat" {
				// What a full output would drop costs nothing.
				if !sh.b.spend(min(len(t), maxShellOutput)) {
					return "", 1
				}
				out.WriteString(t)
				continue
			}
			if !sh.b.spend(len(t) + costPerLine*strings.Count(t, "\n")) {
				return "", 1
			}
			lines := strings.SplitAfter(t, "\n")
			if lines[len(lines)-1] == "" {
				lines = lines[:len(lines)-1]
			}
			switch name {
			case "head":
				out.WriteString(strings.Join(lines[:min(n, len(lines))], ""))
			case "tail":
				out.WriteString(strings.Join(lines[max(0, len(lines)-n):], ""))
			case "wc":
				if slices.Contains(args, "-l") {
					fmt.Fprintf(out, "%d\n", len(lines))
				} else {
					fmt.Fprintf(out, "%d %d %d\n", len(lines), len(strings.Fields(t)), len(t))
				}
			}
		}
		return "", 0
	case "find":
		root, pattern := ".", ""
		for i := 0; i < len(args); i++ {
			switch {
			case (args[i] == "-name" || args[i] == "-iname") && i+1 < len(args):
				pattern = args[i+1]
				i++
			case args[i] == "-type" && i+1 < len(args):
				i++ // files only are listed either way
			case !strings.HasPrefix(args[i], "-"):
				root = args[i]
			}
		}
		if !sh.b.spend((costPerFile + len(pattern)) * len(v)) { // path.Match is linear here
			return "", 1
		}
		a := v.abs(root)
		var found []string
		for f := range v {
			if f != a && !strings.HasPrefix(f, strings.TrimSuffix(a, "/")+"/") {
				continue
			}
			if ok, _ := path.Match(pattern, path.Base(f)); pattern == "" || ok {
				found = append(found, strings.Replace(f, a, root, 1))
			}
		}
		slices.Sort(found)
		for _, f := range found {
			out.WriteString(f + "\n")
		}
		return "", 0
	case "grep":
		return sh.grep(args, stdin, out)
	}
	return fmt.Sprintf("bash: %s: command not found (this read-only virtual shell has %s)\n", name, strings.Join(shellCommands, ", ")), 127
}

func nonFlags(args []string) []string {
	var out []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

// countFlag reads -n N, -N or -nN (default 10) and returns the other non-flag args. A
// negative count (GNU's "all but the last N") is refused.
func countFlag(args []string) (int, []string, error) {
	n := 10
	var files []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		text := ""
		switch {
		case a == "-n" && i+1 < len(args):
			text = args[i+1]
			i++
		case strings.HasPrefix(a, "-n"):
			text = a[2:]
		case len(a) > 1 && a[0] == '-':
			if _, err := strconv.Atoi(a[1:]); err != nil {
				continue // another flag, like wc's -l
			}
			text = a[1:]
		default:
			files = append(files, a)
			continue
		}
		v, err := strconv.Atoi(text)
		if err != nil || v < 0 {
			return 0, nil, fmt.Errorf("invalid number of lines: %q", text)
		}
		n = v
	}
	return n, files, nil
}

// grepWeight is the work units one byte of a line costs to match against re. Measured
// here with Go's regexp: a pattern that is one literal scans at about 1 ns a byte; any
// other runs its matching machine at 10 to 120 ns a byte, growing with the compiled
// program's size ((a|b|c)*z: 84 ns; [a-z]{1,100}q, 202 instructions: 124 ns).
func grepWeight(re *regexp.Regexp, pattern string) int {
	if _, complete := re.LiteralPrefix(); complete {
		return 2
	}
	insts := 0
	if parsed, err := syntax.Parse(pattern, syntax.Perl); err == nil {
		if prog, err := syntax.Compile(parsed.Simplify()); err == nil {
			insts = len(prog.Inst)
		}
	}
	return 64 + insts/2
}

func (sh shell) grep(args []string, stdin *string, out *capWriter) (string, int) {
	v := sh.fs
	var flags = map[byte]bool{}
	var rest []string
	literal := false // after --
	for _, a := range args {
		switch {
		case a == "--" && !literal:
			literal = true
		case len(a) > 1 && a[0] == '-' && !literal: // GNU grep takes flags anywhere
			for i := 1; i < len(a); i++ {
				flags[a[i]] = true
			}
		default:
			rest = append(rest, a)
		}
	}
	if len(rest) == 0 {
		return "grep: no pattern given\n", 2
	}
	pattern, paths := rest[0], rest[1:]
	if flags['F'] {
		pattern = regexp.QuoteMeta(pattern)
	}
	if flags['w'] {
		pattern = `\b(?:` + pattern + `)\b`
	}
	if flags['i'] {
		pattern = "(?i)" + pattern
	}
	recursive := flags['r'] || flags['R']
	// Compiling is about linear in the pattern, with a larger constant than matching.
	if !sh.b.spend(costPerLine * len(pattern)) {
		return "", 1
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return fmt.Sprintf("grep: invalid pattern %q: %v\n", rest[0], err), 2
	}
	weight := grepWeight(re, pattern)
	if len(paths) == 0 {
		switch {
		case stdin != nil:
		case recursive:
			paths = []string{"."}
		default:
			return "grep: no file given\n", 2
		}
	}
	// Every path is checked before any is searched, so a wrong one prints nothing.
	for _, p := range paths {
		a := v.abs(p)
		if v[a] != nil {
			continue
		}
		if !sh.walk() {
			return "", 1
		}
		if !v.isDir(a) {
			return fmt.Sprintf("grep: %s: No such file or directory\n", p), 2
		}
		if !recursive {
			return fmt.Sprintf("grep: %s: Is a directory\n", p), 2
		}
	}
	named := len(paths) > 1 || recursive
	found := false
	// search greps one input, reporting false when the budget stopped it.
	search := func(name, text string) bool {
		count := 0
		for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			if out.full {
				break
			}
			if !sh.b.spend(costPerLine + weight*len(line)) {
				return false
			}
			if re.MatchString(line) == flags['v'] {
				continue
			}
			found = true
			count++
			if flags['l'] || flags['c'] {
				continue
			}
			if named {
				out.WriteString(name + ":")
			}
			if flags['n'] {
				fmt.Fprintf(out, "%d:", i+1)
			}
			out.WriteString(line + "\n")
		}
		switch {
		case flags['l'] && count > 0:
			out.WriteString(name + "\n")
		case flags['c'] && named:
			fmt.Fprintf(out, "%s:%d\n", name, count)
		case flags['c']:
			fmt.Fprintf(out, "%d\n", count)
		}
		return true
	}
	if len(paths) == 0 && !search("", *stdin) {
		return "", 1
	}
	// Each path is searched as it comes: a directory's file list is held for one path
	// at a time, whatever the number of paths.
	for _, p := range paths {
		if out.full {
			break
		}
		a := v.abs(p)
		if file, ok := v[a]; ok {
			text, ok := sh.read(file)
			if !ok || !search(p, text) {
				return "", 1
			}
			continue
		}
		if !sh.walk() {
			return "", 1
		}
		var files []string
		for f := range v {
			if strings.HasPrefix(f, strings.TrimSuffix(a, "/")+"/") {
				files = append(files, f)
			}
		}
		if !sh.b.spend(costPerFile * len(files) * bits.Len(uint(len(files)))) { // the sort
			return "", 1
		}
		slices.Sort(files)
		for _, f := range files {
			if out.full {
				break
			}
			text, ok := sh.read(v[f])
			if !ok || !search(strings.Replace(f, a, strings.TrimSuffix(p, "/"), 1), text) {
				return "", 1
			}
		}
	}
	if !found {
		return "", 1
	}
	return "", 0
}
