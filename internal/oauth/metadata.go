package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/client/transport"
)

// maxMetadataBytes bounds a metadata, registration or token response.
const maxMetadataBytes = 1 << 20

// resourceMetadata is protected resource metadata (RFC 9728 §2).
type resourceMetadata struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported"`
}

// serverMetadata is authorization server metadata (RFC 8414 §2): mcp-go's type plus
// what the 2025-11-25 specification and RFC 9207 add.
type serverMetadata struct {
	transport.AuthServerMetadata
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported"`
	IssParameterSupported             bool `json:"authorization_response_iss_parameter_supported"`
}

// discovery is what pctx learned about a server's authorization.
type discovery struct {
	prmURL   string            // where the resource metadata came from; "" for a legacy server
	prm      *resourceMetadata // nil for a legacy (2025-03-26) server
	resource string            // the RFC 8707 resource indicator to send
	as       *serverMetadata
	legacy   bool // no resource metadata: the server's origin is the authorization server
}

// errNotFound: a metadata URL answered, but not with metadata (404, HTML, ...).
var errNotFound = errors.New("no metadata there")

// discover finds the authorization server of the client's server. hint is the
// resource metadata URL from a challenge, or one remembered from an earlier run.
func (c *Client) discover(ctx context.Context, hint string) (*discovery, error) {
	server, err := url.Parse(c.opts.ServerURL)
	if err != nil || server.Host == "" {
		return nil, fmt.Errorf("discover: server URL is not absolute")
	}
	var candidates []string
	if hint != "" {
		candidates = []string{hint}
	} else {
		candidates = wellKnown(server, "oauth-protected-resource", true)
	}
	d := &discovery{}
	for _, u := range candidates {
		var prm resourceMetadata
		err := c.getJSON(ctx, u, &prm)
		if errors.Is(err, errNotFound) && hint == "" {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("protected resource metadata %s: %w", u, err)
		}
		d.prmURL, d.prm = u, &prm
		break
	}
	if d.prm == nil {
		return c.discoverLegacy(ctx, server)
	}
	// RFC 9728 §3.3: metadata for another resource must not be used, or a server could
	// have tokens for a different one minted and sent to itself.
	if d.prm.Resource == "" {
		d.resource = canonicalResource(server)
	} else if resourceCovers(d.prm.Resource, server) {
		d.resource = d.prm.Resource
	} else {
		return nil, fmt.Errorf("protected resource metadata %s is for resource %q, not for %s: refusing to authorize", d.prmURL, d.prm.Resource, canonicalResource(server))
	}
	if len(d.prm.AuthorizationServers) == 0 {
		return nil, fmt.Errorf("protected resource metadata %s names no authorization_servers", d.prmURL)
	}
	issuer := d.prm.AuthorizationServers[0]
	iu, err := url.Parse(issuer)
	if err != nil || (iu.Scheme != "https" && iu.Scheme != "http") || iu.Host == "" {
		return nil, fmt.Errorf("protected resource metadata %s: authorization server %q is not an http(s) URL", d.prmURL, issuer)
	}
	as, err := c.serverMetadata(ctx, iu, true)
	if err != nil {
		return nil, err
	}
	if as == nil {
		return nil, fmt.Errorf("authorization server %s publishes no metadata (tried %s)", issuer, strings.Join(wellKnownAS(iu), ", "))
	}
	d.as = as
	if err := checkPKCE(as, false); err != nil {
		return nil, err
	}
	return d, nil
}

// discoverLegacy treats a server without resource metadata as the 2025-03-26
// specification did: the authorization server is the server's origin, found through
// its metadata or, failing that, at /authorize, /token and /register.
func (c *Client) discoverLegacy(ctx context.Context, server *url.URL) (*discovery, error) {
	origin := &url.URL{Scheme: server.Scheme, Host: server.Host}
	d := &discovery{legacy: true, resource: canonicalResource(server)}
	// The 2025-03-26 servers published metadata without an issuer check: the issuer
	// may carry a path ("https://h/oauth") while the metadata sits at the root.
	as, err := c.serverMetadata(ctx, origin, false)
	if err != nil {
		return nil, err
	}
	if as == nil {
		base := origin.String()
		as = &serverMetadata{AuthServerMetadata: transport.AuthServerMetadata{
			Issuer:                base,
			AuthorizationEndpoint: base + "/authorize",
			TokenEndpoint:         base + "/token",
			RegistrationEndpoint:  base + "/register",
		}}
		c.log.Debug("oauth: no metadata at all; using the 2025-03-26 default endpoints", "issuer", base)
	}
	d.as = as
	if err := checkPKCE(as, true); err != nil {
		return nil, err
	}
	return d, nil
}

// serverMetadata fetches authorization server metadata for issuer, trying the URLs
// the specification lists in order; nil, nil if none has it.
func (c *Client) serverMetadata(ctx context.Context, issuer *url.URL, checkIssuer bool) (*serverMetadata, error) {
	for _, u := range wellKnownAS(issuer) {
		var m serverMetadata
		err := c.getJSON(ctx, u, &m)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("authorization server metadata %s: %w", u, err)
		}
		// RFC 8414 §3.3: the document must name the issuer it was fetched for.
		if checkIssuer && strings.TrimSuffix(m.Issuer, "/") != strings.TrimSuffix(issuer.String(), "/") {
			return nil, fmt.Errorf("authorization server metadata %s names issuer %q, not %q: refusing it", u, m.Issuer, issuer.String())
		}
		if err := checkEndpoints(&m); err != nil {
			return nil, fmt.Errorf("authorization server metadata %s: %w", u, err)
		}
		return &m, nil
	}
	return nil, nil
}

// checkPKCE refuses an authorization server that cannot do PKCE with S256, as the
// specification requires; a 2025-03-26 server that says nothing is given the benefit
// of the doubt (that revision did not ask servers to say).
func checkPKCE(as *serverMetadata, legacy bool) error {
	methods := as.CodeChallengeMethodsSupported
	if slices.Contains(methods, "S256") || (legacy && len(methods) == 0) {
		return nil
	}
	if len(methods) == 0 {
		return fmt.Errorf("authorization server %s does not advertise PKCE (code_challenge_methods_supported); pctx refuses to authorize without it", as.Issuer)
	}
	return fmt.Errorf("authorization server %s does not support PKCE with S256 (it lists %s); pctx refuses to authorize without it", as.Issuer, strings.Join(methods, ", "))
}

// checkEndpoints refuses metadata whose endpoints are not absolute http(s) URLs: they
// end up in a browser and in requests carrying secrets.
func checkEndpoints(m *serverMetadata) error {
	for name, v := range map[string]string{
		"authorization_endpoint": m.AuthorizationEndpoint,
		"token_endpoint":         m.TokenEndpoint,
		"registration_endpoint":  m.RegistrationEndpoint,
		"revocation_endpoint":    m.RevocationEndpoint,
	} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s %q is not an http(s) URL", name, v)
		}
	}
	if m.TokenEndpoint == "" {
		return errors.New("no token_endpoint")
	}
	return nil
}

// getJSON fetches a metadata document into v. Anything but a 200 with a JSON object
// is errNotFound, so the next candidate is tried; network errors are errors.
func (c *Client) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if c.opts.ProtocolVersion != "" {
		req.Header.Set("MCP-Protocol-Version", c.opts.ProtocolVersion)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errNotFound
	}
	if len(body) > maxMetadataBytes {
		return fmt.Errorf("larger than %d bytes", maxMetadataBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errNotFound
	}
	return nil
}

// wellKnown returns the RFC 8615 well-known URLs for suffix on u: path-inserted
// ("/.well-known/SUFFIX/PATH") first, then the root when withRoot is set.
func wellKnown(u *url.URL, suffix string, withRoot bool) []string {
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	var out []string
	if path != "" {
		out = append(out, origin+"/.well-known/"+suffix+path)
	}
	if path == "" || withRoot {
		out = append(out, origin+"/.well-known/"+suffix)
	}
	return out
}

// wellKnownAS lists the metadata URLs of an issuer in the specification's order:
// RFC 8414 path-inserted, OpenID Connect path-inserted and path-appended for an
// issuer with a path; RFC 8414 and OpenID Connect at the root otherwise.
func wellKnownAS(issuer *url.URL) []string {
	origin := issuer.Scheme + "://" + issuer.Host
	path := strings.TrimSuffix(issuer.EscapedPath(), "/")
	if path == "" {
		return []string{origin + "/.well-known/oauth-authorization-server", origin + "/.well-known/openid-configuration"}
	}
	return []string{
		origin + "/.well-known/oauth-authorization-server" + path,
		origin + "/.well-known/openid-configuration" + path,
		origin + path + "/.well-known/openid-configuration",
	}
}

// canonicalResource is the server's URL as a resource indicator: lower-case scheme and
// host, no fragment, no trailing slash (RFC 8707 §2, the specification's canonical URI).
func canonicalResource(u *url.URL) string { return StoreKey(u.String()) }

// resourceCovers reports whether a resource identifier names the server: the same
// origin, and a path equal to the server's or a parent of it at a segment boundary
// ("https://h" covers "https://h/mcp"; "https://h/m" does not cover "https://h/mcp").
func resourceCovers(resource string, server *url.URL) bool {
	r, err := url.Parse(resource)
	if err != nil || r.Fragment != "" || r.RawQuery != server.RawQuery && r.RawQuery != "" {
		return false
	}
	if !strings.EqualFold(r.Scheme, server.Scheme) || !strings.EqualFold(r.Host, server.Host) {
		return false
	}
	rp := strings.TrimSuffix(r.EscapedPath(), "/")
	sp := strings.TrimSuffix(server.EscapedPath(), "/")
	return rp == sp || strings.HasPrefix(sp, rp+"/")
}
