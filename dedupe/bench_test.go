package dedupe_test

import (
	"context"
	"fmt"
	"sync/atomic"
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
				if _, err := s.Ingest(b.Context(), group, dedupe.Delivery{Alerts: batch, Actor: "integration:am", Now: t0}); err != nil {
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
				if _, err := s.Ingest(b.Context(), group, dedupe.Delivery{Alerts: batch, Actor: "integration:am", Now: t0}); err != nil {
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

// BenchmarkIngestParallel is many senders delivering one alert each, the
// case the coalescer exists for.
func BenchmarkIngestParallel(b *testing.B) {
	s := newBenchStore(b)
	var n atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			g := group
			g.Key = fmt.Sprintf("g%d", i%20)
			if _, err := s.Ingest(context.Background(), g, dedupe.Delivery{Alerts: []alertgate.Alert{alert(fmt.Sprintf("p%d", i), alertgate.Firing)}, Actor: "integration:am", Now: t0}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "alerts/s")
}
