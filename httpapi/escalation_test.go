package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/snapshot"
)

const escalationConfig = testConfig + `
users:
  - {id: alice, contacts: [{notifier: console, address: alice}]}
  - {id: bob, contacts: [{notifier: console, address: bob}]}
teams:
  - {id: ops, members: [alice, bob]}
rotations:
  - id: ops-weekly
    time_zone: UTC
    layers:
      - {name: weekly, participants: [bob], start: "2026-01-05T09:00", shift: 1w}
escalation_policies:
  - id: ops
    steps:
      - {targets: [{user: alice}], delay: 5m}
      - {targets: [{team: ops}], delay: 5m}
default_escalation_policy: ops
`

type escalationFixture struct {
	*fixture
	engine *escalation.Engine
}

func newEscalationFixture(t *testing.T) *escalationFixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte(escalationConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	logger := slog.New(slog.DiscardHandler)
	engine := escalation.New(rdb, prefix, escalation.Options{Directory: func() *escalation.Directory { return current.Load().Escalation }})
	if err := engine.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	store := dedupe.NewStore(rdb, prefix)
	m := metrics.New(store.Counts)
	h := httpapi.NewServer(httpapi.Deps{
		Logger:    slog.New(slog.NewJSONHandler(testlog.NewLog(t), nil)),
		Snapshot:  current.Load,
		Incidents: incident.NewService(store, incident.Options{Logger: logger, Observer: m, Escalator: engine}),
		Metrics:   m,
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &escalationFixture{fixture: &fixture{srv: srv, rdb: rdb, prefix: prefix}, engine: engine}
}

func (f *escalationFixture) open(t *testing.T, fp string) string {
	t.Helper()
	resp, body := f.do(t, "POST", "/hooks/am", "am-token", amBody("firing", fp))
	var ing struct{ Incidents []string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ing) != nil || len(ing.Incidents) != 1 {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	return ing.Incidents[0]
}

// paged lists the users paged about incident id, from its shard's outbox.
func (f *escalationFixture) paged(t *testing.T, id string) []string {
	t.Helper()
	n, _ := redisx.IncidentShard(id)
	msgs, err := f.rdb.XRange(t.Context(), redisx.NewLayout(f.prefix).Shard(n).Key(redisx.Outbox), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, m := range msgs {
		var p notify.Page
		if err := json.Unmarshal([]byte(m.Values["page"].(string)), &p); err != nil {
			t.Fatal(err)
		}
		if p.Incident == id {
			users = append(users, p.User)
		}
	}
	return users
}

func TestEscalateAPI(t *testing.T) {
	f := newEscalationFixture(t)
	id := f.open(t, "esc1")
	// group_wait is 30s by default: nothing is due yet.
	if err := f.engine.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.paged(t, id); len(got) != 0 {
		t.Fatalf("paged %v before anything was due", got)
	}

	resp, body := f.do(t, "POST", "/api/v1/incidents/"+id+"/escalate", "api-token", `{"actor":"carol","text":"no time to wait"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("escalate: %d %s", resp.StatusCode, body)
	}
	var inc alertgate.Incident
	mustJSON(t, body, &inc)
	if inc.EscalationPolicy != "ops" || inc.Escalation == nil || inc.Escalation.NextStep != 1 {
		t.Fatalf("after escalate: policy %q escalation %+v", inc.EscalationPolicy, inc.Escalation)
	}
	if err := f.engine.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.paged(t, id); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("paged %v after escalate, want alice", got)
	}

	for _, c := range []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"escalate names a user", "/escalate", `{"user":"bob"}`, 400, "reassign"},
		{"escalate unknown incident", "/escalate", ``, 404, "not found"},
		{"reassign names nobody", "/reassign", `{}`, 400, "user"},
		{"reassign names both", "/reassign", `{"user":"bob","rotation":"ops-weekly"}`, 400, "not both"},
		{"reassign unknown user", "/reassign", `{"user":"zed"}`, 404, "zed"},
		{"reassign unknown rotation", "/reassign", `{"rotation":"nope"}`, 404, "nope"},
		{"reassign unknown field", "/reassign", `{"team":"ops"}`, 400, "team"},
	} {
		target := id
		if strings.Contains(c.name, "unknown incident") {
			target = "999999"
		}
		resp, body := f.do(t, "POST", "/api/v1/incidents/"+target+c.path, "api-token", c.body)
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want %d mentioning %q", c.name, resp.StatusCode, body, c.status, c.want)
		}
	}

	resp, body = f.do(t, "POST", "/api/v1/incidents/"+id+"/reassign", "api-token", `{"rotation":"ops-weekly","actor":"carol"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reassign: %d %s", resp.StatusCode, body)
	}
	mustJSON(t, body, &inc)
	if got := f.paged(t, id); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("paged %v after reassigning to the rotation, want alice then bob", got)
	}
	var types []string
	for _, e := range inc.Timeline {
		types = append(types, e.Type)
	}
	for _, want := range []string{alertgate.EventEscalated, alertgate.EventReassigned, alertgate.EventPaged} {
		if !slices.Contains(types, want) {
			t.Errorf("timeline %v lacks %s", types, want)
		}
	}

	f.do(t, "POST", "/api/v1/incidents/"+id+"/acknowledge", "api-token", "")
	resp, body = f.do(t, "POST", "/api/v1/incidents/"+id+"/escalate", "api-token", "")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "acknowledged") {
		t.Errorf("escalate an acknowledged incident: %d %s, want 409", resp.StatusCode, body)
	}
}
