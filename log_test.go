package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/config"
)

// Canaries: secrets and data that must never reach the log.
const (
	canaryKey    = "sk-canary-apikey-7f3a"   // [server] api_key
	canaryHeader = "tok-canary-header-91b2"  // an upstream's Authorization header, from the environment
	canaryArg    = "arg-canary-55c1"         // a function argument
	canaryResult = "result-canary-0d9e"      // a function result
	canaryCode   = "code-canary-a4e7"        // the program itself
	canaryValue  = "return-canary-b81f"      // the program's return value
	canaryBadArg = "failing-arg-canary-3c9d" // an argument of a call that fails
)

// TestJSONLogsCarryNoSecrets runs pctx with [log] format = "json", at the default level
// and at debug, drives executions that pass every canary through pctx (API key, upstream
// header, arguments, results, code, return value, a failing call), and requires every log
// line to parse as one JSON object and no canary to appear.
func TestJSONLogsCarryNoSecrets(t *testing.T) {
	up := mcpserver.NewMCPServer("up", "1", mcpserver.WithToolCapabilities(false))
	up.AddTool(mcp.NewTool("echo", mcp.WithString("text", mcp.Required())), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		text := req.GetString("text", "")
		if strings.Contains(text, "failing") {
			return mcp.NewToolResultError("cannot echo " + text), nil
		}
		return mcp.NewToolResultText(canaryResult + " " + text), nil
	})
	upSrv := httptest.NewServer(mcpserver.NewStreamableHTTPServer(up))
	defer upSrv.Close()
	t.Setenv("PCTX_TEST_UPSTREAM_TOKEN", canaryHeader)

	for _, level := range []string{"info", "debug"} {
		t.Run(level, func(t *testing.T) {
			url, stderr := startPctx(t, fmt.Sprintf(`
[server]
api_key = %q
[log]
format = "json"
level = %q
[servers.up]
url = "%s/mcp"
headers = { Authorization = "Bearer ${env:PCTX_TEST_UPSTREAM_TOKEN}" }
`, canaryKey, level, upSrv.URL))
			c, err := client.NewStreamableHttpClient(url+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + canaryKey}))
			if err != nil {
				t.Fatal(err)
			}
			initialize(t, c)
			programs := []string{
				fmt.Sprintf(`// %s
const r = await up.echo({text: %q}); console.log(r); return [r, %q];`, canaryCode, canaryArg, canaryValue),
				fmt.Sprintf(`return await up.echo({text: %q});`, canaryBadArg),
				fmt.Sprintf(`throw new Error(%q);`, canaryValue),
			}
			for i, code := range programs {
				text, isErr := toolText(t, c, "execute_typescript", map[string]any{"code": code})
				if (i == 0) == isErr {
					t.Fatalf("program %d: isError=%v: %s", i, isErr, text)
				}
			}
			// A wrong key is refused, and the refused key is not logged either.
			bad, _ := client.NewStreamableHttpClient(url+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer wrong-" + canaryKey}))
			if err := bad.Start(context.Background()); err == nil {
				req := mcp.InitializeRequest{}
				req.Params.ProtocolVersion = "2025-06-18"
				if _, err := bad.Initialize(context.Background(), req); err == nil {
					t.Error("a wrong API key was accepted")
				}
				_ = bad.Close()
			}

			log := stderr.String()
			lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
			if len(lines) < 2 {
				t.Fatalf("too few log lines:\n%s", log)
			}
			executions := 0
			for i, line := range lines {
				var obj map[string]any
				if err := json.Unmarshal([]byte(line), &obj); err != nil {
					t.Fatalf("log line %d is not one JSON object (%v): %q", i+1, err, line)
				}
				if obj["msg"] == "execution" {
					executions++
				}
			}
			if level == "debug" && executions != len(programs) {
				t.Errorf("debug log has %d execution lines, want %d:\n%s", executions, len(programs), log)
			}
			for _, canary := range []string{canaryKey, canaryHeader, canaryArg, canaryResult, canaryCode, canaryValue, canaryBadArg} {
				if strings.Contains(log, canary) {
					t.Errorf("the %s log contains %q:\n%s", level, canary, log)
				}
			}
		})
	}
}

// TestLogConfig: [log] file receives the log (appending, in the chosen format) and stdout
// never does; --log-level overrides [log] level; a bad level is a usage error.
func TestLogConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pctx.log")
	var stderr strings.Builder
	l, closeLog, err := newLogger(&stderr, config.Log{Level: "warn", Format: "json", File: path}, "info", false)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden at warn")
	l.Warn("shown", "n", 1)
	closeLog()
	data, _ := os.ReadFile(path)
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil || obj["msg"] != "shown" || strings.Count(string(data), "\n") != 1 {
		t.Errorf("log file %q (%v)", data, err)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr got %q with a log file set", stderr.String())
	}
	l, closeLog, err = newLogger(&stderr, config.Log{Level: "error"}, "debug", true)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("flag wins")
	closeLog()
	if !strings.Contains(stderr.String(), `msg="flag wins"`) {
		t.Errorf("--log-level debug did not override [log] level: %q", stderr.String())
	}
	if _, _, err := newLogger(io.Discard, config.Log{}, "loud", true); err == nil {
		t.Error("log level loud accepted")
	}
}
