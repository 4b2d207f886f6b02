package codemode_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/runtime"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
)

// countingExecutor counts the programs it runs for its inner executor.
type countingExecutor struct {
	inner codemode.Executor
	n     atomic.Int32
}

func (c *countingExecutor) Execute(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result {
	c.n.Add(1)
	return c.inner.Execute(ctx, code, fns, lim)
}

// TestRecord: every execution, recorded or not, runs through Options.Executor (here the
// sandbox); a recorded one lists its calls in start order under the names the program
// called and the names the backend registered, with the outcome of each; the service's
// Named views number their records in one sequence and feed the same observer.
func TestRecord(t *testing.T) {
	cat := catalog.New()
	err := cat.Put("go:my_tools", catalog.Namespace{Name: "my_tools", Tools: []catalog.Tool{
		{Name: "add_numbers", Call: func(_ context.Context, args map[string]any) (any, error) { return args["a"], nil }},
		{Name: "fail", Call: func(context.Context, map[string]any) (any, error) { return nil, errors.New("no luck") }},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Put("upstream:gh", catalog.Namespace{Name: "gh", Unavailable: "needs login"}); err != nil {
		t.Fatal(err)
	}
	exec := &countingExecutor{inner: sandboxtest.New(t)}
	var mu sync.Mutex
	var observed []uint64
	svc := codemode.New(cat, &codemode.Options{Executor: exec, Observer: func(r *codemode.Record) {
		mu.Lock()
		defer mu.Unlock()
		observed = append(observed, r.ID)
	}})
	camel := svc.Named(catalog.NamingCamel)
	addNumbers := codemode.Call{Namespace: "my_tools", Function: "add_numbers", RegisteredNamespace: "my_tools", RegisteredFunction: "add_numbers",
		Backend: "go", Source: "my_tools", Outcome: "ok"}
	tests := []struct {
		name       string
		svc        *codemode.Service
		disclosure codemode.Disclosure
		code       string
		record     bool
		wantID     uint64
		wantCall   []codemode.Call // the names and outcomes only
	}{
		{"registered", svc, "", `const a = await my_tools.add_numbers({a: 1}); try { await my_tools.fail({}) } catch {} return a`, true, 1, []codemode.Call{
			{Namespace: "my_tools", Function: "add_numbers", RegisteredNamespace: "my_tools", RegisteredFunction: "add_numbers", Backend: "go", Source: "my_tools", Outcome: "ok"},
			{Namespace: "my_tools", Function: "fail", RegisteredNamespace: "my_tools", RegisteredFunction: "fail", Backend: "go", Source: "my_tools", Outcome: "error", Error: "no luck"},
		}},
		{"camel", camel, "", `return await MyTools.addNumbers({a: 2})`, true, 2, []codemode.Call{
			{Namespace: "MyTools", Function: "addNumbers", RegisteredNamespace: "my_tools", RegisteredFunction: "add_numbers", Backend: "go", Source: "my_tools", Outcome: "ok"},
		}},
		{"unavailable", svc, "", `try { await gh.search({q: "x"}) } catch (e) { return e.message }`, true, 3, []codemode.Call{
			{Namespace: "gh", Function: "*", RegisteredNamespace: "gh", RegisteredFunction: "*", Backend: "upstream", Source: "gh", Outcome: "error", Error: "namespace gh is unavailable: needs login"},
		}},
		{"sidecar invoke", svc, codemode.Sidecar, `const a = await invoke({name: "my_tools__add_numbers", arguments: {a: 5}}); try { await invoke({name: "nope"}) } catch {} return a`, true, 4, []codemode.Call{
			addNumbers,
			{Function: "invoke", RegisteredFunction: "invoke", Backend: "invoke", Outcome: "error", Error: `unknown tool "nope"`},
		}},
		{"observer only", svc, "", `return 3`, false, 0, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := codemode.WithDisclosure(context.Background(), tt.disclosure)
			rec := &codemode.Record{}
			if tt.record {
				ctx = codemode.WithRecord(ctx, rec)
			}
			res, err := tt.svc.Execute(ctx, tt.code)
			if err != nil || res.Error != nil {
				t.Fatalf("Execute: %v %+v", err, res.Error)
			}
			if got := exec.n.Load(); got != int32(i+1) {
				t.Errorf("executor ran %d programs, want %d", got, i+1)
			}
			if !tt.record {
				return
			}
			if rec.ID != tt.wantID || rec.Code != tt.code || len(rec.CodeHash) != 16 || rec.Result != res || rec.Ended.Before(rec.Started) {
				t.Errorf("record %+v", rec)
			}
			if len(rec.Calls) != len(tt.wantCall) {
				t.Fatalf("calls %+v, want %d", rec.Calls, len(tt.wantCall))
			}
			for j, c := range rec.Calls {
				if !strings.Contains(c.Error, tt.wantCall[j].Error) || c.Started.IsZero() || c.Ended.Before(c.Started) {
					t.Errorf("call %d: %+v", j, c)
				}
				c.Error, c.Started, c.Ended = tt.wantCall[j].Error, tt.wantCall[j].Started, tt.wantCall[j].Ended
				if c != tt.wantCall[j] {
					t.Errorf("call %d: %+v, want %+v", j, c, tt.wantCall[j])
				}
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(observed, []uint64{1, 2, 3, 4, 5}) {
		t.Errorf("observer saw records %v, want [1 2 3 4 5]", observed)
	}
}

// TestNotRecording: with no telemetry, observer or debug logger, and no WithRecord,
// nothing is recorded: the program runs on the snapshot's own functions.
func TestNotRecording(t *testing.T) {
	cat := catalog.New()
	if err := cat.Put("go:t", catalog.Namespace{Name: "t", Tools: []catalog.Tool{{Name: "f", Call: func(context.Context, map[string]any) (any, error) { return 1, nil }}}}); err != nil {
		t.Fatal(err)
	}
	var got runtime.Functions
	exec := executorFunc(func(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result {
		got = fns
		return codemode.InProcess.Execute(ctx, code, fns, lim)
	})
	info := slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc := codemode.New(cat, &codemode.Options{Executor: exec, Logger: info})
	if _, err := svc.Execute(context.Background(), `return await t.f({})`); err != nil {
		t.Fatal(err)
	}
	want := cat.Snapshot().Functions()
	if len(got) != 1 || len(want) != 1 {
		t.Fatalf("functions %v, want %v", got, want)
	}
	if reflect.ValueOf(got).Pointer() != reflect.ValueOf(want).Pointer() {
		t.Error("an unrecorded execution ran on a wrapped copy of the functions")
	}
}

type executorFunc func(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result

func (f executorFunc) Execute(ctx context.Context, code string, fns runtime.Functions, lim runtime.Limits) *runtime.Result {
	return f(ctx, code, fns, lim)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
