package dedupe_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/reports"
)

// Reducing a long-resolved incident keeps what reports count — the same
// report before and after — and frees most of its memory; an incident
// resolved recently, or open, is left whole; a second run changes nothing.
func TestReduceKeepsWhatReportsCount(t *testing.T) {
	rdb, prefix := redistest.New(t)
	s := dedupe.NewStore(rdb, prefix)
	ctx := t.Context()
	g := func(k string) dedupe.Group {
		gr := group
		gr.Key = k
		return gr
	}
	var alerts []alertgate.Alert
	for i := range 50 {
		a := alert(fmt.Sprintf("a%d", i), alertgate.Firing)
		a.StartsAt = t0.Add(-time.Duration(50-i) * time.Minute)
		a.Annotations = map[string]string{"description": fmt.Sprintf("a long description of alert %d, as senders send them", i)}
		alerts = append(alerts, a)
	}
	old := mustIngest(t, s, g("old"), t0, alerts...).IncidentID
	if _, err := s.Transition(ctx, old, change(dedupe.Acknowledge, "", t0.Add(3*time.Minute))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Transition(ctx, old, change(dedupe.Note, "rebooted the primary", t0.Add(4*time.Minute))); err != nil {
		t.Fatal(err)
	}
	for i := range alerts {
		alerts[i].Status = alertgate.Resolved
	}
	mustIngest(t, s, g("old"), t0.Add(10*time.Minute), alerts...)
	recent := mustIngest(t, s, g("recent"), t0.Add(24*time.Hour), alert("r", alertgate.Firing)).IncidentID
	if _, err := s.Transition(ctx, recent, change(dedupe.Resolve, "", t0.Add(25*time.Hour))); err != nil {
		t.Fatal(err)
	}
	open := mustIngest(t, s, g("open"), t0, alert("o", alertgate.Firing)).IncidentID

	report := func() string {
		t.Helper()
		hist, err := s.History(ctx, t0.Add(-time.Hour), t0.Add(48*time.Hour), 100, reports.EventTypes)
		if err != nil {
			t.Fatal(err)
		}
		r := reports.Compute(hist, reports.Options{From: t0.Add(-time.Hour), To: t0.Add(48 * time.Hour), GroupBy: reports.ByService, Now: t0.Add(48 * time.Hour)})
		b, _ := json.Marshal(r)
		return string(b)
	}
	memory := func(id string) int64 {
		t.Helper()
		n, _ := redisx.IncidentShard(id)
		sh := redisx.NewLayout(prefix).Shard(n)
		var total int64
		for _, k := range []string{sh.KeyOf(redisx.Incident, id), sh.KeyOf(redisx.Timeline, id), sh.KeyOf(redisx.IncidentAlerts, id),
			sh.KeyOf(redisx.AlertMeta, id), sh.KeyOf(redisx.Pages, id), sh.KeyOf(redisx.Notified, id)} {
			m, err := rdb.MemoryUsage(ctx, k).Result()
			if err == nil {
				total += m
			}
		}
		return total
	}
	before, memBefore := report(), memory(old)

	n, err := s.Reduce(ctx, t0.Add(12*time.Hour), reports.EventTypes, 100)
	if err != nil || n != 1 {
		t.Fatalf("Reduce = %d, %v; want the one incident resolved before the cut", n, err)
	}
	if after := report(); after != before {
		t.Errorf("the report changed with the reduction:\nbefore %s\nafter  %s", before, after)
	}
	memAfter := memory(old)
	t.Logf("memory of a 50-alert incident: %d bytes whole, %d reduced", memBefore, memAfter)
	if memAfter*3 > memBefore {
		t.Errorf("reduced to %d of %d bytes, want under a third", memAfter, memBefore)
	}
	inc, err := s.Get(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if inc.ReducedAt.IsZero() {
		t.Error("the reduced incident does not say so (reduced_at)")
	}
	if len(inc.Alerts) != 1 || !inc.Alerts[0].StartsAt.Equal(t0.Add(-50*time.Minute)) || inc.AlertCount != 50 || inc.Status != alertgate.IncidentResolved {
		t.Errorf("reduced incident: %d alerts (first starts %s), alert_count %d, %s; want the first alert kept, the count and status too",
			len(inc.Alerts), inc.Alerts[0].StartsAt, inc.AlertCount, inc.Status)
	}
	for _, e := range inc.Timeline {
		if e.Type == alertgate.EventNote || e.Type == alertgate.EventAlertAdded {
			t.Errorf("reduced timeline kept a %s entry", e.Type)
		}
	}
	for _, id := range []string{recent, open} {
		if inc, _ := s.Get(ctx, id); len(inc.Alerts) != 1 || len(inc.Timeline) < 2 {
			t.Errorf("incident %s was reduced: %d alerts, %d entries", id, len(inc.Alerts), len(inc.Timeline))
		}
	}
	if n, err := s.Reduce(ctx, t0.Add(12*time.Hour), reports.EventTypes, 100); err != nil || n != 0 {
		t.Errorf("second Reduce = %d, %v; want nothing to do", n, err)
	}
}
