package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/redact"
)

// Options configures a Client. ServerName, ServerURL and Store are required.
type Options struct {
	// ServerName is the server's name in pctx.toml, for messages.
	ServerName string
	// ServerURL is the MCP endpoint: the protected resource.
	ServerURL string
	// Config is the server's [servers.NAME.oauth] table; its zero value means every
	// default.
	Config config.OAuth
	// Store keeps the client's registration and tokens.
	Store *Store
	// Agent carries out authorizations that need a user. Nil means none can happen
	// here: requests that need one fail with a *LoginRequiredError.
	Agent Agent
	// HTTPClient sends discovery, registration and token requests. Default: a client
	// with a 30-second timeout.
	HTTPClient *http.Client
	// ProtocolVersion is sent as MCP-Protocol-Version on metadata requests; "" sends
	// none.
	ProtocolVersion string
	// ClientName and ClientVersion describe pctx in registrations; default "pctx", "".
	ClientName    string
	ClientVersion string
	// Logger receives the client's logs; default: discard.
	Logger *slog.Logger
	// Secrets collects every token and client secret the client handles; nil: none.
	Secrets *redact.Set
}

// Client is the OAuth client of one upstream server.
type Client struct {
	opts    Options
	http    *http.Client
	log     *slog.Logger
	secrets *redact.Set
	sem     chan struct{} // one refresh or authorization at a time

	mu     sync.Mutex
	rec    *Record // nil until loaded
	disc   *discovery
	chHint string          // resource_metadata of the last challenge
	chSeen challenge       // the last 401 challenge, for scope selection
	asked  map[string]bool // scope sets a step-up already authorized

	now func() time.Time // the clock tokens expire by; tests move it
}

// New returns a Client. It reads nothing until the first request.
func New(opts Options) (*Client, error) {
	if opts.ServerName == "" || opts.ServerURL == "" || opts.Store == nil {
		return nil, errors.New("oauth: ServerName, ServerURL and Store are required")
	}
	c := &Client{opts: opts, http: opts.HTTPClient, log: opts.Logger, secrets: opts.Secrets, sem: make(chan struct{}, 1), asked: map[string]bool{}, now: time.Now}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.opts.ClientName == "" {
		c.opts.ClientName = "pctx"
	}
	c.secrets.Add(opts.Config.ClientSecret, opts.Config.IDToken)
	return c, nil
}

// record returns the record in memory, reading the store the first time.
func (c *Client) record() (*Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rec != nil {
		return c.rec, nil
	}
	rec, err := c.opts.Store.Load(c.opts.ServerURL)
	if errors.Is(err, ErrNoRecord) {
		rec, err = &Record{}, nil
	}
	if err != nil {
		return nil, err
	}
	c.remember(rec)
	c.rec = rec
	return rec, nil
}

// reload reads the store again (another process may have logged in or refreshed).
func (c *Client) reload() (*Record, error) {
	rec, err := c.opts.Store.Load(c.opts.ServerURL)
	if errors.Is(err, ErrNoRecord) {
		rec, err = &Record{}, nil
	}
	if err != nil {
		return nil, err
	}
	c.remember(rec)
	c.mu.Lock()
	c.rec = rec
	c.mu.Unlock()
	return rec, nil
}

// remember adds the record's secrets to the redaction set.
func (c *Client) remember(rec *Record) {
	if t := rec.Token; t != nil {
		c.secrets.Add(t.AccessToken, t.RefreshToken)
	}
	if rec.Client != nil {
		c.secrets.Add(rec.Client.ClientSecret)
	}
}

// save writes rec to the store and makes it current.
func (c *Client) save(rec *Record) error {
	if err := c.opts.Store.Save(c.opts.ServerURL, rec); err != nil {
		return err
	}
	c.mu.Lock()
	c.rec = rec
	c.mu.Unlock()
	return nil
}

// acquire takes the right to refresh or authorize, or gives up with ctx.
func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) release() { <-c.sem }

// Token returns the access token to send now: the stored one, refreshed first if it
// is about to expire. Nil, nil means there is none yet (the server's 401 will say
// how to get one).
func (c *Client) Token(ctx context.Context) (*transport.Token, error) {
	rec, err := c.record()
	if err != nil {
		return nil, err
	}
	switch tok := rec.Token; {
	case usable(tok, c.now()):
		return tok, nil
	case refreshable(tok):
		return c.renew(ctx, tok, challenge{}, true)
	default:
		return nil, nil
	}
}

// renew gets a token after sent was refused (or expired): one another request or
// process got since, a refreshed one if allowed, else a new grant. ch is the
// server's challenge, if any.
func (c *Client) renew(ctx context.Context, sent *transport.Token, ch challenge, allowRefresh bool) (*transport.Token, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	if ch.bearer {
		c.mu.Lock()
		c.chSeen = ch
		if ch.resourceMetadata != "" && ch.resourceMetadata != c.chHint {
			c.chHint, c.disc = ch.resourceMetadata, nil
		}
		c.mu.Unlock()
	}
	rec, err := c.reload()
	if err != nil {
		return nil, err
	}
	if cur := rec.Token; usable(cur, c.now()) && (sent == nil || cur.AccessToken != sent.AccessToken) {
		return cur, nil
	}
	if allowRefresh && refreshable(rec.Token) {
		tok, err := c.refresh(ctx, rec)
		if err == nil {
			return tok, nil
		}
		var te *tokenError
		if !errors.As(err, &te) {
			return nil, fmt.Errorf("refresh the access token: %w", err)
		}
		// The server refused the refresh token (expired, revoked, rotated away):
		// only a new grant helps.
		c.log.Info("oauth: refresh refused; a new authorization is needed", "err", err.Error())
		rec.Token = nil
		if err := c.save(rec); err != nil {
			return nil, err
		}
		if c.opts.Agent == nil && !c.opts.Config.Machine() {
			return nil, &LoginRequiredError{Server: c.opts.ServerName, Reason: "the server refused to refresh the token: " + te.Error()}
		}
	}
	return c.grant(ctx, rec, nil)
}

// refresh trades the refresh token for a new access token (RFC 6749 §6), with the
// resource indicator; a server that rotates refresh tokens sends a new one.
func (c *Client) refresh(ctx context.Context, rec *Record) (*transport.Token, error) {
	d, err := c.discovery(ctx, rec)
	if err != nil {
		return nil, err
	}
	cl := c.clientForRefresh(d, rec)
	if cl == nil {
		return nil, &tokenError{endpoint: "token", code: "no client", description: "the client that obtained the token is no longer known"}
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rec.Token.RefreshToken}}
	if rec.Resource != "" {
		form.Set("resource", rec.Resource)
	} else {
		form.Set("resource", d.resource)
	}
	tok, err := c.tokenRequest(ctx, d.as, cl, form, strings.Fields(rec.Token.Scope))
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = rec.Token.RefreshToken
	}
	if tok.Scope == "" {
		tok.Scope = rec.Token.Scope
	}
	rec.Token = tok
	if err := c.save(rec); err != nil {
		return nil, err
	}
	c.log.Info("oauth: access token refreshed", "expires_in", tok.ExpiresAt.Sub(c.now()).Round(time.Second).String())
	return tok, nil
}

// clientForRefresh is the client that obtained rec's token: the configured one, or the
// registration kept in the record.
func (c *Client) clientForRefresh(d *discovery, rec *Record) *client {
	if cl := c.configuredClient(d.as); cl != nil {
		return cl
	}
	if r := rec.Client; r != nil {
		return &client{id: r.ClientID, secret: r.ClientSecret, authMethod: r.AuthMethod, reg: r}
	}
	return nil
}

// discovery returns the cached discovery, or discovers: from the last challenge's
// resource_metadata, else the one remembered in rec, else the well-known URLs.
func (c *Client) discovery(ctx context.Context, rec *Record) (*discovery, error) {
	c.mu.Lock()
	d, hint := c.disc, c.chHint
	c.mu.Unlock()
	if d != nil {
		return d, nil
	}
	if hint == "" {
		hint = rec.ResourceMetadata
	}
	d, err := c.discover(ctx, hint)
	if err != nil && hint != "" && hint == rec.ResourceMetadata {
		// The remembered URL may be gone; the well-known ones may still answer.
		d, err = c.discover(ctx, "")
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.disc = d
	c.mu.Unlock()
	return d, nil
}

// grant obtains a new token: client credentials for a machine client, else an
// authorization through the Agent. scopes, if non-nil, replaces scope selection.
func (c *Client) grant(ctx context.Context, rec *Record, scopes []string) (*transport.Token, error) {
	if !c.opts.Config.Machine() && c.opts.Agent == nil {
		reason := "no token yet"
		if rec.Token != nil {
			reason = "the token expired and cannot be refreshed"
		}
		return nil, &LoginRequiredError{Server: c.opts.ServerName, Reason: reason}
	}
	d, err := c.discovery(ctx, rec)
	if err != nil {
		return nil, err
	}
	if scopes == nil {
		c.mu.Lock()
		ch := c.chSeen
		c.mu.Unlock()
		scopes = c.selectScopes(d, ch, rec)
	}
	var tok *transport.Token
	switch c.opts.Config.Grant {
	case config.GrantClientCredentials:
		tok, err = c.clientCredentials(ctx, d, scopes)
	case config.GrantIDJAG:
		tok, err = c.idJAG(ctx, d, scopes)
	default:
		tok, err = c.authorize(ctx, d, rec, scopes)
	}
	if err != nil {
		return nil, err
	}
	rec.Token = tok
	rec.Scopes = scopes
	rec.WantScopes = nil
	rec.Resource = d.resource
	rec.Issuer = d.as.Issuer
	rec.ResourceMetadata = d.prmURL
	if err := c.save(rec); err != nil {
		return nil, err
	}
	return tok, nil
}

// selectScopes applies the specification's scope selection: the configured scopes,
// else the challenge's, else all the resource's scopes_supported, else none; plus
// scopes a server asked for since the last login, and offline_access when the
// authorization server offers it (so a refresh token comes with the grant).
func (c *Client) selectScopes(d *discovery, ch challenge, rec *Record) []string {
	var s []string
	switch {
	case len(c.opts.Config.Scopes) > 0:
		s = slices.Clone(c.opts.Config.Scopes)
	case ch.scope != "":
		s = ch.scopes()
	case d.prm != nil && len(d.prm.ScopesSupported) > 0:
		s = slices.Clone(d.prm.ScopesSupported)
	}
	s = union(s, rec.WantScopes)
	if len(s) > 0 && !c.opts.Config.Machine() &&
		slices.Contains(d.as.ScopesSupported, "offline_access") && !slices.Contains(s, "offline_access") {
		s = append(s, "offline_access")
	}
	return s
}

// stepUp answers a 403 insufficient_scope: a new grant with the union of the scopes
// held and the scopes asked for, at most once per scope set. Without an Agent the
// scopes are remembered for the next login and a *LoginRequiredError says so.
func (c *Client) stepUp(ctx context.Context, sent *transport.Token, ch challenge) (*transport.Token, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	rec, err := c.reload()
	if err != nil {
		return nil, err
	}
	if cur := rec.Token; usable(cur, c.now()) && sent != nil && cur.AccessToken != sent.AccessToken {
		return cur, nil // another request stepped up meanwhile
	}
	held := rec.Scopes
	if rec.Token != nil {
		held = union(held, strings.Fields(rec.Token.Scope))
	}
	want := union(held, ch.scopes())
	key := strings.Join(slices.Sorted(slices.Values(want)), " ")
	c.mu.Lock()
	again := c.asked[key]
	c.asked[key] = true
	c.mu.Unlock()
	desc := ""
	if ch.errorDescription != "" {
		desc = ": " + ch.errorDescription
	}
	if again || len(ch.scopes()) == 0 {
		return nil, fmt.Errorf("the server refuses the token for insufficient scope even with scopes %q%s", strings.Join(want, " "), desc)
	}
	if c.opts.Agent == nil && !c.opts.Config.Machine() {
		rec.WantScopes = union(rec.WantScopes, ch.scopes())
		if err := c.save(rec); err != nil {
			return nil, err
		}
		return nil, &LoginRequiredError{Server: c.opts.ServerName, Reason: "the server asks for scopes " + strings.Join(ch.scopes(), " ") + desc, Scopes: ch.scopes()}
	}
	c.log.Info("oauth: the server asks for more scopes; authorizing again", "scopes", strings.Join(want, " "))
	return c.grant(ctx, rec, want)
}

// clientCredentials obtains a token for a machine client (RFC 6749 §4.4).
func (c *Client) clientCredentials(ctx context.Context, d *discovery, scopes []string) (*transport.Token, error) {
	cl := c.configuredClient(d.as)
	if cl == nil {
		return nil, errors.New("client_credentials needs client_id")
	}
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {d.resource}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	tok, err := c.tokenRequest(ctx, d.as, cl, form, scopes)
	if err != nil {
		return nil, fmt.Errorf("client credentials grant: %w", err)
	}
	c.log.Info("oauth: obtained a token with client credentials", "issuer", d.as.Issuer)
	return tok, nil
}

// WaitForLogin returns once the store holds a token other than the one the client
// last had (pctx auth login ran, in this process or another), polling every poll; or
// with ctx's error.
func (c *Client) WaitForLogin(ctx context.Context, poll time.Duration) error {
	c.mu.Lock()
	var had string
	if c.rec != nil && c.rec.Token != nil {
		had = c.rec.Token.AccessToken
	}
	c.mu.Unlock()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		rec, err := c.opts.Store.Load(c.opts.ServerURL)
		if err != nil || rec.Token == nil || rec.Token.AccessToken == had {
			continue
		}
		if !usable(rec.Token, c.now()) && !refreshable(rec.Token) {
			continue
		}
		c.remember(rec)
		c.mu.Lock()
		c.rec = rec
		c.asked = map[string]bool{}
		c.mu.Unlock()
		return nil
	}
}

// Status is what `pctx auth status` shows of a server. It holds no secret.
type Status struct {
	LoggedIn     bool      // a token is stored
	Expires      time.Time // zero: no expiry given
	Refreshable  bool
	Scopes       string
	Issuer       string
	Client       string // how the client was obtained: "pctx.toml", "dynamic", "metadata-document", or ""
	WantScopes   []string
	GrantMachine bool // client credentials or id_jag: no login needed
}

// Status reads the stored record.
func (c *Client) Status() (Status, error) {
	rec, err := c.opts.Store.Load(c.opts.ServerURL)
	if errors.Is(err, ErrNoRecord) {
		rec, err = &Record{}, nil
	}
	if err != nil {
		return Status{}, err
	}
	st := Status{Issuer: rec.Issuer, WantScopes: rec.WantScopes, GrantMachine: c.opts.Config.Machine()}
	switch {
	case c.opts.Config.ClientID != "":
		st.Client = "pctx.toml"
	case rec.Client != nil:
		st.Client = rec.Client.Kind
	}
	if t := rec.Token; t != nil {
		st.LoggedIn = true
		st.Expires = t.ExpiresAt
		st.Refreshable = t.RefreshToken != ""
		st.Scopes = t.Scope
	}
	return st, nil
}

// Logout revokes the stored tokens where the authorization server offers revocation
// (RFC 7009, best effort) and deletes the record, registration included. It reports
// whether there was anything to delete.
func (c *Client) Logout(ctx context.Context) (bool, error) {
	rec, err := c.opts.Store.Load(c.opts.ServerURL)
	if errors.Is(err, ErrNoRecord) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if rec.Token != nil {
		if err := c.revoke(ctx, rec); err != nil {
			c.log.Warn("oauth: token revocation failed; deleting the tokens anyway", "err", err.Error())
		}
	}
	if err := c.opts.Store.Delete(c.opts.ServerURL); err != nil && !errors.Is(err, ErrNoRecord) {
		return false, err
	}
	c.mu.Lock()
	c.rec, c.disc = nil, nil
	c.mu.Unlock()
	return true, nil
}

// revoke revokes the refresh token (which takes its access tokens with it at most
// servers) and the access token.
func (c *Client) revoke(ctx context.Context, rec *Record) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := c.discovery(ctx, rec)
	if err != nil {
		return err
	}
	if d.as.RevocationEndpoint == "" {
		return nil
	}
	cl := c.clientForRefresh(d, rec)
	if cl == nil {
		return nil
	}
	for _, tt := range [][2]string{{rec.Token.RefreshToken, "refresh_token"}, {rec.Token.AccessToken, "access_token"}} {
		if tt[0] == "" {
			continue
		}
		form := url.Values{"token": {tt[0]}, "token_type_hint": {tt[1]}}
		rd := *d.as
		rd.TokenEndpoint = d.as.RevocationEndpoint
		req, err := c.newTokenRequest(ctx, &rd, cl, form)
		if err != nil {
			return err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("revocation endpoint answered %d", resp.StatusCode)
		}
	}
	return nil
}
