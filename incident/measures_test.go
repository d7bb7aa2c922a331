package incident_test

import (
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
)

// measureRecorder is an Observer that is a MeasureObserver too.
type measureRecorder struct {
	recorder
	tta, ttr []time.Duration
}

func (r *measureRecorder) TimeToAcknowledge(d time.Duration) { r.tta = append(r.tta, d) }
func (r *measureRecorder) TimeToResolve(d time.Duration)     { r.ttr = append(r.ttr, d) }

// TestMeasuresObserved: the histograms hear a person's first acknowledge
// (not a repeat, not one after a reopen, not a sender's) and every
// resolve, a sender's auto-resolve included, each measured from
// triggered_at.
func TestMeasuresObserved(t *testing.T) {
	rdb, prefix := redistest.New(t)
	c := &clock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	rec := &measureRecorder{}
	svc := incident.NewService(dedupe.NewStore(rdb, prefix), incident.Options{Now: c.now, Observer: rec, Logger: testlog.New(t)})
	reopen := 10 * time.Minute
	tree := mustTree(t, []config.Route{{Name: "r", ReopenWindow: &reopen}})
	t0 := c.t
	at := func(s int) { c.t = t0.Add(time.Duration(s) * time.Second) }
	send := func(a alertgate.Alert) string {
		t.Helper()
		acc, err := svc.Accept(t.Context(), tree, "am", alertgate.Batch{Alerts: []alertgate.Alert{a}}, false)
		if err != nil || len(acc.Incidents) != 1 {
			t.Fatalf("accept: %v %+v", err, acc)
		}
		return acc.Incidents[0]
	}
	alert := firing("a", map[string]string{"x": "1"})
	id := send(alert)
	at(120)
	mustDo(t)(svc.Acknowledge(t.Context(), id, incident.By{Actor: "user:alice"}))
	at(130)
	mustDo(t)(svc.Acknowledge(t.Context(), id, incident.By{Actor: "user:alice"})) // a no-op
	at(300)
	resolved := alert
	resolved.Status = alertgate.Resolved
	send(resolved) // auto-resolve
	at(360)
	send(alert) // reopens
	at(400)
	mustDo(t)(svc.Acknowledge(t.Context(), id, incident.By{Actor: "alice via link"}))
	at(500)
	mustDo(t)(svc.Resolve(t.Context(), id, incident.By{Actor: "user:alice"}))

	// A sender's acknowledge is not observed; its resolve is.
	b := send(firing("b", map[string]string{"x": "2"}))
	at(530)
	mustDo(t)(svc.Acknowledge(t.Context(), b, incident.By{Actor: "integration:pd"}))
	at(560)
	mustDo(t)(svc.Resolve(t.Context(), b, incident.By{Actor: "user:bob"}))

	if got, want := rec.tta, []time.Duration{120 * time.Second}; !equal(got, want) {
		t.Errorf("time to acknowledge observed %v, want %v", got, want)
	}
	if got, want := rec.ttr, []time.Duration{300 * time.Second, 500 * time.Second, 60 * time.Second}; !equal(got, want) {
		t.Errorf("time to resolve observed %v, want %v", got, want)
	}
}

func mustDo(t *testing.T) func(*alertgate.Incident, error) {
	return func(_ *alertgate.Incident, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func equal(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
