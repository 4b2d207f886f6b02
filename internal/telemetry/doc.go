// Package telemetry is pctx's OpenTelemetry: the tracer and meter providers that export
// over OTLP (HTTP or gRPC), the instruments every execution feeds, and W3C trace-context
// propagation between the MCP client, pctx and its backends.
//
// A nil *Telemetry is valid and means "off": every method is a cheap no-op, so callers
// never branch on whether telemetry is configured. Backends (upstream, sdkbridge) need
// no handle at all: they find the current span and the call being served in their
// context (SpanFromContext, NoteMember).
//
// Threading: a *Telemetry is safe for concurrent use.
package telemetry
