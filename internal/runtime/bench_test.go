package runtime

import (
	"context"
	"fmt"
	"testing"
)

func benchExecute(b *testing.B, code string, fns Functions) {
	b.Helper()
	ctx := context.Background()
	if res := Execute(ctx, code, fns, Limits{}); res.Error != nil {
		b.Fatal(res.Error)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res := Execute(ctx, code, fns, Limits{}); res.Error != nil {
			b.Fatal(res.Error)
		}
	}
}

// BenchmarkTrivial is the fixed cost of one execution (transform cached): fresh VM,
// sandbox setup, event loop, result conversion.
func BenchmarkTrivial(b *testing.B) {
	benchExecute(b, "return 1+1", nil)
}

// BenchmarkTrivialWithFunctions adds binding a catalog of 50 functions in 5 namespaces.
func BenchmarkTrivialWithFunctions(b *testing.B) {
	fns := Functions{}
	for i := range 50 {
		fns[fmt.Sprintf("ns%d.fn%d", i%5, i)] = func(context.Context, []any) (any, error) { return nil, nil }
	}
	benchExecute(b, "return 1+1", fns)
}

// BenchmarkTrivialWith1000Functions binds a catalog of 1,000 functions in 20 namespaces.
func BenchmarkTrivialWith1000Functions(b *testing.B) {
	fns := Functions{}
	for i := range 1000 {
		fns[fmt.Sprintf("ns%d.fn%d", i%20, i)] = func(context.Context, []any) (any, error) { return nil, nil }
	}
	benchExecute(b, "return 1+1", fns)
}

var echo = Functions{"ns.echo": func(_ context.Context, args []any) (any, error) { return args[0], nil }}

// BenchmarkPromiseAll100 runs 100 concurrent calls to an instant Go function.
func BenchmarkPromiseAll100(b *testing.B) {
	benchExecute(b, "return (await Promise.all(Array.from({length: 100}, (_, i) => ns.echo({i})))).length", echo)
}

// BenchmarkPerCall measures the cost of one awaited call (argument conversion,
// goroutine, promise settled on the loop, result conversion), by making b.N sequential
// calls inside a single execution.
func BenchmarkPerCall(b *testing.B) {
	code := fmt.Sprintf("for (let i = 0; i < %d; i++) await ns.echo({i, s: 'x'})", b.N)
	b.ReportAllocs()
	b.ResetTimer()
	res := Execute(context.Background(), code, echo, Limits{MaxCalls: b.N + 1})
	if res.Error != nil {
		b.Fatal(res.Error)
	}
}

const transformSample = `interface Issue { id: number; title: string; labels?: string[] }
enum State { Open = "open", Closed = "closed" }
async function run() {
  const issues: Issue[] = await github.list_issues({ state: State.Open });
  const byLabel = new Map<string, Issue[]>();
  for (const issue of issues) {
    for (const label of issue.labels ?? []) {
      byLabel.set(label, [...(byLabel.get(label) ?? []), issue]);
    }
  }
  return Object.fromEntries([...byLabel].map(([k, v]) => [k, v.length]));
}`

// BenchmarkTransform is esbuild plus goja compilation of a typical program, uncached.
func BenchmarkTransform(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if p := compileCode(transformSample); p.err != nil {
			b.Fatal(p.err)
		}
	}
}

// BenchmarkTransformCached is the same program served from the transform cache.
func BenchmarkTransformCached(b *testing.B) {
	compileCached(transformSample)
	b.ReportAllocs()
	for b.Loop() {
		if p := compileCached(transformSample); p.err != nil {
			b.Fatal(p.err)
		}
	}
}
