package sdkbridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"

	"github.com/coder/websocket"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox"
	"github.com/pctx-dev/pctx/internal/sdkbridge"
)

// A worker registers ml.predict_churn over the websocket; the catalog then calls it like
// any other function.
func Example() {
	cat := catalog.New()
	pool, err := sandbox.New(nil) // programs run in worker processes
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	bridge := sdkbridge.New(cat, codemode.New(cat, &codemode.Options{Executor: pool}), &sdkbridge.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	srv := httptest.NewServer(bridge) // pctx serves it at /ws
	defer srv.Close()
	defer bridge.Close()

	// The worker side, as any language would write it from docs/protocol.md.
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http", "ws", 1), nil)
	if err != nil {
		panic(err)
	}
	defer ws.CloseNow()
	send := func(msg string) { _ = ws.Write(ctx, websocket.MessageText, []byte(msg)) }
	read := func() map[string]any {
		_, data, _ := ws.Read(ctx)
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		return m
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"pctx/1"}}`)
	read()
	send(`{"jsonrpc":"2.0","id":2,"method":"register","params":{"namespace":"ml","tools":[{"name":"predict_churn",
		"inputSchema":{"type":"object","properties":{"customer_id":{"type":"string"}}},"params":["customer_id"]}]}}`)
	fmt.Println("registered:", read()["result"])
	go func() { // answer one execute_tool
		call := read()
		args := call["params"].(map[string]any)["args"].(map[string]any)
		send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%v,"result":{"value":{"customer":%q,"churn":0.82}}}`, call["id"], args["customer_id"]))
	}()

	// What an agent's ml.predict_churn("cust_12345") does.
	predict := cat.Snapshot().Functions()["ml.predict_churn"]
	v, err := predict(ctx, []any{"cust_12345"})
	fmt.Printf("%s %v\n", v, err) // the worker's JSON, as the runtime receives it
	// Output:
	// registered: map[functions:[predict_churn] namespace:ml scope:global]
	// {"customer":"cust_12345","churn":0.82} <nil>
}
