package main

import (
	"reflect"
	"testing"
)

func TestParseBenchOutput(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/pctx-dev/pctx/internal/catalog
cpu: AMD EPYC
BenchmarkList1000-2     	    2000	    600000 ns/op	  120000 B/op	     900 allocs/op
BenchmarkList1000-2     	    2000	    500000 ns/op	  110000 B/op	     900 allocs/op
BenchmarkList1000-2     	    2000	    700000 ns/op	  130000 B/op	     900 allocs/op
BenchmarkCall           	 1000000	      1050 ns/op
BenchmarkCall           	 1000000	      1150 ns/op
--- FAIL: BenchmarkBroken
FAIL
`
	got := ParseBenchOutput("./catalog", out)
	want := []GoBench{
		{Package: "./catalog", Name: "BenchmarkList1000", Runs: 3, NsPerOp: 600000, NsPerOpMin: 500000, NsPerOpMax: 700000, BytesPerOp: 120000, AllocsPerOp: 900},
		{Package: "./catalog", Name: "BenchmarkCall", Runs: 2, NsPerOp: 1100, NsPerOpMin: 1050, NsPerOpMax: 1150},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseBenchOutput =\n%+v\nwant\n%+v", got, want)
	}
	if got := ParseBenchOutput("x", "no benchmarks here\nok\n"); len(got) != 0 {
		t.Errorf("ParseBenchOutput(no benchmarks) = %+v, want none", got)
	}
}
