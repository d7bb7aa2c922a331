// Package metrics defines alertgate's Prometheus metrics in one place.
package metrics

import (
	"context"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
)

// Alert outcomes, the "outcome" label of alertgate_alerts_received_total.
const (
	OutcomeAccepted    = "accepted"    // committed to Redis
	OutcomeInvalid     = "invalid"     // 4xx: can never succeed
	OutcomeUnavailable = "unavailable" // 503: the sender retries
)

// Metrics is the set of collectors; one per process.
type Metrics struct {
	Registry *prometheus.Registry

	alertsReceived *prometheus.CounterVec
	rejections     *prometheus.CounterVec
	dedupeHits     *prometheus.CounterVec
	incidentEvents *prometheus.CounterVec
	redisLatency   *prometheus.HistogramVec
	configReloads  *prometheus.CounterVec
}

// New registers every collector on a fresh registry. counts feeds the
// incidents-by-state gauge at scrape time.
func New(counts func(context.Context) (map[alertgate.IncidentStatus]int64, error)) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		alertsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_alerts_received_total",
			Help: "Alerts received, by integration and outcome (accepted, invalid, unavailable).",
		}, []string{"integration", "outcome"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_requests_rejected_total",
			Help: "Ingest requests answered with an error, by integration and HTTP status.",
		}, []string{"integration", "code"}),
		dedupeHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_dedupe_hits_total",
			Help: "Alerts received again unchanged (deduplicated), by integration.",
		}, []string{"integration"}),
		incidentEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_incident_events_total",
			Help: "Incidents opened, reopened and auto-resolved by ingest.",
		}, []string{"event"}),
		redisLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alertgate_redis_command_duration_seconds",
			Help:    "Latency of Redis commands and pipelines, by outcome.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"outcome"}),
		configReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_config_reloads_total",
			Help: "Configuration reloads, by result (success, failure).",
		}, []string{"result"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.alertsReceived, m.rejections, m.dedupeHits, m.incidentEvents, m.redisLatency, m.configReloads,
	)
	if counts != nil {
		m.Registry.MustRegister(&incidentsCollector{counts: counts, desc: prometheus.NewDesc(
			"alertgate_incidents", "Incidents by status.", []string{"status"}, nil)})
	}
	return m
}

// AlertsReceived counts n alerts of one integration with an outcome.
func (m *Metrics) AlertsReceived(integration, outcome string, n int) {
	m.alertsReceived.WithLabelValues(integration, outcome).Add(float64(n))
}

// Rejected counts one request answered with an error status.
func (m *Metrics) Rejected(integration string, status int) {
	m.rejections.WithLabelValues(integration, statusText(status)).Inc()
}

// ConfigReloaded counts a reload.
func (m *Metrics) ConfigReloaded(ok bool) {
	r := "success"
	if !ok {
		r = "failure"
	}
	m.configReloads.WithLabelValues(r).Inc()
}

// Ingested implements incident.Observer.
func (m *Metrics) Ingested(integration string, r dedupe.Result) {
	if r.Duplicates > 0 {
		m.dedupeHits.WithLabelValues(integration).Add(float64(r.Duplicates))
	}
	switch r.Outcome {
	case dedupe.Opened, dedupe.Reopened, dedupe.Resolved:
		m.incidentEvents.WithLabelValues(string(r.Outcome)).Inc()
	}
}

func statusText(code int) string {
	const digits = "0123456789"
	if code < 100 || code > 999 {
		return "other"
	}
	return string([]byte{digits[code/100], digits[code/10%10], digits[code%10]})
}

type incidentsCollector struct {
	counts func(context.Context) (map[alertgate.IncidentStatus]int64, error)
	desc   *prometheus.Desc
}

func (c *incidentsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *incidentsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, st := range []alertgate.IncidentStatus{alertgate.Triggered, alertgate.Acknowledged, alertgate.IncidentResolved} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}

// RedisHook returns a go-redis hook that times every command and pipeline.
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m.redisLatency} }

type redisHook struct{ h *prometheus.HistogramVec }

func (redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (r redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		r.observe(start, err)
		return err
	}
}

func (r redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		r.observe(start, err)
		return err
	}
}

func (r redisHook) observe(start time.Time, err error) {
	outcome := "ok"
	if err != nil && err != redis.Nil { //nolint:errorlint // go-redis returns redis.Nil itself
		outcome = "error"
	}
	r.h.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
}
