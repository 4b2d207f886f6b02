package telemetry

import (
	"context"
	"net/http"
	"os"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// W3C trace-context keys, the same in HTTP headers and in MCP and pctx/1 `_meta`.
const (
	TraceParent = "traceparent"
	TraceState  = "tracestate"
)

// propagator is W3C Trace Context only: no baggage crosses pctx, since a client's baggage
// could carry anything to every upstream.
var propagator = propagation.TraceContext{}

// FromHeader returns ctx carrying the remote span context of a traceparent header, if
// the request has a valid one.
func FromHeader(ctx context.Context, h http.Header) context.Context {
	if h.Get(TraceParent) == "" {
		return ctx
	}
	return propagator.Extract(ctx, propagation.HeaderCarrier(h))
}

// FromMeta returns ctx carrying the remote span context of an MCP or pctx/1 `_meta`
// object's traceparent, if it has a valid one; it takes precedence over a header
// extracted before.
func FromMeta(ctx context.Context, meta map[string]any) context.Context {
	tp, _ := meta[TraceParent].(string)
	if tp == "" {
		return ctx
	}
	c := propagation.MapCarrier{TraceParent: tp}
	if ts, _ := meta[TraceState].(string); ts != "" {
		c[TraceState] = ts
	}
	return propagator.Extract(ctx, c)
}

// InjectHeader sets traceparent (and tracestate) on h from ctx's span, if it has one.
func InjectHeader(ctx context.Context, h http.Header) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// Meta returns {"traceparent": ..., "tracestate": ...} for ctx's span, or nil when it
// has none.
func Meta(ctx context.Context) map[string]any {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// EnvConfigured reports whether the standard variables name an OTLP endpoint, which turns
// telemetry on when pctx.toml does not say otherwise.
func EnvConfigured() bool {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}
