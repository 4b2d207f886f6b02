package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/keyring"
	"github.com/pctx-dev/pctx/internal/oauth"
	"github.com/pctx-dev/pctx/internal/oauth/oauthtest"
	"github.com/pctx-dev/pctx/internal/redact"
)

// startAuthManager starts a Manager for one OAuth-protected server over store; agent
// nil is a running server (no one to log in).
func startAuthManager(t *testing.T, srvURL string, store *oauth.Store, agent oauth.Agent) (*Manager, *catalog.Catalog, *redact.Set) {
	t.Helper()
	cat := catalog.New()
	logger, _ := newTestLogger(t)
	secrets := redact.New()
	m := newManager(cat, configMap(config.Upstream{Name: "guarded", URL: srvURL}), &Options{
		Logger:  logger,
		Secrets: secrets,
		Auth:    &AuthOptions{Store: store, Agent: agent},
	}, testTuning)
	m.Start(context.Background())
	t.Cleanup(func() { m.Close() })
	return m, cat, secrets
}

func namespaceInfo(cat *catalog.Catalog, name string) (catalog.NamespaceInfo, bool) {
	for _, ns := range cat.Snapshot().Namespaces() {
		if ns.Original == name {
			return ns, true
		}
	}
	return catalog.NamespaceInfo{}, false
}

// TestNeedsLoginThenLogin: a running server (no agent) lists the upstream as needing
// a login; a login in "another process" (a second Manager with an agent, over the same
// store) brings it up without a restart; a refresh the server refuses later sends it
// back to needing a login, with its tools still listed and their calls saying what to
// run.
func TestNeedsLoginThenLogin(t *testing.T) {
	as := oauthtest.New(t, mcpserver.NewStreamableHTTPServer(newGoMCPServer()))
	store := oauth.NewStore(keyring.NewMemory())

	running, cat, secrets := startAuthManager(t, as.URL(), store, nil)
	st := statusOf(running, "guarded")
	want := "needs login: run `pctx auth login guarded` (no token yet)"
	if st.State != StateNeedsLogin || st.LastError != want {
		t.Fatalf("status %+v, want needs_login with %q", st, want)
	}
	ns, ok := namespaceInfo(cat, "guarded")
	if !ok || ns.Unavailable != want {
		t.Fatalf("namespace %+v, want unavailable with %q", ns, want)
	}
	if !strings.Contains(cat.Snapshot().List(catalog.ListOptions{}), want) {
		t.Errorf("listing lacks the note:\n%s", cat.Snapshot().List(catalog.ListOptions{}))
	}

	login, _, _ := startAuthManager(t, as.URL(), store, &oauth.Follow{})
	if st := statusOf(login, "guarded"); st.State != StateReady {
		t.Fatalf("login manager: %+v", st)
	}
	eventually(t, "the running server to notice the login", func() bool {
		return cat.Snapshot().Functions()["guarded.add"] != nil
	})
	fn := cat.Snapshot().Functions()["guarded.add"]
	res, err := fn(context.Background(), []any{map[string]any{"a": 2, "b": 3}})
	if err != nil || !strings.Contains(string(mustJSON(t, res)), `"sum":5`) {
		t.Fatalf("call after login: %v, %v", res, err)
	}
	rec, _ := store.Load(as.URL())
	if secrets.String(rec.Token.AccessToken) != redact.Mark {
		t.Error("the running server's tokens are not in its redaction set")
	}

	// The token is revoked and the refresh refused: the next call says what to run,
	// and the server waits for a login with its tools still listed.
	as.Set(func(s *oauthtest.Server) { s.RefuseRefresh = true })
	as.RevokeAccessTokens()
	_, err = fn(context.Background(), []any{map[string]any{"a": 1, "b": 1}})
	if !errors.Is(err, oauth.ErrLoginRequired) || !strings.Contains(err.Error(), "needs login: run `pctx auth login guarded`") {
		t.Fatalf("call after revocation: %v", err)
	}
	eventually(t, "the server to need a login", func() bool {
		ns, _ := namespaceInfo(cat, "guarded")
		return statusOf(running, "guarded").State == StateNeedsLogin && len(ns.Functions) > 0
	})
	ns, _ = namespaceInfo(cat, "guarded")
	if ns.Unavailable != "" || len(ns.Functions) == 0 {
		t.Fatalf("namespace %+v: want its tools kept while a login is needed", ns)
	}
	fn = cat.Snapshot().Functions()["guarded.add"]
	_, err = fn(context.Background(), []any{map[string]any{"a": 1, "b": 1}})
	if !errors.Is(err, oauth.ErrLoginRequired) || !strings.Contains(err.Error(), `upstream "guarded": tool "add": needs login: run `+"`pctx auth login guarded`") {
		t.Fatalf("call while a login is needed: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOAuthOverSSE: the legacy SSE transport goes through the same authorization (its
// event stream's GET and its message POSTs alike).
func TestOAuthOverSSE(t *testing.T) {
	var sse *mcpserver.SSEServer
	as := oauthtest.New(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sse.ServeHTTP(w, r) }))
	sse = mcpserver.NewSSEServer(newGoMCPServer(), mcpserver.WithBaseURL(as.Issuer()), mcpserver.WithStaticBasePath("/mcp"))
	t.Cleanup(func() { sse.Shutdown(context.Background()) })
	store := oauth.NewStore(keyring.NewMemory())
	cat := catalog.New()
	logger, _ := newTestLogger(t)
	m := newManager(cat, configMap(config.Upstream{Name: "legacy", URL: as.Issuer() + "/mcp/sse", Transport: "sse"}), &Options{
		Logger: logger,
		Auth:   &AuthOptions{Store: store, Agent: &oauth.Follow{}},
	}, testTuning)
	m.Start(context.Background())
	t.Cleanup(func() { m.Close() })
	if st := statusOf(m, "legacy"); st.State != StateReady || st.Transport != "sse" {
		t.Fatalf("status %+v", st)
	}
	eventually(t, "legacy.add", func() bool { return cat.Snapshot().Functions()["legacy.add"] != nil })
	res, err := cat.Snapshot().Functions()["legacy.add"](context.Background(), []any{map[string]any{"a": 1, "b": 2}})
	if err != nil || !strings.Contains(string(mustJSON(t, res)), `"sum":3`) {
		t.Fatalf("add over SSE: %v, %v", res, err)
	}
	if n, _, _ := as.Counts(); n != 1 {
		t.Errorf("%d authorizations, want 1", n)
	}
}

// TestStepUpWhileRunning: a running server (no agent) whose server starts asking for
// more scopes keeps its session; the call says to log in, and after a login elsewhere
// the next call goes through with the new token, without a reconnect.
func TestStepUpWhileRunning(t *testing.T) {
	as := oauthtest.New(t, mcpserver.NewStreamableHTTPServer(newGoMCPServer()))
	as.ChallengeScope = "read"
	store := oauth.NewStore(keyring.NewMemory())
	startAuthManager(t, as.URL(), store, &oauth.Follow{}) // the first login
	running, cat, _ := startAuthManager(t, as.URL(), store, nil)
	eventually(t, "guarded.add", func() bool { return cat.Snapshot().Functions()["guarded.add"] != nil })
	add := func() error {
		_, err := cat.Snapshot().Functions()["guarded.add"](context.Background(), []any{map[string]any{"a": 1, "b": 1}})
		return err
	}
	if err := add(); err != nil {
		t.Fatal(err)
	}

	as.Set(func(s *oauthtest.Server) { s.Need = []string{"read", "write"} })
	err := add()
	if !errors.Is(err, oauth.ErrLoginRequired) || !strings.Contains(err.Error(), "the server asks for scopes read write") {
		t.Fatalf("call needing more scopes: %v", err)
	}
	if st := statusOf(running, "guarded"); st.State != StateReady || st.Restarts != 0 {
		t.Errorf("status %+v: the session should stay up", st)
	}
	startAuthManager(t, as.URL(), store, &oauth.Follow{}) // pctx auth login, with the wanted scopes
	if q := as.Authorization(-1); q.Get("scope") != "read write" {
		t.Errorf("the login asked for %q, want the scopes the server wanted", q.Get("scope"))
	}
	if err := add(); err != nil {
		t.Fatalf("after the login: %v", err)
	}
	if st := statusOf(running, "guarded"); st.Restarts != 0 {
		t.Errorf("status %+v: the new token should not need a new session", st)
	}
}
