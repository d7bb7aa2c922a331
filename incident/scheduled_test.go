package incident_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/internal/testlog"
)

// scheduledService is a service whose Scheduled hook records, at each
// call, every incident then due in Redis: what the escalation engine,
// poked by the hook, would find.
type scheduledService struct {
	svc    *incident.Service
	clock  *clock
	rdb    redis.UniversalClient
	layout redisx.Layout
	calls  [][]string // per call, the incidents due at the clock's now
}

func newScheduledService(t *testing.T) *scheduledService {
	t.Helper()
	rdb, prefix := redistest.New(t)
	s := &scheduledService{clock: &clock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}, rdb: rdb, layout: redisx.NewLayout(prefix)}
	s.svc = incident.NewService(dedupe.NewStore(rdb, prefix), incident.Options{
		Now: s.clock.now, Logger: testlog.New(t),
		Scheduled: func() { s.calls = append(s.calls, s.due(t)) },
	})
	return s
}

// due lists the incidents whose next step is due by the clock's now.
func (s *scheduledService) due(t *testing.T) []string {
	t.Helper()
	var ids []string
	for n := range redisx.Shards {
		got, err := s.rdb.ZRangeByScore(t.Context(), s.layout.Shard(n).Key(redisx.Due), &redis.ZRangeBy{
			Min: "-inf", Max: strconv.FormatInt(s.clock.t.UnixMilli(), 10),
		}).Result()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
	}
	return ids
}

func dur(d time.Duration) *time.Duration { return &d }

// routesForScheduled: "now" pages at once, "later" after a group_wait,
// "nobody" has no policy; each groups by the label g.
func routesForScheduled() []config.Route {
	return []config.Route{
		{Name: "now", Match: map[string]string{"r": "now"}, GroupBy: []string{"g"}, EscalationPolicy: "p",
			GroupWait: dur(0), ReopenWindow: dur(time.Hour)},
		{Name: "later", Match: map[string]string{"r": "later"}, GroupBy: []string{"g"}, EscalationPolicy: "p", GroupWait: dur(30 * time.Second)},
		{Name: "nobody", Match: map[string]string{"r": "nobody"}, GroupBy: []string{"g"}, GroupWait: dur(0)},
	}
}

func alertOf(route, group, fp string, status alertgate.AlertStatus) alertgate.Alert {
	a := firing(fp, map[string]string{"r": route, "g": group})
	a.Status = status
	return a
}

// An Accept that opens or reopens an incident whose first step is due at
// once calls Scheduled once, after the commit (the step is in the due
// set by then); opening one whose step waits for group_wait, or one with
// no policy, or only updating or resolving, does not call it.
func TestScheduledIsCalledWhenAFirstStepIsDueNow(t *testing.T) {
	s := newScheduledService(t)
	tree := mustTree(t, routesForScheduled())
	accept := func(alerts ...alertgate.Alert) incident.Accepted {
		t.Helper()
		acc, err := s.svc.Accept(t.Context(), tree, "am", alertgate.Batch{Alerts: alerts}, false)
		if err != nil {
			t.Fatal(err)
		}
		return acc
	}
	calls := 0
	expect := func(what string, want int, dueIncidents ...string) {
		t.Helper()
		if got := len(s.calls) - calls; got != want {
			t.Fatalf("%s: Scheduled called %d times, want %d", what, got, want)
		}
		if want > 0 {
			due := s.calls[len(s.calls)-1]
			for _, id := range dueIncidents {
				found := false
				for _, d := range due {
					found = found || d == id
				}
				if !found {
					t.Errorf("%s: when Scheduled was called, due were %v; want %s among them", what, due, id)
				}
			}
		}
		calls = len(s.calls)
	}

	accept(alertOf("later", "a", "l1", alertgate.Firing))
	expect("open with group_wait 30s", 0)
	accept(alertOf("nobody", "a", "n1", alertgate.Firing))
	expect("open with no policy", 0)

	acc := accept(alertOf("now", "a", "a1", alertgate.Firing))
	first := acc.Incidents[0]
	expect("open with group_wait 0", 1, first)

	s.clock.t = s.clock.t.Add(time.Second)
	accept(alertOf("now", "a", "a1", alertgate.Firing))
	expect("the same alert again", 0)
	accept(alertOf("now", "a", "a2", alertgate.Firing))
	expect("a new alert joins the open incident", 0)
	accept(alertOf("now", "a", "a1", alertgate.Resolved), alertOf("now", "a", "a2", alertgate.Resolved))
	expect("the incident resolves", 0)

	s.clock.t = s.clock.t.Add(time.Minute)
	acc = accept(alertOf("now", "a", "a1", alertgate.Firing))
	if acc.Incidents[0] != first {
		t.Fatalf("refiring within the reopen window gave incident %s, want %s reopened", acc.Incidents[0], first)
	}
	expect("reopen with group_wait 0", 1, first)

	// Three groups in one delivery, two of them due now: one call, after
	// both committed.
	acc = accept(alertOf("now", "b", "b1", alertgate.Firing), alertOf("later", "b", "b2", alertgate.Firing),
		alertOf("now", "c", "c1", alertgate.Firing))
	if len(acc.Incidents) != 3 {
		t.Fatalf("incidents %v, want 3", acc.Incidents)
	}
	expect("one delivery opening two incidents due now", 1, acc.Incidents[0], acc.Incidents[2])
}

// Without the hook, Accept works as before.
func TestScheduledIsOptional(t *testing.T) {
	svc, _, _, _ := newService(t, nil)
	acc, err := svc.Accept(t.Context(), mustTree(t, routesForScheduled()), "am",
		alertgate.Batch{Alerts: []alertgate.Alert{alertOf("now", "a", "a1", alertgate.Firing)}}, false)
	if err != nil || len(acc.Incidents) != 1 {
		t.Fatalf("Accept: %+v, %v; want one incident", acc, err)
	}
}
