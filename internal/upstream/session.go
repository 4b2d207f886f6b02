package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/oauth"
	"github.com/pctx-dev/pctx/internal/telemetry"
)

// session is one live MCP client session to a server. It dies once (child
// exit, stream loss, failed probe, close) and is then replaced by a new one.
type session struct {
	srv         *server
	cfg         config.Upstream // srv.cfg, or a session-scoped instance's expansion of it
	log         *slog.Logger
	client      *client.Client
	transport   string // "stdio", "streamable-http", "sse"
	protocol    string // negotiated protocol version
	description string
	hasTools    bool // declared the tools capability (some servers forget to)

	life        context.Context // cancelled with the cause of death
	kill        context.CancelCauseFunc
	listChanged chan struct{} // capacity 1: a pending refresh

	// oversized holds the ids (mcp.RequestId.String()) of responses that
	// exceeded maxResultBytes and were replaced by an error response.
	oversized sync.Map

	bgMu      sync.Mutex     // orders goBG's Add before close's Wait
	closing   bool           // guarded by bgMu; no goBG once set
	bg        sync.WaitGroup // cancel notifications, liveness probes
	probing   atomic.Bool
	cleanup   func() // transport specific: stop the child, drop idle connections
	closeOnce sync.Once
}

// errClosed is the cause of death of a session closed on purpose.
var errClosed = errors.New("session closed")

// newSession returns a session with cfg that dies at the latest when life ends.
func newSession(life context.Context, srv *server, cfg config.Upstream, log *slog.Logger) *session {
	s := &session{srv: srv, cfg: cfg, log: log, listChanged: make(chan struct{}, 1)}
	s.life, s.kill = context.WithCancelCause(life)
	return s
}

// closedOnPurpose reports whether a session's cause of death is pctx closing
// it (the session, or the whole Manager) rather than a failure.
func closedOnPurpose(cause error) bool {
	return errors.Is(cause, errClosed) || errors.Is(cause, context.Canceled)
}

func (s *session) dead() <-chan struct{} { return s.life.Done() }

func (s *session) die(err error) { s.kill(err) }

func (s *session) deathReason() error { return context.Cause(s.life) }

// close ends the session and releases everything it holds. Idempotent.
func (s *session) close() {
	s.closeOnce.Do(func() {
		s.die(errClosed)
		s.bgMu.Lock()
		s.closing = true
		s.bgMu.Unlock()
		if s.client != nil {
			_ = s.client.Close()
		}
		if s.cleanup != nil {
			s.cleanup()
		}
		s.bg.Wait()
	})
}

// dial starts a session for srv with cfg (srv.cfg, or a session-scoped
// instance's expansion of it), logging to log: life bounds the session,
// attempt bounds the handshake.
func dial(life, attempt context.Context, srv *server, cfg config.Upstream, log *slog.Logger) (*session, error) {
	if cfg.URL == "" {
		return dialStdio(attempt, newSession(life, srv, cfg, log))
	}
	return dialHTTP(life, attempt, srv, cfg, log)
}

// handshake wraps t, starts the client and runs initialize. On failure the
// caller closes the session.
func (s *session) handshake(attempt context.Context, t transport.Interface) error {
	var wrapped transport.Interface = &rawTransport{Interface: t, sess: s}
	if h, ok := t.(transport.HTTPConnection); ok {
		wrapped = &rawHTTPTransport{rawTransport: wrapped.(*rawTransport), conn: h}
	}
	s.client = client.NewClient(wrapped, client.WithProtocolVersion(s.srv.version))
	s.client.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == mcp.MethodNotificationToolsListChanged {
			select {
			case s.listChanged <- struct{}{}:
			default:
			}
		}
	})
	if err := s.client.Start(s.life); err != nil {
		return fmt.Errorf("start transport: %w", err)
	}
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = s.srv.version
	req.Params.ClientInfo = mcp.Implementation{Name: "pctx", Version: "1"}
	res, err := s.client.Initialize(attempt, req)
	if err != nil {
		if s.life.Err() != nil || errors.Is(err, transport.ErrTransportClosed) {
			// The child died during the handshake: its exit says more.
			return fmt.Errorf("initialize: %w", s.awaitDeath(err))
		}
		return fmt.Errorf("initialize: %w", err)
	}
	s.protocol = res.ProtocolVersion
	s.hasTools = res.Capabilities.Tools != nil
	s.description = firstLine(res.Instructions, 200)
	return nil
}

// rawSlot travels in a request's context so the transport wrapper can hand
// back the raw JSON result (mcp-go's typed decoding drops schema keywords and
// unknown content fields) and flag a response cut for size.
type rawSlot struct {
	result   json.RawMessage
	tooLarge atomic.Bool
}

type slotKey struct{}

func withSlot(ctx context.Context) (context.Context, *rawSlot) {
	slot := &rawSlot{}
	return context.WithValue(ctx, slotKey{}, slot), slot
}

func slotFrom(ctx context.Context) *rawSlot {
	slot, _ := ctx.Value(slotKey{}).(*rawSlot)
	return slot
}

// rawTransport sits between mcp-go's client and its transport.
type rawTransport struct {
	transport.Interface
	sess *session
}

func (t *rawTransport) SendRequest(ctx context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
	resp, err := t.Interface.SendRequest(ctx, req)
	if err == nil && resp != nil && resp.ID.String() != req.ID.String() {
		// mcp-go's HTTP transport takes whatever one response the body holds.
		return nil, fmt.Errorf("the server answered request %s with a response for request %s", idText(req.ID), idText(resp.ID))
	}
	if slot := slotFrom(ctx); slot != nil {
		if _, big := t.sess.oversized.LoadAndDelete(req.ID.String()); big {
			slot.tooLarge.Store(true)
		}
		if err == nil && resp != nil && resp.Error == nil {
			slot.result = resp.Result
		}
	}
	return resp, err
}

// idText renders a request id without mcp-go's type prefix ("int64:7" → "7").
func idText(id mcp.RequestId) string {
	_, v, _ := strings.Cut(id.String(), ":")
	return v
}

// SetRequestHandler keeps server-to-client requests (ping) answered.
func (t *rawTransport) SetRequestHandler(h transport.RequestHandler) {
	if b, ok := t.Interface.(transport.BidirectionalInterface); ok {
		b.SetRequestHandler(h)
	}
}

// rawHTTPTransport adds what mcp-go looks for on HTTP transports.
type rawHTTPTransport struct {
	*rawTransport
	conn transport.HTTPConnection
}

func (t *rawHTTPTransport) SetProtocolVersion(v string) { t.conn.SetProtocolVersion(v) }

func (t *rawHTTPTransport) RequiresLegacyProtocol() bool {
	l, ok := t.conn.(interface{ RequiresLegacyProtocol() bool })
	return ok && l.RequiresLegacyProtocol()
}

// SendRequest also sends notifications/cancelled when a tools/call's context
// ends: mcp-go v1.2.1 sends it over stdio only, but the 2025 protocol
// versions ask for it on every transport.
func (t *rawHTTPTransport) SendRequest(ctx context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
	resp, err := t.rawTransport.SendRequest(ctx, req)
	if err != nil && ctx.Err() != nil && req.Method == string(mcp.MethodToolsCall) {
		t.sess.notifyCancelled(req.ID, context.Cause(ctx))
	}
	return resp, err
}

// goBG runs f on a goroutine that close waits for, unless the session is
// dead or closing; it reports whether f was started. Checking and adding under
// bgMu keeps an Add from racing close's Wait, and f from outliving close.
func (s *session) goBG(f func()) bool {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.closing || s.life.Err() != nil {
		return false
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f()
	}()
	return true
}

func (s *session) notifyCancelled(id mcp.RequestId, reason error) {
	n := mcp.JSONRPCNotification{
		JSONRPC: mcp.JSONRPC_VERSION,
		Notification: mcp.Notification{
			Method: string(mcp.MethodNotificationCancelled),
			Params: mcp.NotificationParams{AdditionalFields: map[string]any{"requestId": id, "reason": reason.Error()}},
		},
	}
	s.goBG(func() {
		ctx, cancel := context.WithTimeout(s.life, 5*time.Second)
		defer cancel()
		_ = s.client.GetTransport().SendNotification(ctx, n)
	})
}

// probe checks, once at a time, whether an HTTP session still answers after
// a transport error; if not, the session dies and the server reconnects.
func (s *session) probe() {
	if !s.probing.CompareAndSwap(false, true) {
		return
	}
	started := s.goBG(func() {
		defer s.probing.Store(false)
		ctx, cancel := context.WithTimeout(s.life, 10*time.Second)
		defer cancel()
		//lint:ignore SA1019 ping exists in the 2025 protocol versions we offer
		if err := s.client.Ping(ctx); err != nil && s.life.Err() == nil {
			s.die(fmt.Errorf("not answering: %w", err))
		}
	})
	if !started {
		s.probing.Store(false)
	}
}

// rawTool is a tools/list entry with its schemas kept verbatim.
type rawTool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema"`
}

// maxListPages bounds tools/list pagination against a server that never ends it.
const maxListPages = 1000

// listTools lists every tool (following pages) as catalog tools whose Call
// goes through the server, so that they keep working across reconnects.
func (s *session) listTools(ctx context.Context) ([]catalog.Tool, error) {
	var all []rawTool
	seen := map[string]bool{}
	cursor := ""
	for range maxListPages {
		pctx, slot := withSlot(ctx)
		req := mcp.ListToolsRequest{}
		req.Params.Cursor = mcp.Cursor(cursor)
		if _, err := s.client.ListToolsByPage(pctx, req); err != nil {
			if !s.hasTools && s.life.Err() == nil {
				// It did not claim tools, and it has none.
				return nil, nil
			}
			return nil, fmt.Errorf("tools/list: %w", err)
		}
		var page struct {
			Tools      []rawTool `json:"tools"`
			NextCursor string    `json:"nextCursor"`
		}
		if err := json.Unmarshal(slot.result, &page); err != nil {
			return nil, fmt.Errorf("tools/list: malformed result: %w", err)
		}
		all = append(all, page.Tools...)
		if page.NextCursor == "" || seen[page.NextCursor] {
			return s.catalogTools(all), nil
		}
		seen[page.NextCursor] = true
		cursor = page.NextCursor
	}
	return nil, fmt.Errorf("tools/list: more than %d pages", maxListPages)
}

func (s *session) catalogTools(raw []rawTool) []catalog.Tool {
	srv := s.srv
	tools := make([]catalog.Tool, 0, len(raw))
	for _, r := range raw {
		if r.Name == "" {
			s.log.Warn("upstream: skipping a tool without a name")
			continue
		}
		desc := r.Description
		if desc == "" {
			desc = r.Title
		}
		name := r.Name
		tools = append(tools, catalog.Tool{
			Name:         name,
			Description:  desc,
			InputSchema:  nullToNil(r.InputSchema),
			OutputSchema: nullToNil(r.OutputSchema),
			Call: func(ctx context.Context, args map[string]any) (any, error) {
				return srv.call(ctx, name, args)
			},
		})
	}
	return tools
}

func nullToNil(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// call runs tools/call with the server's per-call timeout (or the execution's per-call
// limit in its place, catalog.CallLimit), ctx's cancellation, and rejection as soon as
// the session dies. When ctx's span records, the request gets a client span of its own;
// when ctx has a span context at all, the server gets it as `_meta.traceparent` (and
// HTTP servers as the traceparent header, see limitTransport).
func (s *session) call(ctx context.Context, tool string, args map[string]any) (any, error) {
	tracer := telemetry.ChildTracer(ctx)
	if tracer == nil {
		return s.callTool(ctx, tool, args)
	}
	ctx, span := tracer.Start(ctx, "tools/call "+tool, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("mcp.method.name", "tools/call"),
		attribute.String("gen_ai.tool.name", tool),
		attribute.String("pctx.upstream", s.srv.cfg.Name),
		attribute.String("pctx.transport", s.transport),
		attribute.String("mcp.protocol.version", s.protocol),
	))
	defer span.End()
	v, err := s.callTool(ctx, tool, args)
	if err != nil {
		span.SetAttributes(attribute.String("error.type", telemetry.Outcome(err)))
		span.SetStatus(codes.Error, err.Error())
	}
	return v, err
}

func (s *session) callTool(ctx context.Context, tool string, args map[string]any) (any, error) {
	name := s.srv.cfg.Name
	timeout := s.srv.timeout
	if d, ok := catalog.CallLimit(ctx); ok {
		timeout = d
	}
	cctx, cancel := context.WithTimeoutCause(ctx, timeout, ErrTimeout)
	defer cancel()
	cctx, cancelLost := context.WithCancelCause(cctx)
	defer cancelLost(nil)
	stop := context.AfterFunc(s.life, func() { cancelLost(ErrConnectionLost) })
	defer stop()
	cctx, slot := withSlot(cctx)

	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	if args == nil {
		args = map[string]any{} // the TypeScript SDK rejects "arguments": null
	}
	req.Params.Arguments = args
	if meta := telemetry.Meta(ctx); meta != nil {
		req.Params.Meta = &mcp.Meta{AdditionalFields: meta}
	}
	_, err := s.client.CallTool(cctx, req)
	if err == nil {
		return convertResult(name, tool, slot.result)
	}
	switch {
	case slot.tooLarge.Load():
		return nil, fmt.Errorf("upstream %q: tool %q: %w: the response exceeds %d bytes", name, tool, ErrResultTooLarge, s.srv.t.maxResultBytes)
	case s.life.Err() != nil || errors.Is(err, transport.ErrTransportClosed):
		return nil, fmt.Errorf("upstream %q: tool %q: %w: %v", name, tool, ErrConnectionLost, s.awaitDeath(err))
	case ctx.Err() != nil:
		return nil, fmt.Errorf("upstream %q: tool %q: %w", name, tool, context.Cause(ctx))
	case errors.Is(context.Cause(cctx), ErrTimeout):
		return nil, fmt.Errorf("upstream %q: tool %q: %w after %s", name, tool, ErrTimeout, timeout)
	}
	if le, ok := oauth.AsLoginRequired(err); ok {
		if len(le.Scopes) == 0 {
			// No token any more: the whole server needs a login, not just this tool.
			s.die(le)
		}
		return nil, fmt.Errorf("upstream %q: tool %q: %w", name, tool, le)
	}
	if errors.Is(err, transport.ErrSessionTerminated) {
		s.die(fmt.Errorf("server ended the session: %w", err))
	} else if _, ok := s.client.GetTransport().(transport.HTTPConnection); ok && isTransportError(err) {
		s.probe()
	}
	return nil, fmt.Errorf("upstream %q: tool %q: %w", name, tool, err)
}

// awaitDeath gives the session a moment to learn why it died (a child's exit
// status arrives just after its stdout closes) and returns that reason.
func (s *session) awaitDeath(fallback error) error {
	select {
	case <-s.dead():
		if cause := s.deathReason(); !closedOnPurpose(cause) {
			return cause
		}
		return errors.New("pctx closed the session")
	case <-time.After(time.Second):
		return fallback
	}
}

func isTransportError(err error) bool {
	var te *transport.Error
	return errors.As(err, &te)
}
