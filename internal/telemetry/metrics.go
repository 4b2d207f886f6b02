package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names, in OpenTelemetry's dotted style. Every counter counts events since start.
const (
	MetricExecutions       = "pctx.executions"         // executions ended, by pctx.outcome
	MetricDuration         = "pctx.execution.duration" // seconds, by pctx.outcome
	MetricCalls            = "pctx.calls"              // function calls, by pctx.backend and pctx.outcome
	MetricErrors           = "pctx.errors"             // failed executions, by error.type (the error kind)
	MetricLimitsHit        = "pctx.limits.hit"         // executions ended by a limit, by pctx.limit
	MetricSandboxWorkers   = "pctx.sandbox.workers"    // sandbox worker processes alive, by pctx.state (busy, idle)
	MetricSandboxCrashes   = "pctx.sandbox.crashes"    // sandbox workers that died while running executions
	MetricCatalogFunctions = "pctx.catalog.functions"  // callable functions
	MetricCatalogSpaces    = "pctx.catalog.namespaces" // namespaces, available or not
	MetricWorkers          = "pctx.workers.connected"  // SDK worker connections
)

type instruments struct {
	meter      metric.Meter
	executions metric.Int64Counter
	duration   metric.Float64Histogram
	calls      metric.Int64Counter
	errors     metric.Int64Counter
	limits     metric.Int64Counter
}

func newInstruments(m metric.Meter) (*instruments, error) {
	in := &instruments{meter: m}
	var err error
	if in.executions, err = m.Int64Counter(MetricExecutions, metric.WithUnit("{execution}"), metric.WithDescription("Executions that ended")); err != nil {
		return nil, err
	}
	if in.duration, err = m.Float64Histogram(MetricDuration, metric.WithUnit("s"), metric.WithDescription("Wall-clock time of an execution"),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)); err != nil {
		return nil, err
	}
	if in.calls, err = m.Int64Counter(MetricCalls, metric.WithUnit("{call}"), metric.WithDescription("Function calls made by programs")); err != nil {
		return nil, err
	}
	if in.errors, err = m.Int64Counter(MetricErrors, metric.WithUnit("{execution}"), metric.WithDescription("Executions that ended with an error, by kind")); err != nil {
		return nil, err
	}
	if in.limits, err = m.Int64Counter(MetricLimitsHit, metric.WithUnit("{execution}"), metric.WithDescription("Executions ended by a [runtime] limit")); err != nil {
		return nil, err
	}
	return in, nil
}

// Limit error kinds: an execution that ends with one of these hit a [runtime] limit.
var limitKinds = map[string]bool{
	"timeout": true, "memory": true, "stack": true, "calls": true, "calls_in_flight": true,
	"console": true, "result": true,
}

// Executed records one execution's metrics. errorKind is "" on success. Safe on nil.
func (t *Telemetry) Executed(ctx context.Context, d time.Duration, errorKind string) {
	if t == nil || t.inst == nil {
		return
	}
	outcome := attribute.String("pctx.outcome", "ok")
	if errorKind != "" {
		outcome = attribute.String("pctx.outcome", "error")
		kind := metric.WithAttributes(attribute.String("error.type", errorKind))
		t.inst.errors.Add(ctx, 1, kind)
		if limitKinds[errorKind] {
			t.inst.limits.Add(ctx, 1, metric.WithAttributes(attribute.String("pctx.limit", errorKind)))
		}
	}
	set := metric.WithAttributes(outcome)
	t.inst.executions.Add(ctx, 1, set)
	t.inst.duration.Record(ctx, d.Seconds(), set)
}

// Called records one function call. Safe on nil.
func (t *Telemetry) Called(ctx context.Context, backend, outcome string) {
	if t == nil || t.inst == nil {
		return
	}
	t.inst.calls.Add(ctx, 1, metric.WithAttributes(attribute.String("pctx.backend", backend), attribute.String("pctx.outcome", outcome)))
}

// Gauges are read whenever metrics are collected; a nil func is not reported.
type Gauges struct {
	CatalogFunctions func() int64
	CatalogSpaces    func() int64
	Workers          func() int64
	// Sandbox reports the sandbox pool: its workers as MetricSandboxWorkers and its
	// crashes as the counter MetricSandboxCrashes.
	Sandbox func() SandboxStats
}

// SandboxStats is the sandbox pool as metrics report it.
type SandboxStats struct {
	Busy, Idle int64 // worker processes alive, running executions or not
	Crashes    int64 // workers that died while running executions, since start
}

// ObserveGauges registers g's callbacks, replacing earlier ones. Safe on nil.
func (t *Telemetry) ObserveGauges(g Gauges) error {
	if t == nil || t.inst == nil {
		return nil
	}
	m := t.inst.meter
	type gauge struct {
		name, desc string
		f          func() int64
	}
	var obs []metric.Observable
	var live []gauge
	var insts []metric.Int64ObservableGauge
	for _, g := range []gauge{
		{MetricCatalogFunctions, "Callable functions in the catalog", g.CatalogFunctions},
		{MetricCatalogSpaces, "Namespaces in the catalog", g.CatalogSpaces},
		{MetricWorkers, "Connected SDK workers", g.Workers},
	} {
		if g.f == nil {
			continue
		}
		inst, err := m.Int64ObservableGauge(g.name, metric.WithDescription(g.desc))
		if err != nil {
			return err
		}
		obs = append(obs, inst)
		live = append(live, g)
		insts = append(insts, inst)
	}
	var sbWorkers metric.Int64ObservableGauge
	var sbCrashes metric.Int64ObservableCounter
	if g.Sandbox != nil {
		var err error
		if sbWorkers, err = m.Int64ObservableGauge(MetricSandboxWorkers, metric.WithUnit("{process}"),
			metric.WithDescription("Sandbox worker processes alive, by state")); err != nil {
			return err
		}
		if sbCrashes, err = m.Int64ObservableCounter(MetricSandboxCrashes, metric.WithUnit("{process}"),
			metric.WithDescription("Sandbox workers that died while running executions")); err != nil {
			return err
		}
		obs = append(obs, sbWorkers, sbCrashes)
	}
	if len(obs) == 0 {
		return nil
	}
	busy, idle := metric.WithAttributes(attribute.String("pctx.state", "busy")), metric.WithAttributes(attribute.String("pctx.state", "idle"))
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for i, g := range live {
			o.ObserveInt64(insts[i], g.f())
		}
		if g.Sandbox != nil {
			st := g.Sandbox() // once, so busy and idle add up to one moment's workers
			o.ObserveInt64(sbWorkers, st.Busy, busy)
			o.ObserveInt64(sbWorkers, st.Idle, idle)
			o.ObserveInt64(sbCrashes, st.Crashes)
		}
		return nil
	}, obs...)
	if err != nil {
		return err
	}
	if t.gauges != nil {
		_ = t.gauges.Unregister()
	}
	t.gauges = reg
	return nil
}
