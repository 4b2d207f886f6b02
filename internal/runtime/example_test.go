package runtime_test

import (
	"context"
	"fmt"

	"github.com/pctx-dev/pctx/internal/runtime"
)

func ExampleExecute() {
	fns := runtime.Functions{
		"greeter.hello": func(ctx context.Context, args []any) (any, error) {
			name, _ := args[0].(string)
			return map[string]any{"greeting": "hello, " + name}, nil
		},
	}
	code := `
interface Reply { greeting: string }
async function run() {
  const replies: Reply[] = await Promise.all(["ada", "alan"].map((n) => greeter.hello(n)));
  console.log("got", replies.length, "replies");
  return replies.map((r) => r.greeting.toUpperCase());
}`
	res := runtime.Execute(context.Background(), code, fns, runtime.Limits{})
	fmt.Println(res.Value, res.Calls)
	for _, line := range res.Console {
		fmt.Println(line.Level + ": " + line.Text)
	}

	res = runtime.Execute(context.Background(), "const n: number = 1\nif (n > 0) throw new RangeError(`n is ${n}`)", nil, runtime.Limits{})
	fmt.Printf("%s error at line %d, column %d: %s\n", res.Error.Kind, res.Error.Line, res.Error.Column, res.Error.Message)
	// Output:
	// [HELLO, ADA HELLO, ALAN] 2
	// log: got 2 replies
	// runtime error at line 2, column 18: RangeError: n is 1
}
