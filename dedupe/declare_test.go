package dedupe_test

import (
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/redisx"
)

func declaration(req string) dedupe.Declaration {
	return dedupe.Declaration{Title: "Checkout fails for EU customers", Service: "payments", Severity: alertgate.SeverityCritical,
		Commander: "alice", Actor: "user:alice", RequestID: req, Now: t0}
}

func types(inc *alertgate.Incident) []string {
	var out []string
	for _, e := range inc.Timeline {
		out = append(out, e.Type)
	}
	return out
}

// A declared incident opens as ingest opens one: an id of its shard, in
// the indexes, triggered, with the commander on the timeline; a repeat of
// the request finds it and writes nothing.
func TestDeclare(t *testing.T) {
	forEachRedis(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		s := dedupe.NewStore(rdb, prefix)
		if err := s.CheckWork(t.Context()); err != nil {
			t.Fatal(err)
		}
		id, created, err := s.Declare(t.Context(), declaration("req-1"))
		if err != nil || !created {
			t.Fatalf("declare: %q %v %v", id, created, err)
		}
		again, created, err := s.Declare(t.Context(), declaration("req-1"))
		if err != nil || created || again != id {
			t.Fatalf("repeat: %q %v %v, want %q not created", again, created, err, id)
		}
		inc, err := s.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if inc.Status != alertgate.Triggered || inc.Severity != alertgate.SeverityCritical || inc.Service != "payments" || inc.GroupKey != "" {
			t.Errorf("incident %+v", inc)
		}
		if got, want := types(inc), []string{alertgate.EventDeclared, alertgate.EventNoPolicy, alertgate.EventRoleAssigned}; !slices.Equal(got, want) {
			t.Errorf("timeline %v, want %v", got, want)
		}
		if !inc.Declared || inc.Roles[alertgate.RoleCommander] != "alice" {
			t.Errorf("work %+v", inc.IncidentWork)
		}
		if inc.Impact == nil || !inc.Impact.Start.Equal(t0) || inc.Impact.Set {
			t.Errorf("default impact %+v, want from the declare", inc.Impact)
		}
		page, err := s.List(t.Context(), alertgate.IncidentFilter{Status: alertgate.Triggered})
		if err != nil || len(page.Incidents) != 1 || page.Incidents[0].ID != id || !page.Incidents[0].Declared {
			t.Fatalf("list: %+v %v, want the declared incident", page, err)
		}
		// It resolves like any incident, though it has no group.
		if _, err := s.Transition(t.Context(), id, change(dedupe.Resolve, "", t0.Add(time.Hour))); err != nil {
			t.Fatalf("resolve: %v", err)
		}
		counts, err := s.Counts(t.Context())
		if err != nil || counts[alertgate.IncidentResolved] != 1 || counts[alertgate.Triggered] != 0 {
			t.Errorf("counts %v %v", counts, err)
		}
	})
}

// With a policy, the first step is due in the same script.
func TestDeclareStartsPolicy(t *testing.T) {
	forEachRedis(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		s := dedupe.NewStore(rdb, prefix)
		d := declaration("req-p")
		d.Policy = "ops"
		id, _, err := s.Declare(t.Context(), d)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := redisx.IncidentShard(id)
		score, err := rdb.ZScore(t.Context(), redisx.NewLayout(prefix).Shard(n).Key(redisx.Due), id).Result()
		if err != nil || int64(score) != t0.UnixMilli() {
			t.Fatalf("due score %v %v, want %d", score, err, t0.UnixMilli())
		}
		inc, err := s.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if inc.EscalationPolicy != "ops" || slices.Contains(types(inc), alertgate.EventNoPolicy) {
			t.Errorf("policy %q, timeline %v", inc.EscalationPolicy, types(inc))
		}
	})
}

func work(e alertgate.TimelineEntry, field, value, req string) dedupe.WorkChange {
	return dedupe.WorkChange{Entry: e, Field: field, Value: value, Actor: "user:bob", RequestID: req, Now: t0.Add(time.Minute)}
}

// Work changes are idempotent per request and per value, refuse what
// does not hold (a stale merge, a follow-up added twice or changed before
// it exists, a done postmortem on an open incident) and say so.
func TestWork(t *testing.T) {
	forEachRedis(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		s := dedupe.NewStore(rdb, prefix)
		id, _, err := s.Declare(t.Context(), declaration("req-w"))
		if err != nil {
			t.Fatal(err)
		}
		role := alertgate.TimelineEntry{Type: alertgate.EventRoleAssigned, Role: &alertgate.RoleEntry{Role: "communications", User: "bob"}}
		for i, want := range []dedupe.WorkResult{dedupe.WorkDone, dedupe.WorkDone} {
			if got, _, err := s.Work(t.Context(), id, work(role, dedupe.RoleField+"communications", "bob", "r1")); err != nil || got != want {
				t.Fatalf("role, try %d: %q %v, want %q", i, got, err, want)
			}
		}
		if got, _, err := s.Work(t.Context(), id, work(role, dedupe.RoleField+"communications", "bob", "r2")); err != nil || got != dedupe.WorkNoop {
			t.Fatalf("same role again, new request: %q %v, want noop", got, err)
		}
		fu := alertgate.TimelineEntry{Type: alertgate.EventFollowUp, FollowUp: &alertgate.FollowUpEntry{ID: "fu-1", Title: "Add a canary"}}
		add := work(fu, dedupe.FollowUpField+"fu-1", `{"id":"fu-1"}`, "r3")
		add.Want = "new"
		if got, _, err := s.Work(t.Context(), id, add); err != nil || got != dedupe.WorkDone {
			t.Fatalf("add: %q %v", got, err)
		}
		add.RequestID = "r4"
		if got, _, err := s.Work(t.Context(), id, add); err != nil || got != dedupe.WorkExists {
			t.Fatalf("add again: %q %v, want exists", got, err)
		}
		upd := work(fu, dedupe.FollowUpField+"fu-2", `{"id":"fu-2"}`, "r5")
		upd.Want = "existing"
		if got, _, err := s.Work(t.Context(), id, upd); err != nil || got != dedupe.WorkMissing {
			t.Fatalf("change of a missing follow-up: %q %v, want missing", got, err)
		}
		stale := "something else"
		upd = work(fu, dedupe.FollowUpField+"fu-1", `{"id":"fu-1","done":true}`, "r6")
		upd.Prev = &stale
		if got, _, err := s.Work(t.Context(), id, upd); err != nil || got != dedupe.WorkStale {
			t.Fatalf("stale merge: %q %v, want stale", got, err)
		}
		pm := alertgate.TimelineEntry{Type: alertgate.EventPostmortem, Postmortem: &alertgate.PostmortemEntry{Status: "done"}}
		done := work(pm, dedupe.PostmortemField, `{"status":"done"}`, "r7")
		done.ResolvedOnly = true
		if got, status, err := s.Work(t.Context(), id, done); err != nil || got != dedupe.WorkConflict || status != alertgate.Triggered {
			t.Fatalf("done while triggered: %q %q %v, want conflict", got, status, err)
		}
		if _, _, err := s.Work(t.Context(), "999999", add); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
			t.Fatalf("missing incident: %v, want ENOTFOUND", err)
		}
		inc, err := s.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := types(inc), []string{alertgate.EventDeclared, alertgate.EventNoPolicy, alertgate.EventRoleAssigned,
			alertgate.EventRoleAssigned, alertgate.EventFollowUp}; !slices.Equal(got, want) {
			t.Errorf("timeline %v, want %v", got, want)
		}
		if inc.Roles["communications"] != "bob" || len(inc.FollowUps) != 1 || inc.FollowUps[0].Title != "Add a canary" {
			t.Errorf("work %+v", inc.IncidentWork)
		}
		if v, err := s.WorkField(t.Context(), id, dedupe.FollowUpField+"fu-1"); err != nil || v != `{"id":"fu-1"}` {
			t.Errorf("field %q %v", v, err)
		}
	})
}

// A reminder is queued once, however many replicas ask.
func TestRemindOnce(t *testing.T) {
	forEachRedis(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		s := dedupe.NewStore(rdb, prefix)
		id, _, err := s.Declare(t.Context(), declaration("req-r"))
		if err != nil {
			t.Fatal(err)
		}
		queued := 0
		for range 3 {
			ok, err := s.Remind(t.Context(), id, id+".pm.2026-11-25", time.Hour, t0, [][]byte{[]byte(`{"key":"k"}`)})
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				queued++
			}
		}
		n, _ := redisx.IncidentShard(id)
		if got, err := rdb.XLen(t.Context(), redisx.NewLayout(prefix).Shard(n).Key(redisx.Outbox)).Result(); err != nil || got != 1 || queued != 1 {
			t.Fatalf("outbox %d (%v), queued %d; want 1 and 1", got, err, queued)
		}
	})
}

// A time JSON cannot hold is refused as the client's mistake, before any
// script runs.
func TestWorkRefusesTimeOutOfRange(t *testing.T) {
	s := dedupe.NewStore(nil, "unused")
	e := alertgate.TimelineEntry{Type: alertgate.EventImpactSet, Impact: &alertgate.ImpactEntry{Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	if _, _, err := s.Work(t.Context(), "17", dedupe.WorkChange{Entry: e, Now: t0}); alertgate.ErrorCode(err) != alertgate.EINVALID {
		t.Fatalf("year 10000: %v, want EINVALID", err)
	}
}
