package incident_test

import (
	"encoding/json"
	"flag"
	"os"
	"strings"
	"sync"
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
	"github.com/alertgate/alertgate/notify"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var t9 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// The skeleton drafted from a timeline, as a golden file (go test -update
// rewrites it).
func TestPostmortemMarkdownGolden(t *testing.T) {
	at := func(m int) time.Time { return t9.Add(time.Duration(m) * time.Minute) }
	inc := &alertgate.Incident{
		ID: "33", Title: "Checkout fails for EU customers", Service: "payments", Severity: alertgate.SeverityCritical,
		Status: alertgate.IncidentResolved, TriggeredAt: at(0), AcknowledgedAt: at(6), ResolvedAt: at(95),
		Timeline: []alertgate.TimelineEntry{
			{At: at(0), Type: alertgate.EventDeclared, Actor: "user:alice", Message: "Checkout fails for EU customers"},
			{At: at(0), Type: alertgate.EventRoleAssigned, Actor: "user:alice", Message: "commander: alice", Role: &alertgate.RoleEntry{Role: "commander", User: "alice"}},
			{At: at(1), Type: alertgate.EventPaged, Actor: "escalation", Page: &alertgate.PageEntry{Key: "33.1.0.0.bob", User: "bob", Notifier: "sms", Step: 1, Reason: "on call in rotation payments-primary"}},
			{At: at(1), Type: alertgate.EventPageDelivered, Actor: "notifier:sms", Page: &alertgate.PageEntry{Key: "33.1.0.0.bob", User: "bob", Notifier: "sms", Step: 1}},
			{At: at(6), Type: alertgate.EventAcknowledged, Actor: "user:bob", Message: "via link"},
			{At: at(7), Type: alertgate.EventRoleAssigned, Actor: "user:alice", Message: "communications: carol", Role: &alertgate.RoleEntry{Role: "communications", User: "carol"}},
			{At: at(10), Type: alertgate.EventStatusUpdate, Actor: "user:carol", Message: "Investigating failed card payments in the EU"},
			{At: at(30), Type: alertgate.EventNote, Actor: "user:bob", Message: "rolled back | deploy 4711"},
			{At: at(40), Type: alertgate.EventImpactSet, Actor: "user:alice", Impact: &alertgate.ImpactEntry{Start: at(-5), End: at(90)}},
			{At: at(95), Type: alertgate.EventResolved, Actor: "user:alice"},
			{At: at(96), Type: alertgate.EventFollowUp, Actor: "user:alice", FollowUp: &alertgate.FollowUpEntry{ID: "fu-1", Title: "Canary EU payments", Owner: "bob", Due: at(60 * 24 * 7)}},
			{At: at(97), Type: alertgate.EventFollowUp, Actor: "user:alice", FollowUp: &alertgate.FollowUpEntry{ID: "fu-2", Title: "Page on <checkout> errors", Done: true}},
		},
	}
	inc.FillWork()
	incident.ApplyPostmortemRule(inc, &config.Postmortems{Required: []config.PostmortemRule{{Severity: "critical", Due: 72 * time.Hour}}}, at(100))
	got := incident.PostmortemMarkdown(inc)
	const golden = "testdata/postmortem.golden.md"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	if got != string(want) {
		t.Errorf("skeleton differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

// Two replicas' reminder passes, run together and again, queue one
// reminder per overdue item per day: the overdue postmortem and the
// overdue follow-up, not the follow-up that is done or not yet due.
func TestRemindersOnceAcrossReplicas(t *testing.T) {
	rdb, prefix := redistest.New(t)
	store := dedupe.NewStore(rdb, prefix)
	now := t9
	clock := func() time.Time { return now }
	svc := incident.NewService(store, incident.Options{Now: clock, Logger: testlog.New(t)})
	cfg := &config.Config{
		StatusUpdates: config.StatusUpdates{Notifiers: []string{"console"}},
		Postmortems:   config.Postmortems{Required: []config.PostmortemRule{{Severity: "critical", Due: 72 * time.Hour}}},
	}
	inc, _, err := svc.Declare(t.Context(), incident.Declaration{Title: "Checkout fails", Severity: alertgate.SeverityCritical}, incident.By{Actor: "user:alice"})
	if err != nil {
		t.Fatal(err)
	}
	id := inc.ID
	if _, err := svc.Resolve(t.Context(), id, incident.By{Actor: "user:alice"}); err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	due := func(d time.Time) *time.Time { return &d }
	yes := true
	for _, c := range []incident.FollowUpChange{
		{Title: str("overdue"), Due: due(now.Add(24 * time.Hour))},
		{Title: str("done"), Due: due(now.Add(time.Hour))},
		{Title: str("later"), Due: due(now.Add(30 * 24 * time.Hour))},
	} {
		_, fu, err := svc.AddFollowUp(t.Context(), id, c, incident.By{Actor: "user:alice"})
		if err != nil {
			t.Fatal(err)
		}
		if *c.Title == "done" {
			if _, err := svc.UpdateFollowUp(t.Context(), id, fu, incident.FollowUpChange{Done: &yes}, incident.By{Actor: "user:alice"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	replicas := []*incident.Reminders{
		incident.NewReminders(store, incident.ReminderOptions{Config: func() *config.Config { return cfg }, Now: clock}),
		incident.NewReminders(store, incident.ReminderOptions{Config: func() *config.Config { return cfg }, Now: clock}),
	}
	passes := func() int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for _, r := range replicas {
			wg.Go(func() {
				for range 2 {
					n, err := r.Pass(t.Context())
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					total += n
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return total
	}
	if got := passes(); got != 0 {
		t.Fatalf("%d reminders before anything is due", got)
	}
	now = t9.Add(73 * time.Hour) // the postmortem (72h) and "overdue" (24h) are overdue
	if got := passes(); got != 2 {
		t.Fatalf("%d reminders queued, want 2 (postmortem, one follow-up)", got)
	}
	reminders := outboxReminders(t, rdb, prefix, id)
	if len(reminders) != 2 {
		t.Fatalf("outbox reminders %+v", reminders)
	}
	reasons := reminders[0].Reason + "\n" + reminders[1].Reason
	if !strings.Contains(reasons, "postmortem due 2026-11-28 09:00:00 UTC") || !strings.Contains(reasons, "“overdue”") || strings.Contains(reasons, "“done”") {
		t.Errorf("reminders say %q", reasons)
	}
	for _, p := range reminders {
		if p.Notifier != "console" || !strings.HasPrefix(p.Key, id+".remind.") || p.IsPage() {
			t.Errorf("reminder %+v", p)
		}
	}
	now = now.Add(time.Hour) // the same day: nothing new
	if got := passes(); got != 0 {
		t.Fatalf("%d reminders again the same day", got)
	}
	now = now.Add(24 * time.Hour) // the next day: once more each
	if got := passes(); got != 2 {
		t.Fatalf("%d reminders the next day, want 2", got)
	}
}

func outboxReminders(t *testing.T, rdb redis.UniversalClient, prefix, id string) []notify.Page {
	t.Helper()
	n, _ := redisx.IncidentShard(id)
	msgs, err := rdb.XRange(t.Context(), redisx.NewLayout(prefix).Shard(n).Key(redisx.Outbox), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []notify.Page
	for _, m := range msgs {
		var p notify.Page
		if err := jsonUnmarshal(m.Values["page"].(string), &p); err != nil {
			t.Fatal(err)
		}
		if p.Kind == notify.KindReminder {
			out = append(out, p)
		}
	}
	return out
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// Partial changes of one postmortem made at once both land: the one that
// loses the race reads again and merges into the winner's state.
func TestPostmortemConcurrentChangesMerge(t *testing.T) {
	rdb, prefix := redistest.New(t)
	svc := incident.NewService(dedupe.NewStore(rdb, prefix), incident.Options{Now: func() time.Time { return t9 }, Logger: testlog.New(t)})
	inc, _, err := svc.Declare(t.Context(), incident.Declaration{Title: "x", Severity: alertgate.SeverityInfo}, incident.By{Actor: "user:alice"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			link := "https://wiki.example.com/pm/" + string(rune('a'+i))
			due := t9.Add(time.Duration(i+1) * time.Hour)
			c := incident.PostmortemChange{Link: &link}
			if i%2 == 1 {
				c = incident.PostmortemChange{Due: &due}
			}
			if _, err := svc.SetPostmortem(t.Context(), inc.ID, c, nil, incident.By{Actor: "user:bob"}); err != nil && alertgate.ErrorCode(err) != alertgate.ECONFLICT {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := svc.GetWork(t.Context(), inc.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	entries := 0
	for _, e := range got.Timeline {
		if e.Type == alertgate.EventPostmortem {
			entries++
		}
	}
	pm := got.Postmortem
	if pm == nil || pm.Link == "" || pm.Due.IsZero() || pm.Status != alertgate.PostmortemDraft {
		t.Fatalf("postmortem %+v, want a draft with a link and a due time", pm)
	}
	// Every change that was not refused is on the timeline, each entry a
	// whole state: the last one is what the incident says.
	last := got.Timeline[len(got.Timeline)-1].Postmortem
	if entries == 0 || last == nil || *last != pm.PostmortemEntry {
		t.Errorf("%d entries, last %+v, state %+v", entries, last, pm.PostmortemEntry)
	}
}
