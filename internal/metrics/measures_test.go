package metrics

import (
	"testing"
	"time"
)

// TestMeasuresHistograms: both histograms are on the registry from the
// start (count 0) and observe seconds.
func TestMeasuresHistograms(t *testing.T) {
	m := New(nil)
	m.TimeToAcknowledge(90 * time.Second)
	m.TimeToResolve(2 * time.Hour)
	m.TimeToResolve(-time.Second) // a clock step back: counted as 0
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		count uint64
		sum   float64
	}{
		"alertgate_time_to_acknowledge_seconds": {1, 90},
		"alertgate_time_to_resolve_seconds":     {2, 7200},
	}
	for _, mf := range mfs {
		w, ok := want[mf.GetName()]
		if !ok {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		if h.GetSampleCount() != w.count || h.GetSampleSum() != w.sum {
			t.Errorf("%s: count %d sum %v, want %d, %v", mf.GetName(), h.GetSampleCount(), h.GetSampleSum(), w.count, w.sum)
		}
		delete(want, mf.GetName())
	}
	for name := range want {
		t.Errorf("%s is not registered", name)
	}
}
