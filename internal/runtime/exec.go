package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// execution is one run of agent code. Threading: the VM and every field marked
// "loop-only" belong to the goroutine running execute (the loop); other goroutines
// (Funcs, the deadline timer, the memory watchdog, context cancellation) talk to it only
// through enqueue and kill.
type execution struct {
	vm     *goja.Runtime
	code   string // the agent's code, for positions
	lim    Limits
	ctx    context.Context // given to every Func; cancelled when the execution ends
	cancel context.CancelFunc
	mem    *memAccount

	deadline   *time.Timer // fires kill at Limits.Timeout
	stopParent func() bool // detaches kill from the caller's context

	mu       sync.Mutex
	queue    []func() error // settled Func calls waiting to resolve their promise on the loop
	fatal    *Error         // the first error that ended the execution from outside the VM
	wake     chan struct{}  // capacity 1: "queue or fatal changed"
	inFlight map[string]int // Func calls not returned yet, by name, for the timeout message

	// loop-only
	pending      int // Func calls whose promise is not settled yet
	calls        int
	timers       timerQueue
	timerByID    map[int64]*timer
	nextTimerID  int64
	waitTimer    *time.Timer
	console      []ConsoleLine
	consoleBytes int
	unhandled    []*goja.Promise // rejected promises without a handler, in order
	errorCtor    *goja.Object    // the original Error constructor, safe from agent tampering
	caller       Caller          // serves every call when set (ExecuteCalls); else each Func
	nativeDepth  int             // nesting of guarded builtins (see installGuards)
}

func execute(ctx context.Context, code string, fns Functions, caller Caller, lim Limits) (res *Result) {
	start := time.Now()
	res = &Result{}
	defer func() { res.Duration = time.Since(start) }()

	p := compileCached(code)
	if p.err != nil {
		e := *p.err // the cached Error is shared; hand out a copy
		res.Error = &e
		return res
	}
	e := newExecution(ctx, code, lim)
	e.caller = caller
	defer e.finish()
	defer func() {
		// A panic here is a bug in pctx (or in goja); it must not take the server down.
		if r := recover(); r != nil {
			res.Value = nil
			res.Error = &Error{Kind: KindInternal, Message: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	value, err := e.run(p.prog, fns)
	res.Console, res.Calls = e.console, e.calls
	if err != nil && ctx.Err() != nil {
		// The caller's cancellation may reach the code (as a rejected call) before
		// its own notice arrives; name the real cause.
		err = parentError(ctx)
	}
	if err != nil {
		res.Error = err
		return res
	}
	res.Value = value
	return res
}

func newExecution(parent context.Context, code string, lim Limits) *execution {
	ctx, cancel := context.WithCancel(parent)
	e := &execution{
		vm:        goja.New(),
		code:      code,
		lim:       lim,
		ctx:       ctx,
		cancel:    cancel,
		wake:      make(chan struct{}, 1),
		inFlight:  make(map[string]int),
		timerByID: make(map[int64]*timer),
	}
	e.vm.SetMaxCallStackSize(lim.MaxStackDepth)
	e.vm.SetPromiseRejectionTracker(e.trackRejection)
	e.deadline = time.AfterFunc(lim.Timeout, func() {
		e.kill(&Error{Kind: KindTimeout, Message: fmt.Sprintf("execution exceeded the %s time limit%s", lim.Timeout, e.waitingOn())})
	})
	e.stopParent = context.AfterFunc(parent, func() { e.kill(parentError(parent)) })
	e.mem = watchdog.register(lim.MaxMemory, e.kill)
	return e
}

// parentError describes why the caller's context ended.
func parentError(ctx context.Context) *Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Kind: KindTimeout, Message: "the caller's deadline passed"}
	}
	return &Error{Kind: KindCanceled, Message: "the caller cancelled the execution"}
}

// finish releases everything the execution holds. Every Func context is cancelled so
// in-flight calls are abandoned; a late result is queued to a loop that no longer runs.
func (e *execution) finish() {
	e.deadline.Stop()
	e.stopParent()
	e.cancel()
	watchdog.unregister(e.mem)
	if e.waitTimer != nil {
		e.waitTimer.Stop()
	}
}

// kill ends the execution with err. Safe from any goroutine; the first error wins.
func (e *execution) kill(err *Error) {
	e.mu.Lock()
	if e.fatal == nil {
		e.fatal = err
	}
	e.mu.Unlock()
	e.vm.Interrupt(err)
	e.cancel()
	e.signal()
}

// waitingOn names the Funcs that have not returned, so that a timeout says which
// backend hung: " while waiting on slow.wait (1 call pending)", the three names with
// the most pending calls first, or "" when no call is pending. Safe from any goroutine.
func (e *execution) waitingOn() string {
	e.mu.Lock()
	type pending struct {
		name string
		n    int
	}
	var ps []pending
	total := 0
	for name, n := range e.inFlight {
		ps = append(ps, pending{name, n})
		total += n
	}
	e.mu.Unlock()
	if total == 0 {
		return ""
	}
	slices.SortFunc(ps, func(a, b pending) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.name, b.name)
	})
	var b strings.Builder
	b.WriteString(" while waiting on ")
	for i, p := range ps[:min(3, len(ps))] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s pending)", p.name, plural(p.n, "call"))
	}
	if len(ps) > 3 {
		rest := 0
		for _, p := range ps[3:] {
			rest += p.n
		}
		fmt.Fprintf(&b, " and %s (%s pending)", plural(len(ps)-3, "other function"), plural(rest, "call"))
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (e *execution) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *execution) fatalErr() *Error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fatal
}

// enqueue hands a callback to the loop. Safe from any goroutine; after the execution
// has ended the callback is never run.
func (e *execution) enqueue(f func() error) {
	e.mu.Lock()
	e.queue = append(e.queue, f)
	e.mu.Unlock()
	e.signal()
}

// enter runs f, which calls into the VM, and classifies what went wrong. Loop-only.
func (e *execution) enter(f func() error) *Error {
	err := func() error {
		e.mem.enter()
		defer e.mem.leave()
		return f()
	}()
	if err == nil {
		return nil
	}
	if fatal := e.fatalErr(); fatal != nil {
		return fatal
	}
	return e.classify(err)
}

func (e *execution) classify(err error) *Error {
	var interrupted *goja.InterruptedError
	var overflow *goja.StackOverflowError
	var ex *goja.Exception
	switch {
	case errors.As(err, &interrupted):
		if fe, ok := interrupted.Value().(*Error); ok {
			return fe
		}
		return &Error{Kind: KindInternal, Message: fmt.Sprintf("interrupted: %v", interrupted.Value())}
	case errors.As(err, &overflow):
		out := &Error{Kind: KindStack, Message: fmt.Sprintf("RangeError: Maximum call stack size exceeded (limit %d frames)", e.lim.MaxStackDepth)}
		out.Line, out.Column, out.Stack = framesPosition(e.code, overflow.Stack(), out.Message)
		return out
	case errors.As(err, &ex):
		return e.jsError(ex.Value(), ex.Stack(), "")
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return &Error{Kind: KindInternal, Message: err.Error()}
}

func (e *execution) trackRejection(p *goja.Promise, op goja.PromiseRejectionOperation) {
	switch op {
	case goja.PromiseRejectionReject:
		e.unhandled = append(e.unhandled, p)
	case goja.PromiseRejectionHandle:
		for i, u := range e.unhandled {
			if u == p {
				e.unhandled = append(e.unhandled[:i], e.unhandled[i+1:]...)
				break
			}
		}
	}
}

// run executes the compiled wrapper and drives the event loop until the wrapper's
// promise settles or something ends the execution.
func (e *execution) run(prog *goja.Program, fns Functions) (any, *Error) {
	if err := e.setup(fns); err != nil {
		return nil, err
	}
	var main *goja.Promise
	if err := e.enter(func() error {
		v, err := e.vm.RunProgram(prog)
		if err != nil {
			return err
		}
		fn, ok := goja.AssertFunction(v)
		if !ok {
			return fmt.Errorf("compiled code yields %s, not the wrapper function", v)
		}
		ret, err := fn(goja.Undefined())
		if err != nil {
			return err
		}
		if main, ok = ret.Export().(*goja.Promise); !ok {
			return fmt.Errorf("wrapper returned %s, not a promise", ret)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for {
		if err := e.fatalErr(); err != nil {
			return nil, err
		}
		for _, p := range e.unhandled {
			if p != main {
				return nil, e.jsError(p.Result(), nil, "Uncaught (in promise) ")
			}
		}
		switch main.State() {
		case goja.PromiseStateFulfilled:
			return e.result(main.Result())
		case goja.PromiseStateRejected:
			return nil, e.jsError(main.Result(), nil, "")
		}
		if e.pending == 0 && e.timers.Len() == 0 {
			return nil, &Error{Kind: KindUnsettled, Message: "the code awaits a promise that nothing can settle: no function call or timer is pending"}
		}
		if err := e.tick(); err != nil {
			return nil, err
		}
	}
}

// tick waits for a settled Func call, a due timer or the end of the execution, then
// runs what is ready. Loop-only.
func (e *execution) tick() *Error {
	var timerC <-chan time.Time
	if e.timers.Len() > 0 {
		d := time.Until(e.timers[0].due)
		if e.waitTimer == nil {
			e.waitTimer = time.NewTimer(d)
		} else {
			e.waitTimer.Reset(d)
		}
		timerC = e.waitTimer.C
	}
	select {
	case <-e.wake:
	case <-timerC:
	}
	if e.waitTimer != nil {
		e.waitTimer.Stop()
	}

	e.mu.Lock()
	queue := e.queue
	e.queue = nil
	e.mu.Unlock()
	for _, f := range queue {
		if e.fatalErr() != nil {
			return nil
		}
		if err := e.enter(f); err != nil {
			return err
		}
	}
	return e.runDueTimers()
}

// result converts the code's value into plain data bounded by MaxResultBytes.
func (e *execution) result(v goja.Value) (any, *Error) {
	c := &converter{vm: e.vm, mode: modeData, root: "result", maxSize: e.lim.MaxResultBytes}
	var out any
	var cerr error
	if err := e.enter(func() error {
		return e.inVM(func() { out, _, cerr = c.conv(v) })
	}); err != nil {
		return nil, err
	}
	if cerr != nil {
		var ce *convError
		if errors.As(cerr, &ce) {
			return nil, &Error{Kind: KindResult, Message: ce.msg}
		}
		return nil, e.classify(cerr)
	}
	// The running estimate ignores escaping; measure exactly when it could matter.
	if c.size > e.lim.MaxResultBytes/4 {
		raw, err := json.Marshal(out)
		if err != nil {
			return nil, &Error{Kind: KindResult, Message: fmt.Sprintf("result is not JSON data: %v", err)}
		}
		if len(raw) > e.lim.MaxResultBytes {
			return nil, &Error{Kind: KindResult, Message: fmt.Sprintf("result is larger than the %d-byte limit (%d bytes)", e.lim.MaxResultBytes, len(raw))}
		}
	}
	return out, nil
}

// inVM runs f as if it were a JS function implemented in Go, so that agent code it
// triggers (getters, toJSON, iterators) may throw and be interrupted safely.
func (e *execution) inVM(f func()) error {
	fn, _ := goja.AssertFunction(e.vm.ToValue(func(goja.FunctionCall) goja.Value {
		f()
		return goja.Undefined()
	}))
	_, err := fn(goja.Undefined())
	return err
}

// setup installs the sandbox's globals (guards, console, timers) and the namespaces.
func (e *execution) setup(fns Functions) *Error {
	if err := e.setupGlobals(); err != nil {
		return err
	}
	return e.bind(fns)
}

// setupGlobals installs guards, console and timers.
func (e *execution) setupGlobals() *Error {
	vm := e.vm
	e.errorCtor = vm.Get("Error").(*goja.Object)
	if err := e.installDisposeSymbols(); err != nil {
		return &Error{Kind: KindInternal, Message: fmt.Sprintf("install Symbol.dispose: %v", err)}
	}
	if err := e.installGuards(); err != nil {
		return &Error{Kind: KindInternal, Message: fmt.Sprintf("install guards: %v", err)}
	}
	if err := e.installConsole(); err != nil {
		return &Error{Kind: KindInternal, Message: fmt.Sprintf("install console: %v", err)}
	}
	if err := e.installTimers(); err != nil {
		return &Error{Kind: KindInternal, Message: fmt.Sprintf("install timers: %v", err)}
	}
	return nil
}

// bind defines fns as namespace objects on globalThis. A namespace's functions are made
// on first use: a catalog of a thousand functions costs a program that calls two of them
// little more than an empty one.
func (e *execution) bind(fns Functions) *Error {
	vm := e.vm
	global := vm.GlobalObject()
	spaces := map[string]*lazyNamespace{}
	catchAlls := map[string]Func{}
	for name, fn := range fns {
		ns, method, ok := strings.Cut(name, ".")
		if !ok && name != "" && fn != nil {
			// A bare name is a global function (the sidecar disclosure's invoke).
			if ReservedGlobal(name) {
				return &Error{Kind: KindInternal, Message: fmt.Sprintf("function %q: its name clashes with a JavaScript builtin", name)}
			}
			if err := global.DefineDataProperty(name, e.binding(name, fn), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
				return &Error{Kind: KindInternal, Message: fmt.Sprintf("bind %q: %v", name, err)}
			}
			continue
		}
		if !ok || ns == "" || method == "" || fn == nil {
			return &Error{Kind: KindInternal, Message: fmt.Sprintf("function %q: want a non-nil Func named namespace.name or name", name)}
		}
		// Own-property lookups only: an inherited name ("constructor" resolves to Object
		// through Object.prototype) must never be mistaken for a namespace object, or a
		// backend could replace Object.keys. The catalog refuses such names; this is the
		// second line.
		if ReservedGlobal(ns) || ReservedProperty(method) {
			return &Error{Kind: KindInternal, Message: fmt.Sprintf("function %q: its name clashes with a JavaScript builtin", name)}
		}
		if method == "*" {
			catchAlls[ns] = fn
			continue
		}
		l := spaces[ns]
		if l == nil {
			l = &lazyNamespace{e: e, ns: ns, fns: map[string]Func{}, bound: map[string]goja.Value{}}
			spaces[ns] = l
		}
		l.fns[method] = fn
	}
	for ns, fn := range catchAlls {
		if spaces[ns] != nil {
			return &Error{Kind: KindInternal, Message: fmt.Sprintf("namespace %q has both functions and a catch-all", ns)}
		}
		obj := vm.NewDynamicObject(&catchAll{e: e, ns: ns, fn: fn, bound: map[string]goja.Value{}})
		if err := global.DefineDataProperty(ns, obj, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
			return &Error{Kind: KindInternal, Message: fmt.Sprintf("bind namespace %q: %v", ns, err)}
		}
	}
	for ns, l := range spaces {
		l.keys = slices.Sorted(maps.Keys(l.fns))
		if err := global.DefineDataProperty(ns, vm.NewDynamicObject(l), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
			return &Error{Kind: KindInternal, Message: fmt.Sprintf("bind namespace %q: %v", ns, err)}
		}
	}
	return nil
}

// lazyNamespace is a namespace object whose functions are made when first read. It has
// exactly its functions as own properties (Object.keys lists them, in name order), and
// is read-only like a frozen object: a program cannot replace a binding.
type lazyNamespace struct {
	e     *execution
	ns    string
	fns   map[string]Func
	keys  []string
	bound map[string]goja.Value
}

func (l *lazyNamespace) Get(key string) goja.Value {
	if v, ok := l.bound[key]; ok {
		return v
	}
	fn := l.fns[key]
	if fn == nil {
		return nil
	}
	v := l.e.binding(l.ns+"."+key, fn)
	l.bound[key] = v
	return v
}

func (l *lazyNamespace) Set(string, goja.Value) bool { return false }
func (l *lazyNamespace) Has(key string) bool         { return l.fns[key] != nil }
func (l *lazyNamespace) Delete(string) bool          { return false }
func (l *lazyNamespace) Keys() []string              { return l.keys }

// catchAll is a namespace whose every property is a function served by one Func: for a
// namespace whose functions are not known (an upstream that needs a login), so that a
// program calling one learns why from the rejection, not from a ReferenceError.
type catchAll struct {
	e     *execution
	ns    string
	fn    Func
	bound map[string]goja.Value
}

func (c *catchAll) Get(key string) goja.Value {
	// Not functions: what awaiting, printing or converting the namespace object looks up.
	if key == "then" || key == "toJSON" || ReservedProperty(key) {
		return nil
	}
	v, ok := c.bound[key]
	if !ok {
		v = c.e.binding(c.ns+"."+key, c.fn)
		c.bound[key] = v
	}
	return v
}

func (c *catchAll) Set(string, goja.Value) bool { return false }
func (c *catchAll) Has(key string) bool         { return c.Get(key) != nil }
func (c *catchAll) Delete(string) bool          { return false }
func (c *catchAll) Keys() []string              { return nil }

// installDisposeSymbols defines Symbol.dispose and Symbol.asyncDispose, which goja
// lacks, as the registered symbols esbuild's lowering of `using` falls back to, so that
// objects written with [Symbol.dispose]() work with `using`.
func (e *execution) installDisposeSymbols() error {
	sym := e.vm.Get("Symbol").(*goja.Object)
	forFn, ok := goja.AssertFunction(sym.Get("for"))
	if !ok {
		return errors.New("no function at Symbol.for")
	}
	for _, name := range []string{"dispose", "asyncDispose"} {
		if v := sym.Get(name); v != nil && !goja.IsUndefined(v) {
			continue
		}
		v, err := forFn(sym, e.vm.ToValue("Symbol."+name))
		if err != nil {
			return err
		}
		if err := sym.DefineDataProperty(name, v, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE); err != nil {
			return err
		}
	}
	return nil
}

// binding is the JS function for one Func: it converts the arguments, starts the Func on
// its own goroutine and returns a promise that the loop settles when the Func returns.
func (e *execution) binding(name string, fn Func) goja.Value {
	vm := e.vm
	return vm.ToValue(func(call goja.FunctionCall) goja.Value {
		if e.calls >= e.lim.MaxCalls {
			e.kill(&Error{Kind: KindCalls, Message: fmt.Sprintf("too many function calls: the limit is %d per execution", e.lim.MaxCalls)})
			return goja.Undefined()
		}
		if e.pending+e.timers.Len() >= e.lim.MaxCallsInFlight {
			e.kill(&Error{Kind: KindCallsInFlight, Message: fmt.Sprintf("too many function calls and timers pending at once: the limit is %d", e.lim.MaxCallsInFlight)})
			return goja.Undefined()
		}
		args := make([]any, len(call.Arguments))
		size := 0 // the arguments' JSON size so far: MaxArgumentBytes bounds them all
		for i, a := range call.Arguments {
			c := &converter{vm: vm, mode: modeData, fn: name, arg: i, maxSize: e.lim.MaxArgumentBytes - size}
			v, _, err := c.conv(a)
			if err != nil {
				var ce *convError
				if errors.As(err, &ce) {
					panic(vm.NewTypeError(ce.msg))
				}
				panic(err)
			}
			args[i] = v
			size += c.size
		}
		frames := vm.CaptureCallStack(4, nil)
		p, resolve, reject := vm.NewPromise()
		e.calls++
		e.pending++
		e.mu.Lock()
		e.inFlight[name]++
		e.mu.Unlock()
		// done settles the call's promise; any goroutine may call it, once.
		done := func(v any, err error) {
			e.mu.Lock()
			if e.inFlight[name]--; e.inFlight[name] == 0 {
				delete(e.inFlight, name)
			}
			e.mu.Unlock()
			if raw, ok := v.(json.RawMessage); ok && err == nil {
				if cost := jsCost(raw); cost > e.lim.MaxMemory {
					e.kill(&Error{Kind: KindMemory, Message: fmt.Sprintf("memory limit: the result of %s (%d KiB of JSON) would take over %d MiB as JavaScript values; the limit is %d MiB",
						name, len(raw)>>10, cost>>20, e.lim.MaxMemory>>20)})
					return
				}
			}
			e.enqueue(func() error {
				e.pending--
				if err != nil {
					return reject(e.callError(name, err, frames))
				}
				jv, cerr := toJS(vm, v, 0)
				if cerr != nil {
					return reject(e.callError(name, fmt.Errorf("unusable result: %w", cerr), frames))
				}
				return resolve(jv)
			})
		}
		if e.caller != nil {
			// Handed over on the loop: the caller starts the call without blocking and
			// reports through done (one goroutine hop fewer per call than below).
			e.caller(e.ctx, name, args, done)
		} else {
			go func() { done(callFunc(e.ctx, fn, args)) }()
		}
		return vm.ToValue(p)
	})
}

// callFunc runs a Func, turning a panic into an error so a faulty backend cannot crash
// the server.
func callFunc(ctx context.Context, fn Func, args []any) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(ctx, args)
}

// callError builds the Error a failed call rejects with. Its stack points at the call
// site in the agent's code, captured when the call was made.
func (e *execution) callError(name string, err error, frames []goja.StackFrame) goja.Value {
	msg := err.Error()
	if !strings.HasPrefix(msg, name) {
		msg = name + ": " + msg
	}
	obj, cerr := e.vm.New(e.errorCtor, e.vm.ToValue(msg))
	if cerr != nil {
		return e.vm.ToValue(msg)
	}
	var b strings.Builder
	b.WriteString("Error: " + msg)
	for _, f := range frames {
		if line, col, ok := framePosition(e.code, &f); ok {
			fmt.Fprintf(&b, "\n    at %s (%s:%d:%d)", frameName(&f), sourceName, line, col)
		}
	}
	_ = obj.Set("stack", b.String())
	return obj
}
