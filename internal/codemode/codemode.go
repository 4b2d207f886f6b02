// Package codemode is what the Code Mode tools do and say, independent of the wire that
// carries them: the MCP server (server/) and the SDK websocket (sdkbridge/) both call it,
// so a model sees the same descriptions and the same texts whichever way it comes in.
// Which tools a model gets depends on the disclosure (catalog, filesystem, sidecar or
// auto; see Disclosure and Service.ToolSet).
package codemode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/runtime"
	"github.com/pctx-dev/pctx/internal/telemetry"
	"github.com/pctx-dev/pctx/internal/vshell"
)

// Executor runs one program: the sandbox pool (internal/sandbox) in pctx, so that no
// program can take the server down.
type Executor interface {
	Execute(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result
}

// InProcess runs programs in this process's own goja VMs: no protection from what Go
// cannot recover from (a stack overflow while compiling eval'd code, an allocation past
// memory). For tools and tests that run only trusted code.
var InProcess Executor = inProcess{}

type inProcess struct{}

func (inProcess) Execute(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result {
	return runtime.Execute(ctx, code, fns, lim)
}

// Options configures a Service.
type Options struct {
	// Executor runs the programs. Required.
	Executor Executor
	// Limits bound every execution; zero fields mean the runtime's defaults.
	Limits runtime.Limits
	// MaxConcurrent caps the executions running at once across every caller; default
	// DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxPerSession caps the executions running at once for one session (WithSession);
	// default DefaultMaxPerSession.
	MaxPerSession int
	// Disclosure is the disclosure of callers that choose none; default
	// DefaultDisclosure (an invalid one too).
	Disclosure Disclosure
	// Search says when search_functions is offered; default SearchAuto.
	Search Search
	// InlineBudget bounds Auto's inline declarations, in bytes; default
	// DefaultInlineBudget.
	InlineBudget int
	// Naming is the convention of the names every answer uses (list, details and
	// execute alike); default catalog.NamingRegistered. Named gives the service under
	// another.
	Naming catalog.Naming

	// Telemetry receives a span per execution and per function call, and the execution
	// metrics; nil means off.
	Telemetry *telemetry.Telemetry
	// Observer is handed every execution's Record once it has ended (the dashboard's
	// feed); nil means none. It runs on the executing goroutine and must not modify the
	// record.
	Observer func(*Record)
	// Checker type-checks every program before it runs (a *typecheck.Checker); nil runs
	// programs unchecked.
	Checker Checker
	// Typecheck is what happens to a program with type errors; "" means TypecheckStrict.
	// A call may override it (WithTypecheckMode).
	Typecheck TypecheckMode
	// Logger gets one debug line per execution (session, code hash, duration, calls,
	// error kind, trace id: never code, arguments or results) and the notice of a check
	// skipped for want of a checker; nil means no execution lines, notices to
	// slog.Default().
	Logger *slog.Logger
}

// Service answers the Code Mode tools (list_functions, get_function_details,
// search_functions, execute_bash, execute_typescript and the sidecar's function tools)
// over one catalog. It is safe for concurrent use.
type Service struct {
	cat    *catalog.Catalog
	exec   Executor
	limits runtime.Limits
	slots  *limiter
	naming catalog.Naming

	disclosure   Disclosure // of callers that choose none
	search       Search
	inlineBudget int
	sets         *toolSets // shared by the views Named makes, keyed by naming

	tel     *telemetry.Telemetry // nil: off
	observe func(*Record)
	log     *slog.Logger // nil: no execution lines
	rec     *recording   // shared by the service's Named views
	checker Checker      // nil: programs run unchecked (Options.Checker)
	mode    TypecheckMode
}

// ErrBusy is returned by Execute when an execution cap is reached.
var ErrBusy = errors.New("busy")

// New returns a Service over cat. It panics without opts.Executor: that is a wiring
// mistake, not a condition to handle.
func New(cat *catalog.Catalog, opts *Options) *Service {
	if opts == nil || opts.Executor == nil {
		panic("codemode.New: Options.Executor is required")
	}
	s := &Service{cat: cat, exec: opts.Executor, limits: opts.Limits, slots: newLimiter(opts.MaxConcurrent, opts.MaxPerSession),
		naming: opts.Naming, disclosure: opts.Disclosure, search: opts.Search, inlineBudget: opts.InlineBudget, sets: &toolSets{},
		tel: opts.Telemetry, observe: opts.Observer, log: opts.Logger, rec: &recording{}}
	if _, err := ParseDisclosure(string(s.disclosure)); err != nil || s.disclosure == "" {
		s.disclosure = DefaultDisclosure
	}
	if _, err := ParseSearch(string(s.search)); err != nil || s.search == "" {
		s.search = SearchAuto
	}
	if s.inlineBudget <= 0 {
		s.inlineBudget = DefaultInlineBudget
	}
	s.checker, s.mode = opts.Checker, opts.Typecheck
	if s.mode == "" {
		s.mode = TypecheckStrict
	}
	return s
}

// Catalog returns the catalog the service reads.
func (s *Service) Catalog() *catalog.Catalog { return s.cat }

// Snapshot returns the catalog as it is now, plus session-scoped namespaces visible only
// to the caller: the one consistent view to derive several answers from.
func (s *Service) Snapshot(session ...catalog.Namespace) (*catalog.Snapshot, error) {
	return s.snapshot(session)
}

func (s *Service) snapshot(session []catalog.Namespace) (*catalog.Snapshot, error) {
	snap := s.cat.Snapshot()
	if len(session) == 0 {
		return snap.Named(s.naming), nil
	}
	snap, err := snap.With(session...)
	if err != nil {
		return nil, err
	}
	return snap.Named(s.naming), nil
}

// Named returns the service as seen under naming n: the same catalog, executor, limits
// and execution caps, its answers in n's names (the published client's sessions and SDK
// connections that ask for it).
func (s *Service) Named(n catalog.Naming) *Service {
	if n == s.naming {
		return s
	}
	c := *s
	c.naming = n
	return &c
}

// Bounds on the discovery tools' inputs, so one request cannot buy unbounded CPU with
// fuzzy matching. Real calls are far smaller.
const (
	MaxQueryBytes    = 512
	MaxDetailNames   = 64
	MaxFunctionBytes = 256
	MaxCommandBytes  = 16 << 10
)

// ListFunctions renders the list_functions text.
func (s *Service) ListFunctions(opts catalog.ListOptions, session ...catalog.Namespace) (string, error) {
	if len(opts.Query) > MaxQueryBytes {
		return "", fmt.Errorf("query: at most %d bytes, got %d: use a few words", MaxQueryBytes, len(opts.Query))
	}
	snap, err := s.snapshot(session)
	if err != nil {
		return "", err
	}
	return snap.List(opts), nil
}

// FunctionDetails renders the get_function_details text for "ns.fn" names.
func (s *Service) FunctionDetails(names []string, session ...catalog.Namespace) (string, error) {
	if len(names) == 0 {
		return "", fmt.Errorf("no functions named: pass names like \"namespace.function\" as listed by list_functions")
	}
	if len(names) > MaxDetailNames {
		return "", fmt.Errorf("functions: at most %d per request, got %d", MaxDetailNames, len(names))
	}
	for _, name := range names {
		if len(name) > MaxFunctionBytes {
			return "", fmt.Errorf("functions: a name of %d bytes is longer than any function's (at most %d)", len(name), MaxFunctionBytes)
		}
	}
	snap, err := s.snapshot(session)
	if err != nil {
		return "", err
	}
	return snap.Details(names)
}

// Execute runs code once against the catalog as it is now. The returned error is only for
// a failure to start (an execution cap reached, wrapping ErrBusy, or a session overlay
// conflict); the program's own failure is Result.Error. ctx's session (WithSession)
// counts against that session's cap; under the Sidecar disclosure (WithDisclosure) the
// program also has invoke({name, arguments}).

// Execute runs code once against the catalog as it is now, after type-checking it when
// the Service has a checker (WithTypecheck): a refused program comes back with an error
// of kind KindTypecheck or KindTypecheckCrashed and made no call. The returned error is
// only for a failure to start (an execution cap reached, wrapping ErrBusy, or a session
// overlay conflict); the program's own failure is Result.Error. ctx's session
// (WithSession) counts against that session's cap.
func (s *Service) Execute(ctx context.Context, code string, session ...catalog.Namespace) (*runtime.Result, error) {
	release, err := s.slots.acquire(SessionFrom(ctx))
	if err != nil {
		return nil, err
	}
	defer release()
	snap, err := s.snapshot(session)
	if err != nil {
		return nil, err
	}
	chk := s.check(ctx, snap, code)
	sidecar := DisclosureFrom(ctx) == Sidecar
	rec, _ := ctx.Value(recordKey{}).(*Record)
	if rec != nil || s.recording() {
		return s.executeRecorded(ctx, code, snap, len(session) > 0, sidecar, rec, chk), nil
	}
	if chk.refused != nil {
		return chk.refused, nil
	}
	fns := snap.Functions()
	if sidecar {
		// The snapshot's map is shared by every execution: extend a copy.
		fns = maps.Clone(fns)
		fns[catalog.InvokeName] = snap.Invoke()
	}
	res := s.exec.Execute(ctx, code, fns, s.limits)
	res.Console = append(res.Console, chk.notes...)
	return res, nil
}

// ExecuteBash runs one command line of the filesystem disclosure's read-only shell over
// the catalog as it is now (vshell.SDK).
func (s *Service) ExecuteBash(command string, session ...catalog.Namespace) (vshell.Result, error) {
	if len(command) > MaxCommandBytes {
		return vshell.Result{}, fmt.Errorf("command: at most %d bytes, got %d", MaxCommandBytes, len(command))
	}
	snap, err := s.snapshot(session)
	if err != nil {
		return vshell.Result{}, err
	}
	return vshell.SDK(snap).Run(command), nil
}
