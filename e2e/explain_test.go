package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/explain"
	"github.com/alertgate/alertgate/internal/redistest"
)

// explainE2EConfig is gateConfig plus rules whose answer does not depend
// on when the test runs: every route pages at once (group_wait 0s), the
// maintenance window is open all week, and the low-urgency route's
// support hours start two hours from now (computed when the test starts).
func explainE2EConfig(prefix, redisURL string, now time.Time) string {
	from, to := now.Add(2*time.Hour).UTC().Format("15:04"), now.Add(3*time.Hour).UTC().Format("15:04")
	return gateConfig(prefix, redisURL) + fmt.Sprintf(`escalation:
  poll_interval: 50ms
delivery:
  poll_interval: 50ms
users:
  - {id: alice, contacts: [{notifier: console, address: alice}]}
  - {id: carol, contacts: [{notifier: console, address: carol}]}
  - {id: dave, contacts: [{notifier: console, address: dave}]}
rotations:
  - id: primary
    time_zone: UTC
    layers:
      - {name: all, participants: [dave], start: "2026-01-05T00:00", shift: 1w}
escalation_policies:
  - id: ops
    steps:
      - {targets: [{rotation: primary}], delay: 10m}
      - {targets: [{user: alice}], delay: 10m}
  - id: audit
    steps:
      - {targets: [{user: carol}], delay: 10m}
default_escalation_policy: ops
routes:
  - name: audit-critical
    matchers: ['severity="critical"']
    continue: true
    escalation_policy: audit
    group_by: [alertname]
    group_wait: 0s
  - name: batch
    match: {team: batch}
    group_wait: 0s
    urgency: low
    support_hours: {time_zone: UTC, days: [mon, tue, wed, thu, fri, sat, sun], from: %q, to: %q}
  - name: web
    match: {team: web}
    group_by: [alertname]
    group_wait: 0s
  # Longer than the gate's 5 s cache of inhibition sources, so the
  # source, committed with its target, is seen when the step falls due.
  - name: infra
    match: {team: infra}
    group_by: [alertname]
    group_wait: 6s
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
`, from, to)
}

// TestExplainAgainstServe: for a corpus of payloads, what POST
// /api/v1/explain says would happen is what happens when the same
// payload is posted to the real binary: incidents opened or joined per
// route, held or paged, and who got the first page.
func TestExplainAgainstServe(t *testing.T) {
	needBinary(t)
	_, prefix := redistest.New(t)
	path := filepath.Join(t.TempDir(), "alertgate.yaml")
	writeFile(t, path, explainE2EConfig(prefix, testRedisURL(), time.Now()))
	g := startGate(t, gateOptions{prefix: prefix, configPath: path})

	web := func(name, instance string, extra ...string) map[string]string {
		l := map[string]string{"alertname": name, "team": "web", "instance": instance, "cluster": "c1", "severity": "error"}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	status, _, body := g.do(t, http.MethodPost, "/api/v1/silences", jsonHeader(apiToken), mustJSON(t, map[string]any{
		"matchers": []string{`instance="web-9"`}, "ends_at": time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339),
		"comment": "disk swap", "created_by": "e2e",
	}))
	if status != http.StatusCreated {
		t.Fatalf("silence: %d %s", status, body)
	}
	corpus := []struct {
		name   string
		alerts []map[string]string
		status string
		check  func(t *testing.T, rep explain.Report)
	}{
		{"continue", []map[string]string{web("DiskFull", "db-1", "severity", "critical")}, "firing", func(t *testing.T, rep explain.Report) {
			if len(rep.Alerts[0].Routes) != 2 {
				t.Errorf("routes %+v", rep.Alerts[0].Routes)
			}
		}},
		{"silenced", []map[string]string{web("Latency", "web-9")}, "firing", func(t *testing.T, rep explain.Report) {
			if len(rep.Alerts[0].Routes[0].Holds.Silences) != 1 {
				t.Errorf("holds %+v", rep.Alerts[0].Routes[0].Holds)
			}
		}},
		{"maintenance", []map[string]string{web("Saturation", "stg-1", "env", "staging")}, "firing", nil},
		{"inhibited", []map[string]string{web("ClusterDown", "lb-1", "team", "infra"), web("NodeDown", "web-3", "team", "infra")}, "firing", func(t *testing.T, rep explain.Report) {
			if len(rep.Alerts[1].Routes[0].Holds.InhibitedBy) != 1 {
				t.Errorf("NodeDown holds %+v", rep.Alerts[1].Routes[0].Holds)
			}
		}},
		{"low urgency", []map[string]string{{"alertname": "QueueSlow", "team": "batch"}}, "firing", nil},
		{"first of a group", []map[string]string{web("ErrorRate", "web-1")}, "firing", nil},
		{"joins it", []map[string]string{web("ErrorRate", "web-2")}, "firing", func(t *testing.T, rep explain.Report) {
			if rep.Alerts[0].Routes[0].Incident.Action != explain.ActionJoin {
				t.Errorf("incident %+v", rep.Alerts[0].Routes[0].Incident)
			}
		}},
		{"resolution for nothing", []map[string]string{web("Gone", "web-7")}, "resolved", nil},
	}
	for _, tc := range corpus {
		t.Run(tc.name, func(t *testing.T) {
			payload := amWebhookOf(t, tc.status, tc.alerts)
			status, _, body := g.do(t, http.MethodPost, "/api/v1/explain", jsonHeader(apiToken),
				mustJSON(t, map[string]any{"integration": "am", "payload": string(payload)}))
			if status != http.StatusOK {
				t.Fatalf("explain: %d %s", status, body)
			}
			var rep explain.Report
			decodeJSON(t, body, &rep)
			if tc.check != nil {
				tc.check(t, rep)
			}
			if status, body := g.postHook(t, "am", amToken, payload); status != http.StatusOK {
				t.Fatalf("ingest: %d %s", status, body)
			}
			checkServeMatches(t, g, rep)
		})
	}
}

func amWebhookOf(t *testing.T, status string, alerts []map[string]string) []byte {
	t.Helper()
	list := make([]map[string]any, len(alerts))
	for i, l := range alerts {
		list[i] = map[string]any{"status": status, "labels": l, "startsAt": time.Now().UTC().Format(time.RFC3339)}
	}
	return mustJSON(t, map[string]any{"version": "4", "groupKey": "{}:{}", "status": status, "alerts": list})
}

// checkServeMatches finds each explained route's incident and checks it
// against the report: opened or joined as said, and paged (first step's
// people) or held as said.
func checkServeMatches(t *testing.T, g *gate, rep explain.Report) {
	t.Helper()
	byGroup := map[string]string{}
	for _, inc := range g.incidents(t) {
		byGroup[inc.Route+"\x00"+inc.GroupKey] = inc.ID
	}
	for _, a := range rep.Alerts {
		for _, r := range a.Routes {
			id, ok := byGroup[r.Route+"\x00"+r.GroupKey]
			if r.Incident.Action == explain.ActionNone {
				if ok {
					t.Errorf("%s: explain said no incident; there is %s", r.Route, id)
				}
				continue
			}
			if !ok || (r.Incident.ID != "" && r.Incident.ID != id) {
				t.Errorf("%s %s: explain said %+v; incident %q (found %v)", r.Route, r.GroupKey, r.Incident, id, ok)
				continue
			}
			switch {
			case r.Incident.Action == explain.ActionJoin:
				// Its escalation goes on: the next step explain names is
				// the incident's next step, due when it says.
				inc := getIncident(t, g, id)
				if e := inc.Escalation; e == nil || len(r.Steps) == 0 || r.FirstPageAt == nil ||
					e.NextStep != r.Steps[0].Step || !e.NextAt.Equal(*r.FirstPageAt) {
					t.Errorf("%s: joined %s: escalation %+v, explain steps %+v at %v", r.Route, id, inc.Escalation, r.Steps, r.FirstPageAt)
				}
			case r.Held == "" && r.FirstPageAt != nil:
				want := usersOf(r.Steps[0].Pages)
				eventually(t, 20*time.Second, "first page of "+id, func() (bool, string) {
					got := pagedAt(getIncident(t, g, id), r.Steps[0].Step)
					return len(got) > 0, fmt.Sprint(got)
				})
				if got := pagedAt(getIncident(t, g, id), r.Steps[0].Step); !slices.Equal(got, want) {
					t.Errorf("%s (%s): step %d paged %v; explain said %v", r.Route, id, r.Steps[0].Step, got, want)
				}
			default:
				eventually(t, 20*time.Second, "held "+id, func() (bool, string) {
					inc := getIncident(t, g, id)
					return slices.ContainsFunc(inc.Timeline, func(e alertgate.TimelineEntry) bool { return e.Type == alertgate.EventHeld }), ""
				})
				inc := getIncident(t, g, id)
				if got := pagedAt(inc, 1); len(got) != 0 {
					t.Errorf("%s (%s): explain said held (%s); paged %v", r.Route, id, r.Held, got)
				}
				if r.FirstPageAt != nil {
					// The engine says when the pages go out; explain must agree.
					at := r.FirstPageAt.UTC().Format("2006-01-02 15:04 UTC")
					if !slices.ContainsFunc(inc.Timeline, func(e alertgate.TimelineEntry) bool {
						return e.Type == alertgate.EventHeld && strings.Contains(e.Message, "they go out at "+at)
					}) {
						t.Errorf("%s (%s): no hold until %s in the timeline %+v", r.Route, id, at, inc.Timeline)
					}
				}
			}
		}
	}
}

func getIncident(t *testing.T, g *gate, id string) alertgate.Incident {
	t.Helper()
	status, _, body := g.do(t, http.MethodGet, "/api/v1/incidents/"+id, jsonHeader(apiToken), nil)
	if status != http.StatusOK {
		t.Fatalf("incident %s: %d %s", id, status, body)
	}
	var inc alertgate.Incident
	decodeJSON(t, body, &inc)
	return inc
}

// pagedAt lists the users paged at a step, from the timeline.
func pagedAt(inc alertgate.Incident, step int) []string {
	var out []string
	for _, e := range inc.Timeline {
		if e.Type == alertgate.EventPaged && e.Page != nil && e.Page.Step == step && e.Page.Repeat == 0 {
			out = append(out, e.Page.User)
		}
	}
	return out
}

func usersOf(pages []explain.Page) []string {
	out := make([]string, len(pages))
	for i, p := range pages {
		out[i] = p.User
	}
	return out
}
