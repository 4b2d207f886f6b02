package typecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
)

// benchProgram is a typical program: the README's.
const benchProgram = `const [sum, graph] = await Promise.all([
  everything.get_sum({ a: 2, b: 3 }),
  memory.read_graph({}),
]);
console.log("entities:", graph.entities.length);
return { sum, names: graph.entities.map((e) => e.name) };`

// benchCatalog returns the declarations of a catalog of n functions that holds
// everything.get_sum and memory's tools (what benchProgram calls): for n <= 10 those
// alone, up to about 50 the whole captured catalog (the corpus's world), beyond that
// copies of its tools in further namespaces.
func benchCatalog(b testing.TB, n int) []string {
	b.Helper()
	raw, err := os.ReadFile("testdata/catalog.json")
	if err != nil {
		b.Fatal(err)
	}
	var doc struct {
		Namespaces []struct {
			Name  string            `json:"name"`
			Tools []json.RawMessage `json:"tools"`
		} `json:"namespaces"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		b.Fatal(err)
	}
	type tool struct {
		Name         string          `json:"name"`
		Description  string          `json:"description"`
		InputSchema  json.RawMessage `json:"inputSchema"`
		OutputSchema json.RawMessage `json:"outputSchema"`
		Params       []string        `json:"params"`
	}
	nop := func(context.Context, map[string]any) (any, error) { return nil, nil }
	var all []catalog.Tool
	spaces := map[string][]catalog.Tool{}
	var order []string
	for _, ns := range doc.Namespaces {
		for _, rt := range ns.Tools {
			var t tool
			if err := json.Unmarshal(rt, &t); err != nil {
				b.Fatal(err)
			}
			ct := catalog.Tool{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema, OutputSchema: t.OutputSchema, Params: t.Params, Call: nop}
			all = append(all, ct)
			if n > 10 || ns.Name == "memory" || t.Name == "get-sum" {
				if _, ok := spaces[ns.Name]; !ok {
					order = append(order, ns.Name)
				}
				spaces[ns.Name] = append(spaces[ns.Name], ct)
			}
		}
	}
	count := 0
	for _, ts := range spaces {
		count += len(ts)
	}
	for i := 0; count < n; i++ {
		t := all[i%len(all)]
		t.Name = fmt.Sprintf("%s_%d", t.Name, i)
		ns := fmt.Sprintf("extra%d", i/25)
		if _, ok := spaces[ns]; !ok {
			order = append(order, ns)
		}
		spaces[ns] = append(spaces[ns], t)
		count++
	}
	c := catalog.New()
	for _, ns := range order {
		if err := c.Put("bench", catalog.Namespace{Name: ns, Tools: spaces[ns]}); err != nil {
			b.Fatal(err)
		}
	}
	return c.Snapshot().Declarations()
}

// BenchmarkCheck is a warm check of a typical program against catalogs of 10, 50 and
// 1,000 functions: the per-execution cost of the type check. p50-ms and p90-ms are
// from the individual checks.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{10, 50, 1000} {
		b.Run(fmt.Sprintf("functions=%d", n), func(b *testing.B) {
			decls := benchCatalog(b, n)
			c := newChecker(b, Options{Processes: 1})
			ctx := context.Background()
			for range 3 { // warm: the catalog's project open, the checker's caches filled
				if d, err := c.Check(ctx, decls, benchProgram); err != nil || len(d) > 0 {
					b.Fatalf("%v %s", err, render(d))
				}
			}
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// A distinct program each time, as executions are: nothing is cached by text.
				start := time.Now()
				if _, err := c.Check(ctx, decls, benchProgram+"\n// "+strconv.Itoa(i)); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			reportPercentiles(b, times)
			reportRSS(b, c)
		})
	}
}

// BenchmarkCheckParallel runs checks from many goroutines against the 50-function
// catalog, with one and two checker processes.
func BenchmarkCheckParallel(b *testing.B) {
	for _, procs := range []int{1, 2} {
		b.Run(fmt.Sprintf("processes=%d", procs), func(b *testing.B) {
			decls := benchCatalog(b, 50)
			c := newChecker(b, Options{Processes: procs})
			ctx := context.Background()
			for range 2 * procs {
				if _, err := c.Check(ctx, decls, benchProgram); err != nil {
					b.Fatal(err)
				}
			}
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if _, err := c.Check(ctx, decls, benchProgram+"\n// "+strconv.Itoa(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkFirstCheck is the first check after start: a new Checker (its process
// starting, parsing the library) and a catalog it has not seen.
func BenchmarkFirstCheck(b *testing.B) {
	for _, n := range []int{50, 1000} {
		b.Run(fmt.Sprintf("functions=%d", n), func(b *testing.B) {
			decls := benchCatalog(b, n)
			tsgo := tsgoPath(b)
			ctx := context.Background()
			times := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				start := time.Now()
				c, err := New(Options{Tsgo: tsgo, Processes: 1, Logger: quiet()})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Check(ctx, decls, benchProgram); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
				b.StopTimer()
				_ = c.Close()
				b.StartTimer()
			}
			reportPercentiles(b, times)
		})
	}
}

// BenchmarkCommandLine is the baseline: the same program and 50-function catalog
// checked by the tsgo command line (tsgo -p), a process per check.
func BenchmarkCommandLine(b *testing.B) {
	decls := benchCatalog(b, 50)
	tsgo := tsgoPath(b)
	dir := b.TempDir()
	files := []string{"globals.d.ts"}
	if err := os.WriteFile(filepath.Join(dir, "globals.d.ts"), []byte(globalsDTS), 0o600); err != nil {
		b.Fatal(err)
	}
	for i, d := range decls {
		name := fmt.Sprintf("d%d.d.ts", i)
		files = append(files, name)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(d), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	files = append(files, "main.ts")
	if err := os.WriteFile(filepath.Join(dir, "main.ts"), []byte(wrap(benchProgram)), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"compilerOptions": compilerOptions, "files": files})
	if err := os.WriteFile(filepath.Join(dir, "tsconfig.json"), cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	times := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if out, err := exec.Command(tsgo, "-p", filepath.Join(dir, "tsconfig.json")).CombinedOutput(); err != nil {
			b.Fatalf("tsgo -p: %v\n%s", err, out)
		}
		times = append(times, time.Since(start))
	}
	reportPercentiles(b, times)
}

func reportPercentiles(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	pct := func(p float64) float64 {
		return float64(times[int(p*float64(len(times)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.9), "p90-ms")
}

// reportRSS reports the resident memory of the checker's processes (Linux).
func reportRSS(b *testing.B, c *Checker) {
	var total int64
	for _, pid := range c.PIDs() {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				total += kb << 10
			}
		}
	}
	b.ReportMetric(float64(total)/(1<<20), "rss-MiB")
}
