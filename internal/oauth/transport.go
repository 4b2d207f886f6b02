package oauth

import (
	"fmt"
	"io"
	"net/http"

	"github.com/mark3labs/mcp-go/client/transport"
)

// Transport returns a RoundTripper that authorizes requests to the server through
// base: it attaches the token, and on a 401 (refused or missing token) or a 403
// insufficient_scope gets a new token and sends the request once more per cause. A
// request that cannot be authorized fails with the reason (a *LoginRequiredError when
// a user must log in) rather than with the bare 401.
func (c *Client) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &roundTripper{c: c, base: base}
}

type roundTripper struct {
	c    *Client
	base http.RoundTripper
}

func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tok, err := t.c.Token(ctx)
	if err != nil {
		return nil, t.fail(req, err)
	}
	// A body that cannot be rewound goes once; its 401 or 403 is passed on after the
	// token is renewed, so the caller's next request succeeds.
	retryable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	renewed, steppedUp := !retryable, !retryable
	for {
		out, err := withToken(req, tok)
		if err != nil {
			return nil, err
		}
		resp, err := t.base.RoundTrip(out)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !renewed:
			ch := parseChallenge(resp.Header)
			discard(resp)
			renewed = true
			if tok, err = t.c.renew(ctx, tok, ch, tok != nil); err != nil {
				return nil, t.fail(req, err)
			}
		case resp.StatusCode == http.StatusForbidden && !steppedUp:
			ch := parseChallenge(resp.Header)
			if ch.err != "insufficient_scope" {
				return resp, nil
			}
			discard(resp)
			steppedUp = true
			if tok, err = t.c.stepUp(ctx, tok, ch); err != nil {
				return nil, t.fail(req, err)
			}
		case !retryable && resp.StatusCode == http.StatusUnauthorized:
			_, err := t.c.renew(ctx, tok, parseChallenge(resp.Header), tok != nil)
			if err != nil {
				discard(resp)
				return nil, t.fail(req, err)
			}
			return resp, nil
		case resp.StatusCode == http.StatusUnauthorized:
			ch := parseChallenge(resp.Header)
			discard(resp)
			return nil, t.fail(req, fmt.Errorf("the server refused a token it was just issued%s", describe(ch)))
		case resp.StatusCode == http.StatusForbidden:
			ch := parseChallenge(resp.Header)
			if ch.err != "insufficient_scope" {
				return resp, nil
			}
			discard(resp)
			return nil, t.fail(req, fmt.Errorf("the server refuses the token for insufficient scope after a step-up%s", describe(ch)))
		default:
			return resp, nil
		}
	}
}

// fail marks an authorization error as one (IsAuthError), keeping its chain: a
// *LoginRequiredError or the request's context error stays reachable.
func (t *roundTripper) fail(_ *http.Request, err error) error {
	if _, ok := AsLoginRequired(err); ok {
		return err
	}
	return &authError{err: err}
}

// withToken returns a copy of req carrying tok (none if nil), with a fresh body.
func withToken(req *http.Request, tok *transport.Token) (*http.Request, error) {
	out := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			if tok != nil {
				out.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			}
			return out, nil
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("oauth: rewind the request body: %w", err)
		}
		out.Body = body
	}
	if tok != nil {
		out.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	} else {
		out.Header.Del("Authorization")
	}
	return out, nil
}

// discard drains a little of a response we will not pass on and closes it, so the
// connection can be reused.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}

// describe renders a challenge's error for a message.
func describe(ch challenge) string {
	switch {
	case ch.err != "" && ch.errorDescription != "":
		return ": " + ch.err + " (" + ch.errorDescription + ")"
	case ch.err != "":
		return ": " + ch.err
	}
	return ""
}
