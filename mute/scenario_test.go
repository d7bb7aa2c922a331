package mute_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/mute"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

// world is the paging pipeline on one Redis prefix with an injected
// clock: the dedupe store, the silence store, the gate and the engine.
type world struct {
	t        *testing.T
	rdb      redis.UniversalClient
	prefix   string
	clock    *fakeclock.Clock
	store    *dedupe.Store
	silences *silence.Store
	engine   *escalation.Engine
	start    time.Time
	seen     map[string]bool
}

func newWorld(t *testing.T, cfg string) *world {
	t.Helper()
	rdb, prefix := redistest.New(t)
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	w := &world{t: t, rdb: rdb, prefix: prefix, clock: fakeclock.New(start), store: dedupe.NewStore(rdb, prefix), start: start,
		seen: map[string]bool{}}
	snap, err := snapshot.Load([]byte(cfg), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	w.silences = silence.NewStore(rdb, prefix, silence.Options{Now: w.clock.Now})
	gate := mute.New(mute.Options{Silences: w.silences.Active, Snapshot: func() *snapshot.Snapshot { return snap },
		Sources: w.store.FiringAlerts})
	dir := &escalation.Directory{
		Policies: map[string]*escalation.Policy{"p": {ID: "p", Repeat: 100, Steps: []escalation.Step{
			{Targets: []escalation.Target{{Kind: escalation.User, ID: "alice"}}, Delay: time.Hour}}}},
		Users: map[string]*config.User{"alice": {ID: "alice", Contacts: []config.Contact{{Notifier: "console", Address: "alice"}}}},
	}
	w.engine = escalation.New(rdb, prefix, escalation.Options{Directory: func() *escalation.Directory { return dir },
		Clock: w.clock, Gate: gate, HoldRecheck: 30 * time.Second})
	return w
}

// at moves the clock to start+d (minutes and seconds) and runs an engine
// pass.
func (w *world) at(d time.Duration) {
	w.t.Helper()
	if by := w.start.Add(d).Sub(w.clock.Now()); by > 0 {
		w.clock.Advance(by)
	}
	if err := w.engine.Pass(w.t.Context()); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) alert(group, name string, st alertgate.AlertStatus, labels map[string]string) dedupe.Result {
	w.t.Helper()
	l := map[string]string{"alertname": name}
	for k, v := range labels {
		l[k] = v
	}
	res, err := w.store.Ingest(w.t.Context(), dedupe.Group{Route: "r", Key: group, Settings: dedupe.Settings{
		AutoResolve: true, ReopenWindow: 30 * time.Minute, Policy: "p"}},
		dedupe.Delivery{Now: w.clock.Now(), Actor: "test", Alerts: []alertgate.Alert{{Fingerprint: group + name, Status: st,
			Source: "am", Summary: name, Severity: alertgate.SeverityCritical, Labels: l}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

// newPages returns the pages committed since the last call.
func (w *world) newPages() []notify.Page {
	w.t.Helper()
	var out []notify.Page
	for _, p := range outboxPages(w.t, w.rdb, w.prefix) {
		if !w.seen[p.Key] {
			w.seen[p.Key] = true
			out = append(out, p)
		}
	}
	return out
}

// silence start → alert fires (no page, recorded) → resolve (incident
// closes) → fires again → silence ends: paged at once.
func TestSilenceScenario(t *testing.T) {
	w := newWorld(t, "{}")
	sl, _, err := w.silences.Create(t.Context(), silence.Silence{Matchers: []string{`host="db-1"`},
		StartsAt: w.start, EndsAt: w.start.Add(time.Hour), Comment: "disk swap", CreatedBy: "alice"}, "")
	if err != nil {
		t.Fatal(err)
	}
	db1 := map[string]string{"host": "db-1"}
	w.at(5 * time.Minute)
	id := w.alert("g", "DiskFull", alertgate.Firing, db1).IncidentID
	w.at(5*time.Minute + time.Second)
	if p := w.newPages(); len(p) != 0 {
		t.Fatalf("paged %d times inside the silence", len(p))
	}
	inc, err := w.store.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Escalation.Held == "" || !strings.Contains(inc.Escalation.Held, sl.ID) || !hasEntry(inc, alertgate.EventHeld, sl.ID) {
		t.Errorf("incident %+v: want it held by silence %s, on the timeline", inc.Escalation, sl.ID)
	}
	w.at(10 * time.Minute)
	if res := w.alert("g", "DiskFull", alertgate.Resolved, db1); res.Status != alertgate.IncidentResolved {
		t.Fatalf("the resolve left the incident %s: silences hold pages, not resolves", res.Status)
	}
	w.at(20 * time.Minute)
	if res := w.alert("g", "DiskFull", alertgate.Firing, db1); res.IncidentID != id || res.Outcome != dedupe.Reopened {
		t.Fatalf("fired again: %+v, want incident %s reopened", res, id)
	}
	for m := 21; m < 60; m++ {
		w.at(time.Duration(m) * time.Minute)
	}
	if p := w.newPages(); len(p) != 0 {
		t.Fatalf("paged %d times inside the silence", len(p))
	}
	w.at(time.Hour) // the silence ends
	p := w.newPages()
	if len(p) != 1 || !p[0].At.Equal(w.start.Add(time.Hour)) || p[0].Step != 1 {
		t.Fatalf("pages as the silence ended: %+v, want step 1 at once", p)
	}
	if inc, _ := w.store.Get(t.Context(), id); !hasEntry(inc, alertgate.EventReleased, sl.ID) {
		t.Error("no escalation_released entry naming the silence")
	}
}

// An alert inhibited while its source fires pages once the source
// resolves (within the recheck interval); never while it fires.
func TestInhibitionScenario(t *testing.T) {
	w := newWorld(t, `
inhibit_rules:
  - source_matchers: ['alertname="ClusterDown"']
    target_matchers: ['alertname="PodCrash"']
    equal: [cluster]
`)
	eu := map[string]string{"cluster": "eu"}
	w.alert("src", "ClusterDown", alertgate.Firing, eu)
	w.at(0)
	if p := w.newPages(); len(p) != 1 {
		t.Fatalf("the source paged %d times, want once", len(p))
	}
	w.alert("tgt", "PodCrash", alertgate.Firing, eu)
	us := w.alert("tgt-us", "PodCrash", alertgate.Firing, map[string]string{"cluster": "us"}).IncidentID
	for s := 1; s <= 120; s++ {
		w.at(time.Duration(s) * time.Second)
	}
	p := w.newPages()
	if len(p) != 1 || p[0].Incident != us {
		t.Fatalf("pages while the source fires: %+v, want only the other cluster's", p)
	}
	w.alert("src", "ClusterDown", alertgate.Resolved, eu)
	resolvedAt := w.clock.Now()
	for s := 121; s <= 240; s++ {
		w.at(time.Duration(s) * time.Second)
	}
	p = w.newPages()
	if len(p) != 1 || p[0].At.Sub(resolvedAt) > 36*time.Second {
		t.Fatalf("pages after the source resolved: %+v, want the target paged within the recheck (30s) and the sources cache (5s)", p)
	}
}

func hasEntry(inc *alertgate.Incident, typ, contains string) bool {
	for _, e := range inc.Timeline {
		if e.Type == typ && strings.Contains(e.Message, contains) {
			return true
		}
	}
	return false
}

// recorder is a notifier that keeps what it is given.
type recorder struct {
	mu    sync.Mutex
	pages []notify.Page
}

func (r *recorder) Notify(_ context.Context, p notify.Page) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pages = append(r.pages, p)
	return false, nil
}

func (r *recorder) kinds() []notify.Kind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []notify.Kind
	for _, p := range r.pages {
		out = append(out, p.Kind)
	}
	return out
}

// A silence made after someone was paged does not keep the resolution
// notice from them: silences hold pages that ask for action, not the news
// that it is over.
func TestPagedBeforeTheSilenceStillHearsTheResolve(t *testing.T) {
	w := newWorld(t, "{}")
	rec := &recorder{}
	d := notify.NewDeliverer(w.rdb, w.prefix, notify.DelivererOptions{Clock: w.clock,
		Notifiers: func(string) (notify.Notifier, bool) { return rec, true }})
	if err := d.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	deliver := func() {
		t.Helper()
		if err := d.Pass(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	db1 := map[string]string{"host": "db-1"}
	w.alert("g", "DiskFull", alertgate.Firing, db1)
	w.at(time.Second)
	deliver()
	if _, _, err := w.silences.Create(t.Context(), silence.Silence{Matchers: []string{`host="db-1"`},
		StartsAt: w.clock.Now(), EndsAt: w.clock.Now().Add(time.Hour), Comment: "on it", CreatedBy: "alice"}, ""); err != nil {
		t.Fatal(err)
	}
	w.at(time.Minute)
	w.alert("g", "DiskFull", alertgate.Resolved, db1)
	deliver()
	if got := rec.kinds(); !slices.Equal(got, []notify.Kind{"", notify.KindResolved}) {
		t.Errorf("messages %v, want the page, then its resolution notice despite the silence", got)
	}
}
