package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/pctx-dev/pctx/pkg/pctx"
)

// chromium finds Debian's chromium (the Makefile installs it). Without it the test is
// skipped, except in CI where that is a failure.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "no chromium on PATH (install it with: apt-get install -y chromium, or make deps)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestDashboardInBrowser loads /ui in headless Chromium, runs an execution with three
// calls over MCP, and requires the dashboard to show it within 2 s with one waterfall bar
// per call. The PNG screenshot goes to the test's artifact directory (go test -artifacts).
func TestDashboardInBrowser(t *testing.T) {
	bin := chromium(t)
	cfg := pctx.DefaultConfig()
	cfg.UI.Enabled = true
	p, err := pctx.New(context.Background(), cfg, &pctx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	err = p.Register("shop", pctx.Function{Name: "price", Description: "Price of an item.", InputSchema: []byte(`{"type":"object","properties":{"item":{"type":"string"}},"required":["item"]}`),
		Call: func(ctx context.Context, args map[string]any) (any, error) {
			select { // long enough for visible bars, far below any deadline
			case <-time.After(40 * time.Millisecond):
			case <-ctx.Done():
			}
			return map[string]any{"item": args["item"], "cents": 1299}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	// A generous bound that only catches a hung browser.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/ui/"), chromedp.WaitVisible(`#exec-list li.empty`)); err != nil {
		t.Fatalf("load the dashboard: %v", err)
	}

	c, err := client.NewStreamableHttpClient(srv.URL + "/mcp")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = "2025-06-18"
	init.Params.ClientInfo = mcp.Implementation{Name: "browser-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "execute_typescript"
	req.Params.Arguments = map[string]any{"code": `const [a, b] = await Promise.all([shop.price({item: "tea"}), shop.price({item: "cake"})]);
const c = await shop.price("jam");
console.log("basket of", 3);
return a.cents + b.cents + c.cents;`}
	res, err := c.CallTool(ctx, req)
	if err != nil || res.IsError {
		t.Fatalf("execute_typescript: %v %+v", err, res)
	}

	// The page long-polls: the execution must be on screen within 2 s of its end.
	within, cancelWithin := context.WithTimeout(bctx, 2*time.Second)
	defer cancelWithin()
	if err := chromedp.Do(within,
		chromedp.WaitVisible(`#exec-list li[data-id="1"]`),
		chromedp.WaitVisible(`#exec-detail .waterfall`),
	); err != nil {
		t.Fatalf("the execution did not show within 2 s: %v", err)
	}
	bars, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#exec-detail .waterfall .bar").length`))
	if err != nil {
		t.Fatal(err)
	}
	value, err := chromedp.Run(bctx, chromedp.Text(`#exec-detail pre.value`))
	if err != nil {
		t.Fatal(err)
	}
	session, err := chromedp.Run(bctx, chromedp.Text(`#exec-list li[data-id="1"] .meta`))
	if err != nil {
		t.Fatal(err)
	}
	loginShown, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`getComputedStyle(document.getElementById("login")).display !== "none"`))
	if err != nil || loginShown {
		t.Errorf("the API key form is shown on a pctx without a key (%v)", err)
	}
	if bars != 3 {
		t.Errorf("waterfall has %d bars, want one per call (3)", bars)
	}
	if value != "3897" {
		t.Errorf("result shown as %q, want 3897", value)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.ArtifactDir(), "dashboard.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes); list entry: %s", shot, len(png), session)

	// The Backends tab shows the sandbox worker processes the execution ran in. The page
	// redraws the table on every state refresh, so both texts are read in one evaluation.
	if err := chromedp.Do(bctx, chromedp.Click(`nav button[data-tab="backends"]`), chromedp.WaitVisible(`#sandbox tbody tr`)); err != nil {
		t.Fatalf("backends tab: %v", err)
	}
	shown, err := chromedp.Run(bctx, chromedp.Poll[struct{ Alive, Pill string }](`(() => {
		const td = document.querySelector("#sandbox tbody td"), pill = document.getElementById("sandbox-pill");
		return td && pill ? {alive: td.textContent, pill: pill.textContent} : null;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	alive, pill := shown.Alive, shown.Pill
	if n, err := strconv.Atoi(alive); err != nil || n < 1 || !strings.HasPrefix(pill, alive+" sandbox processes, ") {
		t.Errorf("sandbox workers shown as %q (pill %q), want at least 1 alive", alive, pill)
	}
	png, err = chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "backends.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
