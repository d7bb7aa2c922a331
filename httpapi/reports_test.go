package httpapi_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/snapshot"
)

const reportsConfig = `
api:
  tokens: [api-token]
integrations:
  - name: am
    type: alertmanager
    tokens: [am-token]
routes:
  - name: payments
    match: {team: payments}
    team: pay
users:
  - id: alice
    time_zone: Europe/Berlin
    working_hours: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
    contacts: [{notifier: console, address: alice}]
teams:
  - id: pay
    members: [alice]
reports:
  count_sender_acks: %v
`

// reportsFixture serves reportsConfig over the test Redis with the clock
// at now, and returns the store to write incidents with.
func reportsFixture(t testing.TB, senderAcks bool, now time.Time) (*httptest.Server, *dedupe.Store) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load(fmt.Appendf(nil, reportsConfig, senderAcks), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	store := dedupe.NewStore(rdb, prefix)
	var logger *slog.Logger
	if tt, ok := t.(*testing.T); ok {
		logger = slog.New(slog.NewJSONHandler(testlog.NewLog(tt), nil))
	} else {
		logger = slog.New(slog.DiscardHandler)
	}
	m := metrics.New(nil)
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	h := httpapi.NewServer(httpapi.Deps{
		Logger:    logger,
		Snapshot:  current.Load,
		Incidents: incident.NewService(store, incident.Options{Logger: logger, Observer: m}),
		Metrics:   m,
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Now:       func() time.Time { return now },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, store
}

// openIncident opens one incident of one alert at t and returns its id.
func openIncident(tb testing.TB, s *dedupe.Store, route, fp, service string, t time.Time) string {
	tb.Helper()
	res, err := s.Ingest(context.Background(), dedupe.Group{Route: route, Key: fp, Settings: dedupe.Settings{AutoResolve: true}},
		dedupe.Delivery{Actor: "integration:am", Now: t, Alerts: []alertgate.Alert{{
			Fingerprint: fp, Status: alertgate.Firing, Source: "am", Summary: "down " + fp,
			Severity: alertgate.SeverityCritical, Service: service, Labels: map[string]string{"instance": fp},
		}}})
	if err != nil || res.IncidentID == "" {
		tb.Fatalf("ingest %s: %v %+v", fp, err, res)
	}
	return res.IncidentID
}

func act(tb testing.TB, s *dedupe.Store, id string, a dedupe.Action, actor string, t time.Time) {
	tb.Helper()
	if _, err := s.Transition(context.Background(), id, dedupe.Change{Action: a, Actor: actor, Now: t}); err != nil {
		tb.Fatalf("%s %s: %v", a, id, err)
	}
}

func getReport(t *testing.T, srv *httptest.Server, path, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestReportsAPI writes three incidents through the real store, at known
// times, and reads their report as JSON and CSV.
func TestReportsAPI(t *testing.T) {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	now := day.Add(7 * 24 * time.Hour)
	for _, senderAcks := range []bool{false, true} {
		t.Run(fmt.Sprintf("count_sender_acks=%v", senderAcks), func(t *testing.T) {
			srv, s := reportsFixture(t, senderAcks, now)
			// a: payments, acked by alice's link after 120 s, resolved at 600 s.
			a := openIncident(t, s, "payments", "a", "checkout", day.Add(10*time.Hour))
			act(t, s, a, dedupe.Acknowledge, "alice via link", day.Add(10*time.Hour+120*time.Second))
			act(t, s, a, dedupe.Resolve, "user:alice", day.Add(10*time.Hour+600*time.Second))
			// b: acked by PagerDuty after 30 s, resolved at 1200 s.
			b := openIncident(t, s, "default", "b", "search", day.Add(11*time.Hour))
			act(t, s, b, dedupe.Acknowledge, "integration:pd", day.Add(11*time.Hour+30*time.Second))
			act(t, s, b, dedupe.Resolve, "user:bob", day.Add(11*time.Hour+1200*time.Second))
			// c: open; d: before the window.
			openIncident(t, s, "default", "c", "search", day.Add(12*time.Hour))
			openIncident(t, s, "default", "d", "search", day.Add(-time.Second))

			q := "?from=2026-11-02T00:00:00Z&to=2026-11-09T00:00:00Z&group_by=team"
			resp, body := getReport(t, srv, "/api/v1/reports"+q, "api-token")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if !strings.Contains(resp.Header.Get("Server-Timing"), "read;dur=") {
				t.Errorf("Server-Timing = %q", resp.Header.Get("Server-Timing"))
			}
			var rep struct {
				GroupBy         string `json:"group_by"`
				CountSenderAcks bool   `json:"count_sender_acks"`
				Total           struct {
					Incidents, Open    int
					SenderAcknowledged int `json:"sender_acknowledged"`
					TTA                struct {
						Count  int      `json:"count"`
						Median *float64 `json:"median_seconds"`
						P90    *float64 `json:"p90_seconds"`
					} `json:"time_to_acknowledge"`
					TTR struct {
						Count  int      `json:"count"`
						Median *float64 `json:"median_seconds"`
						P90    *float64 `json:"p90_seconds"`
					} `json:"time_to_resolve"`
				} `json:"total"`
				Groups []struct {
					Key       string `json:"key"`
					Incidents int    `json:"incidents"`
				} `json:"groups"`
			}
			mustJSON(t, []byte(body), &rep)
			if rep.Total.Incidents != 3 || rep.Total.Open != 1 || rep.GroupBy != "team" || rep.CountSenderAcks != senderAcks {
				t.Fatalf("report %+v, want 3 incidents, 1 open, by team", rep)
			}
			// TTR 600 1200: median (lower middle) 600, P90 1200.
			if rep.Total.TTR.Count != 2 || *rep.Total.TTR.Median != 600 || *rep.Total.TTR.P90 != 1200 {
				t.Errorf("TTR %+v, want 2 samples, median 600, p90 1200", rep.Total.TTR)
			}
			wantTTA, wantSender := []float64{120, 120}, 1 // only alice's
			if senderAcks {
				wantTTA, wantSender = []float64{30, 120}, 0 // 30 120: median 30, P90 120
			}
			if rep.Total.TTA.Median == nil || *rep.Total.TTA.Median != wantTTA[0] || *rep.Total.TTA.P90 != wantTTA[1] ||
				rep.Total.SenderAcknowledged != wantSender {
				t.Errorf("TTA %+v, sender-acknowledged %d; want median/p90 %v, %d", rep.Total.TTA, rep.Total.SenderAcknowledged, wantTTA, wantSender)
			}
			// Teams: payments' route has team pay; the default route none.
			if len(rep.Groups) != 2 || rep.Groups[0].Key != "" || rep.Groups[0].Incidents != 2 || rep.Groups[1].Key != "pay" {
				t.Errorf("groups %+v, want \"\" (2) and pay (1)", rep.Groups)
			}

			resp, body = getReport(t, srv, "/api/v1/reports"+q+"&format=csv", "api-token")
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("csv: status %d, %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "alertgate-report-team-groups-20261102T000000Z-20261109T000000Z.csv") {
				t.Errorf("Content-Disposition = %q", cd)
			}
			rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 4 { // header, all, "", pay
				t.Fatalf("csv rows %q, want a header and 3 rows", rows)
			}
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			total := rows[1]
			if total[col["group_by"]] != "all" || total[col["incidents"]] != "3" || total[col["ttr_median_seconds"]] != "600" ||
				total[col["tta_median_seconds"]] != fmt.Sprint(wantTTA[0]) {
				t.Errorf("csv total row %q", total)
			}
			if pay := rows[3]; pay[col["group"]] != "pay" || pay[col["tta_p90_seconds"]] != "120" {
				t.Errorf("csv pay row %q", pay)
			}

			resp, body = getReport(t, srv, "/api/v1/reports"+q+"&format=csv&table=people", "api-token")
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "group_by,group,user,pages,out_of_hours,unknown_hours\n") {
				t.Errorf("people csv: %d %q", resp.StatusCode, body)
			}
		})
	}
}

// TestReportsBadRequests: every bad parameter is a 400 naming it.
func TestReportsBadRequests(t *testing.T) {
	now := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	srv, _ := reportsFixture(t, false, now)
	for _, c := range []struct{ query, field string }{
		{"?from=yesterday", "from"},
		{"?to=2026-13-01T00:00:00Z", "to"},
		{"?from=2026-11-09T00:00:00Z&to=2026-11-02T00:00:00Z", "from"},
		{"?from=2026-11-09T00:00:00Z", "from"}, // the default to is now: an empty window
		{"?group_by=person", "group_by"},
		{"?format=xml", "format"},
		{"?format=csv&table=alerts", "table"},
		{"?table=people", "table"},
	} {
		resp, body := getReport(t, srv, "/api/v1/reports"+c.query, "api-token")
		var e struct {
			Error struct{ Code, Field, Message string }
		}
		mustJSON(t, []byte(body), &e)
		if resp.StatusCode != http.StatusBadRequest || e.Error.Field != c.field {
			t.Errorf("%s: status %d, field %q (%s); want 400 naming %s", c.query, resp.StatusCode, e.Error.Field, e.Error.Message, c.field)
		}
	}
	if resp, _ := getReport(t, srv, "/api/v1/reports", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: status %d, want 401", resp.StatusCode)
	}
	resp, body := getReport(t, srv, "/api/v1/reports", "api-token")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"from":"2026-11-02T00:00:00Z"`) {
		t.Errorf("the default window: %d %s; want the 7 days before now", resp.StatusCode, body)
	}
}
