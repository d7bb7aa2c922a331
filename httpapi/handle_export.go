package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/snapshot"
)

// Export (docs/export.md): every incident triggered in [from, to), newest
// first, streamed page by page from the store's listing so that a year of
// incidents never sits in memory at once.

const (
	// defaultExportWindow is the window of an export that names no from.
	defaultExportWindow = 30 * 24 * time.Hour
	// maxExportWindow bounds one request (a leap year): a longer export is
	// asked for in pieces, so one request cannot walk the whole history.
	maxExportWindow = 366 * 24 * time.Hour
)

// exportQuery is a parsed GET /api/v1/export.
type exportQuery struct {
	from, to time.Time
	csv      bool
	status   alertgate.IncidentStatus
}

func (q exportQuery) ext() string {
	if q.csv {
		return "csv"
	}
	return "jsonl"
}

// handleExport serves GET /api/v1/export?from=&to=&format=jsonl|csv&status=.
func handleExport(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := requestSnapshot(r)
		q, err := parseExportQuery(r, d.Now())
		if err != nil {
			writeError(w, err, 0)
			return
		}
		f := alertgate.IncidentFilter{Status: q.status, Since: q.from, Until: q.to, Limit: alertgate.MaxListLimit}
		// The first page is read before the headers go out, so a store that
		// is down answers a proper 503 rather than an empty file.
		page, err := d.Incidents.List(r.Context(), f)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		if q.csv {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/x-ndjson")
		}
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="alertgate-incidents-%s-%s.%s"`,
			q.from.UTC().Format("20060102T150405Z"), q.to.UTC().Format("20060102T150405Z"), q.ext()))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)

		rc := http.NewResponseController(w)
		out := newExportWriter(d, snap, q, w)
		for {
			// The server's WriteTimeout bounds a whole response; an export
			// that keeps making progress gets a fresh one per page. Errors
			// are ErrNotSupported for writers without deadlines: fine.
			_ = rc.SetWriteDeadline(time.Now().Add(WriteTimeout))
			for i := range page.Incidents {
				inc := &page.Incidents[i]
				// Since and Until are inclusive and in milliseconds; the
				// export is [from, to) to the nanosecond.
				if inc.TriggeredAt.Before(q.from) || !inc.TriggeredAt.Before(q.to) {
					continue
				}
				if err := out.write(r, inc); err != nil {
					abortExport(d, r, err)
				}
			}
			if err := out.flush(); err != nil {
				abortExport(d, r, err)
			}
			_ = rc.Flush()
			if page.NextCursor == "" {
				return
			}
			f.Cursor = page.NextCursor
			if page, err = d.Incidents.List(r.Context(), f); err != nil {
				abortExport(d, r, err)
			}
		}
	})
}

// abortExport ends an export that failed after its 200 went out. The
// status cannot change any more, so the connection is cut: the client
// sees a truncated body (no final chunk) instead of a file that looks
// complete but is not.
func abortExport(d Deps, r *http.Request, err error) {
	if r.Context().Err() == nil { // not just the client going away
		status := HTTPStatus(err)
		d.Logger.Log(r.Context(), logLevel(status), "export aborted", "path", r.URL.Path, "status", status, "err", err.Error())
		countInternal(d, "api", status)
	}
	panic(http.ErrAbortHandler)
}

// exportWriter writes the incidents of one export in its format.
type exportWriter struct {
	d    Deps
	snap *snapshot.Snapshot
	csv  *csv.Writer
	json *json.Encoder
	// teams caches the route tree's team per route, as the reports do.
	teams map[string]string
}

var exportCSVHeader = []string{
	"id", "title", "status", "severity", "service", "route", "team", "declared",
	"triggered_at", "acknowledged_at", "resolved_at", "alert_count", "reopened", "escalation_policy",
}

func newExportWriter(d Deps, snap *snapshot.Snapshot, q exportQuery, w http.ResponseWriter) *exportWriter {
	e := &exportWriter{d: d, snap: snap, teams: map[string]string{}}
	if q.csv {
		e.csv = csv.NewWriter(w)
		_ = e.csv.Write(exportCSVHeader) // errors surface at flush
	} else {
		e.json = json.NewEncoder(w)
	}
	return e
}

// write writes one incident of a listing: a CSV row from the listing
// itself, or a JSON line of the whole incident as GET
// /api/v1/incidents/{id} shows it.
func (e *exportWriter) write(r *http.Request, listed *alertgate.Incident) error {
	if e.csv != nil {
		return e.csv.Write(e.row(listed))
	}
	inc, err := e.d.Incidents.GetWork(r.Context(), listed.ID, &e.snap.Config.Postmortems)
	if alertgate.ErrorCode(err) == alertgate.ENOTFOUND {
		return nil // deleted (retention) since the listing: it is gone
	}
	if err != nil {
		return err
	}
	return e.json.Encode(inc) // one object, then a newline
}

func (e *exportWriter) flush() error {
	if e.csv != nil {
		e.csv.Flush()
		return e.csv.Error()
	}
	return nil
}

func (e *exportWriter) row(inc *alertgate.Incident) []string {
	return []string{
		csvText(inc.ID), csvText(inc.Title), string(inc.Status), string(inc.Severity),
		csvText(inc.Service), csvText(inc.Route), csvText(e.team(inc.Route)), strconv.FormatBool(inc.Declared),
		csvTime(inc.TriggeredAt), csvTime(inc.AcknowledgedAt), csvTime(inc.ResolvedAt),
		strconv.Itoa(inc.AlertCount), strconv.Itoa(inc.Reopened), csvText(inc.EscalationPolicy),
	}
}

// team is the team of the route in the serving config: incidents do not
// store one. "" for a route the config no longer has, or one without a team.
func (e *exportWriter) team(route string) string {
	team, ok := e.teams[route]
	if !ok {
		if rt := e.snap.Routes.Route(route); rt != nil {
			team = rt.Team
		}
		e.teams[route] = team
	}
	return team
}

// csvTime is t in RFC 3339 (UTC, with the stored milliseconds); "" when
// it did not happen.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseExportQuery(r *http.Request, now time.Time) (exportQuery, error) {
	qs := r.URL.Query()
	var q exportQuery
	var err error
	if q.from, q.to, err = windowParams(qs, now, defaultExportWindow); err != nil {
		return q, err
	}
	if q.to.Sub(q.from) > maxExportWindow {
		return q, alertgate.FieldErrorf("from", "from to to spans more than 366 days; export a year at most per request")
	}
	switch f := qs.Get("format"); f {
	case "", "jsonl":
	case "csv":
		q.csv = true
	default:
		return q, alertgate.FieldErrorf("format", "%q is not one of jsonl, csv", alertgate.Truncate(f, 32))
	}
	if s := qs.Get("status"); s != "" {
		q.status = alertgate.IncidentStatus(s)
		if !q.status.Valid() {
			return q, alertgate.FieldErrorf("status", "%q is not one of triggered, acknowledged, resolved", alertgate.Truncate(s, 32))
		}
	}
	return q, nil
}
