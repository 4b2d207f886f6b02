package oauth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/keyring"
	"github.com/pctx-dev/pctx/internal/oauth/oauthtest"
	"github.com/pctx-dev/pctx/internal/redact"
)

type harness struct {
	c       *Client
	hc      *http.Client
	store   *Store
	secrets *redact.Set
}

func newHarness(t testing.TB, f *oauthtest.Server, agent Agent, store *Store, cfg config.OAuth) *harness {
	t.Helper()
	if store == nil {
		store = NewStore(keyring.NewMemory())
	}
	secrets := redact.New()
	c, err := New(Options{ServerName: "fake", ServerURL: f.URL(), Config: cfg, Store: store, Agent: agent, Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{c: c, hc: &http.Client{Transport: c.Transport(nil)}, store: store, secrets: secrets}
}

// call POSTs to the server's /mcp and returns the body of a 200.
func (h *harness) call(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.c.opts.ServerURL, bytes.NewReader([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)))
	if err != nil {
		return "", err
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(body), errors.New(resp.Status)
	}
	return string(body), nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestAuthorizationCodeFlow(t *testing.T) {
	f := oauthtest.New(t, nil)
	f.PRMScopes = []string{"read", "write"}
	f.ASScopes = []string{"read", "write", "offline_access"}
	h := newHarness(t, f, &Follow{}, nil, config.OAuth{})
	body, err := h.call(ctxT(t))
	if err != nil {
		t.Fatalf("call: %v (%s)", err, body)
	}
	if !strings.Contains(body, `"scopes":"read write offline_access"`) {
		t.Errorf("token scopes: %s", body)
	}
	if nAuth(f) != 1 || nReg(f) != 1 {
		t.Fatalf("%d authorizations, %d registrations; want 1, 1", nAuth(f), nReg(f))
	}
	q := f.Authorization(0)
	if q.Get("resource") != f.URL() || q.Get("scope") != "read write offline_access" || q.Get("state") == "" {
		t.Errorf("authorization request: %v", q)
	}
	rec, err := h.store.Load(f.URL())
	if err != nil || rec.Token == nil || rec.Client == nil || rec.Client.Kind != KindDynamic || rec.Issuer != f.Issuer() || rec.Resource != f.URL() {
		t.Fatalf("stored record: %+v, %v", rec, err)
	}
	// The token went to the redaction set.
	if h.secrets.String(rec.Token.AccessToken) != redact.Mark {
		t.Error("the access token is not redacted")
	}
	// A second client over the same store (a second pctx process) uses the token
	// without authorizing.
	h2 := newHarness(t, f, nil, h.store, config.OAuth{})
	if _, err := h2.call(ctxT(t)); err != nil {
		t.Fatalf("second client: %v", err)
	}
	if nAuth(f) != 1 {
		t.Errorf("second client authorized again")
	}
}

func TestScopeSelection(t *testing.T) {
	tests := []struct {
		name      string
		challenge string
		prm, as   []string
		cfg       []string
		want      string
	}{
		{name: "challenge wins", challenge: "a b", prm: []string{"x"}, want: "a b"},
		{name: "scopes_supported", prm: []string{"x", "y"}, want: "x y"},
		{name: "omitted", want: ""},
		{name: "configured", challenge: "a", prm: []string{"x"}, cfg: []string{"mine"}, want: "mine"},
		{name: "offline_access when offered", prm: []string{"x"}, as: []string{"x", "offline_access"}, want: "x offline_access"},
		{name: "no offline_access alone", as: []string{"offline_access"}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := oauthtest.New(t, nil)
			f.ChallengeScope, f.PRMScopes, f.ASScopes = tc.challenge, tc.prm, tc.as
			h := newHarness(t, f, &Follow{}, nil, config.OAuth{Scopes: tc.cfg})
			if _, err := h.call(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			q := f.Authorization(0)
			if got := q.Get("scope"); got != tc.want || (tc.want == "" && q.Has("scope")) {
				t.Errorf("scope %q (present %v), want %q", got, q.Has("scope"), tc.want)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	f := oauthtest.New(t, nil)
	h := newHarness(t, f, &Follow{}, nil, config.OAuth{})
	if _, err := h.call(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	first, _ := h.store.Load(f.URL())

	// Proactive: the client's clock says the token is about to expire.
	h.c.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := h.call(ctxT(t)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	second, _ := h.store.Load(f.URL())
	if second.Token.AccessToken == first.Token.AccessToken || second.Token.RefreshToken == first.Token.RefreshToken {
		t.Fatal("the token was not refreshed (and the refresh token rotated)")
	}
	last := tokenForm(f, -1)
	if last.Get("grant_type") != "refresh_token" || last.Get("resource") != f.URL() {
		t.Errorf("refresh request: %v", last)
	}
	if nAuth(f) != 1 {
		t.Errorf("%d authorizations; a refresh needs none", nAuth(f))
	}

	// Reactive: the server stops accepting the token before it expires.
	h.c.now = time.Now
	f.RevokeAccessTokens()
	if _, err := h.call(ctxT(t)); err != nil {
		t.Fatalf("after revocation of the access token: %v", err)
	}
	if got := tokenForm(f, -1).Get("grant_type"); got != "refresh_token" || nAuth(f) != 1 {
		t.Errorf("reactive renewal used %q and %d authorizations, want a refresh", got, nAuth(f))
	}
}

func TestLoginRequired(t *testing.T) {
	f := oauthtest.New(t, nil)
	store := NewStore(keyring.NewMemory())
	server := newHarness(t, f, nil, store, config.OAuth{})
	_, err := server.call(ctxT(t))
	le, ok := AsLoginRequired(err)
	if !ok || le.Server != "fake" || !strings.Contains(err.Error(), "needs login: run `pctx auth login fake`") {
		t.Fatalf("err = %v, want a login-required error", err)
	}
	if nReg(f) != 0 || nAuth(f) != 0 {
		t.Error("a client without an agent registered or authorized")
	}

	// The running server waits; a login in another process (another Client over the
	// same store) lets it through.
	done := make(chan error, 1)
	go func() { done <- server.c.WaitForLogin(ctxT(t), 10*time.Millisecond) }()
	login := newHarness(t, f, &Follow{}, store, config.OAuth{})
	if _, err := login.call(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("WaitForLogin did not notice the login")
	}
	if _, err := server.call(ctxT(t)); err != nil {
		t.Fatalf("after login: %v", err)
	}

	// A refresh the server refuses needs a new login too.
	f.Set(func(s *oauthtest.Server) { s.RefuseRefresh = true })
	server.c.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	_, err = server.call(ctxT(t))
	if le, ok := AsLoginRequired(err); !ok || !strings.Contains(le.Reason, "invalid_grant") {
		t.Fatalf("refused refresh: %v", err)
	}
}

func TestStepUp(t *testing.T) {
	f := oauthtest.New(t, nil)
	f.ChallengeScope = "read"
	h := newHarness(t, f, &Follow{}, nil, config.OAuth{})
	if _, err := h.call(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	f.Set(func(s *oauthtest.Server) { s.Need = []string{"read", "write"} })
	body, err := h.call(ctxT(t))
	if err != nil {
		t.Fatalf("step-up: %v", err)
	}
	if nAuth(f) != 2 || f.Authorization(1).Get("scope") != "read write" {
		t.Fatalf("%d authorizations, the last %v; want a second one for read write", nAuth(f), f.Authorization(-1))
	}
	if !strings.Contains(body, "read write") {
		t.Errorf("body %s", body)
	}
	if nReg(f) != 1 {
		t.Errorf("%d registrations: the step-up must reuse the client", nReg(f))
	}

	// Without an agent, the scopes are remembered for the next login.
	f.Set(func(s *oauthtest.Server) { s.Need = []string{"read", "write", "admin"} })
	server := newHarness(t, f, nil, h.store, config.OAuth{})
	_, err = server.call(ctxT(t))
	le, ok := AsLoginRequired(err)
	if !ok || !strings.Contains(le.Reason, "asks for scopes read write admin") {
		t.Fatalf("err = %v", err)
	}
	if rec, _ := h.store.Load(f.URL()); strings.Join(rec.WantScopes, " ") != "read write admin" {
		t.Errorf("want scopes %v", rec.WantScopes)
	}
}

func TestStepUpRetryLimit(t *testing.T) {
	f := oauthtest.New(t, nil)
	f.AlwaysForbid = true
	h := newHarness(t, f, &Follow{}, nil, config.OAuth{})
	for i := range 3 {
		_, err := h.call(ctxT(t))
		if err == nil || !strings.Contains(err.Error(), "insufficient scope") {
			t.Fatalf("call %d: %v, want an insufficient scope error", i, err)
		}
	}
	// One authorization for the 401, one step-up to "admin"; none after.
	if nAuth(f) != 2 {
		t.Errorf("%d authorizations, want 2", nAuth(f))
	}
}

func TestResourceMismatch(t *testing.T) {
	f := oauthtest.New(t, nil)
	f.PRMResource = "https://evil.example.com/mcp"
	h := newHarness(t, f, &Follow{}, nil, config.OAuth{})
	_, err := h.call(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), `is for resource "https://evil.example.com/mcp"`) {
		t.Fatalf("err = %v", err)
	}
	if nReg(f) != 0 || nAuth(f) != 0 {
		t.Error("the client went on with a foreign resource's metadata")
	}
}

func TestLegacyServers(t *testing.T) {
	for _, noMeta := range []bool{false, true} {
		f := oauthtest.New(t, nil)
		f.NoPRM, f.NoASMetadata = true, noMeta
		h := newHarness(t, f, &Follow{}, nil, config.OAuth{})
		if _, err := h.call(ctxT(t)); err != nil {
			t.Fatalf("no metadata %v: %v", noMeta, err)
		}
		if nAuth(f) != 1 {
			t.Errorf("no metadata %v: %d authorizations", noMeta, nAuth(f))
		}
	}
}

func TestTokenEndpointAuth(t *testing.T) {
	tests := []struct {
		supported []string
		want      string
	}{
		{[]string{"none"}, "none"},
		{[]string{"client_secret_basic"}, "basic"},
		{[]string{"client_secret_post"}, "post"},
	}
	for _, tc := range tests {
		f := oauthtest.New(t, nil)
		f.AuthMethods = tc.supported
		h := newHarness(t, f, &Follow{}, nil, config.OAuth{})
		if _, err := h.call(ctxT(t)); err != nil {
			t.Fatalf("%v: %v", tc.supported, err)
		}
		if got := tokenAuth(f, -1); got != tc.want {
			t.Errorf("%v: authenticated with %s, want %s", tc.supported, got, tc.want)
		}
	}
}

func TestPreRegisteredAndMetadataDocument(t *testing.T) {
	f := oauthtest.New(t, nil)
	f.NoDCR = true
	f.PreClients["pre"] = "pre-secret"
	f.AuthMethods = []string{"client_secret_basic"}
	h := newHarness(t, f, &Follow{}, nil, config.OAuth{ClientID: "pre", ClientSecret: "pre-secret"})
	if _, err := h.call(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if f.Authorization(0).Get("client_id") != "pre" || tokenAuth(f, 0) != "basic" {
		t.Errorf("client %q, auth %v", f.Authorization(0).Get("client_id"), tokenAuth(f, 0))
	}
	if h.secrets.String("pre-secret") != redact.Mark {
		t.Error("the configured client secret is not redacted")
	}

	// No registration endpoint and no client: a clear error.
	f2 := oauthtest.New(t, nil)
	f2.NoDCR = true
	_, err := newHarness(t, f2, &Follow{}, nil, config.OAuth{}).call(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), "offers no dynamic client registration: set [servers.fake.oauth] client_id") {
		t.Errorf("err = %v", err)
	}

	// A metadata document URL is used where the server supports them.
	f3 := oauthtest.New(t, nil)
	f3.CIMD = true
	doc := "https://pctx.example/oauth/client.json"
	if _, err := newHarness(t, f3, &Follow{}, nil, config.OAuth{ClientMetadataURL: doc}).call(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if f3.Authorization(0).Get("client_id") != doc || nReg(f3) != 0 {
		t.Errorf("client_id %q, %d registrations", f3.Authorization(0).Get("client_id"), nReg(f3))
	}
}

func TestClientCredentialsJWT(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	f := oauthtest.New(t, nil)
	f.CCKey = &key.PublicKey
	// No agent: a machine client needs no user.
	h := newHarness(t, f, nil, nil, config.OAuth{Grant: config.GrantClientCredentials, ClientID: "machine", PrivateKey: pemKey, Scopes: []string{"read"}})
	if _, err := h.call(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	form := tokenForm(f, 0)
	if form.Get("grant_type") != "client_credentials" || tokenAuth(f, 0) != "jwt" || form.Get("scope") != "read" || form.Get("resource") != f.URL() {
		t.Errorf("token request %v, auth %v", form, tokenAuth(f, 0))
	}
	if nAuth(f) != 0 {
		t.Error("a machine client went to the authorization endpoint")
	}
}

func TestConcurrentRequestsShareOneAuthorization(t *testing.T) {
	f := oauthtest.New(t, nil)
	h := newHarness(t, f, &Follow{}, nil, config.OAuth{})
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.call(ctxT(t))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if nAuth(f) != 1 || nReg(f) != 1 {
		t.Errorf("%d authorizations, %d registrations; want one each", nAuth(f), nReg(f))
	}
}

func TestLogoutAndStatus(t *testing.T) {
	f := oauthtest.New(t, nil)
	h := newHarness(t, f, &Follow{}, nil, config.OAuth{})
	if st, err := h.c.Status(); err != nil || st.LoggedIn {
		t.Fatalf("status before login: %+v, %v", st, err)
	}
	if _, err := h.call(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	st, err := h.c.Status()
	if err != nil || !st.LoggedIn || !st.Refreshable || st.Client != KindDynamic || st.Expires.IsZero() {
		t.Fatalf("status: %+v, %v", st, err)
	}
	if had, err := h.c.Logout(ctxT(t)); !had || err != nil {
		t.Fatalf("logout: %v, %v", had, err)
	}
	if _, err := h.store.Load(f.URL()); !errors.Is(err, ErrNoRecord) {
		t.Errorf("record after logout: %v", err)
	}
	if had, _ := h.c.Logout(ctxT(t)); had {
		t.Error("second logout found something")
	}
}

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		headers []string
		want    challenge
	}{
		{[]string{`Bearer resource_metadata="https://h/.well-known/x", scope="a b"`}, challenge{bearer: true, resourceMetadata: "https://h/.well-known/x", scope: "a b"}},
		{[]string{`Basic realm="x", Bearer error="insufficient_scope", scope="w", error_description="need \"w\""`}, challenge{bearer: true, err: "insufficient_scope", scope: "w", errorDescription: `need "w"`}},
		{[]string{`Basic realm="x"`, `bearer scope=token68value`}, challenge{bearer: true, scope: "token68value"}},
		{[]string{`Negotiate abc==, Bearer`}, challenge{bearer: true}},
		{[]string{`Basic realm="x"`}, challenge{}},
		{[]string{`Bearer scope="unterminated`}, challenge{bearer: true, scope: "unterminated"}},
		{nil, challenge{}},
	}
	for _, tc := range tests {
		h := http.Header{}
		for _, v := range tc.headers {
			h.Add("WWW-Authenticate", v)
		}
		if got := parseChallenge(h); got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.headers, got, tc.want)
		}
	}
}

func TestWellKnownURLs(t *testing.T) {
	tests := []struct {
		issuer string
		want   []string
	}{
		{"https://as.example", []string{"https://as.example/.well-known/oauth-authorization-server", "https://as.example/.well-known/openid-configuration"}},
		{"https://as.example/tenant1/", []string{"https://as.example/.well-known/oauth-authorization-server/tenant1", "https://as.example/.well-known/openid-configuration/tenant1", "https://as.example/tenant1/.well-known/openid-configuration"}},
	}
	for _, tc := range tests {
		u := mustURL(t, tc.issuer)
		if got := wellKnownAS(u); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: %v", tc.issuer, got)
		}
	}
	if got := wellKnown(mustURL(t, "https://h/mcp/"), "oauth-protected-resource", true); strings.Join(got, " ") != "https://h/.well-known/oauth-protected-resource/mcp https://h/.well-known/oauth-protected-resource" {
		t.Errorf("protected resource URLs: %v", got)
	}
	for _, tc := range []struct {
		resource string
		ok       bool
	}{{"https://h/mcp", true}, {"https://H/mcp/", true}, {"https://h", true}, {"https://h/m", false}, {"https://evil/mcp", false}, {"http://h/mcp", false}, {"https://h/mcp/sub", false}} {
		if got := resourceCovers(tc.resource, mustURL(t, "https://h/mcp")); got != tc.ok {
			t.Errorf("resourceCovers(%s) = %v", tc.resource, got)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func nAuth(f *oauthtest.Server) int { n, _, _ := f.Counts(); return n }
func nReg(f *oauthtest.Server) int  { _, n, _ := f.Counts(); return n }

func tokenForm(f *oauthtest.Server, i int) url.Values { v, _ := f.TokenForm(i); return v }
func tokenAuth(f *oauthtest.Server, i int) string     { _, a := f.TokenForm(i); return a }

func TestIDJAG(t *testing.T) {
	f := oauthtest.New(t, nil)
	f.PreClients["xaa"] = "xaa-secret"
	var exchange url.Values
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		exchange = r.PostForm
		if r.PostForm.Get("subject_token") != "id-token-from-sso" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"expired"}`)
			return
		}
		io.WriteString(w, `{"access_token":"jag:`+r.PostForm.Get("resource")+`","issued_token_type":"urn:ietf:params:oauth:token-type:id-jag","token_type":"N_A"}`)
	}))
	defer idp.Close()
	cfg := config.OAuth{Grant: config.GrantIDJAG, ClientID: "xaa", ClientSecret: "xaa-secret", IDPTokenEndpoint: idp.URL, IDPClientID: "idp-client", IDToken: "id-token-from-sso"}
	h := newHarness(t, f, nil, nil, cfg)
	if _, err := h.call(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if exchange.Get("grant_type") != grantTokenExchange || exchange.Get("requested_token_type") != tokenTypeIDJAG ||
		exchange.Get("audience") != f.Issuer() || exchange.Get("resource") != f.URL() || exchange.Get("client_id") != "idp-client" {
		t.Errorf("token exchange: %v", exchange)
	}
	if form := tokenForm(f, -1); form.Get("grant_type") != grantJWTBearer || tokenAuth(f, -1) != "basic" {
		t.Errorf("jwt-bearer grant: %v, %s", form, tokenAuth(f, -1))
	}
	cfg.IDToken = "stale"
	_, err := newHarness(t, oauthtest.New(t, nil), nil, nil, cfg).call(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), "is the ID token current?") {
		t.Errorf("stale ID token: %v", err)
	}
}
