package incident_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/routing"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type recorder struct {
	events     []string
	duplicates int
}

func (r *recorder) IncidentEvent(event string) { r.events = append(r.events, event) }
func (r *recorder) Duplicates(_ string, n int) { r.duplicates += n }

func newService(t *testing.T, routes []config.Route) (*incident.Service, *routing.Tree, *clock, *recorder) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	c := &clock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	rec := &recorder{}
	svc := incident.NewService(dedupe.NewStore(rdb, prefix), incident.Options{Now: c.now, Observer: rec, Logger: testlog.New(t)})
	return svc, mustTree(t, routes), c, rec
}

func mustTree(t *testing.T, routes []config.Route) *routing.Tree {
	t.Helper()
	tree, err := routing.New(routes, "")
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func firing(fp string, labels map[string]string) alertgate.Alert {
	return alertgate.Alert{Fingerprint: fp, Status: alertgate.Firing, Source: "am", Labels: labels,
		Summary: fp, Severity: alertgate.SeverityError, Service: labels["service"]}
}

// One delivery whose alerts fall into two routes' groups opens two
// incidents, each with its own alerts.
func TestAcceptSplitsGroups(t *testing.T) {
	svc, tree, _, rec := newService(t, []config.Route{
		{Name: "db", Match: map[string]string{"team": "db"}, GroupBy: []string{"cluster"}, Service: "database"},
	})
	b := alertgate.Batch{Alerts: []alertgate.Alert{
		firing("a", map[string]string{"team": "db", "cluster": "c1"}),
		firing("b", map[string]string{"team": "db", "cluster": "c1"}),
		firing("c", map[string]string{"team": "web", "service": "shop"}),
	}, Truncated: 7}
	acc, err := svc.Accept(t.Context(), tree, "am", b, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(acc.Incidents), 2; got != want {
		t.Fatalf("incidents %v, want %d", acc.Incidents, want)
	}
	db, err := svc.Get(t.Context(), acc.Incidents[0])
	if err != nil {
		t.Fatal(err)
	}
	if db.Route != "db" || db.AlertCount != 2 || db.Service != "database" {
		t.Errorf("db incident: route %s alerts %d service %s", db.Route, db.AlertCount, db.Service)
	}
	var truncated int
	for _, e := range db.Timeline {
		if e.Type == alertgate.EventTruncated {
			truncated++
		}
	}
	if truncated != 1 {
		t.Errorf("truncation recorded %d times, want once", truncated)
	}
	web, err := svc.Get(t.Context(), acc.Incidents[1])
	if err != nil {
		t.Fatal(err)
	}
	if web.Route != "default" || web.Service != "shop" {
		t.Errorf("web incident: route %s service %s, want default and the alert's service", web.Route, web.Service)
	}
	// Neither route has a policy: each opening counts as unpaged too.
	if got, want := fmt.Sprint(rec.events), "[opened no_policy opened no_policy]"; got != want {
		t.Errorf("observer heard events %s, want %s", got, want)
	}
}

// PagerDuty's acknowledge names only an alert: the service finds its
// incident through the alert index.
func TestAcknowledgeByAlert(t *testing.T) {
	svc, tree, c, _ := newService(t, nil)
	acc, err := svc.Accept(t.Context(), tree, "pd", alertgate.Batch{Alerts: []alertgate.Alert{
		{Fingerprint: "k1", Status: alertgate.Firing, Source: "pd", Summary: "x", Severity: alertgate.SeverityInfo},
	}}, true)
	if err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Minute)
	for range 2 { // twice: idempotent
		if _, err := svc.Accept(t.Context(), tree, "pd", alertgate.Batch{Acknowledge: []string{"k1", "unknown"}}, true); err != nil {
			t.Fatal(err)
		}
	}
	inc, err := svc.Get(t.Context(), acc.Incidents[0])
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != alertgate.Acknowledged || !inc.AcknowledgedAt.Equal(c.t) {
		t.Fatalf("status %s acknowledged_at %v, want acknowledged at %v", inc.Status, inc.AcknowledgedAt, c.t)
	}
	if last := inc.Timeline[len(inc.Timeline)-1]; last.Actor != "integration:pd" {
		t.Errorf("actor %q, want integration:pd", last.Actor)
	}
}

// Accept routes by the tree it is given, the one of the request's config
// snapshot: a reload changes the routes of later deliveries only.
func TestAcceptRoutesByTheGivenTree(t *testing.T) {
	svc, before, _, _ := newService(t, nil)
	after := mustTree(t, []config.Route{{Name: "all", GroupBy: []string{"..."}}})
	for _, tt := range []struct {
		tree      *routing.Tree
		fp        string
		wantRoute string
	}{{before, "y", "default"}, {after, "z", "all"}, {before, "w", "default"}} {
		acc, err := svc.Accept(t.Context(), tt.tree, "am", alertgate.Batch{Alerts: []alertgate.Alert{firing(tt.fp, map[string]string{"x": tt.fp})}}, false)
		if err != nil {
			t.Fatal(err)
		}
		inc, err := svc.Get(t.Context(), acc.Incidents[0])
		if err != nil {
			t.Fatal(err)
		}
		if inc.Route != tt.wantRoute {
			t.Errorf("alert %s: route %q, want %q", tt.fp, inc.Route, tt.wantRoute)
		}
	}
}
