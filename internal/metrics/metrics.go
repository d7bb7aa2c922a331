// Package metrics defines alertgate's Prometheus metrics in one place.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
)

// Alert outcomes, the "outcome" label of alertgate_alerts_received_total.
const (
	OutcomeAccepted    = "accepted"    // committed to Redis
	OutcomeInvalid     = "invalid"     // 4xx: can never succeed
	OutcomeUnavailable = "unavailable" // 503: the sender retries
	OutcomeFailed      = "failed"      // 500: our bug; the sender retries
	// OutcomeReadFailed counts deliveries whose body could not be read
	// whole (the sender stalled past the read timeout or hung up): 503, the
	// sender retries. Their alerts are unknown, so each such delivery
	// counts once.
	OutcomeReadFailed = "read_failed"
)

// DefaultCountsTimeout bounds the Redis count behind alertgate_incidents at
// each scrape. The count is 48 ZCARDs in one pipeline, well under a
// millisecond on a healthy Redis; a second means Redis is down or stalled,
// and waiting longer would only hold up the scrape that has to report it.
const DefaultCountsTimeout = time.Second

// CountsFunc counts incidents by status; dedupe.Store.Counts is one.
type CountsFunc func(context.Context) (map[alertgate.IncidentStatus]int64, error)

// Option configures New.
type Option func(*options)

type options struct {
	countsTimeout time.Duration
}

// WithCountsTimeout sets how long a scrape waits for the incident count
// (DefaultCountsTimeout when d <= 0).
func WithCountsTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.countsTimeout = d
		}
	}
}

// Metrics is the set of collectors; one per process.
type Metrics struct {
	Registry *prometheus.Registry

	alertsReceived *prometheus.CounterVec
	rejections     *prometheus.CounterVec
	dedupeHits     *prometheus.CounterVec
	incidentEvents *prometheus.CounterVec
	redisLatency   *prometheus.HistogramVec
	configReloads  *prometheus.CounterVec
	internalErrors *prometheus.CounterVec
	measures       *Measures // measures.go
}

// New registers every collector on a fresh registry. counts feeds the
// incidents-by-state gauge at scrape time; nil leaves the gauge out.
func New(counts CountsFunc, opts ...Option) *Metrics {
	o := options{countsTimeout: DefaultCountsTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		alertsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_alerts_received_total",
			Help: "Alerts received, by integration and outcome (accepted; unavailable: 503; failed: 500; read_failed: a delivery whose body could not be read, counted once as its alerts are unknown).",
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
			Help: "Incidents opened, reopened and auto-resolved by ingest; no_policy counts those opened or reopened with no escalation policy (nobody is paged).",
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
		internalErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alertgate_internal_errors_total",
			Help: "Requests answered 500 (a failed Redis script, stored data that does not decode, a panic), by where: ingest, pagerduty, api, panic. Each is logged at ERROR.",
		}, []string{"where"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.alertsReceived, m.rejections, m.dedupeHits, m.incidentEvents, m.redisLatency, m.configReloads, m.internalErrors,
	)
	m.measures = NewMeasures(m.Registry)
	if counts != nil {
		m.Registry.MustRegister(newIncidentsCollector(counts, o.countsTimeout))
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

// IncidentEvent implements incident.Observer.
func (m *Metrics) IncidentEvent(event string) { m.incidentEvents.WithLabelValues(event).Inc() }

// Duplicates implements incident.Observer.
func (m *Metrics) Duplicates(integration string, n int) {
	m.dedupeHits.WithLabelValues(integration).Add(float64(n))
}

// InternalError counts a request answered 500: our bug (a failed script,
// data that does not decode, a panic), which an operator must look at.
// where is "ingest", "pagerduty", "api" or "panic".
func (m *Metrics) InternalError(where string) { m.internalErrors.WithLabelValues(where).Inc() }

func statusText(code int) string {
	const digits = "0123456789"
	if code < 100 || code > 999 {
		return "other"
	}
	return string([]byte{digits[code/100], digits[code/10%10], digits[code%10]})
}

// incidentsCollector serves alertgate_incidents, counted in Redis at scrape
// time. The scrape must succeed while Redis is down: that is when the 503
// counters in the same scrape matter most. So the count is bounded by a
// timeout and, when it fails or times out, the gauge is left out of that
// scrape (Prometheus marks its series stale) and
// alertgate_incidents_count_errors_total goes up, in the same scrape. We
// do not serve the last good value: a count from before an outage, shown as
// current, would say all is well exactly when it is not.
//
// At most one count runs at a time: a scrape that arrives while one is
// running waits for that one instead of starting another, so concurrent
// scrapes of a stalled Redis do not pile up, and the timeout holds even for
// a counts func that ignores its context.
type incidentsCollector struct {
	counts  CountsFunc
	timeout time.Duration
	desc    *prometheus.Desc
	errors  prometheus.Counter

	mu      sync.Mutex
	running *countCall // the count in flight, nil if none
}

// countCall is one run of counts; done is closed when counts and err are set.
type countCall struct {
	done   chan struct{}
	counts map[alertgate.IncidentStatus]int64
	err    error
}

func newIncidentsCollector(counts CountsFunc, timeout time.Duration) *incidentsCollector {
	return &incidentsCollector{
		counts:  counts,
		timeout: timeout,
		desc: prometheus.NewDesc("alertgate_incidents",
			fmt.Sprintf("Incidents by status, counted in Redis at scrape time. Absent from a scrape whose count failed or took over %s (see alertgate_incidents_count_errors_total).", timeout),
			[]string{"status"}, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "alertgate_incidents_count_errors_total",
			Help: "Scrapes whose incident count in Redis failed or timed out, leaving alertgate_incidents out of that scrape.",
		}),
	}
}

func (c *incidentsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.errors.Desc()
}

func (c *incidentsCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.count()
	if err != nil {
		c.errors.Inc()
	} else {
		for _, st := range []alertgate.IncidentStatus{alertgate.Triggered, alertgate.Acknowledged, alertgate.IncidentResolved} {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), string(st))
		}
	}
	ch <- c.errors
}

// count joins the count in flight or starts one, and waits for it at most
// c.timeout.
func (c *incidentsCollector) count() (map[alertgate.IncidentStatus]int64, error) {
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	call := c.start()
	select {
	case <-call.done:
		return call.counts, call.err
	case <-timer.C:
		return nil, errCountTimeout
	}
}

var errCountTimeout = errors.New("incident count timed out")

func (c *incidentsCollector) start() *countCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running != nil {
		return c.running
	}
	call := &countCall{done: make(chan struct{})}
	c.running = call
	go func() {
		defer func() {
			if v := recover(); v != nil {
				call.err = fmt.Errorf("incident count panicked: %v", v)
			}
			c.mu.Lock()
			c.running = nil
			c.mu.Unlock()
			close(call.done)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		call.counts, call.err = c.counts(ctx)
	}()
	return call
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
