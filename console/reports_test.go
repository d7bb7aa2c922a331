package console_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/auth"
	"github.com/alertgate/alertgate/console"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/reports"
	"github.com/alertgate/alertgate/snapshot"
)

// reportWindow holds the fixtures' incidents: they trigger at 12:00, and
// a report's to is exclusive.
const reportWindow = "from=2026-12-01T11:00&to=2026-12-01T13:00"

// newReportFixture is newFixture with a clock the test moves, so the
// report's durations are not all zero; advance moves it.
func newReportFixture(t *testing.T) (f *fixture, advance func(time.Duration)) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte(testConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	clock := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	engine := escalation.New(rdb, prefix, escalation.Options{Directory: func() *escalation.Directory { return snap.Escalation }})
	svc := incident.NewService(dedupe.NewStore(rdb, prefix), incident.Options{Now: clock, Logger: slog.New(slog.DiscardHandler), Escalator: engine})
	sessions := auth.NewStore(rdb, prefix, auth.Options{Now: clock})
	h := console.New(console.Deps{Incidents: svc, Snapshot: func() *snapshot.Snapshot { return snap }, Sessions: sessions, Now: clock, Logger: testlog.New(t)})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	id, _, err := sessions.Create(t.Context(), "alice", "password", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f = &fixture{srv: srv, snap: snap, svc: svc, sessions: sessions, now: start,
		cookie: &http.Cookie{Name: auth.SessionCookie, Value: id}, csrf: auth.CSRFToken(id),
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	return f, func(d time.Duration) { offset.Add(int64(d)) }
}

// openReportIncidents opens two db incidents (one acknowledged and
// resolved, one open) and one web incident (acknowledged).
func openReportIncidents(t *testing.T, f *fixture, webService string) {
	t.Helper()
	db1 := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "DiskFull", "service": "db"}, Service: "db"})
	f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "Replica", "service": "db"}, Service: "db"})
	web := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "Slow", "service": "web"}, Service: webService, Severity: alertgate.SeverityWarning})
	by := incident.By{Actor: "user:bob"}
	for _, id := range []string{db1, web} {
		if _, err := f.svc.Acknowledge(t.Context(), id, by); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Resolve(t.Context(), db1, by); err != nil {
		t.Fatal(err)
	}
}

// wantReport is what reports.Compute makes of the fixture's incidents.
func wantReport(t *testing.T, f *fixture, groupBy reports.GroupBy) reports.Report {
	t.Helper()
	from, to := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	incs, err := f.svc.History(t.Context(), from, to, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return reports.Compute(incs, incident.ReportOptions(f.snap, from, to, groupBy, f.now))
}

var cellRE = regexp.MustCompile(`(?s)<td data-label="[^"]*" class="([a-z0-9-]+)">(.*?)</td>`)

// rowCells reads the cells of the table row of group key.
func rowCells(t *testing.T, body, key string) map[string]string {
	t.Helper()
	row := between(body, `<tr class="group" data-group="`+key+`">`, "</tr>")
	if row == "" {
		t.Fatalf("no row for group %q", key)
	}
	cells := map[string]string{}
	for _, m := range cellRE.FindAllStringSubmatch(row, -1) {
		cells[m[1]] = m[2]
	}
	return cells
}

func TestReportsPageMatchesCompute(t *testing.T) {
	f, advance := newReportFixture(t)
	openReportIncidents(t, f, "web")
	// Durations to tell median from p90 and MTTA from MTTR: three more db
	// incidents, acknowledged after 45 s, 5 m and 20 m; the last two
	// resolved after 1 h and 2 h 30 m 15 s.
	var ids []string
	for _, name := range []string{"Late1", "Late2", "Late3"} {
		ids = append(ids, f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": name, "service": "db"}, Service: "db", StartsAt: f.now}))
	}
	by := incident.By{Actor: "user:alice"}
	step := func(d time.Duration, do func(context.Context, string, incident.By) (*alertgate.Incident, error), id string) {
		t.Helper()
		advance(d)
		if _, err := do(t.Context(), id, by); err != nil {
			t.Fatal(err)
		}
	}
	step(45*time.Second, f.svc.Acknowledge, ids[2])
	step(5*time.Minute-45*time.Second, f.svc.Acknowledge, ids[0])
	step(15*time.Minute, f.svc.Acknowledge, ids[1])
	step(40*time.Minute, f.svc.Resolve, ids[0])
	step(90*time.Minute+15*time.Second, f.svc.Resolve, ids[1])
	f.now = f.now.Add(2*time.Hour + 30*time.Minute + 15*time.Second)
	resp, body := f.get(t, "/reports?group_by=service&"+reportWindow)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /reports: %d %s", resp.StatusCode, body)
	}
	mustContain(t, body, `<a href="/reports" aria-current="page">Reports</a>`, `<canvas id="chart-tta"`, `<canvas id="chart-ttr"`,
		`<script src="/static/vendor/chart-4.6.1.umd.min.js" defer></script>`, `<script src="/static/reports.js" defer></script>`,
		`href="/reports.csv?from=2026-12-01T11%3A00&amp;group_by=service&amp;range=7d&amp;to=2026-12-01T13%3A00"`)

	rep := wantReport(t, f, reports.ByService)
	if len(rep.Groups) != 2 {
		t.Fatalf("Compute: %d groups, want db and web", len(rep.Groups))
	}
	secs := func(v *float64) string {
		if v == nil {
			return "–"
		}
		return (time.Duration(*v) * time.Second).String()
	}
	// The page writes "1h 05m 00s" where Duration.String writes "1h5m0s".
	normal := strings.NewReplacer(" 0", "", " ", "")
	for _, g := range append(rep.Groups, rep.Total) {
		cells := rowCells(t, body, g.Key)
		for class, want := range map[string]any{
			"incidents": g.Incidents, "tta-median": secs(g.TimeToAcknowledge.Median), "tta-p90": secs(g.TimeToAcknowledge.P90),
			"ttr-median": secs(g.TimeToResolve.Median), "ttr-p90": secs(g.TimeToResolve.P90),
			"escalated": g.EscalatedPastFirstStep, "failures": g.NotificationFailures,
			"fu-open": g.FollowUps.Open, "fu-overdue": g.FollowUps.Overdue,
		} {
			if got := normal.Replace(cells[class]); got != strings.TrimSpace(strings.ReplaceAll(jsonText(t, want), `"`, "")) {
				t.Errorf("group %s, %s: page %q, Compute %v", g.Key, class, got, want)
			}
		}
	}
	if c := rowCells(t, body, "db"); c["incidents"] != "5" || c["tta-median"] != "45s" || c["tta-p90"] != "20m 00s" || c["ttr-p90"] != "2h 30m 15s" {
		t.Errorf("db row: %v", c)
	}
	if c := rowCells(t, body, "web"); c["ttr-median"] != "–" {
		t.Errorf("web row: an open incident has no time to resolve: %v", c)
	}

	// The charts' data island is the same report's.
	var chart struct {
		Labels    []string   `json:"labels"`
		TTAMedian []*float64 `json:"tta_median"`
		TTRMedian []*float64 `json:"ttr_median"`
	}
	island := between(body, `<script type="application/json" id="report-data">`, "</script>")
	if err := json.Unmarshal([]byte(island), &chart); err != nil {
		t.Fatalf("data island %q: %v", island, err)
	}
	if strings.Join(chart.Labels, ",") != "db,web" || len(chart.TTRMedian) != 2 || chart.TTRMedian[0] == nil || chart.TTRMedian[1] != nil {
		t.Errorf("data island: %s", island)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReportsGroupByAndQueryMistakes(t *testing.T) {
	f := newFixture(t)
	openReportIncidents(t, f, "web")
	_, body := f.get(t, "/reports?group_by=team&"+reportWindow)
	if c := rowCells(t, body, "ops"); c["incidents"] != "2" {
		t.Errorf("team ops: %v", c)
	}
	// The default window is the last 7 days up to now, and to is
	// exclusive: the incidents triggered at now are not in it.
	_, body = f.get(t, "/reports")
	mustContain(t, body, "No incidents were triggered in this window.", `<option value="7d" selected>`)
	for _, bad := range []string{"range=1y", "group_by=user", "from=yesterday", "from=2026-12-01T13:00&to=2026-12-01T12:00", "to=noon"} {
		resp, body := f.get(t, "/reports?"+bad)
		name := strings.SplitN(bad, "=", 2)[0]
		if strings.Contains(bad, "13:00") {
			name = "from"
		}
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(between(body, `id="problem">`, "</p>"), name) {
			t.Errorf("%s: %d, problem %q", bad, resp.StatusCode, between(body, `id="problem">`, "</p>"))
		}
		if resp, _ := f.get(t, "/reports.csv?"+bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("CSV %s: %d", bad, resp.StatusCode)
		}
	}
	if resp, _ := f.get(t, "/reports.csv?table=nope"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("CSV table=nope: %d", resp.StatusCode)
	}
	for _, path := range []string{"/reports", "/reports.csv"} {
		resp, _ := f.get(t, path, true)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("%s without a login: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestReportsCSVUnderTheSession(t *testing.T) {
	f := newFixture(t)
	openReportIncidents(t, f, "=HYPERLINK(\"x\")")
	resp, body := f.get(t, "/reports.csv?group_by=service&"+reportWindow)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="alertgate-report-service-groups-20261201T110000Z-20261201T130000Z.csv"` {
		t.Fatalf("GET /reports.csv: %d %v", resp.StatusCode, resp.Header)
	}
	var want bytes.Buffer
	if err := reports.WriteGroupsCSV(&want, wantReport(t, f, reports.ByService)); err != nil {
		t.Fatal(err)
	}
	if body != want.String() {
		t.Errorf("CSV:\n%s\nwant:\n%s", body, want.String())
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 4 || rows[2][1] != `'=HYPERLINK("x")` {
		t.Errorf("rows %q, %v: want the header, all, the defused formula and db", rows, err)
	}
	_, people := f.get(t, "/reports.csv?table=people&"+reportWindow)
	if !strings.HasPrefix(people, "group_by,group,user,pages,out_of_hours,unknown_hours\n") {
		t.Errorf("people CSV:\n%s", people)
	}
}

func TestReportsEscaping(t *testing.T) {
	f := newFixture(t)
	const xss = `</script><script>alert(1)</script>`
	openReportIncidents(t, f, "web"+xss)
	_, body := f.get(t, "/reports?"+reportWindow)
	if strings.Contains(body, "<script>alert") {
		t.Errorf("unescaped script in the page:\n%s", body)
	}
	mustContain(t, body, "web&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
	island := between(body, `<script type="application/json" id="report-data">`, "</script>")
	var chart struct{ Labels []string }
	if err := json.Unmarshal([]byte(island), &chart); err != nil || len(chart.Labels) != 2 || chart.Labels[1] != "web"+xss {
		t.Errorf("data island %q: %v, %v", island, chart.Labels, err)
	}
}

func TestVendoredChartLibrary(t *testing.T) {
	f := newFixture(t)
	for path, wantStart := range map[string]string{
		"/static/vendor/chart-4.6.1.umd.min.js": "/*!\n * Chart.js v4.6.1",
		"/static/vendor/chart-4.6.1.LICENSE.md": "The MIT License (MIT)",
		"/static/reports.js":                    "// The reports page's charts",
	} {
		resp, body := f.get(t, path, true)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, wantStart) {
			t.Errorf("%s: %d %.60q", path, resp.StatusCode, body)
			continue
		}
		if strings.HasSuffix(path, ".js") && resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", path, resp.Header.Get("Content-Type"))
		}
		cache := resp.Header.Get("Cache-Control")
		if strings.Contains(path, "/vendor/") != (cache == "public, max-age=31536000, immutable") {
			t.Errorf("%s: Cache-Control %q", path, cache)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
	if resp, _ := f.get(t, "/static/vendor/", true); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/static/vendor/ lists: %d", resp.StatusCode)
	}
}
