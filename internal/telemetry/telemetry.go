package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Config is what [telemetry] in pctx.toml says, after defaults. Empty fields fall back to
// the standard OTEL_* environment variables, which the exporters read themselves.
type Config struct {
	// Enabled turns export on. Off (the default), New returns nil and costs nothing.
	Enabled bool
	// Endpoint is the collector's base URL, like "http://127.0.0.1:4318"; the HTTP
	// exporter appends /v1/traces and /v1/metrics. Empty: OTEL_EXPORTER_OTLP_ENDPOINT
	// (and its per-signal variants), else localhost on the protocol's port.
	Endpoint string
	// Protocol is "http" (OTLP over HTTP with protobuf bodies) or "grpc". Empty:
	// OTEL_EXPORTER_OTLP_PROTOCOL ("http/protobuf" or "grpc"), else "http".
	Protocol string
	// Headers are sent with every export (an API key for a hosted backend, say).
	Headers map[string]string
	// Traces and Metrics choose the signals exported; both default to on.
	Traces, Metrics bool
	// MetricInterval is how often metrics are exported; default 60s (or
	// OTEL_METRIC_EXPORT_INTERVAL).
	MetricInterval time.Duration
	// ServiceName names this process in the backend; default OTEL_SERVICE_NAME, else
	// the config's name.
	ServiceName    string
	ServiceVersion string
}

// Options are what a test or benchmark injects instead of OTLP exporters. A nil
// *Options is valid and means every default.
type Options struct {
	// Logger receives export errors; default slog.Default().
	Logger *slog.Logger
	// TracerProvider replaces the OTLP trace exporter when set (with Config.Traces).
	TracerProvider trace.TracerProvider
	// MeterProvider replaces the OTLP metric exporter when set (with Config.Metrics).
	MeterProvider metric.MeterProvider
}

// Telemetry holds the providers and instruments of one pctx. The zero value and nil are
// "off".
type Telemetry struct {
	tracer   trace.Tracer // nil when traces are off
	inst     *instruments // nil when metrics are off
	shutdown []func(context.Context) error
	gauges   metric.Registration
}

// Protocols Config.Protocol accepts.
const (
	ProtocolHTTP = "http"
	ProtocolGRPC = "grpc"
)

// TracerName is the instrumentation scope of pctx's spans and metrics.
const TracerName = "github.com/pctx-dev/pctx"

// New starts exporting as cfg says, or returns nil when cfg.Enabled is false or
// OTEL_SDK_DISABLED is true. Exporters connect lazily: an unreachable collector is
// logged on export, never fatal.
func New(ctx context.Context, cfg Config, opts *Options) (*Telemetry, error) {
	if !cfg.Enabled || strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return nil, nil
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	proto, err := protocol(cfg.Protocol)
	if err != nil {
		return nil, err
	}
	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{}
	if cfg.Traces && !exporterNone("OTEL_TRACES_EXPORTER") {
		tp := o.TracerProvider
		if tp == nil {
			exp, err := traceExporter(ctx, cfg, proto)
			if err != nil {
				return nil, err
			}
			sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
			t.shutdown = append(t.shutdown, sdk.Shutdown)
			tp = sdk
		}
		t.tracer = tp.Tracer(TracerName)
	}
	if cfg.Metrics && !exporterNone("OTEL_METRICS_EXPORTER") {
		mp := o.MeterProvider
		if mp == nil {
			exp, err := metricExporter(ctx, cfg, proto)
			if err != nil {
				_ = t.Shutdown(ctx)
				return nil, err
			}
			var ropts []sdkmetric.PeriodicReaderOption
			if cfg.MetricInterval > 0 {
				ropts = append(ropts, sdkmetric.WithInterval(cfg.MetricInterval))
			}
			sdk := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, ropts...)), sdkmetric.WithResource(res))
			t.shutdown = append(t.shutdown, sdk.Shutdown)
			mp = sdk
		}
		inst, err := newInstruments(mp.Meter(TracerName))
		if err != nil {
			_ = t.Shutdown(ctx)
			return nil, fmt.Errorf("telemetry: instruments: %w", err)
		}
		t.inst = inst
	}
	return t, nil
}

// Shutdown flushes what is buffered and stops the exporters. Safe on nil.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	// Gauges stay registered: the meter provider's shutdown collects them a last time.
	var errs []error
	for _, f := range t.shutdown {
		errs = append(errs, f(ctx))
	}
	t.shutdown = nil
	return errors.Join(errs...)
}

// Tracer returns the tracer, or nil when traces are off.
func (t *Telemetry) Tracer() trace.Tracer {
	if t == nil {
		return nil
	}
	return t.tracer
}

// Recording reports whether anything (spans or metrics) is collected.
func (t *Telemetry) Recording() bool { return t != nil && (t.tracer != nil || t.inst != nil) }

func protocol(p string) (string, error) {
	if p == "" {
		p = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch p {
	case "", ProtocolHTTP, "http/protobuf":
		return ProtocolHTTP, nil
	case ProtocolGRPC:
		return ProtocolGRPC, nil
	}
	return "", fmt.Errorf("telemetry: protocol %q: want %q or %q", p, ProtocolHTTP, ProtocolGRPC)
}

// exporterNone reports whether the standard variable turns a signal's exporter off.
func exporterNone(env string) bool { return strings.EqualFold(os.Getenv(env), "none") }

func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	var attrs []attribute.KeyValue
	if cfg.ServiceName != "" && os.Getenv("OTEL_SERVICE_NAME") == "" {
		attrs = append(attrs, attribute.String("service.name", cfg.ServiceName))
	}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.ServiceVersion))
	}
	// WithFromEnv last: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
	res, err := resource.New(ctx, resource.WithAttributes(attrs...), resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil && res == nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	return res, nil
}

// signalURL is the HTTP exporter's URL for one signal under a base endpoint.
func signalURL(base, path string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("telemetry: endpoint %q: want a URL like http://127.0.0.1:4318", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	return u.String(), nil
}

func traceExporter(ctx context.Context, cfg Config, proto string) (sdktrace.SpanExporter, error) {
	if proto == ProtocolGRPC {
		var opts []otlptracegrpc.Option
		if cfg.Endpoint != "" {
			if _, err := signalURL(cfg.Endpoint, ""); err != nil {
				return nil, err
			}
			opts = append(opts, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
		}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(cfg.Headers))
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	var opts []otlptracehttp.Option
	if cfg.Endpoint != "" {
		u, err := signalURL(cfg.Endpoint, "/v1/traces")
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	return otlptracehttp.New(ctx, opts...)
}

func metricExporter(ctx context.Context, cfg Config, proto string) (sdkmetric.Exporter, error) {
	if proto == ProtocolGRPC {
		var opts []otlpmetricgrpc.Option
		if cfg.Endpoint != "" {
			opts = append(opts, otlpmetricgrpc.WithEndpointURL(cfg.Endpoint))
		}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlpmetricgrpc.WithHeaders(cfg.Headers))
		}
		return otlpmetricgrpc.New(ctx, opts...)
	}
	var opts []otlpmetrichttp.Option
	if cfg.Endpoint != "" {
		u, err := signalURL(cfg.Endpoint, "/v1/metrics")
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlpmetrichttp.WithEndpointURL(u))
	}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlpmetrichttp.WithHeaders(cfg.Headers))
	}
	return otlpmetrichttp.New(ctx, opts...)
}
