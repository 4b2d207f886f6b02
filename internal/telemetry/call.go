package telemetry

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// CallNote is what the backend serving one function call tells about it; the code that
// records the call reads it once the call returns.
type CallNote struct {
	Member string // the pool member (SDK worker connection id) that served the call
}

type callNoteKey struct{}

// WithCallNote returns ctx carrying n for the backend of one call.
func WithCallNote(ctx context.Context, n *CallNote) context.Context {
	return context.WithValue(ctx, callNoteKey{}, n)
}

// NoteMember records which pool member serves the call of ctx, on the call's record
// and its span. It does nothing when nothing records the call.
func NoteMember(ctx context.Context, member string) {
	if n, _ := ctx.Value(callNoteKey{}).(*CallNote); n != nil {
		n.Member = member
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.String("pctx.pool_member", member))
	}
}

// Outcome classifies a call's error as "ok", "timeout", "cancelled" or "error". An error
// whose chain has Timeout() true (upstream.ErrTimeout, sdkbridge.ErrCallTimeout,
// context.DeadlineExceeded) is a timeout.
func Outcome(err error) string {
	var t interface{ Timeout() bool }
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &t) && t.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "error"
}

// ChildTracer returns the tracer of ctx's span when that span records, so a backend can
// start a child span without a handle of its own; nil means "do not trace".
func ChildTracer(ctx context.Context) trace.Tracer {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return nil
	}
	return span.TracerProvider().Tracer(TracerName)
}
