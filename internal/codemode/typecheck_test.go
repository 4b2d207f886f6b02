package codemode_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/runtime"
	"github.com/pctx-dev/pctx/internal/typecheck"
)

// scriptedChecker answers Check with fixed diagnostics or an error and records what it
// was asked. The real checker (tsgo) is tested in internal/typecheck; this is about what
// Execute does with its answers.
type scriptedChecker struct {
	diags []typecheck.Diagnostic
	err   error
	decls []string
	calls int
}

func (s *scriptedChecker) Check(_ context.Context, decls []string, _ string) ([]typecheck.Diagnostic, error) {
	s.calls++
	s.decls = decls
	return s.diags, s.err
}

func TestExecuteTypecheck(t *testing.T) {
	cat := catalog.New()
	var calls atomic.Int32
	err := cat.Put("test", catalog.Namespace{Name: "everything", Tools: []catalog.Tool{{
		Name:        "get-sum",
		InputSchema: []byte(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`),
		Call: func(context.Context, map[string]any) (any, error) {
			calls.Add(1)
			return 5, nil
		},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	wrongArg := []typecheck.Diagnostic{{Line: 2, Column: 48, Code: 2322, Message: "Type 'string' is not assignable to type 'number'.", Call: "everything.get_sum"}}
	const code = "await everything.get_sum({ a: 1, b: 2 });\nreturn 1;"
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name      string
		mode      codemode.TypecheckMode
		ctxMode   codemode.TypecheckMode
		code      string
		checker   *scriptedChecker
		wantKind  runtime.ErrorKind
		wantText  string // in the error message, or in the console when the program ran
		wantCalls int32
		checked   bool
	}{
		{name: "strict refuses with the signature", mode: codemode.TypecheckStrict, code: code, checker: &scriptedChecker{diags: wrongArg},
			wantKind: codemode.KindTypecheck, checked: true,
			wantText: "the program does not type-check, so nothing ran (1 error):\n2:48 TS2322 Type 'string' is not assignable to type 'number'.\n  everything.get_sum(args: GetSumInput): Promise<any>; interface GetSumInput { a: number; b: number; }"},
		{name: "default is strict", code: code, checker: &scriptedChecker{diags: wrongArg}, wantKind: codemode.KindTypecheck, checked: true},
		{name: "clean program runs", mode: codemode.TypecheckStrict, code: code, checker: &scriptedChecker{}, wantCalls: 1, checked: true},
		{name: "warn runs and appends", mode: codemode.TypecheckWarn, code: code, checker: &scriptedChecker{diags: wrongArg}, wantCalls: 1, checked: true,
			wantText: "type check: 1 error (it ran anyway):\n2:48 TS2322"},
		{name: "off does not check", mode: codemode.TypecheckOff, code: code, checker: &scriptedChecker{diags: wrongArg}, wantCalls: 1},
		{name: "the call's mode wins", mode: codemode.TypecheckStrict, ctxMode: codemode.TypecheckOff, code: code, checker: &scriptedChecker{diags: wrongArg}, wantCalls: 1},
		{name: "@ts-nocheck", mode: codemode.TypecheckStrict, code: "// @ts-nocheck\n" + code, checker: &scriptedChecker{diags: wrongArg}, wantCalls: 1},
		{name: "crash refuses", mode: codemode.TypecheckStrict, code: code, checker: &scriptedChecker{err: fmt.Errorf("%w: fatal error: stack overflow", typecheck.ErrCrashed)},
			wantKind: codemode.KindTypecheckCrashed, wantText: "the type checker failed on this program, so nothing ran: type checker crashed: fatal error: stack overflow", checked: true},
		{name: "timeout refuses", mode: codemode.TypecheckStrict, code: code, checker: &scriptedChecker{err: fmt.Errorf("%w: no answer", typecheck.ErrTimeout)},
			wantKind: codemode.KindTypecheckCrashed, checked: true},
		{name: "crash in warn mode runs", mode: codemode.TypecheckWarn, code: code, checker: &scriptedChecker{err: typecheck.ErrCrashed}, wantCalls: 1, checked: true,
			wantText: "type check: type checker crashed"},
		{name: "unavailable checker runs unchecked", mode: codemode.TypecheckStrict, code: code, checker: &scriptedChecker{err: typecheck.ErrUnavailable}, wantCalls: 1, checked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			svc := codemode.New(cat, &codemode.Options{Executor: codemode.InProcess, Checker: tt.checker, Typecheck: tt.mode, Logger: quiet})
			ctx := context.Background()
			if tt.ctxMode != "" {
				ctx = codemode.WithTypecheckMode(ctx, tt.ctxMode)
			}
			res, err := svc.Execute(ctx, tt.code)
			if err != nil {
				t.Fatal(err)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("backend calls = %d, want %d", got, tt.wantCalls)
			}
			if (tt.checker.calls > 0) != tt.checked {
				t.Errorf("checked = %v, want %v", tt.checker.calls > 0, tt.checked)
			}
			if tt.checked && len(tt.checker.decls) != 1 || tt.checked && !strings.Contains(tt.checker.decls[0], "function get_sum(") {
				t.Errorf("checked against %q", tt.checker.decls)
			}
			if tt.wantKind != "" {
				if res.Error == nil || res.Error.Kind != tt.wantKind || res.Calls != 0 {
					t.Fatalf("result %+v, want a refusal of kind %s", res, tt.wantKind)
				}
				if !strings.HasPrefix(res.Error.Message, tt.wantText) {
					t.Errorf("message:\n%s\nwant prefix:\n%s", res.Error.Message, tt.wantText)
				}
				return
			}
			if res.Error != nil {
				t.Fatalf("error %+v", res.Error)
			}
			if tt.wantText != "" {
				if n := len(res.Console); n == 0 || res.Console[n-1].Level != "warn" || !strings.HasPrefix(res.Console[n-1].Text, tt.wantText) {
					t.Errorf("console %+v, want a warning starting %q", res.Console, tt.wantText)
				}
			}
		})
	}
}

func TestParseTypecheckMode(t *testing.T) {
	for in, want := range map[string]codemode.TypecheckMode{"": "", "strict": "strict", " WARN ": "warn", "off": "off"} {
		if got, err := codemode.ParseTypecheckMode(in); err != nil || got != want {
			t.Errorf("ParseTypecheckMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := codemode.ParseTypecheckMode("lenient"); err == nil || !strings.Contains(err.Error(), `"strict", "warn" or "off"`) {
		t.Errorf("bad mode: %v", err)
	}
}

// TestSidecarChecksInvoke: in the sidecar disclosure a program may call invoke, so the
// check declares it beside the namespaces.
func TestSidecarChecksInvoke(t *testing.T) {
	cat := catalog.New()
	if err := cat.Put("test", catalog.Namespace{Name: "ns", Tools: []catalog.Tool{{Name: "f", Call: func(context.Context, map[string]any) (any, error) { return 1, nil }}}}); err != nil {
		t.Fatal(err)
	}
	chk := &scriptedChecker{}
	svc := codemode.New(cat, &codemode.Options{Executor: codemode.InProcess, Checker: chk})
	for _, d := range []codemode.Disclosure{codemode.Sidecar, ""} {
		if _, err := svc.Execute(codemode.WithDisclosure(context.Background(), d), "return 1"); err != nil {
			t.Fatal(err)
		}
		declared := strings.Contains(strings.Join(chk.decls, ""), "declare function invoke<")
		if declared != (d == codemode.Sidecar) {
			t.Errorf("disclosure %q: invoke declared = %v", d, declared)
		}
	}
}
