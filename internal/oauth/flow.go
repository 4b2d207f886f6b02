package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mark3labs/mcp-go/client/transport"
)

// Agent carries out the user's part of an authorization: it takes them to the
// authorization URL and brings back where the server redirected them.
type Agent interface {
	// Begin prepares to receive one redirect. preferred lists redirect URIs the client
	// is already registered with, to reuse when one can be served (the first wins).
	Begin(ctx context.Context, preferred []string) (Pending, error)
}

// Pending is one authorization under way.
type Pending interface {
	// RedirectURI is where the authorization server must send the user back.
	RedirectURI() string
	// Wait sends the user to authURL and returns the query of the redirect.
	Wait(ctx context.Context, authURL string) (url.Values, error)
	// Close releases what Begin took (a listener).
	Close()
}

// authorize runs the authorization code grant with PKCE (S256), state, the resource
// indicator and, where the server supports it, the RFC 9207 issuer check. rec gets the
// registration, if one is made; the caller saves it.
func (c *Client) authorize(ctx context.Context, d *discovery, rec *Record, scopes []string) (*transport.Token, error) {
	if d.as.AuthorizationEndpoint == "" {
		return nil, fmt.Errorf("authorization server %s has no authorization_endpoint", d.as.Issuer)
	}
	var preferred []string
	if u := c.opts.Config.RedirectURI; u != "" {
		preferred = []string{u}
	} else if rec.Client != nil && rec.Client.Issuer == d.as.Issuer {
		preferred = rec.Client.RedirectURIs
	}
	pending, err := c.opts.Agent.Begin(ctx, preferred)
	if err != nil {
		return nil, fmt.Errorf("prepare the redirect: %w", err)
	}
	defer pending.Close()
	redirect := pending.RedirectURI()
	if u := c.opts.Config.RedirectURI; u != "" && redirect != u {
		return nil, fmt.Errorf("cannot receive the redirect at %s (the redirect_uri registered for the client in pctx.toml): is the port in use?", u)
	}
	cl, err := c.clientFor(ctx, d, rec, redirect)
	if err != nil {
		return nil, err
	}
	if cl.reg != nil {
		// Keep the registration even if the user never finishes: the next try reuses it.
		rec.Client = cl.reg
		if err := c.save(rec); err != nil {
			return nil, err
		}
	}
	verifier, err := transport.GenerateCodeVerifier()
	if err != nil {
		return nil, err
	}
	state, err := transport.GenerateState()
	if err != nil {
		return nil, err
	}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {cl.id},
		"redirect_uri":          {redirect},
		"state":                 {state},
		"code_challenge":        {transport.GenerateCodeChallenge(verifier)},
		"code_challenge_method": {"S256"},
		"resource":              {d.resource},
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	authURL, err := url.Parse(d.as.AuthorizationEndpoint)
	if err != nil {
		return nil, fmt.Errorf("authorization_endpoint: %w", err)
	}
	// Keep any query the endpoint itself has (RFC 6749 §3.1).
	merged := authURL.Query()
	for k, v := range q {
		merged[k] = v
	}
	authURL.RawQuery = merged.Encode()
	c.log.Debug("oauth: authorizing", "issuer", d.as.Issuer, "scopes", strings.Join(scopes, " "))

	back, err := pending.Wait(ctx, authURL.String())
	if err != nil {
		return nil, fmt.Errorf("authorization: %w", err)
	}
	if back.Get("state") != state {
		return nil, errors.New("authorization: the redirect's state does not match (a stale or forged redirect); try again")
	}
	// RFC 9207: a server that says it sends iss must send its own.
	if iss := back.Get("iss"); iss != "" || d.as.IssParameterSupported {
		if strings.TrimSuffix(iss, "/") != strings.TrimSuffix(d.as.Issuer, "/") {
			return nil, fmt.Errorf("authorization: the redirect came from issuer %q, not %q: refusing it", iss, d.as.Issuer)
		}
	}
	if e := back.Get("error"); e != "" {
		msg := "authorization refused: " + e
		if desc := back.Get("error_description"); desc != "" {
			msg += " (" + desc + ")"
		}
		return nil, errors.New(msg)
	}
	code := back.Get("code")
	if code == "" {
		return nil, errors.New("authorization: the redirect carries no code")
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirect},
		"code_verifier": {verifier},
		"resource":      {d.resource},
	}
	tok, err := c.tokenRequest(ctx, d.as, cl, form, scopes)
	if err != nil {
		return nil, fmt.Errorf("exchange the authorization code: %w", err)
	}
	c.log.Info("oauth: authorized", "issuer", d.as.Issuer, "scopes", tok.Scope, "refreshable", tok.RefreshToken != "")
	return tok, nil
}
