package incident_test

import (
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// A sender's acknowledge that names only an alert (PagerDuty's) reaches
// every incident the alert opened, one per route it took.
func TestSenderAckReachesEveryRouteOfTheAlert(t *testing.T) {
	svc, tree, _, _ := newService(t, []config.Route{
		{Name: "audit", Matchers: []string{`severity="critical"`}, Continue: true, GroupBy: []string{"alertname"}},
		{Name: "db", Matchers: []string{`team="db"`}, GroupBy: []string{"cluster"}},
	})
	a := firing("a", map[string]string{"severity": "critical", "team": "db", "cluster": "c1", "alertname": "Down"})
	a.Source = "pd" // the receiver sets an alert's source to its integration
	acc, err := svc.Accept(t.Context(), tree, "pd", alertgate.Batch{Alerts: []alertgate.Alert{a}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Incidents) != 2 {
		t.Fatalf("accepted %+v, want 2 incidents", acc)
	}
	if _, err := svc.Accept(t.Context(), tree, "pd", alertgate.Batch{Acknowledge: []string{a.Fingerprint}}, true); err != nil {
		t.Fatal(err)
	}
	for _, id := range acc.Incidents {
		inc, err := svc.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if inc.Status != alertgate.Acknowledged {
			t.Errorf("incident %s on %s: %s, want acknowledged by the sender's ack", id, inc.Route, inc.Status)
		}
	}
}
