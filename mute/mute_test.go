package mute_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/mute"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

// Tuesday 2026-12-01 12:00 UTC.
var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

const cfg = `
maintenance_windows:
  - name: db-tuesday
    matchers: ['service="db"']
    time_zone: Europe/London
    days: [tue]
    from: "11:00"
    to: "13:00"
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
`

type fixture struct {
	gate     *mute.Gate
	silences []silence.Silence
	sources  []map[string]string
	reads    int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	snap, err := snapshot.Load([]byte(cfg), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{}
	f.gate = mute.New(mute.Options{
		Silences: func(_ context.Context, at time.Time) (silence.Set, error) {
			f.reads++
			return silence.NewSet(at, f.silences), nil
		},
		Snapshot: func() *snapshot.Snapshot { return snap },
		Sources: func(_ context.Context, fn func(map[string]string)) error {
			for _, l := range f.sources {
				fn(l)
			}
			return nil
		},
	})
	return f
}

func candidate(at time.Time, firing ...map[string]string) escalation.Candidate {
	return escalation.Candidate{ID: "42", Route: "r", Policy: "p", Firing: firing, FiringTotal: len(firing), At: at}
}

func (f *fixture) hold(t *testing.T, c escalation.Candidate) escalation.Hold {
	t.Helper()
	h, err := f.gate.Hold(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSilenceHoldsUntilItEnds(t *testing.T) {
	f := newFixture(t)
	f.silences = []silence.Silence{{ID: "s1", Matchers: []string{`host="web-1"`}, StartsAt: now.Add(-time.Hour),
		EndsAt: now.Add(2 * time.Hour), Comment: "kernel upgrade", CreatedBy: "alice"}}
	web1 := map[string]string{"host": "web-1", "alertname": "DiskFull"}
	web2 := map[string]string{"host": "web-2", "alertname": "DiskFull"}

	h := f.hold(t, candidate(now, web1))
	// Until is when what mutes may change: the silence's end at the
	// latest (here the unrelated window's close comes first, a recheck).
	if !strings.Contains(h.Reason, `silenced by silence s1 ("kernel upgrade", alice)`) || !h.Until.After(now) || h.Until.After(now.Add(2*time.Hour)) {
		t.Errorf("hold %+v, want silenced by s1, looked at again by its end", h)
	}
	// One unmuted alert pages the incident.
	if h := f.hold(t, candidate(now, web1, web2)); h.Reason != "" {
		t.Errorf("hold %+v with an unsilenced alert, want none", h)
	}
	// Nothing firing: nothing to mute.
	if h := f.hold(t, candidate(now)); h.Reason != "" {
		t.Errorf("hold %+v with no firing alert, want none", h)
	}
	// More alerts than the engine showed: cannot tell, so page.
	c := candidate(now, web1)
	c.FiringTotal = 2
	if h := f.hold(t, c); h.Reason != "" {
		t.Errorf("hold %+v with unseen alerts, want none", h)
	}
	// After the silence ends.
	if h := f.hold(t, candidate(now.Add(2*time.Hour), web1)); h.Reason != "" {
		t.Errorf("hold %+v after the silence ended, want none", h)
	}
	// Reads are cached for a second, not per question.
	if f.reads != 2 {
		t.Errorf("%d reads of the silences, want 2 (one per second asked about)", f.reads)
	}
}

func TestMaintenanceWindowHoldsUntilItCloses(t *testing.T) {
	f := newFixture(t)
	db := map[string]string{"service": "db"}
	// 12:00 UTC is 12:00 in London in December: inside 11:00–13:00.
	h := f.hold(t, candidate(now, db))
	if h.Reason != "in maintenance window db-tuesday" || !h.Until.Equal(time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("hold %+v, want the window until 13:00", h)
	}
	if h := f.hold(t, candidate(now.Add(90*time.Minute), db)); h.Reason != "" {
		t.Errorf("hold %+v after the window closed, want none", h)
	}
	if h := f.hold(t, candidate(now, map[string]string{"service": "web"})); h.Reason != "" {
		t.Errorf("hold %+v for another service, want none", h)
	}
}

func TestInhibitionAsAlertmanager(t *testing.T) {
	f := newFixture(t)
	critical := map[string]string{"severity": "critical", "cluster": "eu"}
	warningEU := map[string]string{"severity": "warning", "cluster": "eu"}
	warningUS := map[string]string{"severity": "warning", "cluster": "us"}
	f.sources = []map[string]string{critical, warningEU, warningUS}

	h := f.hold(t, candidate(now, warningEU))
	if h.Reason != "inhibited by a firing alert (inhibit_rules 1)" || !h.Until.IsZero() {
		t.Errorf("hold %+v, want inhibited by rule 1, no end (it ends when the source resolves)", h)
	}
	if h := f.hold(t, candidate(now, warningUS)); h.Reason != "" {
		t.Errorf("hold %+v for another cluster, want none (equal: [cluster])", h)
	}
	if h := f.hold(t, candidate(now, critical)); h.Reason != "" {
		t.Errorf("hold %+v for the source itself, want none", h)
	}
	// The source resolves: the next read (after SourcesFor) lets it page.
	f.sources = []map[string]string{warningEU}
	if h := f.hold(t, candidate(now.Add(5*time.Second), warningEU)); h.Reason != "" {
		t.Errorf("hold %+v after the source resolved, want none", h)
	}
}

// A rule whose target matches its source does not let an alert inhibit
// itself; another alert with the same labels but one does.
func TestAnAlertDoesNotInhibitItself(t *testing.T) {
	f := newFixture(t)
	a := map[string]string{"severity": "critical", "cluster": "eu"}
	f.sources = []map[string]string{a}
	if h := f.hold(t, candidate(now, a)); h.Reason != "" {
		t.Errorf("hold %+v, want none", h)
	}
}

func TestSilenceReadErrorIsAnError(t *testing.T) {
	snap, err := snapshot.Load([]byte(cfg), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	g := mute.New(mute.Options{
		Silences: func(context.Context, time.Time) (silence.Set, error) { return silence.Set{}, errors.New("redis down") },
		Snapshot: func() *snapshot.Snapshot { return snap },
	})
	if _, err := g.Hold(context.Background(), candidate(now, map[string]string{"a": "b"})); err == nil {
		t.Error("no error when the silences cannot be read (the engine pages on it)")
	}
}

// A low-urgency route's incident is held outside support hours, until
// they begin, whatever fires; inside them it pages.
func TestLowUrgencyWaitsForSupportHours(t *testing.T) {
	snap, err := snapshot.Load([]byte(`
routes:
  - name: tickets
    match: {team: web}
    urgency: low
    support_hours: {time_zone: Europe/London, days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
`), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	g := mute.New(mute.Options{
		Silences: func(_ context.Context, at time.Time) (silence.Set, error) { return silence.NewSet(at, nil), nil },
		Snapshot: func() *snapshot.Snapshot { return snap },
	})
	web := map[string]string{"team": "web"}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct {
		route, at string
		held      bool
		until     string
	}{
		{"tickets", "2026-12-01T03:00:00Z", true, "2026-12-01T09:00:00Z"}, // Tuesday night: until 09:00
		{"tickets", "2026-12-01T10:00:00Z", false, ""},                    // Tuesday morning: pages
		{"tickets", "2026-12-05T10:00:00Z", true, "2026-12-07T09:00:00Z"}, // Saturday: until Monday
		{"default", "2026-12-01T03:00:00Z", false, ""},                    // high urgency: at once
	} {
		cand := candidate(at(c.at), web)
		cand.Route = c.route
		h, err := g.Hold(context.Background(), cand)
		if err != nil {
			t.Fatal(err)
		}
		if (h.Reason != "") != c.held || (c.held && (h.Reason != mute.LowUrgencyReason || !h.Until.Equal(at(c.until)))) {
			t.Errorf("%s at %s: hold %+v, want held %v until %s", c.route, c.at, h, c.held, c.until)
		}
	}
}

// A source that arrived since the last read (with group_wait 0, in the
// very delivery that opened the target) still inhibits: before paging a
// possible target the gate reads the sources again, unless it just did.
func TestInhibitionSeesANewSource(t *testing.T) {
	f := newFixture(t)
	warning := map[string]string{"severity": "warning", "cluster": "eu"}
	f.sources = []map[string]string{warning}
	if h := f.hold(t, candidate(now, warning)); h.Reason != "" {
		t.Fatalf("hold %+v with no source, want none", h)
	}
	f.sources = append(f.sources, map[string]string{"severity": "critical", "cluster": "eu"})
	if h := f.hold(t, candidate(now.Add(time.Second), warning)); h.Reason == "" {
		t.Error("the new source, a second later (within the 5s cache), did not inhibit")
	}
}
