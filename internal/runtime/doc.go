// Package runtime runs an agent's TypeScript once, in a fresh sandbox, and returns its
// result as plain JSON-able data.
//
// Execute is the whole API. The code is transpiled by esbuild (types are erased, not
// checked; syntax goja lacks, such as async generators, for await and using, is
// lowered) and wrapped in an async function, so top-level await works and a top-level
// return gives the result. If the code declares run at its top level (a function
// declaration or a const/let/var holding a function) and nothing else refers to it,
// run is called and awaited and its value is the result. The transpiled program is
// cached by the SHA-256 of the code.
//
// Each call gets its own goja VM with, as globals, the ECMAScript builtins, console
// (log, info, warn, error, debug, captured and formatted like Node's util.format with
// objects as JSON), setTimeout, setInterval, clearTimeout and clearInterval, and one
// object per namespace of fns whose methods return promises. Nothing else: no require,
// process, fetch, file system or environment. Prototype pollution dies with the VM.
//
// A Func runs on its own goroutine, so calls made together (Promise.all) run
// concurrently; its result is turned back into JS values and its promise settled on the
// execution's loop goroutine, which is the only one that touches the VM. A Func's error
// rejects its promise with an Error whose message starts with the function's name; if
// the code does not catch it, it becomes the execution's error, as does any other
// unhandled rejection. When Execute returns, the context of every call still in flight
// is cancelled; Execute does not wait for such calls.
//
// Errors carry a kind (ErrorKind), the message Node would print, the line and column in
// the agent's own code (mapped back through esbuild's source map) and a stack trimmed to
// the agent's frames. Every limit in Limits ends the execution with its own kind. The
// time limit interrupts running JS; when it ends an execution waiting on Func calls,
// its message names the functions still pending (up to three, most calls first), so
// the agent can tell which backend hung. The memory limit is enforced by a heap
// watchdog shared by all executions (see memory.go for the approximation) and by guards
// on builtins that allocate or loop a lot in one call (see guards.go). Known residual risk:
// a builtin that builds a large output in a single Go loop that no guard estimates (for
// instance String.prototype.replace with a long replacement over very many matches) can
// overshoot the memory limit before the interrupt lands.
//
// Before compiling, the code's size and shape are bounded (nesting.go): esbuild's and
// goja's parsers recurse in Go, and a Go stack overflow kills the process, so code over
// 128 KiB, brackets nested over 1000 deep, long prefix-operator chains and statements of
// over 1500 tokens without a separator are refused as syntax errors.
//
// Limitations of the wrapping: import and export statements and TypeScript namespaces
// are not available (the code is a function body, not a module).
//
// Process-wide effect: the package sets regexp2.DefaultMatchTimeout (see guards.go).
package runtime
