package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
)

// A backend puts its namespace; the server lists and details it; the runtime calls it.
func Example() {
	c := catalog.New()
	err := c.Put("upstream:everything", catalog.Namespace{
		Name: "everything",
		Tools: []catalog.Tool{{
			Name:        "get-sum",
			Description: "Returns the sum of two numbers",
			InputSchema: json.RawMessage(`{"type":"object","properties":{
				"a":{"type":"number","description":"First number"},
				"b":{"type":"number","description":"Second number"}},"required":["a","b"]}`),
			Call: func(_ context.Context, args map[string]any) (any, error) {
				return args["a"].(float64) + args["b"].(float64), nil
			},
		}},
	})
	if err != nil {
		panic(err)
	}

	s := c.Snapshot()
	fmt.Print(s.List(catalog.ListOptions{}))
	details, err := s.Details([]string{"everything.get_sum"})
	if err != nil {
		panic(err)
	}
	fmt.Print(details)

	getSum := s.Functions()["everything.get_sum"]
	sum, err := getSum(context.Background(), []any{map[string]any{"a": 1.0, "b": 2.0}})
	fmt.Println(sum, err)
	_, err = getSum(context.Background(), []any{map[string]any{"a": 1.0}})
	fmt.Println(err)

	// Output:
	// namespace everything {
	//   get_sum({a, b})
	// }
	// declare namespace everything {
	//   interface GetSumInput {
	//     /** First number */
	//     a: number;
	//     /** Second number */
	//     b: number;
	//   }
	//   /**
	//    * Returns the sum of two numbers
	//    * @tool "get-sum"
	//    * @example await everything.get_sum({ a: 0, b: 0 })
	//    */
	//   function get_sum(args: GetSumInput): Promise<any>;
	// }
	// 3 <nil>
	// everything.get_sum: argument "b": missing required property
}

// The server waits on Changed to tell clients that the list of tools changed.
func ExampleCatalog_Changed() {
	c := catalog.New()
	changed := c.Changed()
	_ = c.Put("sdk:1", catalog.Namespace{Name: "ml", Unavailable: "worker starting"})
	<-changed
	fmt.Println("version", c.Snapshot().Version())
	fmt.Print(c.Snapshot().List(catalog.ListOptions{}))
	// Output:
	// version 1
	// // namespace ml: unavailable (worker starting)
}

// Session-scoped tools are visible only through the overlay snapshot they are added to.
func ExampleSnapshot_With() {
	c := catalog.New()
	call := func(context.Context, map[string]any) (any, error) { return "ok", nil }
	_ = c.Put("upstream:github", catalog.Namespace{Name: "github", Tools: []catalog.Tool{{Name: "list_issues", Call: call}}})

	session, err := c.Snapshot().With(catalog.Namespace{Name: "mine", Tools: []catalog.Tool{{
		Name: "predict", Params: []string{"customer_id"}, Call: call,
		InputSchema: json.RawMessage(`{"type":"object","properties":{"customer_id":{"type":"string"}},"required":["customer_id"]}`),
	}}})
	if err != nil {
		panic(err)
	}
	fmt.Print(session.List(catalog.ListOptions{}))
	_, err = c.Snapshot().With(catalog.Namespace{Name: "github"})
	fmt.Println(err)
	// Output:
	// namespace github {
	//   list_issues()
	// }
	// namespace mine {
	//   predict(customer_id)
	// }
	// catalog: session namespace "github": held by "upstream:github": namespace taken
}

// A published-client session sees the original pctx's names; the backend is still called
// by its own.
func ExampleSnapshot_Named() {
	c := catalog.New()
	err := c.Put("session", catalog.Namespace{Name: "tools", Tools: []catalog.Tool{
		{Name: "add_numbers", InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`),
			Call: func(_ context.Context, args map[string]any) (any, error) {
				return args["a"].(float64) + args["b"].(float64), nil
			}},
		{Name: "now_timestamp", Call: func(context.Context, map[string]any) (any, error) { return 1767225600, nil }},
	}})
	if err != nil {
		panic(err)
	}
	v := c.Snapshot().Named(catalog.NamingCamel)
	fmt.Print(v.List(catalog.ListOptions{}))
	sum, _ := v.Functions()["Tools.addNumbers"](context.Background(), []any{map[string]any{"a": 10.0, "b": 32.0}})
	fmt.Println(sum)
	// Output:
	// namespace Tools {
	//   addNumbers({a, b})
	//   nowTimestamp()
	// }
	// 42
}

// Each call of an execution under ctx is bounded; ClampCallTimeout keeps a client's
// seconds within 1–600 as the original pctx does.
func ExampleWithCallTimeouts() {
	ctx := catalog.WithCallTimeouts(context.Background(), catalog.CallTimeouts{
		Default: catalog.ClampCallTimeout(0),
		PerTool: map[string]time.Duration{"tools__slow_report": catalog.ClampCallTimeout(900)},
	})
	_ = ctx // pass it to the execution: codemode.Service.Execute(ctx, code)
	fmt.Println(catalog.ClampCallTimeout(0), catalog.ClampCallTimeout(900))
	// Output: 1s 10m0s
}
