package vshell_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/vshell"
)

// The /sdk tree of a catalog: a model greps the README for what it needs, then reads
// that function's declarations.
func ExampleSDK() {
	c := catalog.New()
	err := c.Put("session", catalog.Namespace{Name: "tools", Tools: []catalog.Tool{{
		Name: "add_numbers", Description: "Add two numbers.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`),
		Call:        func(context.Context, map[string]any) (any, error) { return nil, nil },
	}}})
	if err != nil {
		panic(err)
	}
	fs := vshell.SDK(c.Snapshot().Named(catalog.NamingCamel))
	fmt.Print(fs.Run("grep -i 'add two numbers' README.md").Stdout)
	fmt.Print(fs.Run("grep function Tools/addNumbers.d.ts").Stdout)
	// Output:
	// - Tools/addNumbers.d.ts `Tools.addNumbers({a, b})` — Add two numbers.
	//   function addNumbers(args: AddNumbersInput): Promise<any>;
}
