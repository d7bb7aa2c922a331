package dedupe_test

import (
	"fmt"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/redistest"
)

// BenchmarkIngest measures one committed batch against the real Redis:
// new alerts joining an open incident, and re-deliveries of the same batch.
func BenchmarkIngest(b *testing.B) {
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("new/batch=%d", size), func(b *testing.B) {
			s := newBenchStore(b)
			n := 0
			for b.Loop() {
				batch := make([]alertgate.Alert, size)
				for i := range batch {
					batch[i] = alert(fmt.Sprintf("n%d", n), alertgate.Firing)
					n++
				}
				if _, err := s.Ingest(b.Context(), group, batch, 0, "integration:am", t0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "alerts/s")
		})
		b.Run(fmt.Sprintf("duplicate/batch=%d", size), func(b *testing.B) {
			s := newBenchStore(b)
			batch := make([]alertgate.Alert, size)
			for i := range batch {
				batch[i] = alert(fmt.Sprintf("d%d", i), alertgate.Firing)
			}
			n := 0
			for b.Loop() {
				if _, err := s.Ingest(b.Context(), group, batch, 0, "integration:am", t0); err != nil {
					b.Fatal(err)
				}
				n += size
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

func newBenchStore(b *testing.B) *dedupe.Store {
	b.Helper()
	rdb, prefix := redistest.New(b)
	return dedupe.NewStore(rdb, prefix)
}
