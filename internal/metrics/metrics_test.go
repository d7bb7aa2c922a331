package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/metrics"
)

// scrape serves /metrics as httpapi does and returns the status and body.
func scrape(t *testing.T, m *metrics.Metrics) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

// Some activity, so every family of ours has a sample to show.
func record(m *metrics.Metrics) {
	m.AlertsReceived("am", metrics.OutcomeUnavailable, 3)
	m.Rejected("am", http.StatusServiceUnavailable)
	m.ConfigReloaded(true)
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("scrape lacks %q:\n%s", w, body)
		}
	}
}

// Defect 6: while Redis is down or stalled the scrape must still answer 200
// with every other metric, above all the 503 counters of the outage.
func TestScrapeSurvivesAFailingCount(t *testing.T) {
	tests := []struct {
		name   string
		counts metrics.CountsFunc
	}{
		{"count fails", func(context.Context) (map[alertgate.IncidentStatus]int64, error) {
			return nil, alertgate.Unavailable("redis unavailable", errors.New("dial tcp: connection refused"))
		}},
		{"count blocks until its context ends", func(ctx context.Context) (map[alertgate.IncidentStatus]int64, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}},
		{"count panics", func(context.Context) (map[alertgate.IncidentStatus]int64, error) {
			panic("boom")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New(tt.counts, metrics.WithCountsTimeout(10*time.Millisecond))
			record(m)
			for i, wantErrors := range []string{"1", "2"} {
				code, body := scrape(t, m)
				if code != http.StatusOK {
					t.Fatalf("scrape %d: status %d, want 200:\n%s", i, code, body)
				}
				mustContain(t, body,
					`alertgate_alerts_received_total{integration="am",outcome="unavailable"} 3`,
					`alertgate_requests_rejected_total{code="503",integration="am"} 1`,
					`alertgate_config_reloads_total{result="success"} 1`,
					"go_goroutines ",
					"alertgate_incidents_count_errors_total "+wantErrors+"\n",
				)
				if strings.Contains(body, "alertgate_incidents{") {
					t.Errorf("scrape %d shows an incident count although counting failed:\n%s", i, body)
				}
			}
		})
	}
}

// The timeout holds even when the counts func ignores its context, and
// scrapes meanwhile join the count in flight instead of piling up more.
func TestStalledCountIsBoundedAndNotRepeated(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	m := metrics.New(func(context.Context) (map[alertgate.IncidentStatus]int64, error) {
		if calls.Add(1) == 1 {
			<-release // ignores ctx: a client stuck in a read
			return nil, errors.New("stuck")
		}
		return map[alertgate.IncidentStatus]int64{alertgate.Triggered: 2, alertgate.Acknowledged: 1}, nil
	}, metrics.WithCountsTimeout(10*time.Millisecond))

	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if code, body := scrape(t, m); code != http.StatusOK || strings.Contains(body, "alertgate_incidents{") {
				t.Errorf("scrape during a stalled count: %d\n%s", code, body)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("three scrapes during one stalled count called counts %d times, want 1", n)
	}
	_, body := scrape(t, m)
	mustContain(t, body, "alertgate_incidents_count_errors_total 4\n")
	close(release)

	// Once the stuck count ends, the next scrape counts afresh. The stuck
	// call clears itself just after it returns, so wait for that.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body = scrape(t, m)
		if strings.Contains(body, `alertgate_incidents{status="triggered"} 2`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no incident count within 10s of the stalled count ending:\n%s", body)
		}
	}
	mustContain(t, body, `alertgate_incidents{status="acknowledged"} 1`, `alertgate_incidents{status="resolved"} 0`)
}

func TestScrapeWithAWorkingCount(t *testing.T) {
	var gotDeadline atomic.Bool
	m := metrics.New(func(ctx context.Context) (map[alertgate.IncidentStatus]int64, error) {
		_, ok := ctx.Deadline()
		gotDeadline.Store(ok)
		return map[alertgate.IncidentStatus]int64{alertgate.Triggered: 4, alertgate.IncidentResolved: 9}, nil
	})
	code, body := scrape(t, m)
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	mustContain(t, body,
		`alertgate_incidents{status="triggered"} 4`,
		`alertgate_incidents{status="acknowledged"} 0`,
		`alertgate_incidents{status="resolved"} 9`,
		"alertgate_incidents_count_errors_total 0\n",
	)
	if !gotDeadline.Load() {
		t.Error("the counts func got a context without a deadline")
	}
}

func TestNoCountsNoGauge(t *testing.T) {
	code, body := scrape(t, metrics.New(nil))
	if code != http.StatusOK || strings.Contains(body, "alertgate_incidents") {
		t.Fatalf("metrics.New(nil): %d\n%s", code, body)
	}
}
