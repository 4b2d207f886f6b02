package oauth

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

// fakeServer is an MCP resource server and its authorization server in one
// httptest.Server, strict where the specification is (PKCE S256, redirect URI,
// resource, client authentication), with knobs for the cases under test.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server

	mu sync.Mutex
	// knobs
	noPRM          bool     // a 2025-03-26 server: no protected resource metadata
	noASMetadata   bool     // ... and no authorization server metadata either
	prmResource    string   // overrides the resource in the metadata
	prmScopes      []string // scopes_supported in the resource metadata
	asScopes       []string // scopes_supported in the authorization server metadata
	challengeScope string   // scope in the 401 challenge
	need           []string // scopes a request must carry; more gives a 403 insufficient_scope
	alwaysForbid   bool     // every request with a token gets 403 insufficient_scope
	authMethods    []string // token_endpoint_auth_methods_supported
	cimd           bool     // client_id_metadata_document_supported
	noDCR          bool
	ttl            time.Duration // access token lifetime
	noRefresh      bool          // issue no refresh tokens
	refuseRefresh  bool          // answer every refresh with invalid_grant
	preClients     map[string]string
	ccKey          *ecdsa.PublicKey // accepts private_key_jwt client credentials signed by it
	revoked        bool             // every token is now invalid

	// state
	clients        map[string]fakeClient
	codes          map[string]fakeCode
	tokens         map[string]fakeToken
	refresh        map[string]fakeToken
	authorizations []url.Values
	tokenForms     []url.Values
	tokenAuth      []string // "basic", "post", "jwt", "none" per token request
	registrations  int
	mcpRequests    int
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

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{
		t: t, ttl: time.Hour,
		clients: map[string]fakeClient{}, codes: map[string]fakeCode{},
		tokens: map[string]fakeToken{}, refresh: map[string]fakeToken{}, preClients: map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mcp", f.mcp)
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", f.prm)
	mux.HandleFunc("/.well-known/oauth-authorization-server", f.asMetadata)
	mux.HandleFunc("/authorize", f.authorize)
	mux.HandleFunc("/token", f.token)
	mux.HandleFunc("/register", f.register)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) url() string { return f.srv.URL + "/mcp" }

func (f *fakeServer) resource() string {
	if f.prmResource != "" {
		return f.prmResource
	}
	return f.url()
}

func (f *fakeServer) challenge(w http.ResponseWriter, status int, errCode string, scope string) {
	parts := []string{}
	if !f.noPRM {
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

func (f *fakeServer) mcp(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mcpRequests++
	tok, ok := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok || f.revoked || time.Now().After(tok.expires) || tok.resource != f.resource() {
		f.challenge(w, http.StatusUnauthorized, "invalid_token", f.challengeScope)
		return
	}
	if f.alwaysForbid {
		f.challenge(w, http.StatusForbidden, "insufficient_scope", "admin")
		return
	}
	for _, s := range f.need {
		if !slices.Contains(tok.scopes, s) {
			f.challenge(w, http.StatusForbidden, "insufficient_scope", strings.Join(f.need, " "))
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"scopes":%q}`, strings.Join(tok.scopes, " "))
}

func (f *fakeServer) prm(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noPRM {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, map[string]any{"resource": f.resource(), "authorization_servers": []string{f.srv.URL}, "scopes_supported": f.prmScopes})
}

func (f *fakeServer) asMetadata(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noASMetadata {
		http.NotFound(w, r)
		return
	}
	m := map[string]any{
		"issuer":                                f.srv.URL,
		"authorization_endpoint":                f.srv.URL + "/authorize",
		"token_endpoint":                        f.srv.URL + "/token",
		"response_types_supported":              []string{"code"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": f.authMethods,
		"client_id_metadata_document_supported": f.cimd,
	}
	if !f.noDCR {
		m["registration_endpoint"] = f.srv.URL + "/register"
	}
	if f.asScopes != nil {
		m["scopes_supported"] = f.asScopes
	}
	writeJSON(w, m)
}

func (f *fakeServer) register(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body struct {
		RedirectURIs []string `json:"redirect_uris"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.registrations++
	id := fmt.Sprintf("client-%d", f.registrations)
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

func (f *fakeServer) authorize(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	f.authorizations = append(f.authorizations, q)
	c, known := f.clients[q.Get("client_id")]
	if !known && !(f.cimd && strings.HasPrefix(q.Get("client_id"), "https://")) {
		if _, pre := f.preClients[q.Get("client_id")]; !pre {
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
	code := fmt.Sprintf("code-%d", len(f.authorizations))
	f.codes[code] = fakeCode{client: q.Get("client_id"), redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), resource: q.Get("resource"), scopes: strings.Fields(q.Get("scope"))}
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := url.Values{"code": {code}, "state": {q.Get("state")}}
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// authenticate returns the client a token request authenticates as, or "".
func (f *fakeServer) authenticate(r *http.Request) string {
	if id, secret, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		f.tokenAuth = append(f.tokenAuth, "basic")
		if f.clients[id].secret == secret && secret != "" || f.preClients[id] == secret && secret != "" {
			return id
		}
		return ""
	}
	id := r.PostForm.Get("client_id")
	if a := r.PostForm.Get("client_assertion"); a != "" {
		f.tokenAuth = append(f.tokenAuth, "jwt")
		if f.ccKey != nil && verifyES256(a, f.ccKey, id, f.srv.URL) {
			return id
		}
		return ""
	}
	if s := r.PostForm.Get("client_secret"); s != "" {
		f.tokenAuth = append(f.tokenAuth, "post")
		if f.clients[id].secret == s || f.preClients[id] == s {
			return id
		}
		return ""
	}
	f.tokenAuth = append(f.tokenAuth, "none")
	if c, ok := f.clients[id]; ok && c.secret == "" || f.cimd && strings.HasPrefix(id, "https://") {
		return id
	}
	return ""
}

func (f *fakeServer) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = r.ParseForm()
	f.tokenForms = append(f.tokenForms, r.PostForm)
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
		old, ok := f.refresh[r.PostForm.Get("refresh_token")]
		delete(f.refresh, r.PostForm.Get("refresh_token")) // rotation: single use
		if !ok || f.refuseRefresh || old.client != client || r.PostForm.Get("resource") != old.resource {
			fail("invalid_grant")
			return
		}
		grant = old
	case "client_credentials":
		grant = fakeToken{client: client, resource: r.PostForm.Get("resource"), scopes: strings.Fields(r.PostForm.Get("scope"))}
	default:
		fail("unsupported_grant_type")
		return
	}
	grant.expires = time.Now().Add(f.ttl)
	access := fmt.Sprintf("access-%d", len(f.tokenForms))
	f.tokens[access] = grant
	resp := map[string]any{"access_token": access, "token_type": "bearer", "expires_in": int(f.ttl / time.Second), "scope": strings.Join(grant.scopes, " ")}
	if !f.noRefresh && r.PostForm.Get("grant_type") != "client_credentials" {
		rt := fmt.Sprintf("refresh-%d", len(f.tokenForms))
		f.refresh[rt] = grant
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
