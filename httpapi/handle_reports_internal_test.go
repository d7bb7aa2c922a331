package httpapi

import (
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/reports"
	"github.com/alertgate/alertgate/snapshot"
)

// TestReportOptions: the config's users, teams, postmortem rules and
// count_sender_acks reach the report.
func TestReportOptions(t *testing.T) {
	snap, err := snapshot.Load([]byte(`
api: {tokens: [t]}
teams: [{id: pay, members: [alice]}]
routes:
  - name: payments
    match: {team: payments}
    team: pay
    routes: [{name: cards, match: {kind: cards}}]
users:
  - id: alice
    time_zone: Europe/Berlin
    working_hours: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
    contacts: [{notifier: console, address: alice}]
  - id: bob
    contacts: [{notifier: console, address: bob}]
postmortems:
  required: [{severity: critical, due: 72h}]
reports: {count_sender_acks: true}
`), "r.yml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	o := reportOptions(snap, reportQuery{groupBy: reports.ByTeam}, time.Now())
	if !o.AckBySender {
		t.Error("count_sender_acks: true did not reach the report")
	}
	if got := o.TeamOf("cards"); got != "pay" {
		t.Errorf("team of cards (inherited) = %q, want pay", got)
	}
	if got := o.TeamOf(""); got != "" {
		t.Errorf("team of no route = %q", got)
	}
	if _, ok := o.WorkingHours["bob"]; ok {
		t.Error("bob has no working hours, but got some")
	}
	wh, ok := o.WorkingHours["alice"]
	// Monday 2026-11-02: 08:30 UTC is 09:30 in Berlin (UTC+1), 16:30 UTC is 17:30.
	if !ok || !wh.Active(time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC)) || wh.Active(time.Date(2026, 11, 2, 16, 30, 0, 0, time.UTC)) {
		t.Errorf("alice's working hours %+v (ok %v) are not 09:00–17:00 Berlin time", wh, ok)
	}
	if due, ok := o.PostmortemRule(alertgate.SeverityCritical, "x"); !ok || due != 72*time.Hour {
		t.Errorf("postmortem rule for critical: %v %v, want 72h", due, ok)
	}
	if _, ok := o.PostmortemRule(alertgate.SeverityWarning, "x"); ok {
		t.Error("a postmortem rule for warning")
	}
}
