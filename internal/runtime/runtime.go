package runtime

import (
	"context"
	"errors"
	"time"
)

// Func is a host function the sandbox may call as namespace.name(...).
// args are the JS arguments converted to plain Go values (nil, bool, float64 or int64,
// string, []any, map[string]any): numbers that are exact integers arrive as int64,
// others as float64; Date becomes an ISO string, Map an object, Set an array, BigInt an
// int64 (or a decimal string beyond 2^53); undefined and functions are dropped as in
// JSON. It runs on its own goroutine; ctx is cancelled when the execution ends. The
// returned value must be plain JSON-like data (anything encoding/json can marshal is
// accepted and converted through JSON); a non-nil error rejects the call's promise.
type Func func(ctx context.Context, args []any) (any, error)

// Functions maps "namespace.name" to the Func that serves it; a name without a dot is a
// global function (the sidecar disclosure's invoke). A key "namespace.*" makes every
// property of that namespace a function served by its Func (for a namespace whose
// functions are not known, so that every call rejects with why); a namespace has either
// functions or a catch-all.
type Functions map[string]Func

// Limits bounds one execution. The zero value of every field means its default; a
// negative value also means the default (there is no "unlimited").
type Limits struct {
	Timeout          time.Duration // wall clock; default 30s
	MaxMemory        int64         // heap growth attributed to the execution, bytes; default 256 MiB
	MaxStackDepth    int           // JS call-stack depth; default 1000
	MaxCalls         int           // total Func calls; default 10000
	MaxCallsInFlight int           // Func calls pending at once; default 1000
	MaxConsoleBytes  int           // captured console text; default 1 MiB
	MaxResultBytes   int           // JSON size of the result; default 1 MiB
	MaxArgumentBytes int           // JSON size of one call's arguments; default 4 MiB
	// MaxCPUTime is the CPU time one execution may use; default twice Timeout (the VM is
	// one thread, the garbage collector may keep a second busy). Only a sandbox worker
	// enforces it (the kernel's RLIMIT_CPU, set by internal/sandbox): Execute on its own
	// measures no CPU time.
	MaxCPUTime time.Duration
}

// Default limits, applied to every zero field of Limits. DefaultMaxStackDepth is lower
// than Node's (about 11000 frames) because goja unwinds an overflow through getters,
// proxies and native callbacks in time quadratic in the depth: at 1000 frames the worst
// case measured 0.1 s, at 3000 already seconds.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxMemory        = 256 << 20
	DefaultMaxStackDepth    = 1000
	DefaultMaxCalls         = 10000
	DefaultMaxCallsInFlight = 1000
	DefaultMaxConsoleBytes  = 1 << 20
	DefaultMaxResultBytes   = 1 << 20
	DefaultMaxArgumentBytes = 4 << 20
)

// DefaultLimits returns Limits with every field set to its default.
func DefaultLimits() Limits {
	return Limits{}.withDefaults()
}

// WithDefaults returns l with every zero or negative field set to its default.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }

// ConsoleLine is one console.* call, formatted like Node prints it.
type ConsoleLine struct {
	Level string `json:"level"` // log, info, warn, error, debug
	Text  string `json:"text"`
}

// ErrorKind says what ended an execution with an error.
type ErrorKind string

// Error kinds. Each limit has its own kind so that callers and agents can tell which
// bound was hit.
const (
	KindSyntax        ErrorKind = "syntax"          // the code does not parse, or is too large or too deeply nested to compile safely
	KindRuntime       ErrorKind = "runtime"         // an uncaught exception or unhandled rejection
	KindTimeout       ErrorKind = "timeout"         // Limits.Timeout, the caller's deadline, or a runaway regexp
	KindCanceled      ErrorKind = "canceled"        // the caller's context was cancelled
	KindMemory        ErrorKind = "memory"          // Limits.MaxMemory
	KindStack         ErrorKind = "stack"           // Limits.MaxStackDepth
	KindCalls         ErrorKind = "calls"           // Limits.MaxCalls
	KindCallsInFlight ErrorKind = "calls_in_flight" // Limits.MaxCallsInFlight
	KindConsole       ErrorKind = "console"         // Limits.MaxConsoleBytes
	KindResult        ErrorKind = "result"          // Limits.MaxResultBytes, or a result that is not plain data (cycles)
	KindUnsettled     ErrorKind = "unsettled"       // the code awaits a promise nothing can ever settle
	KindCPU           ErrorKind = "cpu"             // Limits.MaxCPUTime (enforced by the sandbox)
	KindCrashed       ErrorKind = "sandbox_crashed" // the sandbox process running the code died (a stack overflow while compiling, say)
	KindInternal      ErrorKind = "internal"        // a bug in pctx, not in the agent's code
)

// Error is why an execution failed, positioned in the agent's own code where possible.
type Error struct {
	Kind    ErrorKind `json:"kind"`
	Message string    `json:"message"`
	Line    int       `json:"line,omitempty"`   // 1-based, in the agent's code; 0 if unknown
	Column  int       `json:"column,omitempty"` // 1-based
	Stack   string    `json:"stack,omitempty"`  // JS stack trimmed to the agent's frames
}

func (e *Error) Error() string { return e.Message }

// Result is what one execution produced.
type Result struct {
	Value    any           `json:"value"` // plain JSON-able data
	Console  []ConsoleLine `json:"console,omitempty"`
	Error    *Error        `json:"error,omitempty"`
	Duration time.Duration `json:"duration"`
	Calls    int           `json:"calls"`
}

// Execute runs code once in a fresh VM with fns bound as namespace objects. It blocks
// until the code's result settles or a limit ends it, and is safe to call from many
// goroutines at once. When Execute returns, every Func call it started has seen its
// context cancelled; Execute does not wait for a Func that ignores its context.
func Execute(ctx context.Context, code string, fns Functions, lim Limits) *Result {
	return execute(ctx, code, fns, nil, lim.withDefaults())
}

// Caller starts one call of function name ("namespace.name") without blocking and reports
// its outcome by calling done exactly once, from any goroutine. It runs on the
// execution's loop, so it must not wait for the outcome. ctx ends with the execution;
// after that, done may still be called and is ignored.
type Caller func(ctx context.Context, name string, args []any, done func(v any, err error))

// ExecuteCalls is Execute for functions that one Caller serves: names lists the
// functions the program may call. It saves a goroutine per call, which is what a sandbox
// worker forwarding calls to its parent wants.
func ExecuteCalls(ctx context.Context, code string, names []string, call Caller, lim Limits) *Result {
	fns := make(Functions, len(names))
	for _, name := range names {
		fns[name] = servedByCaller
	}
	return execute(ctx, code, fns, call, lim.withDefaults())
}

// servedByCaller stands for a function that the execution's Caller serves.
func servedByCaller(context.Context, []any) (any, error) {
	return nil, errors.New("served by the execution's Caller")
}

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxMemory <= 0 {
		l.MaxMemory = DefaultMaxMemory
	}
	if l.MaxStackDepth <= 0 {
		l.MaxStackDepth = DefaultMaxStackDepth
	}
	if l.MaxCalls <= 0 {
		l.MaxCalls = DefaultMaxCalls
	}
	if l.MaxCallsInFlight <= 0 {
		l.MaxCallsInFlight = DefaultMaxCallsInFlight
	}
	if l.MaxConsoleBytes <= 0 {
		l.MaxConsoleBytes = DefaultMaxConsoleBytes
	}
	if l.MaxResultBytes <= 0 {
		l.MaxResultBytes = DefaultMaxResultBytes
	}
	if l.MaxArgumentBytes <= 0 {
		l.MaxArgumentBytes = DefaultMaxArgumentBytes
	}
	if l.MaxCPUTime <= 0 {
		l.MaxCPUTime = 2 * l.Timeout
	}
	return l
}
