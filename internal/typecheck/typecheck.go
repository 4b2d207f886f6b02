package typecheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Options configures a Checker. Zero fields take their defaults.
type Options struct {
	// Tsgo is the tsgo executable (see Find). Required.
	Tsgo string
	// Processes is how many checker processes run; each checks one program at a time.
	// Default 2.
	Processes int
	// Timeout bounds one check, start to answer; past it the process is killed and the
	// check fails with ErrTimeout. Default 10s.
	Timeout time.Duration
	// MaxMemory bounds each checker process's data segment (RLIMIT_DATA, Linux only);
	// past it the process dies and the check fails with ErrCrashed. Default 1 GiB.
	MaxMemory int64
	// MaxChecks is how many checks a process serves before it is replaced, so that
	// nothing accumulates in a long-lived process. Default 1000.
	MaxChecks int
	// Logger receives restarts and crashes. Default slog.Default().
	Logger *slog.Logger

	compilerOptions map[string]any // overrides of compilerOptions, for tests
}

// Defaults of Options.
const (
	DefaultProcesses = 2
	DefaultTimeout   = 10 * time.Second
	DefaultMaxMemory = 1 << 30
	DefaultMaxChecks = 1000
)

// Errors of Check. Each is wrapped with the cause (the process's last words, the limit).
var (
	// ErrCrashed: the checker process died while checking the program (a crash of the
	// compiler, or its memory limit).
	ErrCrashed = errors.New("type checker crashed")
	// ErrTimeout: the check took longer than Options.Timeout; the process was killed.
	ErrTimeout = errors.New("type check timed out")
	// ErrUnavailable: no checker process could be started (tsgo missing or broken). The
	// program is not at fault.
	ErrUnavailable = errors.New("type checker unavailable")
	// ErrClosed: the Checker was closed.
	ErrClosed = errors.New("type checker closed")
)

// Diagnostic is one compiler error in the agent's program.
type Diagnostic struct {
	Line   int // 1-based, in the agent's own code
	Column int // 1-based, in characters
	Code   int // TypeScript's code: 2345 for TS2345
	// Message is the compiler's message; its elaborations (why a type does not fit)
	// follow on indented lines.
	Message string
	// Call is "ns.fn" when the error lies inside a call written ns.fn(...) (the
	// innermost one), so that a caller can show that function's signature.
	Call string
}

// String renders d as "line:column TScode message".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%d:%d TS%d %s", d.Line, d.Column, d.Code, d.Message)
}

// Checker type-checks programs in a pool of tsgo processes. It is safe for concurrent
// use; at most Options.Processes checks run at once, the others wait.
type Checker struct {
	p *pool
}

// New returns a Checker and starts its processes in the background (the first check
// waits for one to be ready). It fails only on invalid options; a tsgo that does not
// start shows as ErrUnavailable from Check.
func New(opts Options) (*Checker, error) {
	if opts.Tsgo == "" {
		return nil, errors.New("typecheck: no tsgo executable given")
	}
	if opts.Processes <= 0 {
		opts.Processes = DefaultProcesses
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxMemory <= 0 {
		opts.MaxMemory = DefaultMaxMemory
	}
	if opts.MaxChecks <= 0 {
		opts.MaxChecks = DefaultMaxChecks
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p, err := newPool(opts)
	if err != nil {
		return nil, err
	}
	return &Checker{p: p}, nil
}

// Check type-checks code, the agent's program, against decls, the declaration blocks of
// the catalog (catalog.Snapshot.Declarations), and returns its errors; none means it
// type-checks. The error is for a check that could not be made: ErrCrashed or
// ErrTimeout (the program, or the checker, is at fault), ErrUnavailable, ErrClosed, or
// ctx's error.
func (c *Checker) Check(ctx context.Context, decls []string, code string) ([]Diagnostic, error) {
	return c.p.check(ctx, decls, code)
}

// Warm prepares every checker process for decls (a catalog that just changed) by
// checking an empty program against them in the background, so that the first program
// checked against them pays only for itself. It returns at once.
func (c *Checker) Warm(decls []string) {
	go c.p.warm(decls)
}

// PIDs returns the process ids of the running checker processes (for memory accounting
// in benchmarks and tests).
func (c *Checker) PIDs() []int { return c.p.pids() }

// Close stops every checker process and removes their files. Checks in flight fail with
// ErrClosed.
func (c *Checker) Close() error { return c.p.close() }
