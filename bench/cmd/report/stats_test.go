package main

import (
	"fmt"
	"math"
	"testing"

	"go.uber.org/goleak"
)

// regexp2 (used by the catalog's schema validation) keeps a process-wide clock goroutine.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/dlclark/regexp2/v2.runClock"))
}

func TestPercentile(t *testing.T) {
	five := []float64{1, 2, 3, 4, 5}
	tests := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		{"median odd", five, 50, 3},
		{"p0 is min", five, 0, 1},
		{"p100 is max", five, 100, 5},
		{"p25 on a rank", five, 25, 2},
		{"p90 interpolates", five, 90, 4.6},
		{"median even interpolates", []float64{1, 2, 3, 4}, 50, 2.5},
		{"p99 of 101 values", seq(101), 99, 99},
		{"single value", []float64{7}, 99, 7},
		{"below range clamps", five, -5, 1},
		{"above range clamps", five, 150, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
	if got := Percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("Percentile(nil) = %v, want NaN", got)
	}
}

func seq(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = float64(i)
	}
	return s
}

func TestSummarize(t *testing.T) {
	in := []float64{5, 1, 4, 2, 3}
	got := Summarize(in)
	want := Summary{N: 5, Min: 1, P50: 3, P90: 4.6, P99: 4.96, Max: 5, Mean: 3}
	if math.Abs(got.P90-want.P90) > 1e-9 || math.Abs(got.P99-want.P99) > 1e-9 {
		t.Fatalf("Summarize = %+v, want %+v", got, want)
	}
	got.P90, got.P99, want.P90, want.P99 = 0, 0, 0, 0
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if in[0] != 5 {
		t.Error("Summarize sorted its input in place")
	}
	if got := Summarize(nil); got != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", got)
	}
}

func TestMedianMaxInt(t *testing.T) {
	tests := []struct {
		in        []int
		med, maxv int
	}{
		{nil, 0, 0},
		{[]int{4}, 4, 4},
		{[]int{9, 1, 5}, 5, 9},
		{[]int{1, 2, 3, 10}, 3, 10}, // (2+3)/2 rounds half up
		{[]int{2, 2, 4, 4}, 3, 4},
	}
	for _, tt := range tests {
		if got := MedianInt(tt.in); got != tt.med {
			t.Errorf("MedianInt(%v) = %d, want %d", tt.in, got, tt.med)
		}
		if got := MaxInt(tt.in); got != tt.maxv {
			t.Errorf("MaxInt(%v) = %d, want %d", tt.in, got, tt.maxv)
		}
	}
}

func ExamplePercentile() {
	sorted := []float64{0.4, 0.5, 0.5, 0.6, 2.0}
	fmt.Printf("p50 %.2f ms, p90 %.2f ms\n", Percentile(sorted, 50), Percentile(sorted, 90))
	// Output: p50 0.50 ms, p90 1.44 ms
}
