package codemode

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/runtime"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
	"github.com/pctx-dev/pctx/internal/telemetry"
)

// discard is a span exporter that drops what the batcher hands it: the cost measured is
// pctx's and the SDK's, not a network's.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkExecuteTelemetry compares a trivial execution, and one with a function call,
// as codemode ran them before telemetry (baseline: the executor on the snapshot's
// functions), with telemetry off (the default) and on (spans through the SDK's batcher,
// metrics into a reader), in this process's VMs (where the parent's own cost shows
// most) and in sandbox workers (as pctx runs them). Compare with benchstat:
//
//	go test -run '^$' -bench ExecuteTelemetry -count 10 ./internal/codemode/ > b.txt
//	benchstat -col /telemetry b.txt
func BenchmarkExecuteTelemetry(b *testing.B) {
	cat := catalog.New()
	add := catalog.Tool{Name: "add", InputSchema: []byte(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}`),
		Call: func(_ context.Context, args map[string]any) (any, error) { return args["a"], nil }}
	if err := cat.Put("go:t", catalog.Namespace{Name: "t", Tools: []catalog.Tool{add}}); err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tel, err := telemetry.New(context.Background(), telemetry.Config{Enabled: true, Traces: true, Metrics: true}, &telemetry.Options{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	ctx := context.Background()
	for _, ex := range []struct {
		name string
		exec Executor
	}{
		{"inprocess", InProcess},
		{"sandbox", sandboxtest.New(b)},
	} {
		off := New(cat, &Options{Executor: ex.exec})
		on := New(cat, &Options{Executor: ex.exec, Telemetry: tel})
		for _, prog := range []struct{ name, code string }{
			{"trivial", `return 1 + 1`},
			{"call", `return await t.add({a: 1, b: 2})`},
		} {
			for _, mode := range []struct {
				name string
				run  func() *runtime.Result
			}{
				{"baseline", func() *runtime.Result {
					return ex.exec.Execute(ctx, prog.code, cat.Snapshot().Functions(), runtime.Limits{})
				}},
				{"off", func() *runtime.Result { r, _ := off.Execute(ctx, prog.code); return r }},
				{"on", func() *runtime.Result { r, _ := on.Execute(ctx, prog.code); return r }},
			} {
				b.Run("exec="+ex.name+"/prog="+prog.name+"/telemetry="+mode.name, func(b *testing.B) {
					for b.Loop() {
						if r := mode.run(); r.Error != nil {
							b.Fatal(r.Error)
						}
					}
				})
			}
		}
	}
}
