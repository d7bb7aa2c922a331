package console

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/reports"
)

// Reports: GET /reports shows the measures of docs/measures.md over a
// window, by group, with MTTA and MTTR charted (static/reports.js over
// the vendored Chart.js); GET /reports.csv is the API's CSV of the same
// report under the session, so a person needs no API token to export.

// The page and its paths live here rather than in render.go's pageNames
// and console.go's Paths, so the reports page is one file; init runs
// before New parses the pages and before the server reads Paths.
func init() {
	pageNames = append(pageNames, "reports")
	Paths = append(Paths, "/reports") // a prefix: /reports.csv too
}

// maxReportIncidents bounds one report, as GET /api/v1/reports does.
const maxReportIncidents = 50_000

// reportRanges are the window presets; the first is the default.
var reportRanges = []struct {
	Value, Label string
	d            time.Duration
}{
	{"7d", "Last 7 days", 7 * 24 * time.Hour},
	{"24h", "Last 24 hours", 24 * time.Hour},
	{"30d", "Last 30 days", 30 * 24 * time.Hour},
}

// vendorCache is how long a browser keeps a vendored library: its file
// name carries its version, so a new version is a new URL.
const vendorCache = "public, max-age=31536000, immutable"

// reportRoutes adds the reports page, its CSV and the vendored scripts.
func (c *Console) reportRoutes(m *http.ServeMux) {
	m.Handle("GET /reports", c.page(c.reportsPage))
	m.Handle("GET /reports.csv", c.page(c.reportsCSV))
	m.Handle("GET /static/vendor/", vendorHandler())
}

// reportQuery is the page's query string, as given (the form shows it
// back), and the window it names.
type reportQuery struct {
	Range, From, To, GroupBy string

	from, to time.Time
	groupBy  reports.GroupBy
}

// parseReportQuery reads range (a preset), or from and to (UTC,
// 2026-03-09T14:00; either may be left out: to is now, from a preset
// before to), and group_by.
func parseReportQuery(v url.Values, now time.Time) (reportQuery, error) {
	rq := reportQuery{Range: v.Get("range"), From: v.Get("from"), To: v.Get("to"), GroupBy: v.Get("group_by")}
	g, err := reports.ParseGroupBy(rq.GroupBy)
	if err != nil {
		return rq, alertgate.FieldErrorf("group_by", "%s", alertgate.Truncate(err.Error(), 120))
	}
	rq.groupBy = g
	window := reportRanges[0].d
	if rq.Range == "" {
		rq.Range = reportRanges[0].Value
	} else {
		i := -1
		for j, r := range reportRanges {
			if r.Value == rq.Range {
				i = j
			}
		}
		if i < 0 {
			return rq, alertgate.FieldErrorf("range", "%q is not one of 24h, 7d, 30d", alertgate.Truncate(rq.Range, 32))
		}
		window = reportRanges[i].d
	}
	rq.to = now
	for _, p := range []struct {
		name, value string
		dst         *time.Time
	}{{"from", rq.From, &rq.from}, {"to", rq.To, &rq.to}} {
		if p.value == "" {
			continue
		}
		t, err := time.ParseInLocation(dateTimeLocal, p.value, time.UTC)
		if err != nil {
			return rq, alertgate.FieldErrorf(p.name, "%q is not a date and time such as 2026-01-02T15:04", alertgate.Truncate(p.value, 32))
		}
		*p.dst = t
	}
	if rq.from.IsZero() {
		rq.from = rq.to.Add(-window)
	}
	if !rq.from.Before(rq.to) {
		return rq, alertgate.FieldErrorf("from", "must be before to (%s)", when(rq.to))
	}
	return rq, nil
}

// encode is the query string of the same report (for the CSV links and
// the presets).
func (rq reportQuery) encode(extra ...string) string {
	return query(append([]string{"range", rq.Range, "from", rq.From, "to", rq.To, "group_by", rq.GroupBy}, extra...)...)
}

// report reads the incidents of rq's window and computes their report
// with the options the API uses.
func (c *Console) report(r *http.Request, q *request, rq reportQuery) (reports.Report, error) {
	incidents, err := c.d.Incidents.History(r.Context(), rq.from, rq.to, maxReportIncidents)
	if err != nil {
		return reports.Report{}, err
	}
	return reports.Compute(incidents, incident.ReportOptions(q.snap, rq.from, rq.to, rq.groupBy, q.now)), nil
}

type reportsBody struct {
	Q        reportQuery
	Ranges   []string
	RangeLbl map[string]string
	GroupBys []reports.GroupBy
	// Report is nil when the query was wrong.
	Report    *reportView
	CSV       string // the groups CSV's URL
	PeopleCSV string
	// Chart is the data island static/reports.js draws from: html/template
	// writes it as JSON inside <script type="application/json">.
	Chart chartData
}

type reportView struct {
	From, To, GroupBy string
	Total             groupRow
	Groups            []groupRow
	People            []reports.PersonLoad
}

// groupRow is one table row, its durations written for people.
type groupRow struct {
	Key                                  string
	Incidents, Open                      int
	TTACount, TTRCount                   int
	TTAMedian, TTAP90, TTRMedian, TTRP90 string
	ImpactTotal                          string
	ImpactCount                          int
	Escalated, Failures                  int
	FollowUpsOpen, FollowUpsOverdue      int
}

// chartData is MTTA and MTTR per group, in seconds; null where a group
// has no samples.
type chartData struct {
	Labels    []string   `json:"labels"`
	TTAMedian []*float64 `json:"tta_median"`
	TTAP90    []*float64 `json:"tta_p90"`
	TTRMedian []*float64 `json:"ttr_median"`
	TTRP90    []*float64 `json:"ttr_p90"`
}

func (c *Console) reportsPage(w http.ResponseWriter, r *http.Request, q *request) {
	body := reportsBody{GroupBys: reports.GroupBys, RangeLbl: map[string]string{}}
	for _, rr := range reportRanges {
		body.Ranges = append(body.Ranges, rr.Value)
		body.RangeLbl[rr.Value] = rr.Label
	}
	rq, err := parseReportQuery(r.URL.Query(), q.now)
	body.Q = rq
	v := view{Title: "Reports", Nav: "reports", Body: &body}
	if err != nil {
		v.Problem = alertgate.ErrorMessage(err)
		c.render(w, q, http.StatusBadRequest, "reports", v)
		return
	}
	rep, err := c.report(r, q, rq)
	if err != nil {
		c.failed(w, r, q, err)
		return
	}
	body.CSV = "/reports.csv?" + rq.encode()
	body.PeopleCSV = "/reports.csv?" + rq.encode("table", "people")
	rv := &reportView{From: when(rep.From), To: when(rep.To), GroupBy: string(rep.GroupBy),
		Total: rowOf(rep.Total), People: rep.Total.Pages.People}
	body.Chart = chartData{Labels: []string{}, TTAMedian: []*float64{}, TTAP90: []*float64{}, TTRMedian: []*float64{}, TTRP90: []*float64{}}
	for _, g := range rep.Groups {
		rv.Groups = append(rv.Groups, rowOf(g))
		body.Chart.Labels = append(body.Chart.Labels, groupLabel(g.Key))
		body.Chart.TTAMedian = append(body.Chart.TTAMedian, g.TimeToAcknowledge.Median)
		body.Chart.TTAP90 = append(body.Chart.TTAP90, g.TimeToAcknowledge.P90)
		body.Chart.TTRMedian = append(body.Chart.TTRMedian, g.TimeToResolve.Median)
		body.Chart.TTRP90 = append(body.Chart.TTRP90, g.TimeToResolve.P90)
	}
	body.Report = rv
	c.render(w, q, http.StatusOK, "reports", v)
}

// groupLabel names a group with no service, route, team or severity.
func groupLabel(key string) string {
	if key == "" {
		return "(none)"
	}
	return key
}

func rowOf(g reports.Group) groupRow {
	return groupRow{
		Key: groupLabel(g.Key), Incidents: g.Incidents, Open: g.Open,
		TTACount: g.TimeToAcknowledge.Count, TTAMedian: seconds(g.TimeToAcknowledge.Median), TTAP90: seconds(g.TimeToAcknowledge.P90),
		TTRCount: g.TimeToResolve.Count, TTRMedian: seconds(g.TimeToResolve.Median), TTRP90: seconds(g.TimeToResolve.P90),
		ImpactCount: g.CustomerImpact.Count, ImpactTotal: seconds(&g.CustomerImpact.TotalSeconds),
		Escalated: g.EscalatedPastFirstStep, Failures: g.NotificationFailures,
		FollowUpsOpen: g.FollowUps.Open, FollowUpsOverdue: g.FollowUps.Overdue,
	}
}

// seconds writes a duration measure for people: "–" with no samples,
// else hours, minutes and seconds ("1h 05m 00s", "12m 30s", "45s").
func seconds(v *float64) string {
	if v == nil {
		return "–"
	}
	s := int64(*v + 0.5)
	h, m, sec := s/3600, s/60%60, s%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh %02dm %02ds", h, m, sec)
	case m > 0:
		return fmt.Sprintf("%dm %02ds", m, sec)
	}
	return strconv.FormatInt(sec, 10) + "s"
}

// reportsCSV serves the report as the CSV of GET /api/v1/reports?format=csv
// (table=groups, the default, or table=people).
func (c *Console) reportsCSV(w http.ResponseWriter, r *http.Request, q *request) {
	v := r.URL.Query()
	rq, err := parseReportQuery(v, q.now)
	if err != nil {
		c.problem(w, q, http.StatusBadRequest, alertgate.ErrorMessage(err))
		return
	}
	table := v.Get("table")
	switch table {
	case "":
		table = "groups"
	case "groups", "people":
	default:
		c.problem(w, q, http.StatusBadRequest, fmt.Sprintf("table: %q is not one of groups, people", alertgate.Truncate(table, 32)))
		return
	}
	rep, err := c.report(r, q, rq)
	if err != nil {
		c.failed(w, r, q, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="alertgate-report-%s-%s-%s-%s.csv"`,
		rq.groupBy, table, rq.from.UTC().Format("20060102T150405Z"), rq.to.UTC().Format("20060102T150405Z")))
	w.WriteHeader(http.StatusOK)
	if table == "people" {
		err = reports.WritePeopleCSV(w, rep)
	} else {
		err = reports.WriteGroupsCSV(w, rep)
	}
	if err != nil {
		c.d.Logger.Warn("console: writing a report CSV", "err", err.Error())
	}
}

// vendorHandler serves the vendored libraries (static/vendor/), whose
// names carry their versions, for a year.
func vendorHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/static/vendor/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", vendorCache)
		files.ServeHTTP(w, r)
	})
}
