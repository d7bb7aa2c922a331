package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeGateway stands in for alertgate: it checks each ingest request and
// answers 503 to every failEvery-th one (counting from 1), 200 otherwise.
type fakeGateway struct {
	t         *testing.T
	batch     int
	failEvery int64
	token     string

	requests atomic.Int64
	alerts   atomic.Int64

	mu      sync.Mutex
	groups  map[string]int
	answers map[int]int
}

func newFakeGateway(t *testing.T, batch int, failEvery int64) (*fakeGateway, *httptest.Server) {
	f := &fakeGateway{t: t, batch: batch, failEvery: failEvery, token: "tok", groups: map[string]int{}, answers: map[int]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	status := http.StatusOK
	defer func() {
		f.mu.Lock()
		f.answers[status]++
		f.mu.Unlock()
	}()
	if r.Method != http.MethodPost || r.URL.Path != "/hooks/alertmanager" {
		f.t.Errorf("request %s %s", r.Method, r.URL.Path)
		status = http.StatusNotFound
		http.Error(w, "not found", status)
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+f.token {
		f.t.Errorf("Authorization %q", got)
		status = http.StatusUnauthorized
		http.Error(w, "no", status)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type %q", ct)
	}
	var body testNotification
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("body: %v", err)
		status = http.StatusBadRequest
		http.Error(w, err.Error(), status)
		return
	}
	if len(body.Alerts) != f.batch {
		f.t.Errorf("%d alerts in a request, want %d", len(body.Alerts), f.batch)
	}
	f.mu.Lock()
	f.groups[body.GroupKey]++
	f.mu.Unlock()
	if f.failEvery > 0 && n%f.failEvery == 0 {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"error":{"code":"unavailable","message":"redis unavailable"}}`)
		return
	}
	f.alerts.Add(int64(len(body.Alerts)))
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"status":"ok","alerts":%d,"duplicates":1,"incidents":["inc-1"]}`, len(body.Alerts))
}

func runJSON(t *testing.T, args ...string) (report, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append(args, "-json"), &stdout, &stderr)
	var rep report
	if jerr := json.Unmarshal(stdout.Bytes(), &rep); jerr != nil {
		t.Fatalf("run %v: err %v; stdout is not a JSON report (%v):\n%s\nstderr:\n%s", args, err, jerr, stdout.String(), stderr.String())
	}
	return rep, err
}

func TestRunCountsByStatus(t *testing.T) {
	fake, srv := newFakeGateway(t, 3, 4) // every 4th request: 503
	args := []string{"-url", srv.URL, "-token", "tok", "-batch", "3", "-requests", "40", "-concurrency", "4", "-groups", "5"}

	rep, err := runJSON(t, args...)
	if err == nil || !strings.Contains(err.Error(), "10 of 40 requests failed") {
		t.Errorf("run with 503s: err %v, want 10 of 40 failed", err)
	}
	if got := fake.requests.Load(); got != 40 {
		t.Errorf("server saw %d requests, want 40", got)
	}
	if rep.Requests != 40 || rep.Successful != 30 || rep.Failed != 10 || rep.TransportErrors != 0 || rep.Canceled != 0 {
		t.Errorf("requests %d, successful %d, failed %d, transport errors %d, canceled %d; want 40, 30, 10, 0, 0",
			rep.Requests, rep.Successful, rep.Failed, rep.TransportErrors, rep.Canceled)
	}
	if want := map[string]int64{"200": 30, "503": 10}; fmt.Sprint(rep.ByStatus) != fmt.Sprint(want) {
		t.Errorf("by status %v, want %v", rep.ByStatus, want)
	}
	if rep.AlertsSent != 90 || rep.ServerAlerts != 90 || rep.ServerDups != 30 || rep.ServerAnswers != 30 {
		t.Errorf("alerts sent %d, server alerts %d, duplicates %d, answers %d; want 90, 90, 30, 30",
			rep.AlertsSent, rep.ServerAlerts, rep.ServerDups, rep.ServerAnswers)
	}
	if rep.LatencyMS.N != 30 {
		t.Errorf("latency over %d requests, want the 30 successful", rep.LatencyMS.N)
	}
	if l := rep.LatencyMS; l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
		t.Errorf("latency percentiles out of order: %+v", l)
	}
	if len(rep.Errors) == 0 || !strings.Contains(rep.Errors[0], "503") || !strings.Contains(rep.Errors[0], "Retry-After 5") {
		t.Errorf("error samples %q, want 503s with Retry-After", rep.Errors)
	}
	fake.mu.Lock()
	if len(fake.groups) != 5 {
		t.Errorf("server saw %d groups, want 5: %v", len(fake.groups), fake.groups)
	}
	fake.mu.Unlock()

	if _, err := runJSON(t, append(args, "-allow-errors")...); err != nil {
		t.Errorf("-allow-errors: %v", err)
	}
	if got := fake.alerts.Load(); got != 180 {
		t.Errorf("server accepted %d alerts over two runs, want 180", got)
	}
}

func TestRunTextReport(t *testing.T) {
	_, srv := newFakeGateway(t, 2, 5)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-url", srv.URL + "/", "-token", "tok", "-batch", "2", "-requests", "10", "-allow-errors"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	for _, want := range []string{
		"POST " + srv.URL + "/hooks/alertmanager",
		"sent        10 requests",
		"status 200  8\n",
		"status 503  2\n",
		"transport errors  0\n",
		"(successful only: 8 requests, 16 alerts)",
		"latency     p50 ",
		"FAILED      2 requests",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr.String(), "503 Service Unavailable") {
		t.Errorf("stderr lacks the 503 sample:\n%s", stderr.String())
	}
}

func TestRunTransportErrors(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close() // hang up without an answer
	}))
	defer srv.Close()
	rep, err := runJSON(t, "-url", srv.URL, "-requests", "6", "-concurrency", "2")
	if err == nil {
		t.Error("run against a server that hangs up: no error")
	}
	if rep.Requests != 6 || rep.TransportErrors != 6 || rep.Successful != 0 || rep.Failed != 6 || len(rep.ByStatus) != 0 {
		t.Errorf("report %+v, want 6 requests, all transport errors", rep)
	}
	if rep.LatencyMS.N != 0 || rep.RequestsPerSec != 0 {
		t.Errorf("latency or throughput from failed requests: %+v, %g req/s", rep.LatencyMS, rep.RequestsPerSec)
	}
	if hits.Load() != 6 {
		t.Errorf("server saw %d requests, want 6 (no retries)", hits.Load())
	}
}

func TestRunVerify(t *testing.T) {
	fake, hooks := newFakeGateway(t, 4, 0)
	// Three pages of incidents: 2 + 2 + 1 with alert counts 1..5.
	var pages atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/hooks/", hooks.Config.Handler)
	mux.HandleFunc("GET /api/v1/incidents", func(w http.ResponseWriter, r *http.Request) {
		pages.Add(1)
		q := r.URL.Query()
		if r.Header.Get("Authorization") != "Bearer api" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		if q.Get("status") != "triggered" || q.Get("limit") != "500" {
			t.Errorf("incidents query %q", r.URL.RawQuery)
		}
		page, next := []string{`{"id":"a","alert_count":1}`, `{"id":"b","alert_count":2}`}, "c2"
		switch q.Get("cursor") {
		case "":
		case "c2":
			page, next = []string{`{"id":"c","alert_count":3}`, `{"id":"d","alert_count":4}`}, "c3"
		case "c3":
			page, next = []string{`{"id":"e","alert_count":5,"status":"triggered"}`}, ""
		default:
			t.Errorf("cursor %q", q.Get("cursor"))
		}
		fmt.Fprintf(w, `{"incidents":[%s],"next_cursor":%s}`, strings.Join(page, ","), strconv.Quote(next))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	rep, err := runJSON(t, "-url", srv.URL, "-token", "tok", "-api-token", "api", "-batch", "4", "-requests", "8", "-verify")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verify == nil || *rep.Verify != (verifyResult{Incidents: 5, Alerts: 15, Pages: 3}) {
		t.Errorf("verify %+v, want 5 incidents, 15 alerts, 3 pages (error %q)", rep.Verify, rep.VerifyError)
	}
	if rep.Successful != 8 || fake.requests.Load() != 8 {
		t.Errorf("successful %d, server saw %d, want 8", rep.Successful, fake.requests.Load())
	}

	rep, err = runJSON(t, "-url", srv.URL, "-token", "tok", "-api-token", "wrong", "-batch", "4", "-requests", "1", "-verify")
	if err == nil || !strings.Contains(err.Error(), "401") || rep.VerifyError == "" {
		t.Errorf("verify with a wrong token: err %v, report error %q", err, rep.VerifyError)
	}
}

// A -duration run stops by itself; only its bookkeeping is checked.
func TestRunDuration(t *testing.T) {
	fake, srv := newFakeGateway(t, 1, 0)
	rep, err := runJSON(t, "-url", srv.URL, "-token", "tok", "-duration", "20ms", "-concurrency", "2")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != fake.requests.Load() || rep.Successful != rep.Requests || rep.ByStatus["200"] != rep.Requests {
		t.Errorf("report %+v; server saw %d", rep, fake.requests.Load())
	}
	if rep.LatencyMS.N != int(rep.Successful) {
		t.Errorf("latency over %d requests, %d successful", rep.LatencyMS.N, rep.Successful)
	}
}

func TestRunInterrupted(t *testing.T) {
	fake, srv := newFakeGateway(t, 1, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout bytes.Buffer
	err := run(ctx, []string{"-url", srv.URL, "-token", "tok", "-requests", "100"}, &stdout, io.Discard)
	if err == nil || err.Error() != "interrupted" {
		t.Errorf("err %v, want interrupted", err)
	}
	if fake.requests.Load() != 0 {
		t.Errorf("server saw %d requests after cancel", fake.requests.Load())
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "http://example.com:8080"},
		{"-url", "http://10.0.0.1:8080"},
		{"-url", "ftp://127.0.0.1"},
		{"-duration", "0"},
		{"-batch", "0"},
		{"-concurrency", "0"},
		{"-batch", "10", "-groups", "20", "-alerts", "100"},
		{"-resolve", "2"},
		{"-rate", "-1"},
		{"extra"},
		{"-no-such-flag"},
	} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		var u usageError
		if !errors.As(err, &u) || exitCode(err) != 2 {
			t.Errorf("%v: err %v, want a usage error (exit code 2)", args, err)
		}
	}
	for _, raw := range []string{"http://127.0.0.1:8080", "http://localhost:1/", "http://[::1]:8080"} {
		if _, err := checkBaseURL(raw); err != nil {
			t.Errorf("checkBaseURL(%q): %v", raw, err)
		}
	}
}
