package upstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"go.opentelemetry.io/otel/trace"

	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/oauth"
	"github.com/pctx-dev/pctx/internal/telemetry"
)

// dialHTTP connects to a URL server. With no transport configured it tries
// streamable HTTP first and falls back to the legacy SSE transport, as the
// MCP spec's backwards-compatibility section describes.
func dialHTTP(life, attempt context.Context, srv *server, cfg config.Upstream, log *slog.Logger) (*session, error) {
	switch cfg.Transport {
	case "streamable-http":
		return dialStreamable(attempt, newSession(life, srv, cfg, log))
	case "sse":
		return dialSSE(attempt, newSession(life, srv, cfg, log))
	case "":
		sess, err := dialStreamable(attempt, newSession(life, srv, cfg, log))
		if err == nil || life.Err() != nil || oauth.IsAuthError(err) {
			// An authorization problem would be the same over SSE.
			return sess, err
		}
		sess, sseErr := dialSSE(attempt, newSession(life, srv, cfg, log))
		if sseErr == nil {
			return sess, nil
		}
		return nil, fmt.Errorf("streamable HTTP: %w; SSE: %w", err, sseErr)
	default:
		return nil, fmt.Errorf("unknown transport %q (want \"streamable-http\" or \"sse\")", cfg.Transport)
	}
}

func dialStreamable(attempt context.Context, sess *session) (*session, error) {
	cfg := sess.cfg
	sess.transport = "streamable-http"
	hc := sess.httpClient()
	t, err := transport.NewStreamableHTTP(cfg.URL,
		transport.WithHTTPBasicClient(hc),
		transport.WithHTTPHeaders(cfg.Headers),
		// The standalone GET stream carries tools/list_changed. Deprecated
		// for 2026-07-28, but our default versions are the 2025 ones.
		//lint:ignore SA1019 the 2025 protocol versions we offer need it
		transport.WithContinuousListening(),
		transport.WithHTTPLogger(sess.log),
	)
	if err != nil {
		sess.close()
		return nil, fmt.Errorf("streamable HTTP %s: %w", cfg.URL, err)
	}
	if err := sess.handshake(attempt, t); err != nil {
		sess.close()
		return nil, err
	}
	return sess, nil
}

func dialSSE(attempt context.Context, sess *session) (*session, error) {
	srv, cfg := sess.srv, sess.cfg
	sess.transport = "sse"
	hc := sess.httpClient()
	wait := srv.t.startTimeout
	if deadline, ok := attempt.Deadline(); ok {
		wait = time.Until(deadline)
	}
	t, err := transport.NewSSE(cfg.URL,
		transport.WithHTTPClient(hc),
		transport.WithHeaders(cfg.Headers),
		transport.WithSSELogger(sess.log),
		transport.WithEndpointTimeout(wait),
		// Calls carry their own deadlines; this only must not be shorter.
		transport.WithResponseTimeout(24*time.Hour),
	)
	if err != nil {
		sess.close()
		return nil, fmt.Errorf("SSE %s: %w", cfg.URL, err)
	}
	t.SetConnectionLostHandler(func(err error) {
		sess.die(fmt.Errorf("event stream lost: %w", err))
	})
	if err := sess.handshake(attempt, t); err != nil {
		sess.close()
		return nil, err
	}
	return sess, nil
}

// httpClient returns a client of the session's own, whose connections close
// with the session, whose responses are size limited, and which follows
// redirects only within the server's origin.
func (s *session) httpClient() *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	s.cleanup = base.CloseIdleConnections
	var rt http.RoundTripper = &limitTransport{base: base, max: s.srv.t.maxResultBytes}
	if s.srv.auth != nil {
		rt = s.srv.auth.Transport(rt)
	}
	return &http.Client{
		Transport:     rt,
		CheckRedirect: sameOriginRedirect,
	}
}

// maxRedirects is net/http's own default limit.
const maxRedirects = 10

// sameOriginRedirect refuses a redirect to another scheme or host: net/http
// would resend the configured headers (an X-API-Key, say) to it, and only
// drops Authorization and Cookie by itself.
func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	orig := via[0].URL
	if req.URL.Scheme != orig.Scheme || req.URL.Host != orig.Host {
		return fmt.Errorf("refusing redirect from %s://%s to %s://%s: the configured headers must not leave the server's origin (set url to where it redirects)",
			orig.Scheme, orig.Host, req.URL.Scheme, req.URL.Host)
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	return nil
}

// limitTransport bounds every response: a JSON body as a whole, an event
// stream per line (one event's data line is one JSON-RPC message). Going past
// the bound fails the read, and flags the request's call as too large.
type limitTransport struct {
	base http.RoundTripper
	max  int
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if trace.SpanContextFromContext(req.Context()).IsValid() && req.Header.Get(telemetry.TraceParent) == "" {
		// A tools/call made for a traced execution: the server joins the trace. A
		// RoundTripper must not modify the caller's request, hence the clone.
		req = req.Clone(req.Context())
		telemetry.InjectHeader(req.Context(), req.Header)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	resp.Body = &limitedBody{
		ReadCloser: resp.Body,
		max:        t.max,
		perLine:    media == "text/event-stream",
		slot:       slotFrom(req.Context()),
	}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	max     int
	perLine bool
	n       int // bytes so far (in the current line, if perLine)
	slot    *rawSlot
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	chunk := p[:n]
	for b.perLine {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			break
		}
		if b.n+i > b.max {
			return 0, b.tooLarge()
		}
		b.n, chunk = 0, chunk[i+1:]
	}
	b.n += len(chunk)
	if b.n > b.max {
		return 0, b.tooLarge()
	}
	return n, err
}

func (b *limitedBody) tooLarge() error {
	if b.slot != nil {
		b.slot.tooLarge.Store(true)
	}
	return fmt.Errorf("%w: more than %d bytes", ErrResultTooLarge, b.max)
}
