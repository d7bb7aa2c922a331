package reports

import (
	"slices"
	"time"
)

// Stats describe a distribution of durations. Median and P90 are
// nearest-rank quantiles: the q-quantile of n sorted samples x[1..n] is
// x[⌈q·n⌉], always one of the samples (so the median of an even count is
// the lower of the two middle samples). Mean is there beside them, never
// instead. With no samples only Count is set (0) and the rest are null.
type Stats struct {
	Count  int      `json:"count"`
	Median *float64 `json:"median_seconds"`
	P90    *float64 `json:"p90_seconds"`
	Mean   *float64 `json:"mean_seconds"`
	Max    *float64 `json:"max_seconds"`
}

func statsOf(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	mean := sum(s) / time.Duration(len(s))
	return Stats{
		Count:  len(s),
		Median: secondsPtr(NearestRank(s, 0.5)),
		P90:    secondsPtr(NearestRank(s, 0.9)),
		Mean:   secondsPtr(mean),
		Max:    secondsPtr(s[len(s)-1]),
	}
}

// NearestRank is the q-quantile (0 < q ≤ 1) of sorted, by the
// nearest-rank method: sorted[⌈q·n⌉−1]. It computes the rank in integers
// (q in thousandths), so 0.9 of 10 is rank 9 exactly, not 9.000000000000002
// rounded up to 10.
func NearestRank(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	permille := int(q*1000 + 0.5)
	rank := (permille*n + 999) / 1000 // ⌈permille·n/1000⌉
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// seconds turns a duration into seconds, to the millisecond the timeline
// keeps.
func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

func secondsPtr(d time.Duration) *float64 {
	s := seconds(d)
	return &s
}
