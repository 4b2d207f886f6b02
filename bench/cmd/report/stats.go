package main

import (
	"math"
	"slices"
)

// Summary describes a set of samples (milliseconds, or any unit the caller chose).
type Summary struct {
	N    int     `json:"n"`
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Summarize returns the order statistics of samples; percentiles interpolate linearly
// between closest ranks (numpy's default), so a p99 of 100 samples is not just the max.
func Summarize(samples []float64) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	return Summary{
		N:    len(s),
		Min:  s[0],
		P50:  Percentile(s, 50),
		P90:  Percentile(s, 90),
		P99:  Percentile(s, 99),
		Max:  s[len(s)-1],
		Mean: sum / float64(len(s)),
	}
}

// Percentile returns the p-th percentile (0..100) of sorted, interpolating linearly
// between the two closest ranks. It returns NaN for no samples.
func Percentile(sorted []float64, p float64) float64 {
	switch {
	case len(sorted) == 0:
		return math.NaN()
	case p <= 0:
		return sorted[0]
	case p >= 100:
		return sorted[len(sorted)-1]
	}
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(sorted)-1)
	frac := rank - float64(lo)
	return sorted[lo] + (sorted[hi]-sorted[lo])*frac
}

// MedianInt returns the median of counts (the mean of the middle two, rounded half up,
// for an even number), 0 for none.
func MedianInt(counts []int) int {
	if len(counts) == 0 {
		return 0
	}
	s := slices.Clone(counts)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid] + 1) / 2
}

// MaxInt returns the largest of counts, 0 for none.
func MaxInt(counts []int) int {
	if len(counts) == 0 {
		return 0
	}
	return slices.Max(counts)
}
