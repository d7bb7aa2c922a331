package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/internal/redistest"
)

// pageWait bounds the wait for one page: far above any latency worth
// measuring, so only a page that never comes ends the benchmark.
const pageWait = 10 * time.Second

// BenchmarkFirstPage measures how long a new incident takes to page
// somebody: from just before an Alertmanager webhook with one new alert
// (a group of its own, so a new incident) is posted to /hooks/am, to the
// arrival of the page at a generic webhook receiver on loopback. The real
// binary runs with the default escalation and delivery poll intervals
// (250 ms), a route with group_wait 0s and a policy whose one step pages
// the webhook notifier itself. Alerts are posted one at a time, each
// after the previous page arrived and a random pause of up to one poll
// interval (outside the timer), so what is measured is latency, not
// throughput. Reported: page-p50-ms, page-p99-ms and page-max-ms over
// the iterations, and ingest-p50-ms (the webhook's own answer).
//
//	go test -run '^$' -bench FirstPage -benchtime 200x -count 5 ./e2e/
func BenchmarkFirstPage(b *testing.B) {
	if alertgateBin == "" {
		b.Skip("e2e benchmarks run the real binary; skipped with -short")
	}
	_, prefix := redistest.New(b)
	sink := newPageSink(b)
	path := filepath.Join(b.TempDir(), "alertgate.yaml")
	if err := os.WriteFile(path, []byte(firstPageConfig(prefix, testRedisURL(), sink.URL)), 0o600); err != nil {
		b.Fatal(err)
	}
	url := startBenchGate(b, path)
	client := newClient()
	b.Cleanup(client.CloseIdleConnections)

	// One page before timing: connections, loaded scripts, consumer groups.
	post := func(n int) (ingest, page time.Duration) {
		body := firstPageAlert(b, n)
		start := time.Now()
		req, err := http.NewRequest(http.MethodPost, url+"/hooks/am", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header = jsonHeader(amToken)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatalf("POST /hooks/am: %v", err)
		}
		answer, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		ingest = time.Since(start)
		var acc ingestResponse
		if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(answer, &acc) != nil || len(acc.Incidents) != 1 {
			b.Fatalf("POST /hooks/am: %d %s (%v), want 200 with one incident", resp.StatusCode, truncate(answer, 500), err)
		}
		return ingest, sink.wait(b, acc.Incidents[0]).Sub(start)
	}
	post(-1)

	var pages, ingests []time.Duration
	n := 0
	for b.Loop() {
		// Alerts arrive at random moments of the poll cycle: posting right
		// after the last page arrived would lock each post to the same
		// phase of the loops' tickers.
		b.StopTimer()
		<-time.After(rand.N(config.DefaultEscalationPoll))
		b.StartTimer()
		ingest, page := post(n)
		n++
		ingests = append(ingests, ingest)
		pages = append(pages, page)
	}
	b.ReportMetric(quantileMs(pages, 0.5), "page-p50-ms")
	b.ReportMetric(quantileMs(pages, 0.99), "page-p99-ms")
	b.ReportMetric(quantileMs(pages, 1), "page-max-ms")
	b.ReportMetric(quantileMs(ingests, 0.5), "ingest-p50-ms")
}

// quantileMs is the q-quantile of ds in milliseconds (nearest rank).
func quantileMs(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, int(q*float64(len(s))))
	return float64(s[i]) / float64(time.Millisecond)
}

// firstPageConfig is gateConfig plus a webhook notifier to the sink, and a
// catch-all route, one incident per alertname, paged at once by a policy
// that pages the notifier. Poll intervals keep their defaults.
func firstPageConfig(prefix, redisURL, sinkURL string) string {
	return gateConfig(prefix, redisURL) + fmt.Sprintf(`notifiers:
  - {id: sink, type: webhook, url: %q}
escalation_policies:
  - id: first-page
    steps:
      - targets: [{notifier: sink}]
        delay: 1h
routes:
  - name: paging
    group_by: [alertname]
    escalation_policy: first-page
    group_wait: 0s
`, sinkURL)
}

// firstPageAlert is an Alertmanager webhook of one firing alert, alone in
// its group: alertname FirstPage<n>.
func firstPageAlert(b *testing.B, n int) []byte {
	name := fmt.Sprintf("FirstPage%d", n)
	body, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": fmt.Sprintf(`{}:{alertname=%q}`, name), "truncatedAlerts": 0,
		"status": "firing", "receiver": "gate",
		"groupLabels": map[string]string{"alertname": name}, "commonLabels": map[string]string{"alertname": name},
		"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager.invalid:9093",
		"alerts": []amAlert{{
			Status: "firing", Labels: map[string]string{"alertname": name, "severity": "critical"},
			Annotations: map[string]string{"summary": name + " is down"},
			StartsAt:    time.Now().UTC().Format(time.RFC3339Nano), EndsAt: "0001-01-01T00:00:00Z",
			Fingerprint: fingerprint(name, 0),
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// pageSink is the webhook receiver: it answers 200 at once and tells, in
// order, which incident each request paged and when it arrived.
type pageSink struct {
	URL      string
	arrivals chan pageArrival
}

type pageArrival struct {
	incident string
	at       time.Time
}

func newPageSink(b *testing.B) *pageSink {
	s := &pageSink{arrivals: make(chan pageArrival, 1024)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var page struct {
			Incident string `json:"incident_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&page); err != nil {
			b.Errorf("sink: undecodable page: %v", err)
		}
		s.arrivals <- pageArrival{page.Incident, at}
	}))
	b.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// wait returns when the page of incident arrived. Any other page first
// (a second page, a redelivery) fails the benchmark: alerts go one at a
// time, so the next page must be this one.
func (s *pageSink) wait(b *testing.B, incident string) time.Time {
	select {
	case a := <-s.arrivals:
		if a.incident != incident {
			b.Fatalf("sink: a page of incident %q arrived while waiting for %q's", a.incident, incident)
		}
		return a.at
	case <-time.After(pageWait):
		b.Fatalf("sink: no page of incident %s within %v", incident, pageWait)
		return time.Time{}
	}
}

// startBenchGate runs alertgate serve with the config at path, as
// startGate does for tests, and returns its URL once /readyz answers.
// When the benchmark ends it sends SIGTERM and fails the benchmark
// unless the server exits 0 without an ERROR log line.
func startBenchGate(b *testing.B, path string) string {
	stdout, stderr := newLineLog(), newLineLog()
	cmd := exec.Command(alertgateBin, "serve", "--config", path, "--listen", "127.0.0.1:0")
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start alertgate: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				b.Errorf("alertgate exited after SIGTERM: %v, want exit 0", err)
			}
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			b.Errorf("alertgate did not exit within %v of SIGTERM; killed (%v)", stopTimeout, <-done)
		}
		stderr.flush()
		for _, line := range stderr.Lines() {
			var l logLine
			if json.Unmarshal([]byte(line), &l) == nil && l.Level == "ERROR" {
				b.Errorf("alertgate logged an error: %s", line)
			}
		}
		if b.Failed() {
			b.Logf("alertgate stderr:\n%s", strings.Join(stderr.Lines(), "\n"))
		}
	})

	const banner = "alertgate listening on http://"
	deadline := time.After(startTimeout)
	from := 0
	for {
		line, ok, next, changed := stdout.find(from, func(s string) bool { return strings.HasPrefix(s, banner) })
		if ok {
			url := "http://" + strings.TrimSpace(strings.TrimPrefix(line, banner))
			waitBenchReady(b, url)
			return url
		}
		from = next
		select {
		case <-changed:
		case err := <-done:
			done <- err // for the cleanup
			b.Fatalf("alertgate exited (%v) before listening", err)
		case <-deadline:
			b.Fatalf("alertgate: no listening line within %v", startTimeout)
		}
	}
}

// waitBenchReady polls /readyz until it answers 200.
func waitBenchReady(b *testing.B, url string) {
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("alertgate /readyz not 200 within %v (last: %v)", startTimeout, err)
		}
		<-tick.C
	}
}
