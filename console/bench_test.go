package console_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
)

// BenchmarkPages: the incident list and an incident page with 10,000
// incidents in Redis (the bar: server time p99 under 200 ms).
// Each request is served in-process (httptest.NewRecorder), so the
// times are the server's, Redis round trips included. Run:
//
//	ALERTGATE_TEST_REDIS_ADDR=127.0.0.1:6379 go test -run '^$' -bench BenchmarkPages -benchtime 200x ./console/
func BenchmarkPages(b *testing.B) {
	f := newFixture(b)
	const incidents = 10_000
	sevs := alertgate.Severities
	var last string
	for start := 0; start < incidents; start += 500 {
		batch := alertgate.Batch{}
		for i := start; i < start+500; i++ {
			name := "Bench" + strconv.Itoa(i)
			service := []string{"db", "web"}[i%2]
			batch.Alerts = append(batch.Alerts, alertgate.Alert{Fingerprint: name, Status: alertgate.Firing, Source: "am",
				Labels:      map[string]string{"alertname": name, "service": service, "instance": "host-" + strconv.Itoa(i%37)},
				Annotations: map[string]string{"description": "something is wrong with " + name}, Summary: name + " is failing",
				Severity: sevs[i%len(sevs)], Service: service, StartsAt: f.now.Add(-time.Duration(incidents-i) * time.Second)})
		}
		acc, err := f.svc.Accept(b.Context(), f.snap.Routes, "am", batch, false)
		if err != nil {
			b.Fatal(err)
		}
		last = acc.Incidents[len(acc.Incidents)-1]
	}
	h := f.srv.Config.Handler
	for _, bc := range []struct{ name, path string }{
		{"list", "/incidents"},
		{"list-filtered", "/incidents?severity=critical&team=ops"},
		{"list-sorted", "/incidents?sort=severity"},
		{"incident", "/incidents/" + last},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, bc.path, nil)
				req.AddCookie(f.cookie)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				times = append(times, time.Since(t0))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", bc.path, rec.Code, rec.Body)
				}
			}
			slices.Sort(times)
			pct := func(p float64) float64 {
				return float64(times[min(len(times)-1, int(float64(len(times))*p))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
