package codemode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/runtime"
	"github.com/pctx-dev/pctx/internal/telemetry"
)

// Record is one execution as the dashboard and a client asking for its trace see it:
// the program, what it produced, and every function call it made with its times. It
// holds the code and the result, so it is never logged.
type Record struct {
	ID       uint64 // counts the service's recorded executions from 1
	Session  string // the session key ("mcp:ID", "ws:c3", "compat:ID", "ui:..."); "" for none
	Code     string
	CodeHash string // the first 16 hex digits of the code's SHA-256
	Started  time.Time
	Ended    time.Time
	// TypeCheck is how long type-checking took, when the program was type-checked.
	TypeCheck time.Duration
	Result    *runtime.Result
	Calls     []Call // in the order they started
	// TraceID is the OpenTelemetry trace the execution belongs to (hex): its own when
	// pctx traces, the client's when it sent a traceparent; "" otherwise.
	TraceID string
}

// Call is one function call of an execution.
type Call struct {
	Namespace string    `json:"namespace"`
	Function  string    `json:"function"`
	Backend   string    `json:"backend"`          // "upstream", "worker", "go" or "session"
	Source    string    `json:"source,omitempty"` // the upstream server or worker namespace the call went to
	Member    string    `json:"member,omitempty"` // the SDK worker connection that served it, for worker pools
	Started   time.Time `json:"startedAt"`
	Ended     time.Time `json:"endedAt"`
	Outcome   string    `json:"outcome"` // "ok", "error", "timeout", "cancelled", or "abandoned" (still running when the execution ended)
	Error     string    `json:"error,omitempty"`
	// RegisteredNamespace and RegisteredFunction name the function as its backend
	// registered it; Namespace and Function are the names the program called it by
	// (they differ under catalog.NamingCamel, and where catalog sanitised a name).
	RegisteredNamespace string `json:"-"`
	RegisteredFunction  string `json:"-"`
}

type recordKey struct{}

// WithRecord asks Execute to fill rec with the execution's record. A caller that only
// wants the result pays nothing for recording unless Options.Telemetry, Options.Observer
// or a debug Options.Logger is on.
func WithRecord(ctx context.Context, rec *Record) context.Context {
	return context.WithValue(ctx, recordKey{}, rec)
}

// recording is the record-keeping a service shares with its Named views.
type recording struct {
	seq   atomic.Uint64 // Record ids
	bound sync.Map      // catalog.Naming → *boundFunctions: the current snapshot's recording wrappers
}

// recording reports whether executions must be recorded even when the caller did not ask.
func (s *Service) recording() bool {
	return s.tel.Recording() || s.observe != nil || (s.log != nil && s.log.Enabled(context.Background(), slog.LevelDebug))
}

// recorder collects one execution's calls. Calls may end after the execution (runtime
// does not wait for a Func that ignores its context): those are left out.
type recorder struct {
	tracer trace.Tracer // nil when not tracing
	mu     sync.Mutex
	calls  []Call
	done   bool
}

type recorderKey struct{}

func (r *recorder) begin(c Call) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return -1
	}
	r.calls = append(r.calls, c)
	return len(r.calls) - 1
}

func (r *recorder) end(i int, member, outcome string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done || i < 0 {
		return
	}
	c := &r.calls[i]
	c.Ended, c.Member, c.Outcome = time.Now(), member, outcome
	if err != nil {
		c.Error = err.Error()
	}
}

// finish closes the recorder and returns its calls; calls still running are abandoned.
func (r *recorder) finish(at time.Time) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = true
	for i := range r.calls {
		if r.calls[i].Outcome == "" {
			r.calls[i].Ended, r.calls[i].Outcome = at, "abandoned"
		}
	}
	return r.calls
}

// boundFunctions are a snapshot's functions wrapped to record their calls, and the Call
// each "ns.fn" is recorded as.
type boundFunctions struct {
	snap   *catalog.Snapshot
	fns    runtime.Functions
	protos map[string]Call
}

// recordedFunctions wraps snap's functions so that a call under a recorder is recorded.
// The wrappers look the recorder up in the call's context, so the global snapshot's are
// made once and shared; a session overlay's are made per execution.
func (s *Service) recordedFunctions(snap *catalog.Snapshot, overlay bool) *boundFunctions {
	if !overlay {
		if b, ok := s.rec.bound.Load(snap.Naming()); ok && b.(*boundFunctions).snap == snap {
			return b.(*boundFunctions)
		}
	}
	base := snap.Functions()
	protos := make(map[string]Call, len(base))
	for _, n := range snap.Outline() {
		backend, source := backendOf(n.Owner)
		ns := Call{Namespace: n.Name, Backend: backend, Source: source, RegisteredNamespace: n.Original}
		// An unavailable namespace is bound as a catch-all, "ns.*", whose calls all reject.
		protos[n.Name+".*"] = withFunction(ns, "*", "*")
		for _, fi := range n.Functions {
			protos[n.Name+"."+fi.Name] = withFunction(ns, fi.Name, fi.Original)
		}
	}
	out := make(runtime.Functions, len(base))
	for name, f := range base {
		proto, ok := protos[name]
		if !ok { // not in the outline: record it by its binding's name
			ns, fn, _ := strings.Cut(name, ".")
			proto = Call{Namespace: ns, Function: fn, RegisteredNamespace: ns, RegisteredFunction: fn}
		}
		out[name] = s.recordCalls(proto, f)
	}
	b := &boundFunctions{snap: snap, fns: out, protos: protos}
	if !overlay {
		s.rec.bound.Store(snap.Naming(), b)
	}
	return b
}

// recordInvoke wraps the sidecar's invoke({name, arguments}) so that each call is
// recorded as a call of the function it names (as invoke, when it names none).
func (s *Service) recordInvoke(b *boundFunctions, f runtime.Func) runtime.Func {
	return func(ctx context.Context, args []any) (any, error) {
		proto := Call{Function: catalog.InvokeName, RegisteredFunction: catalog.InvokeName, Backend: "invoke"}
		if len(args) > 0 {
			if call, ok := args[0].(map[string]any); ok {
				if name, ok := call["name"].(string); ok {
					if fn, ok := b.snap.ToolFunction(name); ok {
						if p, ok := b.protos[fn]; ok {
							proto = p
						}
					}
				}
			}
		}
		return s.recordCalls(proto, f)(ctx, args)
	}
}

func withFunction(c Call, fn, registered string) Call {
	c.Function, c.RegisteredFunction = fn, registered
	return c
}

// backendOf maps a catalog owner ("upstream:NAME", "pool:NS", "go:NS", "" for session
// namespaces) to the backend kind and its name.
func backendOf(owner string) (backend, source string) {
	kind, name, _ := strings.Cut(owner, ":")
	switch kind {
	case "upstream":
		return "upstream", name
	case "pool", "worker":
		return "worker", name
	case "go":
		return "go", name
	case "":
		return "session", ""
	}
	return kind, name
}

// recordCalls wraps f, the function proto names, so that its calls under a recorder are
// recorded and traced.
func (s *Service) recordCalls(proto Call, f runtime.Func) runtime.Func {
	return func(ctx context.Context, args []any) (any, error) {
		r, _ := ctx.Value(recorderKey{}).(*recorder)
		if r == nil {
			return f(ctx, args)
		}
		c := proto
		c.Started = time.Now()
		i := r.begin(c)
		var span trace.Span
		if r.tracer != nil {
			ctx, span = r.tracer.Start(ctx, "call "+c.Namespace+"."+c.Function, trace.WithAttributes(
				attribute.String("pctx.namespace", c.Namespace),
				attribute.String("pctx.function", c.Function),
				attribute.String("pctx.backend", c.Backend),
				attribute.String("pctx.source", c.Source),
			))
		}
		note := &telemetry.CallNote{}
		v, err := f(telemetry.WithCallNote(ctx, note), args)
		outcome := telemetry.Outcome(err)
		r.end(i, note.Member, outcome, err)
		if span != nil {
			span.SetAttributes(attribute.String("pctx.outcome", outcome))
			if err != nil {
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
		s.tel.Called(ctx, c.Backend, outcome)
		return v, err
	}
}

// executeRecorded runs code with its calls recorded, and reports the execution to
// telemetry, the log, the observer and rec (which may be nil).
func (s *Service) executeRecorded(ctx context.Context, code string, snap *catalog.Snapshot, overlay, sidecar bool, rec *Record, chk checked) *runtime.Result {
	if rec == nil {
		rec = &Record{}
	}
	*rec = Record{ID: s.rec.seq.Add(1), Session: SessionFrom(ctx), Code: code, CodeHash: codeHash(code), Started: time.Now()}
	r := &recorder{tracer: s.tel.Tracer()}
	var span trace.Span
	if r.tracer != nil {
		ctx, span = r.tracer.Start(ctx, "execute", trace.WithAttributes(
			attribute.String("pctx.session", rec.Session),
			attribute.String("pctx.code.hash", rec.CodeHash),
		))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		rec.TraceID = sc.TraceID().String()
	}
	rec.TypeCheck = chk.took
	var res *runtime.Result
	if chk.refused != nil {
		res = chk.refused // refused by the type check: nothing ran
	} else {
		b := s.recordedFunctions(snap, overlay)
		fns := b.fns
		if sidecar {
			// The bound map is shared by every execution: extend a copy.
			fns = maps.Clone(fns)
			fns[catalog.InvokeName] = s.recordInvoke(b, snap.Invoke())
		}
		res = s.exec.Execute(context.WithValue(ctx, recorderKey{}, r), code, fns, s.limits)
		res.Console = append(res.Console, chk.notes...)
	}
	rec.Ended = rec.Started.Add(res.Duration)
	rec.Calls = r.finish(time.Now())
	rec.Result = res
	kind := ""
	if res.Error != nil {
		kind = string(res.Error.Kind)
	}
	if span != nil {
		span.SetAttributes(attribute.Int("pctx.calls", res.Calls), attribute.Int64("pctx.duration_ms", res.Duration.Milliseconds()))
		if rec.TypeCheck > 0 {
			span.SetAttributes(attribute.Float64("pctx.typecheck_ms", float64(rec.TypeCheck.Microseconds())/1000))
		}
		if kind != "" {
			span.SetAttributes(attribute.String("error.type", kind))
			span.SetStatus(codes.Error, kind)
		}
		span.End()
	}
	s.tel.Executed(ctx, res.Duration, kind)
	if s.log != nil && s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.LogAttrs(ctx, slog.LevelDebug, "execution", slog.Uint64("id", rec.ID), slog.String("session", rec.Session),
			slog.String("code_sha256", rec.CodeHash), slog.Duration("duration", res.Duration), slog.Int("calls", res.Calls),
			slog.String("error_kind", kind), slog.String("trace_id", rec.TraceID))
	}
	if s.observe != nil {
		s.observe(rec)
	}
	return res
}

func codeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:8])
}

// Structured is rec as JSON-able data, the shape of execute_typescript's
// structuredContent when a client asks for the trace: the result as the pctx/1
// execute_typescript result has it (value, console, error, durationMs, calls) plus
// trace: {traceId?, codeSha256, startedAt, endedAt, typeCheckMs?, calls: [Call...]}.
func Structured(rec *Record) map[string]any {
	r := rec.Result
	if r == nil {
		r = &runtime.Result{}
	}
	console := r.Console
	if console == nil {
		console = []runtime.ConsoleLine{}
	}
	calls := rec.Calls
	if calls == nil {
		calls = []Call{}
	}
	tr := map[string]any{
		"codeSha256": rec.CodeHash,
		"startedAt":  rec.Started,
		"endedAt":    rec.Ended,
		"calls":      calls,
	}
	if rec.TraceID != "" {
		tr["traceId"] = rec.TraceID
	}
	if rec.TypeCheck > 0 {
		tr["typeCheckMs"] = float64(rec.TypeCheck.Microseconds()) / 1000
	}
	out := map[string]any{
		"value":      r.Value,
		"console":    console,
		"durationMs": float64(r.Duration.Microseconds()) / 1000,
		"calls":      r.Calls,
		"trace":      tr,
	}
	if r.Error != nil {
		out["error"] = r.Error
	}
	return out
}
