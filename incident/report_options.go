package incident

import (
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/reports"
	"github.com/alertgate/alertgate/schedule"
	"github.com/alertgate/alertgate/snapshot"
)

// ReportOptions reads what a report of [from, to) needs from the config
// that serves: users' working hours, the route tree's teams, the
// postmortem rules and reports.count_sender_acks. The API's
// GET /api/v1/reports and the console's reports page both build their
// options here, so the two show the same numbers.
func ReportOptions(snap *snapshot.Snapshot, from, to time.Time, groupBy reports.GroupBy, now time.Time) reports.Options {
	cfg := snap.Config
	teams := map[string]string{} // Route walks the tree: once per route
	o := reports.Options{
		From: from, To: to, GroupBy: groupBy, Now: now,
		AckBySender:  cfg.Reports.CountSenderAcks,
		WorkingHours: map[string]schedule.Weekly{},
		TeamOf: func(route string) string {
			team, ok := teams[route]
			if !ok {
				if rt := snap.Routes.Route(route); rt != nil {
					team = rt.Team
				}
				teams[route] = team
			}
			return team
		},
		PostmortemRule: func(sev alertgate.Severity, service string) (time.Duration, bool) {
			rule, _, ok := cfg.Postmortems.Rule(sev, service)
			return rule.Due, ok
		},
	}
	for _, u := range cfg.Users {
		if u.WorkingHours == nil {
			continue
		}
		// A validated config always converts; a user whose hours do not
		// is reported with unknown hours rather than failing the report.
		loc, err := config.LoadZone(u.TimeZone)
		if err != nil {
			continue
		}
		win, err := u.WorkingHours.Restriction()
		if err != nil {
			continue
		}
		o.WorkingHours[u.ID] = schedule.Weekly{Location: loc, Windows: []schedule.Restriction{win}}
	}
	return o
}
