package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Escalation counts what the escalation engine commits; it implements
// escalation.Observer. Register it once, on the process's registry.
type Escalation struct {
	steps   prometheus.Counter
	pages   prometheus.Counter
	refused prometheus.Counter
	lag     prometheus.Histogram
}

// NewEscalation registers the escalation metrics on reg.
func NewEscalation(reg prometheus.Registerer) *Escalation {
	e := &Escalation{
		steps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "alertgate_escalation_steps_total",
			Help: "Escalation steps committed (each once, by one replica), skipped steps and policy ends included.",
		}),
		pages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "alertgate_escalation_pages_total",
			Help: "Pages escalation steps put in the outbox, one per person per step.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "alertgate_escalation_commits_refused_total",
			Help: "Step commits the fencing check refused: the claim's lease ran out and another replica took the step, or the incident was acknowledged, resolved or escalated meanwhile. A few are normal; many mean passes take longer than escalation.lease.",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "alertgate_escalation_lag_seconds",
			Help:    "Time from a step falling due to its commit.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
	}
	reg.MustRegister(e.steps, e.pages, e.refused, e.lag)
	return e
}

// StepCommitted implements escalation.Observer.
func (e *Escalation) StepCommitted(lag time.Duration, pages int) {
	e.steps.Inc()
	e.pages.Add(float64(pages))
	e.lag.Observe(max(lag, 0).Seconds())
}

// CommitRefused implements escalation.Observer.
func (e *Escalation) CommitRefused() { e.refused.Inc() }
