package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

type timeout struct{}

func (timeout) Error() string { return "slow" }
func (timeout) Timeout() bool { return true }

func TestOutcome(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{errors.New("no"), "error"},
		{fmt.Errorf("call: %w", timeout{}), "timeout"},
		{fmt.Errorf("call: %w", context.DeadlineExceeded), "timeout"},
		{fmt.Errorf("call: %w", context.Canceled), "cancelled"},
	}
	for _, tt := range tests {
		if got := Outcome(tt.err); got != tt.want {
			t.Errorf("Outcome(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestPropagation(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := context.Background()
	if Meta(ctx) != nil {
		t.Error("Meta of a context without a span")
	}
	fromMeta := FromMeta(ctx, map[string]any{"traceparent": tp, "tracestate": "k=v"})
	if got := Meta(fromMeta); got["traceparent"] != tp || got["tracestate"] != "k=v" {
		t.Errorf("round trip through _meta: %v", got)
	}
	h := http.Header{}
	h.Set("traceparent", tp)
	fromHeader := FromHeader(ctx, h)
	out := http.Header{}
	InjectHeader(fromHeader, out)
	if out.Get("traceparent") != tp {
		t.Errorf("round trip through headers: %q", out.Get("traceparent"))
	}
	// _meta wins over the header: it names the client's span for this one call.
	other := "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01"
	if sc := trace.SpanContextFromContext(FromMeta(fromHeader, map[string]any{"traceparent": other})); sc.SpanID().String() != "1111111111111111" {
		t.Errorf("_meta did not take precedence: %s", sc.SpanID())
	}
	for _, bad := range []any{"garbage", 42, "00-00000000000000000000000000000000-00f067aa0ba902b7-01"} {
		if trace.SpanContextFromContext(FromMeta(ctx, map[string]any{"traceparent": bad})).IsValid() {
			t.Errorf("invalid traceparent %v accepted", bad)
		}
	}
}

func TestNewOff(t *testing.T) {
	tel, err := New(context.Background(), Config{Traces: true, Metrics: true}, nil)
	if err != nil || tel != nil {
		t.Fatalf("New(disabled) = %v, %v; want nil, nil", tel, err)
	}
	// A nil Telemetry is "off" everywhere.
	tel.Executed(context.Background(), 0, "timeout")
	tel.Called(context.Background(), "go", "ok")
	if tel.Recording() || tel.Tracer() != nil || tel.ObserveGauges(Gauges{}) != nil || tel.Shutdown(context.Background()) != nil {
		t.Error("nil Telemetry is not off")
	}
	if _, err := New(context.Background(), Config{Enabled: true, Traces: true, Protocol: "udp"}, nil); err == nil {
		t.Error("protocol udp accepted")
	}
	if _, err := New(context.Background(), Config{Enabled: true, Traces: true, Endpoint: "ftp://x"}, nil); err == nil {
		t.Error("endpoint ftp://x accepted")
	}
}
