package reports

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// The CSV forms of a report (docs/measures.md, "CSV"): one row per group,
// or one row per person and group. GET /api/v1/reports?format=csv and the
// console's /reports.csv write the same bytes.

// GroupsCSVHeader is the first row of WriteGroupsCSV.
var GroupsCSVHeader = []string{
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

// WriteGroupsCSV writes one row for the total (group_by "all") and one
// per group; an empty cell is a measure with no samples.
func WriteGroupsCSV(w io.Writer, rep Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(GroupsCSVHeader)
	n := strconv.Itoa
	row := func(groupBy string, g Group) []string {
		out := []string{groupBy, CSVText(g.Key), n(g.Incidents), n(g.Open), n(g.Declared), n(g.Reopened), n(g.Reopens),
			n(g.AutoResolved), n(g.Held), n(g.Flapping), n(g.Unacknowledged), n(g.SenderAcknowledged)}
		st := func(s Stats, withMeanMax bool) {
			out = append(out, n(s.Count), csvSeconds(s.Median), csvSeconds(s.P90))
			if withMeanMax {
				out = append(out, csvSeconds(s.Mean), csvSeconds(s.Max))
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
		out = append(out, n(f.Open), n(f.Overdue), n(f.Done), csvSeconds(f.OpenAge.Median), csvSeconds(f.OpenAge.P90))
		p := g.Pages
		out = append(out, n(p.Total), n(p.ToChannels), n(p.InHours), n(p.OutOfHours), n(p.UnknownHours),
			n(g.EscalatedPastFirstStep), n(g.NotificationFailures), n(g.IncidentsWithFailures))
		return out
	}
	_ = cw.Write(row("all", rep.Total))
	for _, g := range rep.Groups {
		_ = cw.Write(row(string(rep.GroupBy), g))
	}
	cw.Flush()
	return cw.Error()
}

// WritePeopleCSV writes each person's pages: in total (group_by "all"),
// then per group.
func WritePeopleCSV(w io.Writer, rep Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"group_by", "group", "user", "pages", "out_of_hours", "unknown_hours"})
	rows := func(groupBy string, g Group) {
		for _, p := range g.Pages.People {
			_ = cw.Write([]string{groupBy, CSVText(g.Key), CSVText(p.User),
				strconv.Itoa(p.Pages), strconv.Itoa(p.OutOfHours), strconv.Itoa(p.UnknownHours)})
		}
	}
	rows("all", rep.Total)
	for _, g := range rep.Groups {
		rows(string(rep.GroupBy), g)
	}
	cw.Flush()
	return cw.Error()
}

func csvSeconds(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// CSVText defuses a cell a spreadsheet would run as a formula: service
// names come from alert labels, which anyone who can send an alert sets.
func CSVText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
