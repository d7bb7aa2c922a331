package httpapi_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/snapshot"
)

const exportConfig = `
api:
  tokens: [api-token]
routes:
  - name: payments
    match: {team: payments}
    team: pay
users:
  - id: alice
    contacts: [{notifier: console, address: alice}]
teams:
  - id: pay
    members: [alice]
`

type exportFixture struct {
	srv    *httptest.Server
	store  *dedupe.Store
	rdb    redis.UniversalClient
	layout redisx.Layout
}

// newExportFixture serves exportConfig over the test Redis with the clock
// at now. The test fails on any ERROR log.
func newExportFixture(t *testing.T, now time.Time) *exportFixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte(exportConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	store := dedupe.NewStore(rdb, prefix)
	logger := slog.New(slog.NewJSONHandler(testlog.NewLog(t), nil))
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{
		Logger:    logger,
		Snapshot:  func() *snapshot.Snapshot { return snap },
		Incidents: incident.NewService(store, incident.Options{Logger: logger}),
		Metrics:   metrics.New(nil),
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Now:       func() time.Time { return now },
	}))
	t.Cleanup(srv.Close)
	return &exportFixture{srv: srv, store: store, rdb: rdb, layout: redisx.NewLayout(prefix)}
}

// openAlerts opens one incident of the alerts fps at t.
func openAlerts(t *testing.T, s *dedupe.Store, route, title, service string, at time.Time, fps ...string) string {
	t.Helper()
	var alerts []alertgate.Alert
	for _, fp := range fps {
		alerts = append(alerts, alertgate.Alert{Fingerprint: fp, Status: alertgate.Firing, Source: "am", Summary: title,
			Severity: alertgate.SeverityCritical, Service: service, Labels: map[string]string{"instance": fp}})
	}
	res, err := s.Ingest(context.Background(), dedupe.Group{Route: route, Key: fps[0]},
		dedupe.Delivery{Actor: "integration:am", Now: at, Alerts: alerts})
	if err != nil || res.IncidentID == "" {
		t.Fatalf("ingest %v: %v %+v", fps, err, res)
	}
	return res.IncidentID
}

func (f *exportFixture) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return getReport(t, f.srv, path, "api-token")
}

// jsonLines decodes a JSON-lines body, insisting on one object per line.
func jsonLines(t *testing.T, body string) []alertgate.Incident {
	t.Helper()
	var out []alertgate.Incident
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var inc alertgate.Incident
		if err := json.Unmarshal(sc.Bytes(), &inc); err != nil {
			t.Fatalf("line %q is not one incident: %v", sc.Text(), err)
		}
		out = append(out, inc)
	}
	if body != "" && !strings.HasSuffix(body, "\n") {
		t.Errorf("body does not end in a newline: %q", body)
	}
	return out
}

func ids(incs []alertgate.Incident) []string {
	var out []string
	for _, inc := range incs {
		out = append(out, inc.ID)
	}
	return out
}

func TestExportJSONLines(t *testing.T) {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	f := newExportFixture(t, day.Add(10*24*time.Hour))
	s := f.store
	a := openAlerts(t, s, "payments", "checkout down", "checkout", day.Add(10*time.Hour), "a1", "a2")
	act(t, s, a, dedupe.Acknowledge, "user:alice", day.Add(10*time.Hour+time.Minute))
	act(t, s, a, dedupe.Resolve, "user:alice", day.Add(10*time.Hour+time.Hour))
	b := openAlerts(t, s, "default", "search slow", "search", day.Add(11*time.Hour), "b1")
	c := openAlerts(t, s, "default", "at the end", "search", day.Add(24*time.Hour), "c1") // == to: outside [from, to)
	before := openAlerts(t, s, "default", "too early", "search", day.Add(-time.Millisecond), "d1")

	resp, body := f.get(t, "/api/v1/export?from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd, want := resp.Header.Get("Content-Disposition"), `attachment; filename="alertgate-incidents-20261102T000000Z-20261103T000000Z.jsonl"`; cd != want {
		t.Errorf("Content-Disposition %s, want %s", cd, want)
	}
	got := jsonLines(t, body)
	if want := []string{b, a}; !slices.Equal(ids(got), want) {
		t.Fatalf("exported %v, want %v newest first (not %s at to, nor %s before from)", ids(got), want, c, before)
	}
	// The whole incident, as GET /api/v1/incidents/{id} has it.
	full := got[1]
	if full.Status != alertgate.IncidentResolved || len(full.Alerts) != 2 || len(full.Timeline) < 3 || full.Route != "payments" {
		t.Errorf("exported incident %+v, want it resolved with its 2 alerts and timeline", full)
	}
	_, one := f.get(t, "/api/v1/incidents/"+a)
	if line := strings.SplitN(body, "\n", 3)[1]; strings.TrimSpace(one) != line {
		t.Errorf("export line\n%s\nis not GET /api/v1/incidents/%s\n%s", line, a, one)
	}

	// status filters; a range with nothing in it is an empty 200.
	_, body = f.get(t, "/api/v1/export?from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z&status=triggered")
	if got := ids(jsonLines(t, body)); !slices.Equal(got, []string{b}) {
		t.Errorf("status=triggered exported %v, want [%s]", got, b)
	}
	resp, body = f.get(t, "/api/v1/export?from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z")
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("empty range: %d %q, want 200 and nothing", resp.StatusCode, body)
	}
	// The default is the last 30 days to now: all four.
	_, body = f.get(t, "/api/v1/export")
	if got := ids(jsonLines(t, body)); !slices.Equal(got, []string{c, b, a, before}) {
		t.Errorf("default window exported %v, want %v", got, []string{c, b, a, before})
	}
}

// TestExportPages exports more incidents than one page of the listing
// holds, so the cursor is followed.
func TestExportPages(t *testing.T) {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	f := newExportFixture(t, day.Add(24*time.Hour))
	n := alertgate.MaxListLimit + 20
	var want []string
	for i := range n {
		want = append(want, openAlerts(t, f.store, "default", "x", "svc", day.Add(time.Duration(i)*time.Second), "fp"+strconv.Itoa(i)))
	}
	slices.Reverse(want)
	_, body := f.get(t, "/api/v1/export?format=csv&from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0])
	}
	if !slices.Equal(got, want) {
		t.Errorf("exported %d rows, want %d newest first without repeats", len(got), len(want))
	}
}

func TestExportCSV(t *testing.T) {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	f := newExportFixture(t, day.Add(24*time.Hour))
	s := f.store
	a := openAlerts(t, s, "payments", "=HYPERLINK(\"http://evil\")", "@checkout", day.Add(10*time.Hour), "a1", "a2")
	act(t, s, a, dedupe.Acknowledge, "user:alice", day.Add(10*time.Hour+90*time.Second))
	d, _, err := s.Declare(t.Context(), dedupe.Declaration{Title: "Checkout fails", Service: "payments",
		Severity: alertgate.SeverityError, Actor: "user:alice", Now: day.Add(12 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	resp, body := f.get(t, "/api/v1/export?format=csv&from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasSuffix(cd, `-20261103T000000Z.csv"`) {
		t.Errorf("Content-Disposition %s", cd)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"id", "title", "status", "severity", "service", "route", "team", "declared",
			"triggered_at", "acknowledged_at", "resolved_at", "alert_count", "reopened", "escalation_policy"},
		{d, "Checkout fails", "triggered", "error", "payments", "", "", "true",
			"2026-11-02T12:00:00Z", "", "", "0", "0", ""},
		{a, `'=HYPERLINK("http://evil")`, "acknowledged", "critical", "'@checkout", "payments", "pay", "false",
			"2026-11-02T10:00:00Z", "2026-11-02T10:01:30Z", "", "2", "0", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q, want %q", rows, want)
	}
	for i := range want {
		// A declared incident's route is whatever Declare gives it.
		if i == 1 {
			want[i][5], want[i][6] = rows[i][5], rows[i][6]
		}
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d\n got %q\nwant %q", i, rows[i], want[i])
		}
	}
}

// TestExportReduced: an incident whose alerts retention reduced (hash
// field "reduced", fewer alerts than alert_count) still exports, as it is.
func TestExportReduced(t *testing.T) {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	f := newExportFixture(t, day.Add(24*time.Hour))
	id := openAlerts(t, f.store, "default", "disk full", "db", day.Add(time.Hour), "r1", "r2", "r3")
	inc, err := f.store.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := redisx.IncidentShard(id)
	sh := f.layout.Shard(n)
	ctx := t.Context()
	keep := inc.Alerts[0].Key()
	for _, a := range inc.Alerts[1:] {
		f.rdb.HDel(ctx, sh.KeyOf(redisx.IncidentAlerts, id), a.Key())
		f.rdb.HDel(ctx, sh.KeyOf(redisx.AlertMeta, id), a.Key())
	}
	if err := f.rdb.HSet(ctx, sh.KeyOf(redisx.Incident, id), "reduced", day.Add(2*time.Hour).UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}

	_, body := f.get(t, "/api/v1/export?from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z")
	got := jsonLines(t, body)
	if len(got) != 1 || got[0].ID != id || got[0].AlertCount != 3 || len(got[0].Alerts) != 1 || got[0].Alerts[0].Key() != keep {
		t.Fatalf("reduced incident exported as %+v, want it with alert_count 3 and its one kept alert", got)
	}
	_, body = f.get(t, "/api/v1/export?format=csv&from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z")
	if rows, err := csv.NewReader(strings.NewReader(body)).ReadAll(); err != nil || len(rows) != 2 || rows[1][0] != id || rows[1][11] != "3" {
		t.Errorf("reduced incident's CSV %q (%v)", rows, err)
	}
}

func TestExportBadParams(t *testing.T) {
	f := newExportFixture(t, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	for _, c := range []struct{ query, field string }{
		{"from=yesterday", "from"},
		{"to=2026-13-01T00:00:00Z", "to"},
		{"from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "from"},
		{"from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z", "from"},
		{"from=2025-01-01T00:00:00Z&to=2026-11-01T00:00:00Z", "from"}, // more than a year
		{"format=xlsx", "format"},
		{"format=json", "format"},
		{"status=open", "status"},
	} {
		resp, body := f.get(t, "/api/v1/export?"+c.query)
		var e struct {
			Error struct{ Code, Field, Message string } `json:"error"`
		}
		_ = json.Unmarshal([]byte(body), &e)
		if resp.StatusCode != http.StatusBadRequest || e.Error.Field != c.field {
			t.Errorf("%s: %d %s, want 400 naming %s", c.query, resp.StatusCode, body, c.field)
		}
	}
	// A year exactly is fine; and the export needs a token.
	if resp, body := f.get(t, "/api/v1/export?from=2025-11-02T00:00:00Z&to=2026-11-02T00:00:00Z"); resp.StatusCode != http.StatusOK {
		t.Errorf("a year: %d %s", resp.StatusCode, body)
	}
	if resp, _ := getReport(t, f.srv, "/api/v1/export", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", resp.StatusCode)
	}
}
