package codemode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/runtime"
	"github.com/pctx-dev/pctx/internal/typecheck"
)

// TypecheckMode says what Execute does with a program that does not type-check against
// the catalog's declarations.
type TypecheckMode string

// Type-check modes. The zero value means the Service's mode.
const (
	TypecheckStrict TypecheckMode = "strict" // refuse it with the errors; nothing runs
	TypecheckWarn   TypecheckMode = "warn"   // run it and append the errors to its console
	TypecheckOff    TypecheckMode = "off"    // do not check
)

// Error kinds of a refused program, beside the runtime's.
const (
	// KindTypecheck: the program has type errors; nothing ran.
	KindTypecheck runtime.ErrorKind = "typecheck"
	// KindTypecheckCrashed: the checker crashed or timed out on the program; nothing ran.
	KindTypecheckCrashed runtime.ErrorKind = "typecheck_crashed"
)

// MetaTypecheck is the key of an MCP tools/call request's _meta that sets the mode of
// one execute_typescript call: {"_meta": {"pctx/typecheck": "warn"}}.
const MetaTypecheck = "pctx/typecheck"

// Checker type-checks a program against declaration blocks (Options.Checker);
// *typecheck.Checker is one.
type Checker interface {
	Check(ctx context.Context, decls []string, code string) ([]typecheck.Diagnostic, error)
}

type modeKey struct{}

// WithTypecheckMode returns ctx carrying the type-check mode of one execution, which
// overrides the Service's (a client's per-call choice).
func WithTypecheckMode(ctx context.Context, mode TypecheckMode) context.Context {
	return context.WithValue(ctx, modeKey{}, mode)
}

// ParseTypecheckMode reads a mode as a client writes it; "" is the zero mode.
func ParseTypecheckMode(s string) (TypecheckMode, error) {
	switch m := TypecheckMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "", TypecheckStrict, TypecheckWarn, TypecheckOff:
		return m, nil
	}
	return "", fmt.Errorf("type-check mode %q: use %q, %q or %q", s, TypecheckStrict, TypecheckWarn, TypecheckOff)
}

// checked is the outcome of the step before a run.
type checked struct {
	refused *runtime.Result       // strict mode and errors: the result to give instead of running
	notes   []runtime.ConsoleLine // warn mode and errors: console lines to append to the run's
	took    time.Duration         // the check's time; zero when none ran
}

// check is the step before a run. In strict mode a program with type errors (or one the
// checker crashed on) comes back as refused, a result whose error lists them: nothing
// ran, so no function was called. In warn mode the errors come back as console lines to
// append to the run's. A checker that cannot run leaves the program unchecked.
func (s *Service) check(ctx context.Context, snap *catalog.Snapshot, code string) checked {
	start := time.Now()
	refused, notes := s.checkProgram(ctx, snap, code)
	c := checked{refused: refused, notes: notes}
	if s.checker != nil {
		c.took = time.Since(start)
	}
	return c
}

func (s *Service) checkProgram(ctx context.Context, snap *catalog.Snapshot, code string) (refused *runtime.Result, notes []runtime.ConsoleLine) {
	mode := s.mode
	if m, ok := ctx.Value(modeKey{}).(TypecheckMode); ok && m != "" {
		mode = m
	}
	if s.checker == nil || mode == TypecheckOff || typecheck.NoCheck(code) {
		return nil, nil
	}
	decls := snap.Declarations()
	if DisclosureFrom(ctx) == Sidecar {
		// The program may also call invoke({name, arguments}); the snapshot's slice is
		// shared, so extend a copy.
		decls = append(slices.Clip(decls), snap.InvokeDeclarations())
	}
	start := time.Now()
	diags, err := s.checker.Check(ctx, decls, code)
	switch {
	case errors.Is(err, typecheck.ErrCrashed) || errors.Is(err, typecheck.ErrTimeout):
		msg := "the type checker failed on this program, so nothing ran: " + err.Error() +
			". Simplify the code; a first line // @ts-nocheck runs it unchecked."
		if mode == TypecheckWarn {
			return nil, []runtime.ConsoleLine{{Level: "warn", Text: "type check: " + err.Error()}}
		}
		return &runtime.Result{Error: &runtime.Error{Kind: KindTypecheckCrashed, Message: msg}, Duration: time.Since(start)}, nil
	case err != nil:
		// Not the program's fault (no checker, or the caller gave up): run unchecked.
		if ctx.Err() == nil {
			log := s.log
			if log == nil {
				log = slog.Default()
			}
			log.Warn("type check skipped", "err", err)
		}
		return nil, nil
	case len(diags) == 0:
		return nil, nil
	}
	text := formatDiagnostics(snap, diags)
	if mode == TypecheckWarn {
		return nil, []runtime.ConsoleLine{{Level: "warn", Text: fmt.Sprintf("type check: %s (it ran anyway):\n%s", plural(len(diags), "error"), text)}}
	}
	msg := fmt.Sprintf("the program does not type-check, so nothing ran (%s):\n%s", plural(len(diags), "error"), text)
	return &runtime.Result{Error: &runtime.Error{Kind: KindTypecheck, Message: msg}, Duration: time.Since(start)}, nil
}

// signatureCodes are the diagnostics about a call's arguments, where the callee's
// declaration is what the model needs to fix the call.
var signatureCodes = map[int]bool{
	2322: true, // Type 'X' is not assignable to type 'Y' (a property of the argument)
	2345: true, // Argument of type 'X' is not assignable to parameter of type 'Y'
	2353: true, // Object literal may only specify known properties
	2554: true, // Expected N arguments, but got M
	2555: true, // Expected at least N arguments
	2559: true, // Type 'X' has no properties in common with type 'Y'
	2561: true, // Object literal may only specify known properties, did you mean
	2739: true, // Type 'X' is missing the following properties
	2740: true, // ... and N more
	2741: true, // Property 'p' is missing in type 'X' but required in type 'Y'
	2769: true, // No overload matches this call
}

// formatDiagnostics renders one line per error, "line:column TScode message", with the
// signature of the function called where it helps (once per function).
func formatDiagnostics(snap *catalog.Snapshot, diags []typecheck.Diagnostic) string {
	var b strings.Builder
	shown := map[string]bool{}
	for i, d := range diags {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
		if d.Call == "" || shown[d.Call] {
			continue
		}
		if sig := snap.Signature(d.Call); sig != "" && (signatureCodes[d.Code] || strings.HasPrefix(sig, "namespace ")) {
			shown[d.Call] = true
			b.WriteString("\n  " + sig)
		}
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
