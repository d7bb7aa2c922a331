package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/explain"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/mute"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

// explainConfig has a route of each kind explain reports on: continue,
// nested routes, grouping, low urgency, an inhibition rule and a
// maintenance window open all week.
const explainConfig = `
api:
  tokens: [api-token]
ingest:
  max_body_bytes: 65536
integrations:
  - {name: am, type: alertmanager, tokens: [am-token]}
users:
  - {id: alice, contacts: [{notifier: console, address: alice}]}
  - {id: bob, contacts: [{notifier: console, address: bob}]}
  - {id: carol, contacts: [{notifier: console, address: carol}]}
  - {id: dave, contacts: [{notifier: console, address: dave}]}
rotations:
  - id: primary
    time_zone: UTC
    layers:
      - {name: daily, participants: [bob, dave], start: "2026-03-02T00:00", shift: 1d}
escalation_policies:
  - id: ops
    repeat: 1
    steps:
      - {targets: [{rotation: primary}], delay: 5m}
      - {targets: [{user: alice}], delay: 10m}
  - id: audit
    steps:
      - {targets: [{user: carol}], delay: 5m}
default_escalation_policy: ops
routes:
  - name: audit-critical
    matchers: ['severity="critical"']
    continue: true
    escalation_policy: audit
    group_by: [alertname]
    group_wait: 0s
  - name: db
    match: {team: db}
    group_by: [cluster]
    group_wait: 1m
    routes:
      - name: db-backup
        matchers: ['alertname=~"Backup.*"']
  - name: batch
    match: {team: batch}
    urgency: low
    support_hours: {time_zone: UTC, days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
  - name: web
    match: {team: web}
    group_by: [alertname]
inhibit_rules:
  - source_matchers: ['alertname="ClusterDown"']
    target_matchers: ['alertname="NodeDown"']
    equal: [cluster]
maintenance_windows:
  - name: staging-always
    matchers: ['env="staging"']
    time_zone: UTC
    days: [mon, tue, wed, thu, fri, sat, sun]
    from: "00:00"
    to: "00:00"
`

// explainStart is a Tuesday night: outside the batch route's support
// hours; dave is on call in primary (bob on Monday, dave on Tuesday).
var explainStart = time.Date(2026, 3, 3, 22, 0, 0, 0, time.UTC)

type explainFixture struct {
	*fixture
	clock  *fakeclock.Clock
	engine *escalation.Engine
}

// newExplainFixture is the whole pipeline over the test Redis on a fake
// clock: ingest, the escalation engine with the mute gate, silences,
// overrides and explain, as serve wires them.
func newExplainFixture(t testing.TB) *explainFixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte(explainConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	clock := fakeclock.New(explainStart)
	store := dedupe.NewStore(rdb, prefix)
	silences := silence.NewStore(rdb, prefix, silence.Options{Now: clock.Now})
	overrides := oncall.NewStore(rdb, prefix)
	if err := silences.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	// SilencesFor and SourcesFor of a nanosecond: every pass reads afresh,
	// so the test needs no waiting for caches.
	gate := mute.New(mute.Options{Silences: silences.Active, Snapshot: current.Load, Sources: store.FiringAlerts,
		SilencesFor: time.Nanosecond, SourcesFor: time.Nanosecond})
	engine := escalation.New(rdb, prefix, escalation.Options{
		Directory: func() *escalation.Directory { return current.Load().Escalation },
		Overrides: overrides, Clock: clock, Gate: gate,
	})
	if err := engine.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(testlog.NewLog(t), nil))
	m := metrics.New(store.Counts)
	h := httpapi.NewServer(httpapi.Deps{
		Logger:    logger,
		Snapshot:  current.Load,
		Incidents: incident.NewService(store, incident.Options{Logger: logger, Observer: m, Escalator: engine, Now: clock.Now}),
		Metrics:   m,
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Now:       clock.Now,
		Overrides: overrides,
		Silences:  silences,
		Explain:   explain.Deps{Store: store, Gate: gate, Overrides: overrides},
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &explainFixture{fixture: &fixture{srv: srv, rdb: rdb, prefix: prefix}, clock: clock, engine: engine}
}

// amPayload is an Alertmanager webhook with one alert per label set.
func amPayload(status string, labelSets ...map[string]string) string {
	type alert struct {
		Status   string            `json:"status"`
		Labels   map[string]string `json:"labels"`
		StartsAt string            `json:"startsAt"`
	}
	body := struct {
		Version  string  `json:"version"`
		GroupKey string  `json:"groupKey"`
		Status   string  `json:"status"`
		Alerts   []alert `json:"alerts"`
	}{Version: "4", GroupKey: "{}:{}", Status: status}
	for _, l := range labelSets {
		body.Alerts = append(body.Alerts, alert{Status: status, Labels: l, StartsAt: "2026-03-03T21:59:00Z"})
	}
	b, _ := json.Marshal(body)
	return string(b)
}

func labels(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// explainOf posts the payload to the explain API.
func (f *explainFixture) explainOf(t *testing.T, payload string) explain.Report {
	t.Helper()
	resp, body := f.do(t, "POST", "/api/v1/explain", "api-token", `{"integration":"am","payload":`+payload+`}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("explain: %d %s", resp.StatusCode, body)
	}
	var rep explain.Report
	mustJSON(t, body, &rep)
	return rep
}

// post delivers the payload as the sender would; it returns the ids of
// the incidents the delivery touched.
func (f *explainFixture) post(t *testing.T, payload string) []string {
	t.Helper()
	resp, body := f.do(t, "POST", "/hooks/am", "am-token", payload)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	var ing struct{ Incidents []string }
	mustJSON(t, body, &ing)
	return ing.Incidents
}

type incidentView struct {
	ID, Route, Status string
	GroupKey          string `json:"group_key"`
}

func (f *explainFixture) incident(t *testing.T, id string) incidentView {
	t.Helper()
	resp, body := f.do(t, "GET", "/api/v1/incidents/"+id, "api-token", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get incident %s: %d %s", id, resp.StatusCode, body)
	}
	var v incidentView
	mustJSON(t, body, &v)
	return v
}

// pages lists the pages committed to the outbox for incident id.
func (f *explainFixture) pages(t *testing.T, id string) []notify.Page {
	t.Helper()
	n, _ := redisx.IncidentShard(id)
	msgs, err := f.rdb.XRange(t.Context(), redisx.NewLayout(f.prefix).Shard(n).Key(redisx.Outbox), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []notify.Page
	for _, m := range msgs {
		var p notify.Page
		if err := json.Unmarshal([]byte(m.Values["page"].(string)), &p); err != nil {
			t.Fatal(err)
		}
		if p.Incident == id {
			out = append(out, p)
		}
	}
	return out
}

// passAt moves the clock to t and runs one escalation pass.
func (f *explainFixture) passAt(t *testing.T, at time.Time) {
	t.Helper()
	if d := at.Sub(f.clock.Now()); d > 0 {
		f.clock.Advance(d)
	}
	if err := f.engine.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// dumpKeys is every key under the prefix with its type, value (DUMP)
// and expiry: two dumps are equal when Redis holds the same.
func dumpKeys(t *testing.T, rdb redis.UniversalClient, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	scan := func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			v, err := c.Dump(ctx, k).Result()
			if err != nil {
				return err
			}
			ttl, _ := c.PTTL(ctx, k).Result()
			out[k] = fmt.Sprintf("%x|%v", v, ttl > 0)
		}
		return iter.Err()
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		var mu = make(chan struct{}, 1)
		err = cc.ForEachMaster(t.Context(), func(ctx context.Context, c *redis.Client) error {
			mu <- struct{}{}
			defer func() { <-mu }()
			return scan(ctx, c)
		})
	} else {
		err = scan(t.Context(), rdb)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// explainCase is one payload of the corpus: what is there before, the
// payload, and what explain must say (checked against what then happens).
type explainCase struct {
	name  string
	setup func(t *testing.T, f *explainFixture)
	// payload is posted after setup; the explain report is compared with
	// what posting it does.
	payload string
	// want checks the report itself (the cases' point).
	want func(t *testing.T, rep explain.Report)
}

func TestExplainMatchesPipeline(t *testing.T) {
	web := func(name, instance string) map[string]string {
		return labels("alertname", name, "team", "web", "instance", instance, "severity", "error", "cluster", "c1")
	}
	cases := []explainCase{{
		name:    "continue: two routes, two incidents",
		payload: amPayload("firing", labels("alertname", "DiskFull", "team", "db", "cluster", "c1", "severity", "critical")),
		want: func(t *testing.T, rep explain.Report) {
			rs := rep.Alerts[0].Routes
			if len(rs) != 2 || rs[0].Route != "audit-critical" || rs[1].Route != "db" {
				t.Fatalf("routes %+v", rs)
			}
			if got := strings.Join(rs[1].Path, "/"); got != "default/db" {
				t.Errorf("path %s", got)
			}
			if rs[0].Steps[0].Pages[0].User != "carol" || rs[1].Steps[0].Pages[0].User != "dave" {
				t.Errorf("first pages %+v / %+v", rs[0].Steps[0], rs[1].Steps[0])
			}
			if rs[1].Repeat != 1 || len(rs[1].Steps) != 2 || !rs[1].Steps[1].At.Equal(explainStart.Add(time.Minute+5*time.Minute)) {
				t.Errorf("db steps %+v repeat %d", rs[1].Steps, rs[1].Repeat)
			}
		},
	}, {
		name:    "nested route, group by cluster",
		payload: amPayload("firing", labels("alertname", "BackupLate", "team", "db", "cluster", "c7", "severity", "warning")),
		want: func(t *testing.T, rep explain.Report) {
			r := rep.Alerts[0].Routes[0]
			if strings.Join(r.Path, "/") != "default/db/db-backup" || r.GroupKey != `{cluster="c7"}` || r.GroupWait != "1m0s" {
				t.Errorf("route %+v", r)
			}
		},
	}, {
		name:    "two alerts, one group",
		payload: amPayload("firing", web("HighLatency", "web-1"), web("HighLatency", "web-2")),
		want: func(t *testing.T, rep explain.Report) {
			if len(rep.Alerts) != 2 || rep.Alerts[0].Routes[0].GroupKey != rep.Alerts[1].Routes[0].GroupKey {
				t.Errorf("alerts %+v", rep.Alerts)
			}
			if in := rep.Alerts[0].FingerprintInputs; in.From != "labels" || in.Labels["instance"] != "web-1" {
				t.Errorf("fingerprint inputs %+v", in)
			}
		},
	}, {
		name: "silenced",
		setup: func(t *testing.T, f *explainFixture) {
			resp, body := f.do(t, "POST", "/api/v1/silences", "api-token",
				`{"matchers":["instance=\"web-9\""],"ends_at":"2026-03-03T23:00:00Z","comment":"swap disks","created_by":"alice"}`)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("silence: %d %s", resp.StatusCode, body)
			}
		},
		payload: amPayload("firing", web("HighLatency", "web-9")),
		want: func(t *testing.T, rep explain.Report) {
			r := rep.Alerts[0].Routes[0]
			if len(r.Holds.Silences) != 1 || r.Holds.Silences[0].Comment != "swap disks" || r.Holds.Silences[0].CreatedBy != "alice" {
				t.Errorf("silences %+v", r.Holds.Silences)
			}
			if r.FirstPageAt == nil || !r.FirstPageAt.Equal(time.Date(2026, 3, 3, 23, 0, 0, 0, time.UTC)) {
				t.Errorf("first page at %v, want the silence's end", r.FirstPageAt)
			}
		},
	}, {
		name:    "maintenance window",
		payload: amPayload("firing", labels("alertname", "HighLatency", "team", "web", "env", "staging")),
		want: func(t *testing.T, rep explain.Report) {
			r := rep.Alerts[0].Routes[0]
			if !slices.Equal(r.Holds.MaintenanceWindows, []string{"staging-always"}) || r.FirstPageAt != nil || len(r.Steps) != 0 {
				t.Errorf("route %+v", r)
			}
		},
	}, {
		name:    "inhibited",
		payload: amPayload("firing", web("ClusterDown", "lb-1"), web("NodeDown", "web-3")),
		want: func(t *testing.T, rep explain.Report) {
			node := rep.Alerts[1].Routes[0]
			if len(node.Holds.InhibitedBy) != 1 || node.Holds.InhibitedBy[0].Rule != 1 ||
				node.Holds.InhibitedBy[0].SourceLabels["alertname"] != "ClusterDown" || node.FirstPageAt != nil {
				t.Errorf("NodeDown %+v", node)
			}
			if rep.Alerts[0].Routes[0].FirstPageAt == nil {
				t.Errorf("ClusterDown should page")
			}
		},
	}, {
		name:    "low urgency at night",
		payload: amPayload("firing", labels("alertname", "QueueSlow", "team", "batch")),
		want: func(t *testing.T, rep explain.Report) {
			r := rep.Alerts[0].Routes[0]
			morning := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
			if r.Holds.Urgency.Urgency != "low" || r.Holds.Urgency.InSupportHours || r.FirstPageAt == nil || !r.FirstPageAt.Equal(morning) {
				t.Errorf("route %+v", r)
			}
			if r.Steps[0].Pages[0].User != "bob" { // Wednesday's on call, not Tuesday night's
				t.Errorf("steps %+v", r.Steps)
			}
		},
	}, {
		name: "joins an open incident",
		setup: func(t *testing.T, f *explainFixture) {
			f.post(t, amPayload("firing", web("ErrorRate", "web-1")))
		},
		payload: amPayload("firing", web("ErrorRate", "web-2")),
		want: func(t *testing.T, rep explain.Report) {
			if in := rep.Alerts[0].Routes[0].Incident; in.Action != explain.ActionJoin || in.ID == "" {
				t.Errorf("incident %+v", in)
			}
		},
	}, {
		name: "override pages its user",
		setup: func(t *testing.T, f *explainFixture) {
			resp, body := f.do(t, "POST", "/api/v1/overrides", "api-token",
				`{"rotation":"primary","user":"alice","start":"2026-03-03T20:00:00Z","end":"2026-03-04T02:00:00Z"}`)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("override: %d %s", resp.StatusCode, body)
			}
		},
		payload: amPayload("firing", web("ErrorRate", "web-1")),
		want: func(t *testing.T, rep explain.Report) {
			if p := rep.Alerts[0].Routes[0].Steps[0].Pages[0]; p.User != "alice" || !strings.Contains(p.Reason, "override") {
				t.Errorf("page %+v", p)
			}
		},
	}, {
		name: "reopens a resolved incident",
		setup: func(t *testing.T, f *explainFixture) {
			f.post(t, amPayload("firing", web("ErrorRate", "web-1")))
			f.clock.Advance(time.Minute)
			f.post(t, amPayload("resolved", web("ErrorRate", "web-1")))
			f.clock.Advance(time.Minute)
		},
		payload: amPayload("firing", web("ErrorRate", "web-1")),
		want: func(t *testing.T, rep explain.Report) {
			if in := rep.Alerts[0].Routes[0].Incident; in.Action != explain.ActionReopen || in.ID == "" {
				t.Errorf("incident %+v", in)
			}
		},
	}, {
		name:    "a resolution for nothing open",
		payload: amPayload("resolved", web("ErrorRate", "web-5")),
		want: func(t *testing.T, rep explain.Report) {
			if in := rep.Alerts[0].Routes[0].Incident; in.Action != explain.ActionNone {
				t.Errorf("incident %+v", in)
			}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newExplainFixture(t)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			before := dumpKeys(t, f.rdb, f.prefix)
			rep := f.explainOf(t, tc.payload)
			if after := dumpKeys(t, f.rdb, f.prefix); !mapsEqual(before, after) {
				t.Fatalf("explain changed Redis: %d keys before, %d after", len(before), len(after))
			}
			if len(rep.Notes) != 0 {
				t.Errorf("notes online: %q", rep.Notes)
			}
			tc.want(t, rep)
			checkAgainstPipeline(t, f, rep, tc.payload)
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// checkAgainstPipeline posts the payload and checks that every route
// explained did what explain said: the incident opened, joined, reopened
// or not; held, or first paged at first_page_at, the people of its first
// step and nobody earlier.
func checkAgainstPipeline(t *testing.T, f *explainFixture, rep explain.Report, payload string) {
	t.Helper()
	at := f.clock.Now()
	ids := f.post(t, payload)
	byGroup := map[string]incidentView{}
	for _, id := range ids {
		v := f.incident(t, id)
		byGroup[v.Route+"\x00"+v.GroupKey] = v
	}
	type expect struct {
		id    string
		route explain.Route
	}
	var pagers []expect
	for _, a := range rep.Alerts {
		for _, r := range a.Routes {
			got, ok := byGroup[r.Route+"\x00"+r.GroupKey]
			switch r.Incident.Action {
			case explain.ActionNone:
				if ok {
					t.Errorf("%s: explain said no incident, the delivery touched %s", r.Route, got.ID)
				}
				continue
			case explain.ActionOpen:
				if !ok || got.Status != "triggered" {
					t.Errorf("%s %s: explain said open; got %+v (ok %v)", r.Route, r.GroupKey, got, ok)
					continue
				}
			case explain.ActionJoin, explain.ActionReopen:
				if !ok || got.ID != r.Incident.ID || got.Status != "triggered" {
					t.Errorf("%s: explain said %s %s; got %+v", r.Route, r.Incident.Action, r.Incident.ID, got)
					continue
				}
			}
			if r.Incident.Action == explain.ActionOpen && slices.ContainsFunc(pagers, func(e expect) bool { return e.id == got.ID }) {
				continue // the same group, through another alert of it
			}
			pagers = append(pagers, expect{id: got.ID, route: r})
		}
	}
	// Walk time forward: to each first page, one pass just before it (no
	// page yet) and one at it (the first step's people); a held route is
	// looked at an hour on, and must still page nobody.
	sort.SliceStable(pagers, func(i, j int) bool { return firstAt(pagers[i].route, at).Before(firstAt(pagers[j].route, at)) })
	for _, p := range pagers {
		when := firstAt(p.route, at)
		before := len(f.pages(t, p.id))
		// Two seconds before: a held step is looked at again at the hold's
		// end, but never sooner than a second after a look.
		if early := when.Add(-2 * time.Second); early.After(f.clock.Now()) {
			f.passAt(t, early)
			if got := f.pages(t, p.id); len(got) != before {
				t.Errorf("%s (%s): paged %d before first_page_at %v", p.route.Route, p.id, len(got)-before, when)
			}
		}
		f.passAt(t, when)
		got := f.pages(t, p.id)[before:]
		if p.route.FirstPageAt == nil {
			if len(got) != 0 {
				t.Errorf("%s (%s): explain said held (%s), but paged %+v", p.route.Route, p.id, p.route.Held, got)
			}
			continue
		}
		var want, users []string
		for _, pg := range p.route.Steps[0].Pages {
			want = append(want, pg.User)
		}
		for _, pg := range got {
			users = append(users, pg.User)
		}
		if !slices.Equal(users, want) {
			t.Errorf("%s (%s): first page to %v at %v; explain said %v", p.route.Route, p.id, users, when, want)
		}
	}
}

// firstAt is when to look for a route's first page: first_page_at, or
// an hour on for a held one.
func firstAt(r explain.Route, at time.Time) time.Time {
	if r.FirstPageAt != nil {
		return *r.FirstPageAt
	}
	return at.Add(time.Hour)
}
