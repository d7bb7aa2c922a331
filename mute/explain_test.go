package mute_test

import (
	"testing"
	"time"

	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

// Explain lists every silence, window and inhibiting alert (Hold stops at
// the first), counts the delivery's own alerts as sources, and answers for
// later instants from one read.
func TestExplainListsEveryReason(t *testing.T) {
	f := newFixture(t)
	f.silences = []silence.Silence{
		{ID: "s1", Matchers: []string{`service="db"`}, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), Comment: "a", CreatedBy: "x"},
		{ID: "s2", Matchers: []string{`cluster="c1"`}, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(2 * time.Hour), Comment: "b", CreatedBy: "y"},
	}
	f.sources = []map[string]string{{"severity": "critical", "cluster": "c1", "alertname": "InRedis"}}
	snap, err := snapshot.Load([]byte(cfg), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.gate.Read(t.Context(), snap, now)
	if err != nil {
		t.Fatal(err)
	}
	target := map[string]string{"service": "db", "severity": "warning", "cluster": "c1"}
	payloadSource := map[string]string{"severity": "critical", "cluster": "c1", "alertname": "InPayload"}
	ex, err := r.Explain(snap, now, []map[string]string{target, payloadSource}, []map[string]string{payloadSource})
	if err != nil {
		t.Fatal(err)
	}
	got := ex.Alerts[0]
	if len(got.Silences) != 2 || len(got.Windows) != 1 || got.Windows[0] != "db-tuesday" || len(got.Inhibited) != 2 {
		t.Fatalf("reasons %+v", got)
	}
	if len(ex.Alerts[1].Inhibited) > 0 {
		t.Errorf("a source inhibits itself: %+v", ex.Alerts[1])
	}
	// 13:30 London: the window (11:00–13:00 London, 11:00–13:00 UTC in
	// December) and s1 have ended; s2 still runs. No second read.
	reads := f.reads
	ex, err = r.Explain(snap, now.Add(90*time.Minute), []map[string]string{target}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ex.Alerts[0]; len(got.Silences) != 1 || got.Silences[0].ID != "s2" || len(got.Windows) != 0 || len(got.Inhibited) != 1 {
		t.Errorf("later: %+v", got)
	}
	if f.reads != reads {
		t.Errorf("Explain read again")
	}
}
