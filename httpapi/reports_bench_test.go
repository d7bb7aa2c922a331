package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
)

// BenchmarkReports10k is GET /api/v1/reports over 10,000 incidents written
// through the real store: two alerts each, most acknowledged through a
// link, annotated and resolved, one in ten reopened and resolved again
// (7 to 10 timeline entries). It reports the endpoint's time per request
// as p50 and p99, the process's CPU time per request, and the
// read/compute split of the last one (Server-Timing). Numbers: docs/benchmarks.md.
func BenchmarkReports10k(b *testing.B) {
	const n = 10_000
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	srv, s := reportsFixture(b, false, day.Add(8*24*time.Hour))
	seed(b, s, n, day)

	for _, format := range []string{"json", "csv"} {
		b.Run("format="+format, func(b *testing.B) {
			url := srv.URL + "/api/v1/reports?from=2026-11-02T00:00:00Z&to=2026-11-09T00:00:00Z&group_by=service&format=" + format
			var times []time.Duration
			var timing string
			cpu0 := processCPU(b)
			for b.Loop() {
				req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
				req.Header.Set("Authorization", "Bearer api-token")
				start := time.Now()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				times = append(times, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				if format == "json" && !strings.Contains(string(body), `"incidents":`+strconv.Itoa(n)+`,`) {
					b.Fatalf("the report does not cover %d incidents: %.300s", n, body)
				}
				timing = resp.Header.Get("Server-Timing")
			}
			// Process CPU per request (the HTTP client's share included):
			// on a machine others load, wall time says more about them.
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/1000/float64(len(times)), "cpu-ms/op")
			slices.Sort(times)
			b.ReportMetric(float64(times[(len(times)-1)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[(len(times)*99+99)/100-1].Microseconds())/1000, "p99-ms")
			b.Logf("%d requests; last Server-Timing: %s", len(times), timing)
		})
	}
}

// seed writes n incidents over the week from day, eight writers at once.
func seed(b *testing.B, s *dedupe.Store, n int, day time.Time) {
	b.Helper()
	services := []string{"checkout", "search", "db", "web", "auth"}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if err := seedOne(b, s, i, day.Add(time.Duration(i)*(7*24*time.Hour/time.Duration(n))), services[i%len(services)]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d incidents in %v", n, time.Since(start).Round(time.Millisecond))
}

func seedOne(b *testing.B, s *dedupe.Store, i int, t time.Time, service string) error {
	ctx := b.Context()
	fp := "i" + strconv.Itoa(i)
	g := dedupe.Group{Route: "default", Key: fp, Settings: dedupe.Settings{AutoResolve: true, ReopenWindow: 10 * time.Minute}}
	mk := func(suffix string, st alertgate.AlertStatus) alertgate.Alert {
		return alertgate.Alert{Fingerprint: fp + suffix, Status: st, Source: "am", Summary: "down " + fp,
			Severity: alertgate.SeverityCritical, Service: service, StartsAt: t.Add(-time.Minute),
			Labels: map[string]string{"alertname": "Down", "instance": fp + suffix, "service": service}}
	}
	res, err := s.Ingest(ctx, g, dedupe.Delivery{Actor: "integration:am", Now: t,
		Alerts: []alertgate.Alert{mk("a", alertgate.Firing), mk("b", alertgate.Firing)}})
	if err != nil {
		return err
	}
	id := res.IncidentID
	step := func(a dedupe.Action, actor, msg string, after time.Duration) error {
		_, err := s.Transition(ctx, id, dedupe.Change{Action: a, Actor: actor, Message: msg, Now: t.Add(after)})
		return err
	}
	if i%7 != 0 { // one in seven is never acknowledged
		if err := step(dedupe.Acknowledge, "alice via link", "", time.Duration(30+i%600)*time.Second); err != nil {
			return err
		}
		if err := step(dedupe.Note, "user:alice", "looking", 15*time.Minute); err != nil {
			return err
		}
	}
	if i%20 == 0 {
		return nil // still open
	}
	end := time.Duration(20+i%100) * time.Minute
	if i%10 != 1 {
		return step(dedupe.Resolve, "user:alice", "", end)
	}
	// The sender resolves both alerts (an auto-resolve), one fires again
	// five minutes later (a reopen), and a person resolves it.
	if _, err := s.Ingest(ctx, g, dedupe.Delivery{Actor: "integration:am", Now: t.Add(end),
		Alerts: []alertgate.Alert{mk("a", alertgate.Resolved), mk("b", alertgate.Resolved)}}); err != nil {
		return fmt.Errorf("auto-resolve: %w", err)
	}
	res, err = s.Ingest(ctx, g, dedupe.Delivery{Actor: "integration:am", Now: t.Add(end + 5*time.Minute),
		Alerts: []alertgate.Alert{mk("a", alertgate.Firing)}})
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	if res.Outcome != dedupe.Reopened {
		return fmt.Errorf("reopen: %s, want reopened", res.Outcome)
	}
	return step(dedupe.Resolve, "user:alice", "", end+30*time.Minute)
}

func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
