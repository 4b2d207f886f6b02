package compat_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/compat"
	"github.com/pctx-dev/pctx/internal/sandbox"
)

// The published pctx-client creates a session and registers its tools over REST; pctx
// mounts Server.Handler at /code-mode/ and /register/ next to the bridge at /ws. The
// session sees the original pctx's names: tools.get_weather is Tools.getWeather.
func ExampleServer_Handler() {
	cat := catalog.New()
	pool, err := sandbox.New(nil) // programs run in worker processes
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	sessions := compat.New(codemode.New(cat, &codemode.Options{Executor: pool}), &compat.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	defer sessions.Close()
	srv := httptest.NewServer(sessions.Handler())
	defer srv.Close()

	post := func(path, session, body string) string {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("x-code-mode-session", session)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(data))
	}
	var created struct {
		SessionID string `json:"session_id"`
	}
	_ = json.Unmarshal([]byte(post("/code-mode/session/create", "", "")), &created)
	fmt.Println(post("/register/tools", created.SessionID, `{"tools":[{"name":"get_weather","namespace":"tools",
		"description":"Weather for a city.",
		"input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]}`))
	var listed struct {
		Functions []map[string]any `json:"functions"`
	}
	_ = json.Unmarshal([]byte(post("/code-mode/functions/list", created.SessionID, "")), &listed)
	fmt.Println(listed.Functions)
	// Output:
	// {"registered":1}
	// [map[description:Weather for a city. name:getWeather namespace:Tools]]
}
