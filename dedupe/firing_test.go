package dedupe_test

import (
	"slices"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
)

// FiringAlerts sees the firing alerts of open incidents, acknowledged ones
// included, and nothing of resolved alerts or resolved incidents.
func TestFiringAlerts(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		ctx := t.Context()
		ingest := func(key string, alerts ...alertgate.Alert) string {
			t.Helper()
			g := group
			g.Key = key
			res, err := s.Ingest(ctx, g, dedupe.Delivery{Alerts: alerts, Actor: "test", Now: t0})
			if err != nil {
				t.Fatal(err)
			}
			return res.IncidentID
		}
		ingest("g1", alert("a", alertgate.Firing), alert("b", alertgate.Firing))
		ingest("g1", alert("b", alertgate.Resolved))
		acked := ingest("g2", alert("c", alertgate.Firing))
		if _, err := s.Transition(ctx, acked, change(dedupe.Acknowledge, "", t0)); err != nil {
			t.Fatal(err)
		}
		closed := ingest("g3", alert("d", alertgate.Firing))
		if _, err := s.Transition(ctx, closed, change(dedupe.Resolve, "", t0)); err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := s.FiringAlerts(ctx, func(l map[string]string) { got = append(got, l["instance"]) }); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		if want := []string{"a", "c"}; !slices.Equal(got, want) {
			t.Errorf("firing alerts %v, want %v", got, want)
		}
	})
}
