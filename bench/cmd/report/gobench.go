package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GoBench is one Go benchmark's result over -count runs: medians of each metric.
type GoBench struct {
	Package     string  `json:"package"`
	Name        string  `json:"name"`
	Runs        int     `json:"runs"`
	NsPerOp     float64 `json:"ns_per_op_median"`
	NsPerOpMin  float64 `json:"ns_per_op_min"`
	NsPerOpMax  float64 `json:"ns_per_op_max"`
	BytesPerOp  float64 `json:"bytes_per_op_median,omitempty"`
	AllocsPerOp float64 `json:"allocs_per_op_median,omitempty"`
}

// GoBenchPackage is the outcome of `go test -bench` in one package.
type GoBenchPackage struct {
	Package string    `json:"package"`
	Seconds float64   `json:"seconds"`
	Error   string    `json:"error,omitempty"`
	Benches []GoBench `json:"benchmarks"`
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

// ParseBenchOutput reads `go test -bench` output and returns one GoBench per benchmark,
// in first-seen order, with the median of each metric over its runs.
func ParseBenchOutput(pkg, out string) []GoBench {
	type acc struct{ ns, bytes, allocs []float64 }
	accs := map[string]*acc{}
	var order []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		a := accs[m[1]]
		if a == nil {
			a = &acc{}
			accs[m[1]] = a
			order = append(order, m[1])
		}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				a.ns = append(a.ns, v)
			case "B/op":
				a.bytes = append(a.bytes, v)
			case "allocs/op":
				a.allocs = append(a.allocs, v)
			}
		}
	}
	var out2 []GoBench
	for _, name := range order {
		a := accs[name]
		if len(a.ns) == 0 {
			continue
		}
		ns := Summarize(a.ns)
		out2 = append(out2, GoBench{
			Package: pkg, Name: name, Runs: len(a.ns),
			NsPerOp: ns.P50, NsPerOpMin: ns.Min, NsPerOpMax: ns.Max,
			BytesPerOp: median(a.bytes), AllocsPerOp: median(a.allocs),
		})
	}
	return out2
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return Percentile(s, 50)
}

// runGoBenchmarks runs every benchmark of each package, one package at a time (the
// machine is small), and keeps going past a package that fails.
func runGoBenchmarks(ctx context.Context, root string, env []string, pkgs []string, count int, benchtime string, timeout time.Duration) []GoBenchPackage {
	var out []GoBenchPackage
	for _, pkg := range pkgs {
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, timeout)
		cmd := exec.CommandContext(cctx, "go", "test", "-run", "^$", "-bench", ".", "-benchmem",
			"-count", strconv.Itoa(count), "-benchtime", benchtime, "-timeout", timeout.String(), pkg)
		cmd.Dir = root
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		cancel()
		r := GoBenchPackage{Package: pkg, Seconds: time.Since(start).Seconds(), Benches: ParseBenchOutput(pkg, string(b))}
		if err != nil {
			r.Error = fmt.Sprintf("%v: %s", err, tail(strings.TrimSpace(string(b)), 600))
		}
		out = append(out, r)
	}
	return out
}
