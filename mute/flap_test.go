package mute_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

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

// An alert that fires and resolves every five minutes all night: the
// first changes page as ever, then it is caught flapping and sends exactly
// one flapping page, its incident stays open through every resolve, and
// once it has been stable for the flap window it resolves. No page after
// the flapping one.
func TestFlappingAlertAllNight(t *testing.T) {
	rdb, prefix := redistest.New(t)
	store := dedupe.NewStore(rdb, prefix)
	start := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	clock := fakeclock.New(start)
	snap, err := snapshot.Load([]byte("{}"), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	gate := mute.New(mute.Options{
		Silences: func(_ context.Context, at time.Time) (silence.Set, error) { return silence.NewSet(at, nil), nil },
		Snapshot: func() *snapshot.Snapshot { return snap },
	})
	dir := &escalation.Directory{
		Policies: map[string]*escalation.Policy{"p": {ID: "p", Repeat: 100, Steps: []escalation.Step{
			{Targets: []escalation.Target{{Kind: escalation.User, ID: "alice"}}, Delay: 10 * time.Minute}}}},
		Users: map[string]*config.User{"alice": {ID: "alice", Contacts: []config.Contact{{Notifier: "console", Address: "alice"}}}},
	}
	engine := escalation.New(rdb, prefix, escalation.Options{Directory: func() *escalation.Directory { return dir },
		Clock: clock, Gate: gate, HoldRecheck: time.Minute})
	if err := engine.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	g := dedupe.Group{Route: "r", Key: "k", Settings: dedupe.Settings{AutoResolve: true, ReopenWindow: time.Hour,
		Policy: "p", FlapTransitions: 3, FlapWindow: 30 * time.Minute}}
	var id string
	last := start.Add(8*time.Hour - 5*time.Minute) // the alert's last change: resolved at 05:55
	for m := 0; m <= 9*60; m++ {
		now := start.Add(time.Duration(m) * time.Minute)
		if d := now.Sub(clock.Now()); d > 0 {
			clock.Advance(d)
		}
		if m%5 == 0 && !now.After(last) {
			st := alertgate.Firing
			if (m/5)%2 == 1 {
				st = alertgate.Resolved
			}
			res, err := store.Ingest(t.Context(), g, dedupe.Delivery{Now: now, Actor: "test",
				Alerts: []alertgate.Alert{{Fingerprint: "f", Status: st, Source: "am", Summary: "Flappy",
					Severity: alertgate.SeverityCritical, Labels: map[string]string{"alertname": "Flappy"}}}})
			if err != nil {
				t.Fatal(err)
			}
			if id == "" {
				id = res.IncidentID
			} else if res.IncidentID != id {
				t.Fatalf("%s: a second incident %s (want the one incident, reopened or kept open)", now.Format("15:04"), res.IncidentID)
			}
		}
		if err := engine.Pass(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	kinds := map[notify.Kind]int{}
	shard, _ := redisx.IncidentShard(id)
	msgs, err := rdb.XRange(t.Context(), redisx.NewLayout(prefix).Shard(shard).Key(redisx.Outbox), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var lastPage time.Time
	for _, m := range msgs {
		var p notify.Page
		if err := json.Unmarshal([]byte(m.Values["page"].(string)), &p); err != nil {
			t.Fatal(err)
		}
		kinds[p.Kind]++
		lastPage = p.At
	}
	// 22:00 opens and pages; 22:05 resolves; 22:10 reopens and pages;
	// 22:15 resolves; 22:20 is the fourth change: flapping.
	if kinds[notify.KindFlapping] != 1 || kinds[""] != 2 || len(msgs) != 3 {
		t.Errorf("pages by kind %v, want 2 pages before it was caught and exactly 1 flapping page", kinds)
	}
	if want := start.Add(20 * time.Minute); !lastPage.Equal(want) {
		t.Errorf("last page at %s, want the flapping page at %s and nothing after", lastPage.Format("15:04"), want.Format("15:04"))
	}
	inc, err := store.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	// Stable from 05:55; resolved once it has been stable for 30 minutes.
	if want := last.Add(30 * time.Minute); inc.Status != alertgate.IncidentResolved || !inc.ResolvedAt.Equal(want) {
		t.Errorf("incident %s resolved at %s, want resolved at %s", inc.Status, inc.ResolvedAt, want)
	}
	var flapping, ended, resolved int
	for _, e := range inc.Timeline {
		switch e.Type {
		case alertgate.EventFlapping:
			flapping++
		case alertgate.EventFlapEnded:
			ended++
		case alertgate.EventResolved:
			resolved++
		}
	}
	if flapping != 1 || ended != 1 || resolved != 3 {
		t.Errorf("timeline: %d flapping, %d flapping_ended, %d resolved entries; want 1, 1 and 3 (22:05, 22:15, 06:25)", flapping, ended, resolved)
	}
}
