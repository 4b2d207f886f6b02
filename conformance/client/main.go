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
// It exits 0 when the scenario's client side went as expected and 1 with a
// message on stderr when not, so a broken handshake shows in the suite's
// report next to the server's checks.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/config"
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
	if err := run(ctx, scenario, url, logger); err != nil {
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

// run connects to url as pctx connects to an upstream, then performs the
// scenario's call, if it has one.
func run(ctx context.Context, scenario, url string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cat := catalog.New()
	m := upstream.NewManager(cat, map[string]config.Upstream{namespace: {URL: url}}, &upstream.Options{Logger: logger})
	defer m.Close()
	m.Start(ctx)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("connect %s: %w", url, err)
	}
	snap := cat.Snapshot()
	var found bool
	for _, ns := range snap.Namespaces() {
		if ns.Original != namespace {
			continue
		}
		found = true
		if ns.Unavailable != "" {
			return fmt.Errorf("connect %s: %s", url, ns.Unavailable)
		}
	}
	if !found {
		return fmt.Errorf("connect %s: no namespace %q was registered", url, namespace)
	}
	c, ok := scenarios[scenario]
	if !ok {
		return nil
	}
	fn := snap.Functions()[namespace+"."+c.tool]
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
