// Package oauthtest is an OAuth-protected MCP endpoint and its authorization server in
// one httptest.Server, for tests of pctx's OAuth client: strict where the
// specification is (PKCE S256, registered redirect URIs, resource indicators, client
// authentication), with knobs for the cases under test. It stands in for real
// servers in unit tests; the conformance suite and the TypeScript SDK's example
// server are the real peers.
package oauthtest

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is an MCP resource server and its authorization server in one
// httptest.Server.
//
// Its exported fields are knobs and records; set knobs before the first request or
// within Set, and read records with the accessor methods, since the server's
// goroutines use them too.
type Server struct {
	handler http.Handler
	srv     *httptest.Server

	mu sync.Mutex

	NoPRM          bool              // a 2025-03-26 server: no protected resource metadata
	NoASMetadata   bool              // ... and no authorization server metadata either
	PRMResource    string            // overrides the resource in the metadata
	PRMScopes      []string          // scopes_supported in the resource metadata
	ASScopes       []string          // scopes_supported in the authorization server metadata
	ChallengeScope string            // scope in the 401 challenge
	Need           []string          // scopes a request must carry; fewer gives a 403 insufficient_scope
	AlwaysForbid   bool              // every request with a token gets 403 insufficient_scope
	AuthMethods    []string          // token_endpoint_auth_methods_supported
	CIMD           bool              // client_id_metadata_document_supported
	NoDCR          bool              // no registration_endpoint
	TTL            time.Duration     // access token lifetime; default one hour
	NoRefresh      bool              // issue no refresh tokens
	RefuseRefresh  bool              // answer every refresh with invalid_grant
	PreClients     map[string]string // pre-registered clients: id → secret
	CCKey          *ecdsa.PublicKey  // accepts private_key_jwt client assertions signed by it

	clients        map[string]fakeClient
	codes          map[string]fakeCode
	tokens         map[string]fakeToken
	refreshTokens  map[string]fakeToken
	Authorizations []url.Values // every authorization request's query
	TokenForms     []url.Values // every token request's form
	TokenAuth      []string     // per token request: "basic", "post", "jwt" or "none"
	Registrations  int          // dynamic registrations
}

// Set changes knobs while the server runs.
func (f *Server) Set(change func(*Server)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// Counts returns how many authorization requests, registrations and token requests
// the server has seen.
func (f *Server) Counts() (authorizations, registrations, tokens int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.Authorizations), f.Registrations, len(f.TokenForms)
}

// Authorization returns the query of the i-th authorization request (negative: from
// the end).
func (f *Server) Authorization(i int) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return at(f.Authorizations, i)
}

// TokenForm returns the form of the i-th token request (negative: from the end) and
// how the client authenticated.
func (f *Server) TokenForm(i int) (url.Values, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return at(f.TokenForms, i), at(f.TokenAuth, i)
}

// RevokeAccessTokens makes every access token issued so far invalid (refresh tokens
// stay good).
func (f *Server) RevokeAccessTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

func at[T any](s []T, i int) T {
	var zero T
	if i < 0 {
		i += len(s)
	}
	if i < 0 || i >= len(s) {
		return zero
	}
	return s[i]
}

type fakeClient struct {
	secret   string
	redirect []string
}

type fakeCode struct {
	client, redirect, challenge, resource string
	scopes                                []string
}

type fakeToken struct {
	client, resource string
	scopes           []string
	expires          time.Time
}

// New starts a Server; it stops when the test ends. handler, if non-nil, serves the
// protected endpoints /mcp and /mcp/... once a request is authorized; nil answers
// {"ok":true,"scopes":"..."}.
func New(t testing.TB, handler http.Handler) *Server {
	f := NewServer(handler)
	t.Cleanup(f.Close)
	return f
}

// NewServer is New without a test: the caller calls Close.
func NewServer(handler http.Handler) *Server {
	f := &Server{
		handler: handler, TTL: time.Hour,
		clients: map[string]fakeClient{}, codes: map[string]fakeCode{},
		tokens: map[string]fakeToken{}, refreshTokens: map[string]fakeToken{}, PreClients: map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mcp", f.mcp)
	mux.HandleFunc("/mcp/", f.mcp) // an SSE server's /mcp/sse and /mcp/message
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", f.prm)
	mux.HandleFunc("/.well-known/oauth-authorization-server", f.asMetadata)
	mux.HandleFunc("/authorize", f.authorize)
	mux.HandleFunc("/token", f.token)
	mux.HandleFunc("/register", f.register)
	f.srv = httptest.NewServer(mux)
	return f
}

// Close stops the server.
func (f *Server) Close() { f.srv.Close() }

// Issuer is the authorization server's issuer identifier.
func (f *Server) Issuer() string { return f.srv.URL }

// URL is the protected MCP endpoint.
func (f *Server) URL() string { return f.srv.URL + "/mcp" }

func (f *Server) resource() string {
	if f.PRMResource != "" {
		return f.PRMResource
	}
	return f.URL()
}

func (f *Server) challenge(w http.ResponseWriter, status int, errCode string, scope string) {
	parts := []string{}
	if !f.NoPRM {
		parts = append(parts, fmt.Sprintf(`resource_metadata="%s/.well-known/oauth-protected-resource/mcp"`, f.srv.URL))
	}
	if scope != "" {
		parts = append(parts, fmt.Sprintf(`scope="%s"`, scope))
	}
	if errCode != "" {
		parts = append(parts, fmt.Sprintf(`error="%s"`, errCode))
	}
	w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(parts, ", "))
	w.WriteHeader(status)
}

func (f *Server) mcp(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	tok, ok := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok || time.Now().After(tok.expires) || tok.resource != f.resource() {
		defer f.mu.Unlock()
		f.challenge(w, http.StatusUnauthorized, "invalid_token", f.ChallengeScope)
		return
	}
	if f.AlwaysForbid {
		defer f.mu.Unlock()
		f.challenge(w, http.StatusForbidden, "insufficient_scope", "admin")
		return
	}
	for _, s := range f.Need {
		if !slices.Contains(tok.scopes, s) {
			defer f.mu.Unlock()
			f.challenge(w, http.StatusForbidden, "insufficient_scope", strings.Join(f.Need, " "))
			return
		}
	}
	f.mu.Unlock()
	if f.handler != nil {
		f.handler.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"scopes":%q}`, strings.Join(tok.scopes, " "))
}

func (f *Server) prm(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.NoPRM {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, map[string]any{"resource": f.resource(), "authorization_servers": []string{f.srv.URL}, "scopes_supported": f.PRMScopes})
}

func (f *Server) asMetadata(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.NoASMetadata {
		http.NotFound(w, r)
		return
	}
	m := map[string]any{
		"issuer":                                f.srv.URL,
		"authorization_endpoint":                f.srv.URL + "/authorize",
		"token_endpoint":                        f.srv.URL + "/token",
		"response_types_supported":              []string{"code"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": f.AuthMethods,
		"client_id_metadata_document_supported": f.CIMD,
	}
	if !f.NoDCR {
		m["registration_endpoint"] = f.srv.URL + "/register"
	}
	if f.ASScopes != nil {
		m["scopes_supported"] = f.ASScopes
	}
	writeJSON(w, m)
}

func (f *Server) register(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body struct {
		RedirectURIs []string `json:"redirect_uris"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.Registrations++
	id := fmt.Sprintf("client-%d", f.Registrations)
	c := fakeClient{redirect: body.RedirectURIs}
	resp := map[string]any{"client_id": id, "redirect_uris": body.RedirectURIs, "token_endpoint_auth_method": body.AuthMethod}
	if body.AuthMethod != "none" {
		c.secret = "secret-" + id
		resp["client_secret"] = c.secret
	}
	f.clients[id] = c
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, resp)
}

func (f *Server) authorize(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	f.Authorizations = append(f.Authorizations, q)
	c, known := f.clients[q.Get("client_id")]
	if !known && !(f.CIMD && strings.HasPrefix(q.Get("client_id"), "https://")) {
		if _, pre := f.PreClients[q.Get("client_id")]; !pre {
			http.Error(w, "unknown client", http.StatusBadRequest)
			return
		}
	}
	if known && !slices.Contains(c.redirect, q.Get("redirect_uri")) {
		http.Error(w, "unregistered redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("response_type") != "code" {
		http.Error(w, "PKCE S256 required", http.StatusBadRequest)
		return
	}
	code := fmt.Sprintf("code-%d", len(f.Authorizations))
	f.codes[code] = fakeCode{client: q.Get("client_id"), redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), resource: q.Get("resource"), scopes: strings.Fields(q.Get("scope"))}
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := url.Values{"code": {code}, "state": {q.Get("state")}}
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// authenticate returns the client a token request authenticates as, or "".
func (f *Server) authenticate(r *http.Request) string {
	if id, secret, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		f.TokenAuth = append(f.TokenAuth, "basic")
		if f.clients[id].secret == secret && secret != "" || f.PreClients[id] == secret && secret != "" {
			return id
		}
		return ""
	}
	id := r.PostForm.Get("client_id")
	if a := r.PostForm.Get("client_assertion"); a != "" {
		f.TokenAuth = append(f.TokenAuth, "jwt")
		if f.CCKey != nil && verifyES256(a, f.CCKey, id, f.srv.URL) {
			return id
		}
		return ""
	}
	if s := r.PostForm.Get("client_secret"); s != "" {
		f.TokenAuth = append(f.TokenAuth, "post")
		if f.clients[id].secret == s || f.PreClients[id] == s {
			return id
		}
		return ""
	}
	f.TokenAuth = append(f.TokenAuth, "none")
	if c, ok := f.clients[id]; ok && c.secret == "" || f.CIMD && strings.HasPrefix(id, "https://") {
		return id
	}
	return ""
}

func (f *Server) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = r.ParseForm()
	f.TokenForms = append(f.TokenForms, r.PostForm)
	client := f.authenticate(r)
	if client == "" {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	fail := func(code string) {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": code})
	}
	var grant fakeToken
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case !ok || c.client != client:
			fail("invalid_grant")
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
			fail("invalid_grant") // PKCE
			return
		case r.PostForm.Get("redirect_uri") != c.redirect || r.PostForm.Get("resource") != c.resource:
			fail("invalid_grant")
			return
		}
		grant = fakeToken{client: client, resource: c.resource, scopes: c.scopes}
	case "refresh_token":
		old, ok := f.refreshTokens[r.PostForm.Get("refresh_token")]
		delete(f.refreshTokens, r.PostForm.Get("refresh_token")) // rotation: single use
		if !ok || f.RefuseRefresh || old.client != client || r.PostForm.Get("resource") != old.resource {
			fail("invalid_grant")
			return
		}
		grant = old
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		// The test identity provider's grants are "jag:RESOURCE".
		resource, ok := strings.CutPrefix(r.PostForm.Get("assertion"), "jag:")
		if !ok {
			fail("invalid_grant")
			return
		}
		grant = fakeToken{client: client, resource: resource, scopes: strings.Fields(r.PostForm.Get("scope"))}
	case "client_credentials":
		grant = fakeToken{client: client, resource: r.PostForm.Get("resource"), scopes: strings.Fields(r.PostForm.Get("scope"))}
	default:
		fail("unsupported_grant_type")
		return
	}
	grant.expires = time.Now().Add(f.TTL)
	access := fmt.Sprintf("access-%d", len(f.TokenForms))
	f.tokens[access] = grant
	resp := map[string]any{"access_token": access, "token_type": "bearer", "expires_in": int(f.TTL / time.Second), "scope": strings.Join(grant.scopes, " ")}
	if !f.NoRefresh && r.PostForm.Get("grant_type") != "client_credentials" {
		rt := fmt.Sprintf("refresh-%d", len(f.TokenForms))
		f.refreshTokens[rt] = grant
		resp["refresh_token"] = rt
	}
	writeJSON(w, resp)
}

func writeJSON(w http.ResponseWriter, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	_ = json.NewEncoder(w).Encode(v)
}

// verifyES256 checks a private_key_jwt assertion: signature, iss = sub = client, aud.
func verifyES256(jwt string, key *ecdsa.PublicKey, client, aud string) bool {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(key, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return false
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Iss, Sub, Aud, Jti string
		Exp                int64
	}
	if json.Unmarshal(payload, &c) != nil {
		return false
	}
	return c.Iss == client && c.Sub == client && c.Aud == aud && c.Jti != "" && c.Exp > time.Now().Unix()
}
