package pctx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/pctx-dev/pctx/pkg/pctx"
)

// An embedder registers Go functions and runs an agent's program against them.
func Example() {
	ctx := context.Background()
	p, err := pctx.New(ctx, nil, &pctx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	defer p.Close()

	err = p.Register("crm", pctx.Function{
		Name:        "get_customer",
		Description: "Look up a customer by id.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`),
		Call: func(_ context.Context, args map[string]any) (any, error) {
			return map[string]any{"id": args["id"], "plan": "pro", "seats": 12}, nil
		},
	})
	if err != nil {
		panic(err)
	}

	res, err := p.Execute(ctx, `
		const ids = ["c1", "c2", "c3"];
		const customers = await Promise.all(ids.map((id) => crm.get_customer({ id })));
		return customers.reduce((n, c) => n + c.seats, 0);
	`)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(res.Value), res.Calls, res.Error)
	// Output: 36 3 <nil>
}
