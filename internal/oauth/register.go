package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Token endpoint authentication methods.
const (
	authNone          = "none"
	authSecretBasic   = "client_secret_basic"
	authSecretPost    = "client_secret_post"
	authPrivateKeyJWT = "private_key_jwt"
)

// client is the identity pctx presents to an authorization server.
type client struct {
	id         string
	secret     string
	authMethod string
	// reg is the registration to keep in the record; nil for a configured client.
	reg *Registration
}

// configuredClient returns the client from pctx.toml, if one is set.
func (c *Client) configuredClient(as *serverMetadata) *client {
	cfg := c.opts.Config
	if cfg.ClientID == "" {
		return nil
	}
	cl := &client{id: cfg.ClientID, secret: cfg.ClientSecret, authMethod: cfg.TokenEndpointAuthMethod}
	if cl.authMethod == "" {
		cl.authMethod = pickAuthMethod(as, cl.secret != "", cfg.PrivateKey != "")
	}
	return cl
}

// pickAuthMethod chooses how a client with the given credentials authenticates to a
// server: a key means private_key_jwt; a secret, client_secret_basic unless only
// client_secret_post is listed (RFC 8414: an absent list means basic); neither, none.
func pickAuthMethod(as *serverMetadata, hasSecret, hasKey bool) string {
	supported := as.TokenEndpointAuthMethodsSupported
	switch {
	case hasKey:
		return authPrivateKeyJWT
	case !hasSecret:
		return authNone
	case len(supported) == 0 || slices.Contains(supported, authSecretBasic):
		return authSecretBasic
	case slices.Contains(supported, authSecretPost):
		return authSecretPost
	default:
		return authSecretBasic
	}
}

// clientFor returns the client to authorize with redirectURI: the configured one, the
// registration kept in rec (if it is for this issuer and this redirect), a client ID
// metadata document, or a new dynamic registration. The caller saves rec.
func (c *Client) clientFor(ctx context.Context, d *discovery, rec *Record, redirectURI string) (*client, error) {
	if cl := c.configuredClient(d.as); cl != nil {
		return cl, nil
	}
	if r := rec.Client; r != nil && r.Issuer == d.as.Issuer && (redirectURI == "" || slices.Contains(r.RedirectURIs, redirectURI) || r.Kind == KindMetadataDocument) &&
		(r.SecretExpires.IsZero() || c.now().Before(r.SecretExpires)) {
		return &client{id: r.ClientID, secret: r.ClientSecret, authMethod: r.AuthMethod, reg: r}, nil
	}
	if u := c.opts.Config.ClientMetadataURL; u != "" && d.as.ClientIDMetadataDocumentSupported {
		r := &Registration{Issuer: d.as.Issuer, ClientID: u, AuthMethod: authNone, Kind: KindMetadataDocument}
		rec.Client = r
		return &client{id: u, authMethod: authNone, reg: r}, nil
	}
	if d.as.RegistrationEndpoint == "" {
		hint := "set [servers." + c.opts.ServerName + ".oauth] client_id (and client_secret) to a client registered with it"
		if d.as.ClientIDMetadataDocumentSupported {
			hint += ", or client_metadata_url to this client's metadata document"
		}
		return nil, fmt.Errorf("authorization server %s offers no dynamic client registration: %s", d.as.Issuer, hint)
	}
	r, err := c.register(ctx, d.as, redirectURI)
	if err != nil {
		return nil, err
	}
	rec.Client = r
	c.secrets.Add(r.ClientSecret)
	return &client{id: r.ClientID, secret: r.ClientSecret, authMethod: r.AuthMethod, reg: r}, nil
}

// register performs dynamic client registration (RFC 7591) as a native application:
// public (none) where the server allows it, else with a secret.
func (c *Client) register(ctx context.Context, as *serverMetadata, redirectURI string) (*Registration, error) {
	method := authNone
	if sup := as.TokenEndpointAuthMethodsSupported; len(sup) > 0 && !slices.Contains(sup, authNone) {
		method = pickAuthMethod(as, true, false)
	}
	grants := []string{"authorization_code", "refresh_token"}
	body := map[string]any{
		"client_name":                c.opts.ClientName,
		"redirect_uris":              []string{redirectURI},
		"grant_types":                grants,
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": method,
		"application_type":           "native",
		"software_id":                "pctx",
	}
	if c.opts.ClientVersion != "" {
		body["software_version"] = c.opts.ClientVersion
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, as.RegistrationEndpoint, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("register at %s: %w", as.RegistrationEndpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes))
	if err != nil {
		return nil, fmt.Errorf("register at %s: %w", as.RegistrationEndpoint, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("register at %s: %w", as.RegistrationEndpoint, parseOAuthError("registration", resp.StatusCode, raw))
	}
	var out struct {
		ClientID              string   `json:"client_id"`
		ClientSecret          string   `json:"client_secret"`
		AuthMethod            string   `json:"token_endpoint_auth_method"`
		RedirectURIs          []string `json:"redirect_uris"`
		ClientSecretExpiresAt int64    `json:"client_secret_expires_at"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.ClientID == "" {
		return nil, fmt.Errorf("register at %s: the response has no client_id", as.RegistrationEndpoint)
	}
	r := &Registration{
		Issuer:       as.Issuer,
		ClientID:     out.ClientID,
		ClientSecret: out.ClientSecret,
		RedirectURIs: out.RedirectURIs,
		Kind:         KindDynamic,
	}
	if len(r.RedirectURIs) == 0 {
		r.RedirectURIs = []string{redirectURI}
	}
	if out.ClientSecretExpiresAt > 0 {
		r.SecretExpires = time.Unix(out.ClientSecretExpiresAt, 0)
	}
	// RFC 7591 §3.2.1: the server may register another method than the one asked for.
	r.AuthMethod = out.AuthMethod
	if r.AuthMethod == "" {
		r.AuthMethod = method
		if method == authNone && r.ClientSecret != "" {
			r.AuthMethod = pickAuthMethod(as, true, false)
		}
	}
	c.log.Info("oauth: registered a client", "issuer", as.Issuer, "auth_method", r.AuthMethod)
	return r, nil
}

// parseOAuthError reads an OAuth error response (RFC 6749 §5.2).
func parseOAuthError(endpoint string, status int, body []byte) error {
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	te := &tokenError{endpoint: endpoint, status: status, code: e.Error, description: e.ErrorDescription}
	if te.code == "" {
		// Not an OAuth error body: say what came back, briefly.
		text := strings.TrimSpace(string(body))
		if r := []rune(text); len(r) > 200 {
			text = string(r[:199]) + "…"
		}
		te.description = text
		te.code = http.StatusText(status)
	}
	return te
}
