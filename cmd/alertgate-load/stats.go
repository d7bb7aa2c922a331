package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted: the smallest value with at least p% of the values at or below
// it. It is 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// latency summarises request durations.
type latency struct {
	N    int
	P50  time.Duration
	P90  time.Duration
	P99  time.Duration
	Max  time.Duration
	Mean time.Duration
}

// summarize sorts durs in place and summarises them.
func summarize(durs []time.Duration) latency {
	if len(durs) == 0 {
		return latency{}
	}
	slices.Sort(durs)
	var sum time.Duration
	for _, d := range durs {
		sum += d
	}
	return latency{
		N:    len(durs),
		P50:  percentile(durs, 50),
		P90:  percentile(durs, 90),
		P99:  percentile(durs, 99),
		Max:  durs[len(durs)-1],
		Mean: sum / time.Duration(len(durs)),
	}
}
