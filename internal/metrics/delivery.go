package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Delivery counts the outcomes of page deliveries; it implements
// notify.Observer. Register it once, on the process's registry:
//
//	obs := metrics.NewDelivery(m.Registry)
type Delivery struct {
	delivered  *prometheus.CounterVec
	failed     *prometheus.CounterVec
	duplicates prometheus.Counter
	lag        prometheus.Histogram
}

// NewDelivery registers the delivery metrics on reg.
func NewDelivery(reg prometheus.Registerer) *Delivery {
	d := &Delivery{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_pages_delivered_total",
			Help: "Pages a notifier took, by notifier (each page once, however often it was delivered).",
		}, []string{"notifier"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_pages_failed_total",
			Help: "Pages given up for good, by notifier: a permanent failure, an unknown notifier, or every attempt failed. Each is a page_failed entry on its incident's timeline.",
		}, []string{"notifier"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "alertgate_pages_duplicate_deliveries_total",
			Help: "Pages delivered again after their outcome was recorded: a replica stalled past the claim timeout, or died between delivering and recording.",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "alertgate_page_delivery_lag_seconds",
			Help:    "Time from an escalation step committing a page to a notifier taking it, retries included.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}),
	}
	reg.MustRegister(d.delivered, d.failed, d.duplicates, d.lag)
	return d
}

// PageDelivered implements notify.Observer.
func (d *Delivery) PageDelivered(notifier string, lag time.Duration) {
	d.delivered.WithLabelValues(notifier).Inc()
	d.lag.Observe(lag.Seconds())
}

// PageFailed implements notify.Observer.
func (d *Delivery) PageFailed(notifier string, _ time.Duration) {
	d.failed.WithLabelValues(notifier).Inc()
}

// PageDuplicate implements notify.Observer.
func (d *Delivery) PageDuplicate(string) { d.duplicates.Inc() }
