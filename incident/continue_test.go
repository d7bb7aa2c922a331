package incident_test

import (
	"slices"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// An alert that takes two routes (continue: true) opens an incident on
// each; the same delivery again opens nothing more, and its resolution
// resolves both.
func TestAcceptContinueOpensIncidentPerRoute(t *testing.T) {
	svc, tree, _, _ := newService(t, []config.Route{
		{Name: "audit", Matchers: []string{`severity=~"critical|error"`}, Continue: true, GroupBy: []string{"alertname"}},
		{Name: "db", Matchers: []string{`team="db"`}, GroupBy: []string{"cluster"}, Routes: []config.Route{
			{Name: "db-primary", Matchers: []string{`role="primary"`}},
		}},
	})
	a := firing("a", map[string]string{"severity": "critical", "team": "db", "role": "primary", "cluster": "c1", "alertname": "Down"})
	acc, err := svc.Accept(t.Context(), tree, "am", alertgate.Batch{Alerts: []alertgate.Alert{a}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Incidents) != 2 || acc.Alerts != 1 {
		t.Fatalf("accepted %+v, want 1 alert in 2 incidents", acc)
	}
	var routes []string
	for _, id := range acc.Incidents {
		inc, err := svc.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if inc.AlertCount != 1 || inc.Status != alertgate.Triggered {
			t.Errorf("incident %s: %d alerts, status %s", id, inc.AlertCount, inc.Status)
		}
		routes = append(routes, inc.Route)
	}
	if !slices.Equal(routes, []string{"audit", "db-primary"}) {
		t.Errorf("incidents on routes %v, want [audit db-primary]", routes)
	}

	again, err := svc.Accept(t.Context(), tree, "am", alertgate.Batch{Alerts: []alertgate.Alert{a}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if again.Duplicates != 2 || !slices.Equal(again.Incidents, acc.Incidents) {
		t.Errorf("redelivery: %+v, want the same two incidents and 2 duplicates (one per route)", again)
	}

	a.Status = alertgate.Resolved
	if _, err := svc.Accept(t.Context(), tree, "am", alertgate.Batch{Alerts: []alertgate.Alert{a}}, true); err != nil {
		t.Fatal(err)
	}
	for _, id := range acc.Incidents {
		inc, err := svc.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if inc.Status != alertgate.IncidentResolved {
			t.Errorf("incident %s on %s: %s after the alert resolved, want resolved", id, inc.Route, inc.Status)
		}
	}
}
