package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
)

// tokenRequest posts a grant to the token endpoint with the client's authentication
// and returns the new token. granted defaults the token's scope when the server does
// not say (RFC 6749 §5.1: then it is the requested scope).
func (c *Client) tokenRequest(ctx context.Context, as *serverMetadata, cl *client, form url.Values, requested []string) (*transport.Token, error) {
	req, err := c.newTokenRequest(ctx, as, cl, form)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token endpoint %s: %w", as.TokenEndpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes))
	if err != nil {
		return nil, fmt.Errorf("token endpoint %s: %w", as.TokenEndpoint, err)
	}
	// Some servers (GitHub) answer 200 with an error body.
	var probe struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(raw, &probe)
	if resp.StatusCode < 200 || resp.StatusCode > 299 || probe.Error != "" {
		return nil, parseOAuthError("token", resp.StatusCode, raw)
	}
	var tok transport.Token
	if err := json.Unmarshal(raw, &tok); err != nil {
		return nil, fmt.Errorf("token endpoint %s: the response is not a token: %w", as.TokenEndpoint, err)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("token endpoint %s: the response has no access_token", as.TokenEndpoint)
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer") {
		return nil, fmt.Errorf("token endpoint %s issued a %q token; pctx sends only bearer tokens", as.TokenEndpoint, tok.TokenType)
	}
	tok.TokenType = "Bearer"
	if tok.ExpiresIn > 0 {
		tok.ExpiresAt = c.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	if tok.Scope == "" && len(requested) > 0 {
		tok.Scope = strings.Join(requested, " ")
	}
	c.secrets.Add(tok.AccessToken, tok.RefreshToken)
	return &tok, nil
}

// newTokenRequest builds the POST, authenticating the client as its method says.
func (c *Client) newTokenRequest(ctx context.Context, as *serverMetadata, cl *client, form url.Values) (*http.Request, error) {
	switch cl.authMethod {
	case authSecretBasic:
	case authSecretPost:
		form.Set("client_id", cl.id)
		form.Set("client_secret", cl.secret)
	case authPrivateKeyJWT:
		assertion, err := c.clientAssertion(as, cl.id)
		if err != nil {
			return nil, err
		}
		form.Set("client_id", cl.id)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	default: // none: a public client names itself
		form.Set("client_id", cl.id)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, as.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("token endpoint: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if cl.authMethod == authSecretBasic {
		// RFC 6749 §2.3.1: both are form-encoded before they become the Basic pair.
		req.SetBasicAuth(url.QueryEscape(cl.id), url.QueryEscape(cl.secret))
	}
	return req, nil
}

// clientAssertion signs a private_key_jwt assertion (RFC 7523 §3): issued by and about
// the client, for the authorization server (its issuer, RFC 7523bis), good for a few
// minutes, once (jti).
func (c *Client) clientAssertion(as *serverMetadata, clientID string) (string, error) {
	key, alg, err := parsePrivateKey(c.opts.Config.PrivateKey, c.opts.Config.SigningAlg)
	if err != nil {
		return "", err
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	now := c.now()
	audience := as.Issuer
	if audience == "" {
		audience = as.TokenEndpoint
	}
	claims := map[string]any{
		"iss": clientID,
		"sub": clientID,
		"aud": audience,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti),
	}
	return signJWT(key, alg, claims)
}

// parsePrivateKey reads a PEM key (PKCS#8, SEC 1 EC or PKCS#1 RSA) and the algorithm
// to sign with: alg if set (and fitting the key), else ES256 for a P-256 key and
// RS256 for an RSA key.
func parsePrivateKey(pemText, alg string) (crypto.Signer, string, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, "", errors.New("private_key is not PEM")
	}
	var key any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, "", fmt.Errorf("private_key: %w", err)
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve.Params().BitSize != 256 {
			return nil, "", fmt.Errorf("private_key: an EC key must be P-256 for ES256, not P-%d", k.Curve.Params().BitSize)
		}
		if alg != "" && alg != "ES256" {
			return nil, "", fmt.Errorf("private_key is an EC key; signing_alg %q needs an RSA key", alg)
		}
		return k, "ES256", nil
	case *rsa.PrivateKey:
		if alg != "" && alg != "RS256" {
			return nil, "", fmt.Errorf("private_key is an RSA key; signing_alg %q needs an EC key", alg)
		}
		return k, "RS256", nil
	default:
		return nil, "", fmt.Errorf("private_key: a %T cannot sign ES256 or RS256", key)
	}
}

// signJWT signs claims as a compact JWS.
func signJWT(key crypto.Signer, alg string, claims map[string]any) (string, error) {
	header, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		// JWS (RFC 7518 §3.4) wants R and S as fixed 32-byte big-endian halves.
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			return "", err
		}
		sig = append(pad32(r), pad32(s)...)
	default:
		sig, err = key.Sign(rand.Reader, sum[:], crypto.SHA256)
		if err != nil {
			return "", err
		}
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func pad32(n *big.Int) []byte {
	b := make([]byte, 32)
	return n.FillBytes(b)
}

// Token types and grants of enterprise-managed authorization (SEP-990).
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	grantJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	tokenTypeIDJAG     = "urn:ietf:params:oauth:token-type:id-jag"
	tokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
)

// idJAG runs enterprise-managed authorization: the configured ID token is exchanged at
// the identity provider for an identity assertion grant for this authorization server
// and resource (RFC 8693), which the authorization server trades for an access token
// (RFC 7523 jwt-bearer), the client authenticating as configured.
func (c *Client) idJAG(ctx context.Context, d *discovery, scopes []string) (*transport.Token, error) {
	cfg := c.opts.Config
	cl := c.configuredClient(d.as)
	if cl == nil || cfg.IDPTokenEndpoint == "" || cfg.IDToken == "" {
		return nil, errors.New("id_jag needs client_id, idp_token_endpoint and id_token")
	}
	form := url.Values{
		"grant_type":           {grantTokenExchange},
		"requested_token_type": {tokenTypeIDJAG},
		"subject_token":        {cfg.IDToken},
		"subject_token_type":   {tokenTypeIDToken},
		"audience":             {d.as.Issuer},
		"resource":             {d.resource},
	}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	if cfg.IDPClientID != "" {
		form.Set("client_id", cfg.IDPClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.IDPTokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("identity provider: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("identity provider token exchange: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes))
	if err != nil {
		return nil, fmt.Errorf("identity provider token exchange: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("identity provider token exchange (is the ID token current?): %w", parseOAuthError("identity provider token", resp.StatusCode, raw))
	}
	var out struct {
		AccessToken     string `json:"access_token"`
		IssuedTokenType string `json:"issued_token_type"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.AccessToken == "" {
		return nil, errors.New("identity provider token exchange: the response has no access_token")
	}
	if out.IssuedTokenType != "" && out.IssuedTokenType != tokenTypeIDJAG {
		return nil, fmt.Errorf("identity provider issued a %q, not an identity assertion grant", out.IssuedTokenType)
	}
	c.secrets.Add(out.AccessToken)
	grant := url.Values{"grant_type": {grantJWTBearer}, "assertion": {out.AccessToken}}
	if len(scopes) > 0 {
		grant.Set("scope", strings.Join(scopes, " "))
	}
	tok, err := c.tokenRequest(ctx, d.as, cl, grant, scopes)
	if err != nil {
		return nil, fmt.Errorf("jwt-bearer grant: %w", err)
	}
	c.log.Info("oauth: obtained a token with an identity assertion grant", "issuer", d.as.Issuer)
	return tok, nil
}
