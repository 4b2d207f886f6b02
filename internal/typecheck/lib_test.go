package typecheck

import (
	"context"
	"testing"

	"github.com/pctx-dev/pctx/internal/runtime"
)

// TestLibMatchesRuntime ties the checker's library to the sandbox: what the library
// declares beyond ES2022 runs in the real runtime, and what it leaves out of ES2022 is
// missing there too.
func TestLibMatchesRuntime(t *testing.T) {
	c := newChecker(t, Options{Processes: 1})
	run := func(code string) *runtime.Result {
		return runtime.Execute(context.Background(), code, nil, runtime.Limits{})
	}
	declared := map[string]string{
		"ES2023 array methods": `const a = [3, 1, 2];
return [a.findLast((x) => x > 1), a.findLastIndex((x) => x > 5), a.toSorted(), a.toReversed(), a.toSpliced(0, 1), a.with(0, 9)];`,
		"ES2025 Set methods": `const a = new Set([1, 2]), b = new Set([2, 3]);
return [[...a.union(b)], [...a.intersection(b)], [...a.difference(b)], [...a.symmetricDifference(b)], a.isSubsetOf(b), a.isSupersetOf(b), a.isDisjointFrom(b)];`,
		"for await": `let n = 0;
for await (const x of [Promise.resolve(1), 2]) { n += x; }
return n;`,
		"async generators": `async function* g() { yield 1; yield 2; }
const out: number[] = [];
for await (const x of g()) out.push(x);
return out;`,
		"ES2022": `const o = { a: 1 };
return [Object.hasOwn(o, "a"), [1, 2].at(-1), "abc".at(0), new Error("x", { cause: 1 }).cause, "a-b".replaceAll("-", "+")];`,
		"console and timers": `await new Promise<void>((r) => setTimeout(r, 1));
const id = setInterval(() => {}, 1000); clearInterval(id); clearTimeout(setTimeout(() => {}, 5));
console.log("ok"); console.info("i"); console.warn("w"); console.error("e"); console.debug("d");
return 1;`,
	}
	for name, code := range declared {
		t.Run(name, func(t *testing.T) {
			if res := run(code); res.Error != nil {
				t.Fatalf("the runtime refuses it: %v", res.Error)
			}
			diags, err := c.Check(context.Background(), nil, code)
			if err != nil || len(diags) > 0 {
				t.Fatalf("the checker refuses it: %v %s", err, render(diags))
			}
		})
	}
	for _, name := range []string{"WeakRef", "FinalizationRegistry", "SharedArrayBuffer", "Atomics", "structuredClone", "queueMicrotask", "fetch", "require", "process", "window", "document"} {
		t.Run("no "+name, func(t *testing.T) {
			res := run("return typeof " + name + ";")
			if res.Error != nil || res.Value != "undefined" {
				t.Fatalf("typeof %s in the runtime = %v (%v)", name, res.Value, res.Error)
			}
			diags, err := c.Check(context.Background(), nil, "const x = "+name+";")
			if err != nil || len(diags) != 1 {
				t.Fatalf("the checker accepts %s: %v %s", name, err, render(diags))
			}
		})
	}
}
