package httpapi

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/reports"
	"github.com/alertgate/alertgate/schedule"
	"github.com/alertgate/alertgate/snapshot"
)

// maxReportIncidents bounds one report: 10,000 incidents take well under
// half a second (docs/benchmarks.md), so this is a few seconds at most.
const maxReportIncidents = 50_000

// defaultReportWindow is the window of a report that names no from.
const defaultReportWindow = 7 * 24 * time.Hour

// reportQuery is a parsed GET /api/v1/reports.
type reportQuery struct {
	from, to time.Time
	groupBy  reports.GroupBy
	csv      bool
	people   bool // the CSV's people table instead of its groups
}

// handleReports serves GET /api/v1/reports: the measures of
// docs/measures.md over the incidents triggered in [from, to), as JSON or,
// with format=csv, as CSV (table=groups, the default, or table=people).
func handleReports(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := requestSnapshot(r)
		now := d.Now()
		q, err := parseReportQuery(r, now)
		if err != nil {
			writeError(w, err, 0)
			return
		}
		start := time.Now()
		incidents, err := d.Incidents.History(r.Context(), q.from, q.to, maxReportIncidents)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		read := time.Since(start)
		rep := reports.Compute(incidents, reportOptions(snap, q, now))
		// Server-Timing lets an operator (and the benchmark) see where a
		// slow report spends its time without a profiler.
		w.Header().Set("Server-Timing", fmt.Sprintf("read;dur=%.1f, compute;dur=%.1f",
			ms(read), ms(time.Since(start)-read)))
		if !q.csv {
			encode(w, http.StatusOK, rep)
			return
		}
		table := "groups"
		if q.people {
			table = "people"
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="alertgate-report-%s-%s-%s-%s.csv"`,
			q.groupBy, table, q.from.UTC().Format("20060102T150405Z"), q.to.UTC().Format("20060102T150405Z")))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		cw := csv.NewWriter(w)
		if q.people {
			writePeopleCSV(cw, rep)
		} else {
			writeGroupsCSV(cw, rep)
		}
		cw.Flush()
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func parseReportQuery(r *http.Request, now time.Time) (reportQuery, error) {
	qs := r.URL.Query()
	q := reportQuery{to: now}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.from}, {"to", &q.to}} {
		if s := qs.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return q, alertgate.FieldErrorf(p.name, "%q is not an RFC 3339 time such as 2026-11-02T00:00:00Z", alertgate.Truncate(s, 64))
			}
			*p.dst = t
		}
	}
	if qs.Get("from") == "" {
		q.from = q.to.Add(-defaultReportWindow)
	}
	if !q.from.Before(q.to) {
		return q, alertgate.FieldErrorf("from", "must be before to (%s)", q.to.UTC().Format(time.RFC3339))
	}
	g, err := reports.ParseGroupBy(qs.Get("group_by"))
	if err != nil {
		return q, alertgate.FieldErrorf("group_by", "%s", alertgate.Truncate(err.Error(), 120))
	}
	q.groupBy = g
	switch f := qs.Get("format"); f {
	case "", "json":
	case "csv":
		q.csv = true
	default:
		return q, alertgate.FieldErrorf("format", "%q is not one of json, csv", alertgate.Truncate(f, 32))
	}
	switch t := qs.Get("table"); t {
	case "", "groups":
	case "people":
		q.people = true
	default:
		return q, alertgate.FieldErrorf("table", "%q is not one of groups, people", alertgate.Truncate(t, 32))
	}
	if qs.Has("table") && !q.csv {
		return q, alertgate.FieldErrorf("table", "applies to format=csv only (the JSON has both)")
	}
	return q, nil
}

// reportOptions reads what a report needs from the request's config:
// users' working hours, the route tree's teams, the postmortem rules and
// reports.count_sender_acks.
func reportOptions(snap *snapshot.Snapshot, q reportQuery, now time.Time) reports.Options {
	cfg := snap.Config
	teams := map[string]string{} // Route walks the tree: once per route
	o := reports.Options{
		From: q.from, To: q.to, GroupBy: q.groupBy, Now: now,
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

var groupsCSVHeader = []string{
	"group_by", "group", "incidents", "open", "declared", "reopened", "reopens", "auto_resolved", "held", "flapping",
	"unacknowledged", "sender_acknowledged",
	"tta_count", "tta_median_seconds", "tta_p90_seconds", "tta_mean_seconds", "tta_max_seconds",
	"ttr_count", "ttr_median_seconds", "ttr_p90_seconds", "ttr_mean_seconds", "ttr_max_seconds",
	"impact_count", "impact_median_seconds", "impact_p90_seconds", "impact_total_seconds",
	"postmortems_required", "postmortems_done", "postmortems_pending", "postmortems_overdue",
	"resolve_to_postmortem_done_count", "resolve_to_postmortem_done_median_seconds", "resolve_to_postmortem_done_p90_seconds",
	"follow_ups_open", "follow_ups_overdue", "follow_ups_done", "follow_up_open_age_median_seconds", "follow_up_open_age_p90_seconds",
	"pages", "pages_to_channels", "pages_in_hours", "pages_out_of_hours", "pages_unknown_hours",
	"escalated_past_first_step", "notification_failures", "incidents_with_failures",
}

// writeGroupsCSV writes one row for the total (group_by "all") and one
// per group; an empty cell is a measure with no samples.
func writeGroupsCSV(cw *csv.Writer, rep reports.Report) {
	_ = cw.Write(groupsCSVHeader)
	row := func(groupBy string, g reports.Group) []string {
		n := strconv.Itoa
		out := []string{groupBy, csvText(g.Key), n(g.Incidents), n(g.Open), n(g.Declared), n(g.Reopened), n(g.Reopens),
			n(g.AutoResolved), n(g.Held), n(g.Flapping), n(g.Unacknowledged), n(g.SenderAcknowledged)}
		st := func(s reports.Stats, withMeanMax bool) {
			out = append(out, n(s.Count), sec(s.Median), sec(s.P90))
			if withMeanMax {
				out = append(out, sec(s.Mean), sec(s.Max))
			}
		}
		st(g.TimeToAcknowledge, true)
		st(g.TimeToResolve, true)
		st(g.CustomerImpact.Stats, false)
		out = append(out, strconv.FormatFloat(g.CustomerImpact.TotalSeconds, 'f', -1, 64))
		pm := g.Postmortems
		out = append(out, n(pm.Required), n(pm.Done), n(pm.Pending), n(pm.Overdue))
		st(pm.ResolveToDone, false)
		f := g.FollowUps
		out = append(out, n(f.Open), n(f.Overdue), n(f.Done), sec(f.OpenAge.Median), sec(f.OpenAge.P90))
		p := g.Pages
		out = append(out, n(p.Total), n(p.ToChannels), n(p.InHours), n(p.OutOfHours), n(p.UnknownHours),
			n(g.EscalatedPastFirstStep), n(g.NotificationFailures), n(g.IncidentsWithFailures))
		return out
	}
	_ = cw.Write(row("all", rep.Total))
	for _, g := range rep.Groups {
		_ = cw.Write(row(string(rep.GroupBy), g))
	}
}

// writePeopleCSV writes each person's pages: in total (group_by "all"),
// then per group.
func writePeopleCSV(cw *csv.Writer, rep reports.Report) {
	_ = cw.Write([]string{"group_by", "group", "user", "pages", "out_of_hours", "unknown_hours"})
	rows := func(groupBy string, g reports.Group) {
		for _, p := range g.Pages.People {
			_ = cw.Write([]string{groupBy, csvText(g.Key), csvText(p.User),
				strconv.Itoa(p.Pages), strconv.Itoa(p.OutOfHours), strconv.Itoa(p.UnknownHours)})
		}
	}
	rows("all", rep.Total)
	for _, g := range rep.Groups {
		rows(string(rep.GroupBy), g)
	}
}

func sec(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// csvText defuses a cell a spreadsheet would run as a formula: service
// names come from alert labels, which anyone who can send an alert sets.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
