package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mark3labs/mcp-go/client"

	"github.com/pctx-dev/pctx/internal/pctxlog"
)

// Names of the upstream runs, which the targets look up.
const (
	runFresh         = "trivial, a new source text every run (transform cache misses)"
	runViaPctx       = "one upstream call via pctx"
	runDirect        = "the same call made directly"
	runHundred       = "100 parallel upstream calls in one program"
	transportViaPctx = "HTTP → pctx → HTTP server-everything"
	transportDirect  = "HTTP → server-everything"
)

// latencySection measures over real transports against real pctx processes: the main one
// (upstreams and Python worker), a stdio one, and a plain one for memory and throughput.
func latencySection(ctx context.Context, o options, r *Report, c *client.Client, pc *pctxProc, haveWorker bool, everythingURL, work string, logf, note func(string, ...any)) error {
	n := o.iter
	warm := max(20, n/10)
	add := func(name, transport, program string, samples []float64) {
		r.Latency.Runs = append(r.Latency.Runs, Run{Name: name, Transport: transport, Program: program, Summary: Summarize(samples)})
	}

	logf("trivial execute_typescript over HTTP")
	s, err := timeOp(ctx, warm, n, execOp(c, progTrivial, "2"))
	if err != nil {
		return err
	}
	add("trivial", "HTTP", progTrivial, s)
	i := 0
	fresh := func(ctx context.Context) error {
		i++
		return execOp(c, fmt.Sprintf("return 1 + %d", i), fmt.Sprint(1+i))(ctx)
	}
	if s, err = timeOp(ctx, warm, n, fresh); err != nil {
		return err
	}
	add(runFresh, "HTTP", "return 1 + i", s)

	logf("trivial execute_typescript over stdio")
	stdioDir := filepath.Join(work, "stdio")
	if err := os.MkdirAll(stdioDir, 0o755); err != nil {
		return err
	}
	cfgPath := filepath.Join(stdioDir, "pctx.toml")
	if err := os.WriteFile(cfgPath, nil, 0o600); err != nil {
		return err
	}
	stdioLog := &pctxlog.Buffer{}
	sc, err := mcpStdio(ctx, o.bin, []string{"start", "--stdio", "--http", "127.0.0.1:0", "--config", cfgPath}, stdioLog)
	if err != nil {
		return fmt.Errorf("pctx over stdio: %w; log:\n%s", err, tail(stdioLog.String(), 1000))
	}
	s, err = timeOp(ctx, warm, n, execOp(sc, progTrivial, "2"))
	_ = sc.Close()
	if err != nil {
		return fmt.Errorf("pctx over stdio: %w", err)
	}
	add("trivial", "stdio", progTrivial, s)

	logf("MCP clients: the TypeScript SDK over stdio and HTTP, mcp-go, bare HTTP POSTs")
	if err := tsClientLatency(ctx, o, c, pc.URL, warm, n, add, note); err != nil {
		return err
	}

	if everythingURL != "" {
		logf("one upstream call via pctx vs direct")
		dc, err := mcpHTTP(ctx, everythingURL)
		if err != nil {
			return err
		}
		defer dc.Close()
		via, direct, err := timeInterleaved(ctx, warm, n, 10,
			execOp(c, progUpstreamOne, wantSum),
			toolOp(dc, "get-sum", map[string]any{"a": 2, "b": 3}, wantSum))
		if err != nil {
			return err
		}
		add(runViaPctx, transportViaPctx, progUpstreamOne, via)
		add(runDirect, transportDirect, "get-sum {a: 2, b: 3}", direct)
		r.Latency.UpstreamRatio = Summarize(via).P50 / Summarize(direct).P50

		logf("100 parallel upstream calls in one program")
		s, err = timeOp(ctx, 5, max(10, n/20), execOp(c, progUpstream100, wantUpstream100))
		if err != nil {
			return err
		}
		add(runHundred, transportViaPctx, progUpstream100, s)
	} else {
		note("server-everything unavailable: upstream latency not measured")
	}

	if haveWorker {
		logf("Python SDK callback round trip")
		one, triv, err := timeInterleaved(ctx, warm, n/2, 10, execOp(c, progEchoOne, "1"), execOp(c, progTrivial, "2"))
		if err != nil {
			return err
		}
		add("one Python tool call (bench.echo)", "HTTP → pctx → websocket → Python", progEchoOne, one)
		r.Latency.PythonRoundTripMs = Summarize(one).P50 - Summarize(triv).P50
		s, err = timeOp(ctx, 5, max(10, n/20), execOp(c, progEcho100, "100"))
		if err != nil {
			return err
		}
		add("100 parallel Python tool calls in one program", "HTTP → pctx → websocket → Python", progEcho100, s)
	} else {
		note("Python SDK callback round trip not measured: no Python worker")
	}

	// A fresh plain server: memory, and throughput of 1 against 8 concurrent clients
	// (each execution runs in a sandbox worker of its own), without upstreams.
	dir := filepath.Join(work, "plain")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	plain, err := startPctx(o.bin, dir, "")
	if err != nil {
		return fmt.Errorf("plain server: %w", err)
	}
	defer plain.stop()
	if err := measureRSS(ctx, o, r, plain, logf); err != nil {
		return err
	}
	// Alternate short rounds between 1 and 8 clients so that load from other jobs on the
	// machine hits both alike; sum executions and time per client count.
	rounds, dur := 6, 500*time.Millisecond
	if o.quick {
		rounds, dur = 2, 250*time.Millisecond
	}
	logf("1 vs 8 concurrent clients, %d rounds of %s each", rounds, dur)
	counts := []int{1, 8}
	total := map[int]*Throughput{}
	for _, n := range counts {
		total[n] = &Throughput{Clients: n}
	}
	for range rounds {
		for _, n := range counts {
			t, err := throughput(ctx, plain.URL+"/mcp", plain.cmd.Process.Pid, n, dur, progConcurrency, wantConcurrency)
			if err != nil {
				return fmt.Errorf("%d clients: %w", n, err)
			}
			total[n].Executions += t.Executions
			total[n].Seconds += t.Seconds
			total[n].CPUSeconds += t.CPUSeconds
		}
	}
	for _, n := range counts {
		t := total[n]
		t.PerSecond = float64(t.Executions) / t.Seconds
		r.Latency.Concurrency = append(r.Latency.Concurrency, *t)
	}
	return nil
}

// measureRSS reads a fresh server's VmRSS, runs 1,000 trivial executions (100 with
// -quick) and reads it again.
func measureRSS(ctx context.Context, o options, r *Report, p *pctxProc, logf func(string, ...any)) error {
	idle, err := RSSKiB(p.cmd.Process.Pid)
	if err != nil {
		return err
	}
	c, err := mcpHTTP(ctx, p.URL+"/mcp")
	if err != nil {
		return err
	}
	defer c.Close()
	execs := 1000
	if o.quick {
		execs = 100
	}
	logf("RSS after %d executions", execs)
	if _, err := timeOp(ctx, execs, 0, execOp(c, progTrivial, "2")); err != nil {
		return err
	}
	after, err := RSSKiB(p.cmd.Process.Pid)
	if err != nil {
		return err
	}
	r.Latency.RSS = RSS{IdleKiB: idle, AfterKiB: after, Executions: execs}
	return nil
}
