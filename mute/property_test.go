package mute_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/mute"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

// Random fire/resolve sequences under random silences: a resolve is never
// lost (the incident is resolved right after every resolve), nothing is
// paged inside a silence, and an incident still firing when its silence
// ends is paged at that very minute.
func TestSilencesNeverEatResolvesOrLeakPages(t *testing.T) {
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte("{}"), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	dir := &escalation.Directory{
		Policies: map[string]*escalation.Policy{"p": {ID: "p", Repeat: 1000, Steps: []escalation.Step{
			{Targets: []escalation.Target{{Kind: escalation.User, ID: "alice"}}, Delay: 7 * time.Minute}}}},
		Users: map[string]*config.User{"alice": {ID: "alice", Contacts: []config.Contact{{Notifier: "console", Address: "alice"}}}},
	}
	for seed := range uint64(40) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			p := fmt.Sprintf("%s-%d", prefix, seed)
			start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			clock := fakeclock.New(start)
			const minutes = 240
			// Two to four silences of 5–60 minutes, on the alert or not.
			var silences []silence.Silence
			for i := range 2 + rng.IntN(3) {
				from := start.Add(time.Duration(rng.IntN(minutes)) * time.Minute)
				m := `alertname="Disk"`
				if rng.IntN(4) == 0 {
					m = `alertname="Other"`
				}
				silences = append(silences, silence.Silence{ID: fmt.Sprint("s", i), Matchers: []string{m},
					StartsAt: from, EndsAt: from.Add(time.Duration(5+rng.IntN(56)) * time.Minute), Comment: "c", CreatedBy: "t"})
			}
			silencedAt := func(at time.Time) bool {
				for _, s := range silences {
					if s.Matchers[0] == `alertname="Disk"` && !at.Before(s.StartsAt) && at.Before(s.EndsAt) {
						return true
					}
				}
				return false
			}
			gate := mute.New(mute.Options{
				Silences: func(_ context.Context, at time.Time) (silence.Set, error) { return silence.NewSet(at, silences), nil },
				Snapshot: func() *snapshot.Snapshot { return snap },
			})
			engine := escalation.New(rdb, p, escalation.Options{Directory: func() *escalation.Directory { return dir },
				Clock: clock, Gate: gate, HoldRecheck: 10 * time.Minute})
			store := dedupe.NewStore(rdb, p)
			g := dedupe.Group{Route: "r", Key: "k", Settings: dedupe.Settings{AutoResolve: true, ReopenWindow: 10 * time.Minute, Policy: "p"}}
			firing := false
			var pagedAt []time.Time
			seen := 0
			wasHeld := false
			for m := range minutes {
				now := start.Add(time.Duration(m) * time.Minute)
				if d := now.Sub(clock.Now()); d > 0 {
					clock.Advance(d)
				}
				if rng.IntN(6) == 0 { // the alert changes state now and then
					firing = !firing
					st := alertgate.Resolved
					if firing {
						st = alertgate.Firing
					}
					res, err := store.Ingest(t.Context(), g, dedupe.Delivery{Now: now, Actor: "test",
						Alerts: []alertgate.Alert{{Fingerprint: "f", Status: st, Source: "am", Summary: "Disk",
							Severity: alertgate.SeverityCritical, Labels: map[string]string{"alertname": "Disk"}}}})
					if err != nil {
						t.Fatal(err)
					}
					if !firing && res.IncidentID != "" && res.Status != alertgate.IncidentResolved {
						t.Fatalf("%s: the resolve left incident %s %s", now.Format("15:04"), res.IncidentID, res.Status)
					}
				}
				if err := engine.Pass(t.Context()); err != nil {
					t.Fatal(err)
				}
				pages := outboxPages(t, rdb, p)
				for _, pg := range pages[seen:] {
					if silencedAt(pg.At) {
						t.Errorf("paged at %s inside a silence", pg.At.Format("15:04"))
					}
					pagedAt = append(pagedAt, pg.At)
				}
				seen = len(pages)
				// Held by a silence that has ended, still firing: paged now,
				// not at a later recheck (10 minutes) or repeat.
				if wasHeld && firing && !silencedAt(now) && (len(pagedAt) == 0 || !pagedAt[len(pagedAt)-1].Equal(now)) {
					t.Errorf("%s: held by a silence that ended, still firing, not paged at once", now.Format("15:04"))
				}
				wasHeld = false
				if id := openIncident(t, store, g); id != "" {
					inc, err := store.Get(t.Context(), id)
					if err != nil {
						t.Fatal(err)
					}
					wasHeld = inc.Escalation != nil && inc.Escalation.Held != "" && inc.Status == alertgate.Triggered
				}
			}
		})
	}
}

// outboxPages returns every page in every outbox under prefix, in order
// of commit within each shard (the test has one incident, so one shard).
func outboxPages(t *testing.T, rdb redis.UniversalClient, prefix string) []notify.Page {
	t.Helper()
	var out []notify.Page
	l := redisx.NewLayout(prefix)
	for n := range redisx.Shards {
		msgs, err := rdb.XRange(t.Context(), l.Shard(n).Key(redisx.Outbox), "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			var p notify.Page
			if err := json.Unmarshal([]byte(m.Values["page"].(string)), &p); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
	}
	return out
}

// openIncident is the id of the group's open incident, or "".
func openIncident(t *testing.T, store *dedupe.Store, g dedupe.Group) string {
	t.Helper()
	id, err := store.OpenIncident(t.Context(), g)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
