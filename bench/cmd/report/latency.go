package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/client"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
)

// Programs the latency measurements run.
const (
	progTrivial     = "return 1 + 1"
	progUpstreamOne = "return await everything.get_sum({a: 2, b: 3})"
	progUpstream100 = "const r = await Promise.all(Array.from({ length: 100 }, (_, i) => everything.get_sum({a: i, b: 1}))); return r.length"
	progEchoOne     = "return await bench.echo(1)"
	progEcho100     = "const r = await Promise.all(Array.from({ length: 100 }, (_, i) => bench.echo(i))); return r.length"
	progEcho100Obj  = "const r = await Promise.all(Array.from({ length: 100 }, (_, i) => bench.echo({ x: i }))); return r.length"
	progConcurrency = "let s = 0; for (let i = 0; i < 200000; i++) { s += i % 7 } return s"
	wantConcurrency = "599994"
	wantUpstream100 = "100"
	wantSum         = "The sum of 2 and 3 is 5."
)

// op is one timed operation; it returns an error when the answer is wrong.
type op func(ctx context.Context) error

// timeOp runs warm warm-up calls, then n timed calls, and returns milliseconds.
func timeOp(ctx context.Context, warm, n int, f op) ([]float64, error) {
	for range warm {
		if err := f(ctx); err != nil {
			return nil, err
		}
	}
	samples := make([]float64, 0, n)
	for range n {
		t0 := time.Now()
		if err := f(ctx); err != nil {
			return nil, err
		}
		samples = append(samples, float64(time.Since(t0).Nanoseconds())/1e6)
	}
	return samples, nil
}

// timeInterleaved times a and b in alternating rounds, so drift in the machine's load
// (other jobs share these cores) hits both alike.
func timeInterleaved(ctx context.Context, warm, n, rounds int, a, b op) ([]float64, []float64, error) {
	var sa, sb []float64
	per := max(1, n/rounds)
	for r := range rounds {
		w := 0
		if r == 0 {
			w = warm
		}
		x, err := timeOp(ctx, w, per, a)
		if err != nil {
			return nil, nil, err
		}
		y, err := timeOp(ctx, w, per, b)
		if err != nil {
			return nil, nil, err
		}
		sa, sb = append(sa, x...), append(sb, y...)
	}
	return sa, sb, nil
}

// execOp runs code through execute_typescript on c; the result text must contain want.
func execOp(c *client.Client, code, want string) op {
	args := map[string]any{"code": code}
	return func(ctx context.Context) error {
		text, err := callText(ctx, c, "execute_typescript", args)
		if err != nil {
			return err
		}
		if !strings.Contains(text, want) {
			return fmt.Errorf("execute_typescript %q: got %q, want it to contain %q", code, tail(text, 300), want)
		}
		return nil
	}
}

// toolOp calls an MCP tool on c directly; the text must contain want.
func toolOp(c *client.Client, tool string, args map[string]any, want string) op {
	return func(ctx context.Context) error {
		text, err := callText(ctx, c, tool, args)
		if err != nil {
			return err
		}
		if !strings.Contains(text, want) {
			return fmt.Errorf("%s: got %q, want it to contain %q", tool, tail(text, 300), want)
		}
		return nil
	}
}

// Throughput is how many executions per second concurrent clients completed.
type Throughput struct {
	Clients    int     `json:"clients"`
	Seconds    float64 `json:"seconds"`
	Executions int64   `json:"executions"`
	PerSecond  float64 `json:"per_second"`
	// CPUSeconds is the CPU time of pctx and its sandbox workers over the rounds:
	// CPUSeconds ÷ Seconds is how many cores they actually got.
	CPUSeconds float64 `json:"server_cpu_seconds"`
}

// throughput runs clients MCP sessions against url, each executing code back to back
// for d, and counts completions and the CPU time pctx (pid) and its sandbox workers used
// meanwhile.
func throughput(ctx context.Context, url string, pid, clients int, d time.Duration, code, want string) (Throughput, error) {
	cs := make([]*client.Client, clients)
	for i := range cs {
		c, err := mcpHTTP(ctx, url)
		if err != nil {
			return Throughput{}, err
		}
		defer c.Close()
		cs[i] = c
		if _, err := timeOp(ctx, 1, 0, execOp(c, code, want)); err != nil {
			return Throughput{}, err
		}
	}
	var n atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	cpu0, err := TreeCPUSeconds(pid)
	if err != nil {
		return Throughput{}, err
	}
	stop := time.Now().Add(d)
	start := time.Now()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := execOp(c, code, want)
			for time.Now().Before(stop) {
				if err := f(ctx); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	cpu1, err := TreeCPUSeconds(pid)
	if err != nil {
		return Throughput{}, err
	}
	if err, _ := firstErr.Load().(error); err != nil {
		return Throughput{}, err
	}
	return Throughput{Clients: clients, Seconds: elapsed, Executions: n.Load(), PerSecond: float64(n.Load()) / elapsed, CPUSeconds: cpu1 - cpu0}, nil
}

// inProcess measures pctx's Code Mode service as a library (no transport), the same
// footing as the peer's callToolChain: the trivial program and 100 calls to an
// in-process function.
func inProcess(ctx context.Context, warm, n int) (trivial, uncached, hundred []float64, err error) {
	cat := catalog.New()
	err = cat.Put("bench", catalog.Namespace{Name: "bench", Tools: []catalog.Tool{{
		Name:        "echo",
		Description: "Return x.",
		InputSchema: []byte(`{"type":"object","properties":{"x":{"type":"number"}},"required":["x"]}`),
		Call:        func(_ context.Context, args map[string]any) (any, error) { return args["x"], nil },
	}}})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("in-process catalog: %w", err)
	}
	svc := codemode.New(cat, &codemode.Options{Executor: codemode.InProcess})
	run := func(code string, want any) op {
		return func(ctx context.Context) error {
			res, err := svc.Execute(ctx, code)
			if err != nil {
				return err
			}
			if res.Error != nil {
				return fmt.Errorf("in-process %q: %s", code, res.Error.Message)
			}
			if fmt.Sprint(res.Value) != fmt.Sprint(want) {
				return fmt.Errorf("in-process %q: got %v, want %v", code, res.Value, want)
			}
			return nil
		}
	}
	if trivial, err = timeOp(ctx, warm, n, run(progTrivial, 2)); err != nil {
		return nil, nil, nil, err
	}
	// A new source text every run defeats the transform cache: the cost of a program
	// pctx has not seen before.
	i := 0
	fresh := func(ctx context.Context) error {
		i++
		return run(fmt.Sprintf("return 1 + %d", i), 1+i)(ctx)
	}
	if uncached, err = timeOp(ctx, warm, n, fresh); err != nil {
		return nil, nil, nil, err
	}
	hundred, err = timeOp(ctx, warm, n, run(progEcho100Obj, 100))
	return trivial, uncached, hundred, err
}
