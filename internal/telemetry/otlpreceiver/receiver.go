// Package otlpreceiver is a small real OTLP receiver for tests: it decodes what
// OpenTelemetry exporters send (OTLP/HTTP protobuf at /v1/traces and /v1/metrics, and the
// OTLP/gRPC trace and metrics services) with the official protobuf definitions, and keeps
// the spans, and the metrics' names and latest integer points. It is not for production: it keeps everything in memory.
package otlpreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Span is one received span, ids in hex.
type Span struct {
	Name         string
	TraceID      string
	SpanID       string
	ParentSpanID string
	Kind         tracepb.Span_SpanKind
	Attributes   map[string]any
	StatusError  bool
	Service      string // the resource's service.name
}

// Point is one integer data point of a gauge or a sum.
type Point struct {
	Attributes map[string]any
	Value      int64
	Monotonic  bool // a counter's point
}

// Receiver collects spans and metrics.
type Receiver struct {
	mu      sync.Mutex
	spans   []Span
	metrics map[string]bool
	points  map[string][]Point // the latest export's integer points, by metric name
	changed chan struct{}
}

func newReceiver() *Receiver {
	return &Receiver{metrics: map[string]bool{}, points: map[string][]Point{}, changed: make(chan struct{})}
}

// NewHTTP starts an OTLP/HTTP receiver on loopback; its base URL is the returned
// server's URL. Close the server when done.
func NewHTTP() (*Receiver, *httptest.Server) {
	r := newReceiver()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		var msg coltracepb.ExportTraceServiceRequest
		if !decode(w, req, &msg) {
			return
		}
		r.addTraces(&msg)
		reply(w, &coltracepb.ExportTraceServiceResponse{})
	})
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, req *http.Request) {
		var msg colmetricpb.ExportMetricsServiceRequest
		if !decode(w, req, &msg) {
			return
		}
		r.addMetrics(&msg)
		reply(w, &colmetricpb.ExportMetricsServiceResponse{})
	})
	return r, httptest.NewServer(mux)
}

// NewGRPC starts an OTLP/gRPC receiver on a loopback port and returns its address
// (host:port) and a stop func.
func NewGRPC() (*Receiver, string, func(), error) {
	r := newReceiver()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	s := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(s, traceService{r: r})
	colmetricpb.RegisterMetricsServiceServer(s, metricsService{r: r})
	go func() { _ = s.Serve(ln) }()
	return r, ln.Addr().String(), s.Stop, nil
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	r *Receiver
}

func (s traceService) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	s.r.addTraces(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

type metricsService struct {
	colmetricpb.UnimplementedMetricsServiceServer
	r *Receiver
}

func (s metricsService) Export(_ context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	s.r.addMetrics(req)
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

func decode(w http.ResponseWriter, req *http.Request, msg proto.Message) bool {
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		z, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return false
		}
		body = z
	}
	data, err := io.ReadAll(body)
	if err == nil {
		err = proto.Unmarshal(data, msg)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func reply(w http.ResponseWriter, msg proto.Message) {
	data, _ := proto.Marshal(msg)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = io.Copy(w, bytes.NewReader(data))
}

func (r *Receiver) addTraces(req *coltracepb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service, _ := attrs(rs.GetResource().GetAttributes())["service.name"].(string)
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				r.spans = append(r.spans, Span{
					Name:         sp.GetName(),
					TraceID:      hex.EncodeToString(sp.GetTraceId()),
					SpanID:       hex.EncodeToString(sp.GetSpanId()),
					ParentSpanID: hex.EncodeToString(sp.GetParentSpanId()),
					Kind:         sp.GetKind(),
					Attributes:   attrs(sp.GetAttributes()),
					StatusError:  sp.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR,
					Service:      service,
				})
			}
		}
	}
	r.notify()
}

func (r *Receiver) addMetrics(req *colmetricpb.ExportMetricsServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				r.metrics[m.GetName()] = true
				var dps []*metricpb.NumberDataPoint
				monotonic := false
				switch d := m.GetData().(type) {
				case *metricpb.Metric_Gauge:
					dps = d.Gauge.GetDataPoints()
				case *metricpb.Metric_Sum:
					dps, monotonic = d.Sum.GetDataPoints(), d.Sum.GetIsMonotonic()
				}
				var pts []Point
				for _, dp := range dps {
					if v, ok := dp.GetValue().(*metricpb.NumberDataPoint_AsInt); ok {
						pts = append(pts, Point{Attributes: attrs(dp.GetAttributes()), Value: v.AsInt, Monotonic: monotonic})
					}
				}
				if pts != nil {
					r.points[m.GetName()] = pts
				}
			}
		}
	}
	r.notify()
}

func (r *Receiver) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// Spans returns the spans received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.spans)
}

// Metrics returns the names of the metrics received so far, sorted.
func (r *Receiver) Metrics() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for name := range r.metrics {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Points returns the integer points of metric name in the latest export that had it.
func (r *Receiver) Points(name string) []Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.points[name])
}

// Changed returns a channel closed at the next export received.
func (r *Receiver) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

func attrs(kvs []*commonpb.KeyValue) map[string]any {
	out := map[string]any{}
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = x.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.GetKey()] = x.IntValue
		case *commonpb.AnyValue_DoubleValue:
			out[kv.GetKey()] = x.DoubleValue
		case *commonpb.AnyValue_BoolValue:
			out[kv.GetKey()] = x.BoolValue
		default:
			out[kv.GetKey()] = v.String()
		}
	}
	return out
}
