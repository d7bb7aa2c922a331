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
	waiting    *prometheus.CounterVec
	redeliver  *prometheus.CounterVec
	failovers  *prometheus.CounterVec
	digests    *prometheus.CounterVec
	digested   *prometheus.CounterVec
	breaker    *prometheus.GaugeVec
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
	d.waiting = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alertgate_pages_waiting_total",
		Help: "Times a page was put back to wait, by notifier and reason: retry (an attempt failed), throttled (the target's rate limit), circuit_open (the target's breaker).",
	}, []string{"notifier", "reason"})
	d.redeliver = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alertgate_pages_redelivered_total",
		Help: "Pages delivered after being re-claimed from a replica that died or stalled holding them: the target may have received them twice, with the same idempotency key.",
	}, []string{"notifier"})
	d.failovers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alertgate_page_failovers_total",
		Help: "Dead-lettered pages that went on, by notifier and to what: contact (the person's next contact) or step (the policy's next step, run at once).",
	}, []string{"notifier", "to"})
	d.digests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alertgate_digests_delivered_total",
		Help: "Digest messages delivered, by notifier: many messages to one contact sent as one.",
	}, []string{"notifier"})
	d.digested = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "alertgate_digested_pages_total",
		Help: "Pages and notices delivered inside a digest, by notifier.",
	}, []string{"notifier"})
	d.breaker = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "alertgate_notifier_breaker_state",
		Help: "Each target's circuit breaker on this replica: 1 for its current state (closed, half-open, open), 0 for the others.",
	}, []string{"target", "state"})
	reg.MustRegister(d.delivered, d.failed, d.duplicates, d.lag, d.waiting, d.redeliver, d.failovers, d.digests, d.digested, d.breaker)
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

// PageWaiting implements notify.Observer.
func (d *Delivery) PageWaiting(notifier, reason string) {
	d.waiting.WithLabelValues(notifier, reason).Inc()
}

// PageFailover implements notify.Observer.
func (d *Delivery) PageFailover(notifier, to string) {
	d.failovers.WithLabelValues(notifier, to).Inc()
}

// Digest implements notify.Observer.
func (d *Delivery) Digest(notifier string, pages int) {
	d.digests.WithLabelValues(notifier).Inc()
	d.digested.WithLabelValues(notifier).Add(float64(pages))
}

// breakerStates are gobreaker's names for its states.
var breakerStates = []string{"closed", "half-open", "open"}

// BreakerState implements notify.Observer. The target names a receiver
// without its secrets (notify's Target: scheme, host, a hash).
func (d *Delivery) BreakerState(target, state string) {
	for _, s := range breakerStates {
		v := 0.0
		if s == state {
			v = 1
		}
		d.breaker.WithLabelValues(target, s).Set(v)
	}
}

// PageRedelivered implements notify.Observer.
func (d *Delivery) PageRedelivered(notifier string) { d.redeliver.WithLabelValues(notifier).Inc() }
