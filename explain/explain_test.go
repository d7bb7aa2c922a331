package explain_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/explain"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/receivers"
	"github.com/alertgate/alertgate/snapshot"
)

const testConfig = `
integrations:
  - {name: am, type: alertmanager, tokens: [t]}
  - {name: gen, type: generic, tokens: [t], generic: {alerts: events, dedup_key: id, summary: title}}
users:
  - {id: alice, contacts: [{notifier: console, address: alice}, {notifier: console, address: alice-2}]}
  - {id: bob, contacts: [{notifier: console, address: bob}]}
  - {id: frank, contacts: [{notifier: console, address: frank}]}
rotations:
  - id: office
    time_zone: UTC
    layers:
      - name: day
        participants: [bob]
        start: "2026-03-02T00:00"
        shift: 1d
        restrictions: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}]
escalation_policies:
  - id: ops
    repeat: 1
    steps:
      - {targets: [{rotation: office}], delay: 5m}
      - {targets: [{user: alice}, {user: bob}], round_robin: true, delay: 10m}
    fallback: {user: frank}
default_escalation_policy: ops
routes:
  - name: flappy
    match: {team: flappy}
    group_wait: 0s
    flap: {transitions: 2, window: 1h}
`

func load(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	snap, err := snapshot.Load([]byte(testConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func am(status string, labels ...string) []byte {
	l := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	b, _ := json.Marshal(map[string]any{"version": "4", "alerts": []any{map[string]any{"status": status, "labels": l}}})
	return b
}

// Tuesday 2026-03-03, 22:00 UTC: nobody is on call in office.
var night = time.Date(2026, 3, 3, 22, 0, 0, 0, time.UTC)

// The walk of a policy: a step with nobody on call skipped, a round-robin
// step's turns, the repeat not unrolled, the fallback after the repeat.
func TestStepsOffline(t *testing.T) {
	rep, err := explain.Explain(t.Context(), explain.Input{Integration: "am", Payload: am("firing", "alertname", "X"), At: night},
		explain.Deps{Snapshot: load(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{explain.NoteNoStore, explain.NoteNoSilences, explain.NoteNoOverrides} {
		if !slices.Contains(rep.Notes, n) {
			t.Errorf("notes %q lack %q", rep.Notes, n)
		}
	}
	r := rep.Alerts[0].Routes[0]
	if r.Route != "default" || r.Incident.Action != explain.ActionOpen || r.Repeat != 1 || r.GroupWait != "30s" {
		t.Fatalf("route %+v", r)
	}
	var got []string
	for _, st := range r.Steps {
		who := []string{}
		for _, p := range st.Pages {
			who = append(who, p.User)
		}
		got = append(got, fmt.Sprintf("%d.%d r%d f%v %s %s skipped=%v", st.Step, st.Turn, st.Repeat, st.Fallback,
			st.At.Format("15:04"), strings.Join(who, ","), st.SkippedReason != ""))
	}
	// Steps at 22:00:30: office has nobody (skipped at once), then
	// alice's turn (10m), bob's (10m); the repeat (not listed) runs the
	// same again: office skipped, alice, bob; then the fallback.
	want := []string{
		`1.0 r0 ffalse 22:00  skipped=true`,
		`2.1 r0 ffalse 22:00 alice skipped=false`,
		`2.2 r0 ffalse 22:10 bob skipped=false`,
		`3.0 r1 ftrue 22:40 frank skipped=false`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("steps\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(r.Steps[0].SkippedReason, "nobody is on call in rotation office") {
		t.Errorf("skipped reason %q", r.Steps[0].SkippedReason)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "round-robin") }) {
		t.Errorf("no round-robin note: %q", rep.Notes)
	}
}

func TestNoPolicyAndNoAlerts(t *testing.T) {
	bare, err := snapshot.Load([]byte("integrations:\n  - {name: am, type: alertmanager, tokens: [t]}\n"), "bare.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	rep, err := explain.Explain(t.Context(), explain.Input{Integration: "am", Payload: am("firing", "team", "quiet"), At: night}, explain.Deps{Snapshot: bare})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Alerts[0].Routes[0]
	if r.FirstPageAt != nil || len(r.Steps) != 0 || !strings.Contains(r.Held, "no escalation policy") {
		t.Errorf("route %+v", r)
	}
	rep, err = explain.Explain(t.Context(), explain.Input{Integration: "am", Payload: []byte(`{"version":"4","alerts":[]}`)}, explain.Deps{Snapshot: bare})
	if err != nil || len(rep.Alerts) != 0 || rep.At.IsZero() {
		t.Errorf("empty: %+v %v", rep, err)
	}
}

func TestGenericFingerprintInputs(t *testing.T) {
	rep, err := explain.Explain(t.Context(), explain.Input{Integration: "gen", Payload: []byte(`{"events":[{"id":"disk-1","title":"Disk"}]}`), At: night},
		explain.Deps{Snapshot: load(t)})
	if err != nil {
		t.Fatal(err)
	}
	if in := rep.Alerts[0].FingerprintInputs; in.From != "dedup_key" || in.Field != "events[*].id" || rep.Alerts[0].Fingerprint != "disk-1" {
		t.Errorf("inputs %+v", in)
	}
}

func TestErrors(t *testing.T) {
	snap := load(t)
	_, err := explain.Explain(t.Context(), explain.Input{Integration: "nope", Payload: []byte(`{}`)}, explain.Deps{Snapshot: snap})
	if alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
		t.Errorf("unknown integration: %v", err)
	}
	_, err = explain.Explain(t.Context(), explain.Input{Integration: "am", Payload: []byte(`{"version":"4","alerts":[{"status":"x"}]}`)}, explain.Deps{Snapshot: snap})
	if alertgate.ErrorCode(err) != alertgate.EINVALID || !strings.Contains(err.Error(), "alerts[0].status") {
		t.Errorf("bad payload: %v", err)
	}
}

// Flapping, join, reopen and "none" against what dedupe's ingest then
// does with the same alerts.
func TestGroupDecisionsMatchIngest(t *testing.T) {
	rdb, prefix := redistest.New(t)
	store := dedupe.NewStore(rdb, prefix)
	snap := load(t)
	now := night
	ingest := func(status string, labels ...string) dedupe.Result {
		t.Helper()
		recv, _, _ := snap.Receivers.Get("am")
		b, err := recv.Parse(t.Context(), receiversRequest(am(status, labels...), now))
		if err != nil {
			t.Fatal(err)
		}
		r := snap.Routes.Match(&b.Alerts[0])
		res, err := store.Ingest(t.Context(), dedupe.Group{Route: r.Name, Key: r.GroupKey(&b.Alerts[0]), Settings: dedupe.Settings{
			AutoResolve: r.AutoResolve, ReopenWindow: r.ReopenWindow, Policy: r.Policy, GroupWait: r.GroupWait,
			FlapTransitions: r.FlapTransitions, FlapWindow: r.FlapWindow,
		}}, dedupe.Delivery{Alerts: b.Alerts, Actor: "test", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	explainOne := func(status string, labels ...string) explain.Route {
		t.Helper()
		rep, err := explain.Explain(t.Context(), explain.Input{Integration: "am", Payload: am(status, labels...), At: now}, explain.Deps{Snapshot: snap, Store: store})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Alerts[0].Routes[0]
	}
	steps := []struct {
		status, action string
		outcome        dedupe.Outcome
		flapping       bool
	}{
		{"resolved", explain.ActionNone, dedupe.Stale, false},
		{"firing", explain.ActionOpen, dedupe.Opened, false},
		{"firing", explain.ActionJoin, dedupe.Updated, false},
		{"resolved", explain.ActionJoin, dedupe.Resolved, false}, // 1 change
		{"firing", explain.ActionReopen, dedupe.Reopened, false}, // 2 changes
		{"resolved", explain.ActionJoin, dedupe.Updated, true},   // 3 > 2: flaps, stays open
		{"firing", explain.ActionJoin, dedupe.Updated, true},
	}
	var id string
	for i, st := range steps {
		now = now.Add(time.Minute)
		r := explainOne(st.status, "alertname", "F", "team", "flappy")
		res := ingest(st.status, "alertname", "F", "team", "flappy")
		if r.Incident.Action != st.action || res.Outcome != st.outcome || r.Holds.Flapping != st.flapping {
			t.Fatalf("step %d (%s): explain %+v flapping %v, ingest %s; want %s, %s, flapping %v",
				i, st.status, r.Incident, r.Holds.Flapping, res.Outcome, st.action, st.outcome, st.flapping)
		}
		if st.action == explain.ActionJoin || st.action == explain.ActionReopen {
			if r.Incident.ID != id || res.IncidentID != id {
				t.Fatalf("step %d: explain id %q, ingest %q, want %q", i, r.Incident.ID, res.IncidentID, id)
			}
		}
		if st.action == explain.ActionOpen {
			id = res.IncidentID
		}
		if st.status == "resolved" && st.outcome == dedupe.Resolved && !r.Incident.Resolves {
			t.Errorf("step %d: explain did not say it resolves", i)
		}
		if st.flapping {
			inc, err := store.Get(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(inc.Timeline, func(e alertgate.TimelineEntry) bool { return e.Type == alertgate.EventFlapping }) {
				t.Errorf("step %d: ingest did not mark the incident flapping", i)
			}
		}
	}
}

func receiversRequest(body []byte, now time.Time) receivers.Request {
	return receivers.Request{Body: body, Now: now}
}
