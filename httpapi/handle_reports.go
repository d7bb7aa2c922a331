package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/reports"
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
		write := reports.WriteGroupsCSV
		if q.people {
			write = reports.WritePeopleCSV
		}
		// The status is out: a failed write is a client gone away.
		_ = write(w, rep)
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// windowParams reads from and to (RFC 3339): to defaults to now, from to
// window before to, and from must be before to. Reports and exports
// share it.
func windowParams(qs url.Values, now time.Time, window time.Duration) (from, to time.Time, err error) {
	to = now
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if s := qs.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return from, to, alertgate.FieldErrorf(p.name, "%q is not an RFC 3339 time such as 2026-11-02T00:00:00Z", alertgate.Truncate(s, 64))
			}
			*p.dst = t
		}
	}
	if qs.Get("from") == "" {
		from = to.Add(-window)
	}
	if !from.Before(to) {
		return from, to, alertgate.FieldErrorf("from", "must be before to (%s)", to.UTC().Format(time.RFC3339))
	}
	return from, to, nil
}

func parseReportQuery(r *http.Request, now time.Time) (reportQuery, error) {
	qs := r.URL.Query()
	var q reportQuery
	var err error
	if q.from, q.to, err = windowParams(qs, now, defaultReportWindow); err != nil {
		return q, err
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

// reportOptions is the report's options from the request's config; the
// console's reports page builds its own the same way.
func reportOptions(snap *snapshot.Snapshot, q reportQuery, now time.Time) reports.Options {
	return incident.ReportOptions(snap, q.from, q.to, q.groupBy, now)
}

// csvText defuses a cell a spreadsheet would run as a formula (the
// export's CSV too).
func csvText(s string) string { return reports.CSVText(s) }
