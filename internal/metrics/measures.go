package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Measures are the histograms of time to acknowledge and time to resolve
// (docs/measures.md, "Prometheus"): what the reports compute over a
// window, live, for alerting rules and dashboards.
type Measures struct {
	tta prometheus.Histogram
	ttr prometheus.Histogram
}

// NewMeasures registers the two histograms on reg.
func NewMeasures(reg prometheus.Registerer) *Measures {
	m := &Measures{
		tta: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "alertgate_time_to_acknowledge_seconds",
			Help: "Time from an incident triggering to its first acknowledgement by a person (API, link, SMS reply), time held back by silences, maintenance, inhibition or flapping and time resolved before a reopen left out; observed once per incident, declared incidents left out (docs/measures.md).",
			// From seconds to a weekend: people ack within minutes, held
			// low-urgency pages wait for support hours.
			Buckets: []float64{10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400},
		}),
		ttr: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "alertgate_time_to_resolve_seconds",
			Help:    "Time from an incident triggering to a resolve (by a person or a sender), observed at each resolve: a reopened incident is observed again at its next resolve (docs/measures.md).",
			Buckets: []float64{60, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800},
		}),
	}
	reg.MustRegister(m.tta, m.ttr)
	return m
}

// TimeToAcknowledge implements incident.MeasureObserver.
func (m *Measures) TimeToAcknowledge(d time.Duration) { m.tta.Observe(max(d, 0).Seconds()) }

// TimeToResolve implements incident.MeasureObserver.
func (m *Measures) TimeToResolve(d time.Duration) { m.ttr.Observe(max(d, 0).Seconds()) }

// TimeToAcknowledge implements incident.MeasureObserver: the Metrics of a
// process observe its incidents' measures.
func (m *Metrics) TimeToAcknowledge(d time.Duration) { m.measures.TimeToAcknowledge(d) }

// TimeToResolve implements incident.MeasureObserver.
func (m *Metrics) TimeToResolve(d time.Duration) { m.measures.TimeToResolve(d) }
