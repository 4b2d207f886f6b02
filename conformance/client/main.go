// Command client is the client under test for the MCP conformance suite's
// client scenarios (`conformance client --command ...`, run by
// scripts/conformance.sh).
//
// The suite starts a test server per scenario, runs this program with the
// server's URL as the last argument and the scenario's name in
// $MCP_CONFORMANCE_SCENARIO, and judges what the server saw. The program
// does what pctx does with an upstream named in pctx.toml: an
// upstream.Manager connects (auto transport, default protocol version),
// publishes the server's tools into a real catalog.Catalog, and a tool is
// called through the catalog's binding (argument binding, input-schema
// validation, Tool.Call), as execute_typescript would call it. Only the
// goja VM is left out.
//
// The auth/* scenarios put the server behind OAuth. The client then does what
// pctx auth login does, with the interactive step replaced: an oauth.Follow
// agent requests the authorization URL and reads the code from the redirect
// (the suite's authorization servers approve without a user). Tokens live in
// memory. $MCP_CONFORMANCE_CONTEXT, when the suite sets it, supplies what a
// user would put in [servers.NAME.oauth]: a pre-registered client_id and
// client_secret, or a private key for client credentials. The client ID
// metadata document URL is the one the suite expects.
//
// It exits 0 when the scenario's client side went as expected and 1 with a
// message on stderr when not, so a broken handshake shows in the suite's
// report next to the server's checks.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/keyring"
	"github.com/pctx-dev/pctx/internal/oauth"
	"github.com/pctx-dev/pctx/internal/upstream"
)

// namespace is the name the test server gets, as [servers.conformance] would.
const namespace = "conformance"

// timeout bounds a whole scenario; the suite's own default is 30 s.
const timeout = 20 * time.Second

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: client URL (scenario in $MCP_CONFORMANCE_SCENARIO)")
		os.Exit(2)
	}
	url := os.Args[len(os.Args)-1]
	scenario := os.Getenv("MCP_CONFORMANCE_SCENARIO")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	oc, err := oauthConfig(scenario, os.Getenv("MCP_CONFORMANCE_CONTEXT"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "scenario %q: %v\n", scenario, err)
		os.Exit(1)
	}
	if err := runOAuth(ctx, scenario, url, oc, logger); err != nil {
		fmt.Fprintf(os.Stderr, "scenario %q: %v\n", scenario, err)
		os.Exit(1)
	}
	fmt.Printf("scenario %q: ok\n", scenario)
}

// call is what a scenario asks of the client after the handshake: one tool
// call, with the text its result must contain.
type call struct {
	tool string
	args map[string]any
	want string
}

// scenarios maps a client scenario to its tool call. A scenario not listed
// (initialize, and the ones that do not apply to pctx) gets the handshake
// and tools/list only, which is all pctx does with a server before an agent
// calls something.
var scenarios = map[string]call{
	// The server offers add_numbers(a, b) and records the arguments.
	"tools_call": {tool: "add_numbers", args: map[string]any{"a": 2, "b": 3}, want: "5"},
	// The server answers tools/call on an SSE stream it closes after a
	// priming event (retry: 500 ms); the result arrives only on the GET
	// stream the client must reopen with Last-Event-ID (SEP-1699).
	"sse-retry": {tool: "test_reconnection", args: map[string]any{}, want: "Reconnection test completed successfully"},
}

// authCall is the call of every auth/* scenario: the suite's protected server
// offers test-tool, and auth/scope-step-up requires more scopes for it than for
// listing.
var authCall = call{tool: "test-tool", args: map[string]any{}, want: "test"}

// cimdURL is the client ID metadata document URL the suite's auth/basic-cimd
// scenario expects a client to use.
const cimdURL = "https://conformance-test.local/client-metadata.json"

// redirectURI is registered and sent; nothing listens there (oauth.Follow reads
// the redirect instead of following it).
const redirectURI = "http://localhost:3000/callback"

// oauthConfig turns the suite's context for a scenario into the
// [servers.NAME.oauth] table a user would write.
func oauthConfig(scenario, contextJSON string) (config.OAuth, error) {
	oc := config.OAuth{ClientMetadataURL: cimdURL}
	if contextJSON == "" {
		return oc, nil
	}
	var c struct {
		ClientID         string `json:"client_id"`
		ClientSecret     string `json:"client_secret"`
		PrivateKeyPEM    string `json:"private_key_pem"`
		SigningAlgorithm string `json:"signing_algorithm"`
		IDPClientID      string `json:"idp_client_id"`
		IDPIDToken       string `json:"idp_id_token"`
		IDPTokenEndpoint string `json:"idp_token_endpoint"`
	}
	if err := json.Unmarshal([]byte(contextJSON), &c); err != nil {
		return oc, fmt.Errorf("$MCP_CONFORMANCE_CONTEXT: %w", err)
	}
	oc.ClientID, oc.ClientSecret, oc.PrivateKey, oc.SigningAlg = c.ClientID, c.ClientSecret, c.PrivateKeyPEM, c.SigningAlgorithm
	switch {
	case strings.HasPrefix(scenario, "auth/client-credentials"):
		oc.Grant = config.GrantClientCredentials
	case c.IDPIDToken != "":
		// Cross-app access: what a user would configure with id_token = "${cmd:...}".
		oc.Grant = config.GrantIDJAG
		oc.IDPClientID, oc.IDToken, oc.IDPTokenEndpoint = c.IDPClientID, c.IDPIDToken, c.IDPTokenEndpoint
	}
	return oc, nil
}

// run connects to url as pctx connects to an upstream, then performs the
// scenario's call, if it has one.
func run(ctx context.Context, scenario, url string, logger *slog.Logger) error {
	return runOAuth(ctx, scenario, url, config.OAuth{ClientMetadataURL: cimdURL}, logger)
}

func runOAuth(ctx context.Context, scenario, url string, oc config.OAuth, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cat := catalog.New()
	m := upstream.NewManager(cat, map[string]config.Upstream{namespace: {URL: url, OAuth: oc}}, &upstream.Options{
		Logger: logger,
		Auth: &upstream.AuthOptions{
			Store: oauth.NewStore(keyring.NewMemory()),
			Agent: &oauth.Follow{RedirectURI: redirectURI},
		},
	})
	defer m.Close()
	m.Start(ctx)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("connect %s: %w", url, err)
	}
	snap := cat.Snapshot()
	var found bool
	callable := map[string]string{} // tool name as the server wrote it → as the agent calls it
	for _, ns := range snap.Namespaces() {
		if ns.Original != namespace {
			continue
		}
		found = true
		if ns.Unavailable != "" {
			return fmt.Errorf("connect %s: %s", url, ns.Unavailable)
		}
		for _, f := range ns.Functions {
			callable[f.Original] = ns.Name + "." + f.Name
		}
	}
	if !found {
		return fmt.Errorf("connect %s: no namespace %q was registered", url, namespace)
	}
	c, ok := scenarios[scenario]
	if strings.HasPrefix(scenario, "auth/") {
		c, ok = authCall, true
	}
	if !ok {
		return nil
	}
	fn := snap.Functions()[callable[c.tool]] // "test-tool" is called test_tool
	if fn == nil {
		return fmt.Errorf("tool %q not listed by the server", c.tool)
	}
	res, err := fn(ctx, []any{c.args})
	if err != nil {
		return fmt.Errorf("call %s: %w", c.tool, err)
	}
	if text := fmt.Sprint(res); !strings.Contains(text, c.want) {
		return fmt.Errorf("call %s: result %q does not contain %q", c.tool, text, c.want)
	}
	return nil
}
