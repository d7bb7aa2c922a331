package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/snapshot"
)

const testConfig = `
api:
  tokens: [api-token]
ingest:
  max_body_bytes: 4096
integrations:
  - name: am
    type: alertmanager
    tokens: [old-token, am-token]
  - name: pd
    type: pagerduty
    routing_keys: [0123456789abcdef0123456789abcdef]
`

type fixture struct {
	srv    *httptest.Server
	log    *bytes.Buffer
	rdb    redis.UniversalClient
	prefix string
}

// newFixture serves testConfig over the test Redis. The test fails on any
// ERROR log, except those logOpts allow.
func newFixture(t *testing.T, logOpts ...testlog.Option) *fixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte(testConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	store := dedupe.NewStore(rdb, prefix)
	logBuf := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(io.MultiWriter(logBuf, testlog.NewLog(t, logOpts...)), nil)) // fails the test on any ERROR
	m := metrics.New(store.Counts)
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	h := httpapi.NewServer(httpapi.Deps{
		Logger:    logger,
		Snapshot:  current.Load,
		Incidents: incident.NewService(store, incident.Options{Logger: logger, Observer: m}),
		Metrics:   m,
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, log: logBuf, rdb: rdb, prefix: prefix}
}

func (f *fixture) do(t testing.TB, method, path, token, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func amBody(status string, fps ...string) string {
	var alerts []string
	for _, fp := range fps {
		alerts = append(alerts, `{"status":"`+status+`","labels":{"alertname":"Down","instance":"`+fp+`","severity":"critical"},
			"annotations":{"summary":"Down `+fp+`"},"startsAt":"2026-11-25T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"`+fp+`"}`)
	}
	return `{"version":"4","groupKey":"{}:{alertname=\"Down\"}","status":"` + status + `","receiver":"x","groupLabels":{},"commonLabels":{},
		"commonAnnotations":{},"externalURL":"http://am:9093","alerts":[` + strings.Join(alerts, ",") + `]}`
}

func TestIngestAndIncidentAPI(t *testing.T) {
	f := newFixture(t)

	resp, body := f.do(t, "POST", "/hooks/am", "am-token", amBody("firing", "aaaa", "bbbb"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	var ing struct {
		Alerts    int      `json:"alerts"`
		Incidents []string `json:"incidents"`
	}
	mustJSON(t, body, &ing)
	if ing.Alerts != 2 || len(ing.Incidents) != 1 {
		t.Fatalf("ingest response %s: want 2 alerts in 1 incident", body)
	}
	id := ing.Incidents[0]

	// The same delivery again, with the rotated-out token and in the query.
	resp, body = f.do(t, "POST", "/hooks/am?token=old-token", "", amBody("firing", "aaaa", "bbbb"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"duplicates":2`) {
		t.Fatalf("re-delivery: %d %s, want 200 with 2 duplicates", resp.StatusCode, body)
	}

	resp, body = f.do(t, "GET", "/api/v1/incidents/"+id, "api-token", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	var inc alertgate.Incident
	mustJSON(t, body, &inc)
	if inc.Status != alertgate.Triggered || inc.AlertCount != 2 || inc.Severity != alertgate.SeverityCritical || len(inc.Timeline) == 0 {
		t.Fatalf("incident: %+v", inc)
	}

	steps := []struct {
		path, body string
		want       int
		wantStatus alertgate.IncidentStatus
	}{
		{"/acknowledge", `{"actor":"alice"}`, 200, alertgate.Acknowledged},
		{"/acknowledge", ``, 200, alertgate.Acknowledged},
		{"/notes", `{"text":"rolled back the deploy","actor":"alice"}`, 200, alertgate.Acknowledged},
		{"/notes", `{"text":"  "}`, 400, ""},
		{"/notes", `{"txt":"typo"}`, 400, ""},
		{"/resolve", ``, 200, alertgate.IncidentResolved},
		{"/resolve", ``, 200, alertgate.IncidentResolved},
		{"/acknowledge", ``, 409, ""},
	}
	for _, st := range steps {
		resp, body := f.do(t, "POST", "/api/v1/incidents/"+id+st.path, "api-token", st.body)
		if resp.StatusCode != st.want {
			t.Fatalf("POST %s %s: %d %s, want %d", st.path, st.body, resp.StatusCode, body, st.want)
		}
		if st.wantStatus != "" {
			var got alertgate.Incident
			mustJSON(t, body, &got)
			if got.Status != st.wantStatus {
				t.Fatalf("POST %s: status %s, want %s", st.path, got.Status, st.wantStatus)
			}
		}
	}

	resp, body = f.do(t, "GET", "/api/v1/incidents?status=resolved&limit=10", "api-token", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"id":"`+id+`"`) {
		t.Fatalf("list resolved: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do(t, "GET", "/api/v1/incidents?status=triggered", "api-token", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"incidents":[]`) {
		t.Fatalf("list triggered: %d %s, want an empty list", resp.StatusCode, body)
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, method, path, token, body string
		want                            int
		wantInBody                      string
	}{
		{"unknown integration", "POST", "/hooks/nope", "am-token", "{}", 404, "nope"},
		{"wrong method", "GET", "/hooks/am", "am-token", "", 405, "method"},
		{"no token", "POST", "/hooks/am", "", amBody("firing", "a"), 401, "token"},
		{"wrong token", "POST", "/hooks/am", "api-token", amBody("firing", "a"), 401, "token"},
		{"body over the limit", "POST", "/hooks/am", "am-token", strings.Repeat(" ", 5000), 413, "limit"},
		{"malformed body", "POST", "/hooks/am", "am-token", "{", 400, "body"},
		{"wrong version", "POST", "/hooks/am", "am-token", strings.Replace(amBody("firing", "a"), `"4"`, `"3"`, 1), 400, "version"},
		{"api without token", "GET", "/api/v1/incidents", "", "", 401, "token"},
		{"api bad status", "GET", "/api/v1/incidents?status=open", "api-token", "", 400, "status"},
		{"api bad since", "GET", "/api/v1/incidents?since=yesterday", "api-token", "", 400, "since"},
		{"api bad limit", "GET", "/api/v1/incidents?limit=0", "api-token", "", 400, "limit"},
		{"api unknown incident", "GET", "/api/v1/incidents/12345", "api-token", "", 404, "not found"},
		{"api non-numeric incident", "POST", "/api/v1/incidents/abc/acknowledge", "api-token", "", 404, "not found"},
		{"pagerduty unknown key", "POST", "/v2/enqueue", "", `{"routing_key":"nope","event_action":"trigger"}`, 400, "routing_key"},
		{"pagerduty invalid", "POST", "/v2/enqueue", "", `{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger"}`, 400, "invalid event"},
		{"no such endpoint", "GET", "/nope", "", "", 404, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, tt.method, tt.path, tt.token, tt.body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.want)
			}
			if !strings.Contains(string(body), tt.wantInBody) {
				t.Fatalf("body %s does not mention %q", body, tt.wantInBody)
			}
			if !json.Valid(body) {
				t.Fatalf("body is not JSON: %s", body)
			}
		})
	}
	if !strings.Contains(f.log.String(), `"msg":"ingest rejected"`) {
		t.Errorf("rejections were not logged: %s", f.log.String())
	}
}

func TestPagerDutyEvents(t *testing.T) {
	f := newFixture(t)
	const key = "0123456789abcdef0123456789abcdef"
	trigger := `{"routing_key":"` + key + `","event_action":"trigger","dedup_key":"disk/web-1",
		"payload":{"summary":"Disk full","source":"web-1","severity":"critical"}}`
	resp, body := f.do(t, "POST", "/v2/enqueue", "", trigger)
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(body), `"dedup_key":"disk/web-1"`) {
		t.Fatalf("trigger: %d %s", resp.StatusCode, body)
	}
	ack := `{"routing_key":"` + key + `","event_action":"acknowledge","dedup_key":"disk/web-1"}`
	if resp, body := f.do(t, "POST", "/v2/enqueue", "", ack); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("acknowledge: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do(t, "GET", "/api/v1/incidents?status=acknowledged", "api-token", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"title":"Disk full"`) {
		t.Fatalf("after PagerDuty acknowledge: %d %s, want the incident acknowledged", resp.StatusCode, body)
	}
	resolve := `{"routing_key":"` + key + `","event_action":"resolve","dedup_key":"disk/web-1"}`
	if resp, body := f.do(t, "POST", "/v2/enqueue", "", resolve); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("resolve: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do(t, "GET", "/api/v1/incidents?status=resolved", "api-token", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"title":"Disk full"`) {
		t.Fatalf("after PagerDuty resolve: %d %s, want the incident resolved", resp.StatusCode, body)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, body := f.do(t, "GET", p, "", ""); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	f.do(t, "POST", "/hooks/am", "am-token", amBody("firing", "x1"))
	f.do(t, "POST", "/hooks/am", "am-token", amBody("firing", "x1"))
	f.do(t, "POST", "/hooks/am", "", amBody("firing", "x1"))
	_, body := f.do(t, "GET", "/metrics", "", "")
	for _, want := range []string{
		`alertgate_alerts_received_total{integration="am",outcome="accepted"} 2`,
		`alertgate_dedupe_hits_total{integration="am"} 1`,
		`alertgate_requests_rejected_total{code="401",integration="am"} 1`,
		`alertgate_incidents{status="triggered"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}
