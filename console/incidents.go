package console

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/snapshot"
)

// The incident list: GET /incidents with filters in the query, so a
// filtered list is a link people can share.
//
// The store filters by status, service and time and lists newest first
// with a cursor (alertgate.IncidentFilter); severity and team are
// filtered here, scanning the store's pages. Sorting oldest first or by
// severity needs the whole match, so those sorts look at the newest
// sortWindow matches only and say so when there are more.

const (
	// pageSize is how many incidents one list page shows.
	pageSize = 50
	// scanBatch is how many incidents one store call returns while
	// filtering here.
	scanBatch = 100
	// scanLimit bounds how many incidents one list page looks at while
	// filtering here; the page then offers to search on. The store reads
	// some 16 incidents for every one it returns (a page from each of its
	// shards, then merged), so this keeps a page near 200 ms.
	scanLimit = 400
	// sortWindow bounds the matches sorted oldest first or by severity,
	// for the same reason.
	sortWindow = 200
)

// Sort orders of the list.
const (
	sortNewest   = "newest"
	sortOldest   = "oldest"
	sortSeverity = "severity"
)

// timeRanges are the list's preset time ranges (triggered within).
var timeRanges = []struct {
	Value, Label string
	d            time.Duration
}{
	{"1h", "Last hour", time.Hour},
	{"24h", "Last 24 hours", 24 * time.Hour},
	{"7d", "Last 7 days", 7 * 24 * time.Hour},
	{"30d", "Last 30 days", 30 * 24 * time.Hour},
}

// listQuery is the list's query string, as given (the form shows it back).
type listQuery struct {
	Status, Service, Severity, Team, Range, From, To, Sort, Cursor string
}

// dateTimeLocal is the format of an <input type="datetime-local">.
const dateTimeLocal = "2006-01-02T15:04"

// filter reads the query into the store's filter and the part filtered
// here. Times of from and to are UTC.
func (lq listQuery) filter(snap *snapshot.Snapshot, now time.Time) (alertgate.IncidentFilter, func(*alertgate.Incident) bool, error) {
	f := alertgate.IncidentFilter{Service: lq.Service}
	if lq.Status != "" {
		f.Status = alertgate.IncidentStatus(lq.Status)
		if !f.Status.Valid() {
			return f, nil, alertgate.FieldErrorf("status", "%q is not one of triggered, acknowledged, resolved", alertgate.Truncate(lq.Status, 32))
		}
	}
	if lq.Severity != "" && !slices.Contains(alertgate.Severities, alertgate.Severity(lq.Severity)) {
		return f, nil, alertgate.FieldErrorf("severity", "%q is not one of critical, error, warning, info", alertgate.Truncate(lq.Severity, 32))
	}
	if lq.Range != "" {
		i := slices.IndexFunc(timeRanges, func(r struct {
			Value, Label string
			d            time.Duration
		}) bool {
			return r.Value == lq.Range
		})
		if i < 0 {
			return f, nil, alertgate.FieldErrorf("range", "%q is not one of 1h, 24h, 7d, 30d", alertgate.Truncate(lq.Range, 32))
		}
		f.Since = now.Add(-timeRanges[i].d)
	}
	for _, p := range []struct {
		name, value string
		dst         *time.Time
	}{{"from", lq.From, &f.Since}, {"to", lq.To, &f.Until}} {
		if p.value == "" {
			continue
		}
		t, err := time.ParseInLocation(dateTimeLocal, p.value, time.UTC)
		if err != nil {
			return f, nil, alertgate.FieldErrorf(p.name, "%q is not a date and time such as 2026-01-02T15:04", alertgate.Truncate(p.value, 32))
		}
		if p.name == "from" && (f.Since.IsZero() || t.After(f.Since)) {
			*p.dst = t
		}
		if p.name == "to" {
			*p.dst = t.Add(time.Minute - time.Millisecond) // the whole minute named
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return f, nil, alertgate.FieldErrorf("to", "is before from")
	}
	switch lq.Sort {
	case "", sortNewest, sortOldest, sortSeverity:
	default:
		return f, nil, alertgate.FieldErrorf("sort", "%q is not one of newest, oldest, severity", alertgate.Truncate(lq.Sort, 32))
	}
	if lq.Team != "" && !slices.ContainsFunc(snap.Config.Teams, func(t config.Team) bool { return t.ID == lq.Team }) {
		return f, nil, alertgate.FieldErrorf("team", "no team %q", alertgate.Truncate(lq.Team, 64))
	}
	if lq.Severity == "" && lq.Team == "" {
		return f, nil, nil
	}
	teams := teamOf(snap)
	return f, func(inc *alertgate.Incident) bool {
		return (lq.Severity == "" || string(inc.Severity) == lq.Severity) &&
			(lq.Team == "" || teams(inc.Route) == lq.Team)
	}, nil
}

// teamOf returns the team owning a route's incidents, by route name,
// remembering the answers (a list page asks for the same few routes).
func teamOf(snap *snapshot.Snapshot) func(route string) string {
	seen := map[string]string{}
	return func(route string) string {
		if t, ok := seen[route]; ok {
			return t
		}
		t := ""
		if r := snap.Routes.Route(route); r != nil {
			t = r.Team
		}
		seen[route] = t
		return t
	}
}

// storeCursor is the store's cursor after inc (dedupe.Store.List's
// NextCursor format: triggered_at in ms, a dash, the id), so a page
// filtered here continues right after its last row.
func storeCursor(inc *alertgate.Incident) string {
	return fmt.Sprintf("%d-%s", inc.TriggeredAt.UnixMilli(), inc.ID)
}

type incidentRow struct {
	alertgate.Incident
	Team string
}

type listBody struct {
	Q        listQuery
	Rows     []incidentRow
	Counts   []statusCount
	Next     string // the URL of the next page, "" on the last
	First    string // the URL of the first page, "" on it
	Note     string // what the page did not look at
	Now      time.Time
	Teams    []string
	Ranges   []string
	RangeLbl map[string]string
	Sevs     []alertgate.Severity
	Statuses []alertgate.IncidentStatus
}

type statusCount struct {
	Status alertgate.IncidentStatus
	N      int64
	Query  string
	On     bool
}

func (c *Console) incidentList(w http.ResponseWriter, r *http.Request, q *request) {
	v := r.URL.Query()
	lq := listQuery{Status: v.Get("status"), Service: v.Get("service"), Severity: v.Get("severity"), Team: v.Get("team"),
		Range: v.Get("range"), From: v.Get("from"), To: v.Get("to"), Sort: v.Get("sort"), Cursor: v.Get("cursor")}
	body := &listBody{Q: lq, Now: q.now, Sevs: alertgate.Severities, Statuses: alertgate.IncidentStatuses, RangeLbl: map[string]string{}}
	for _, t := range q.snap.Config.Teams {
		body.Teams = append(body.Teams, t.ID)
	}
	for _, tr := range timeRanges {
		body.Ranges = append(body.Ranges, tr.Value)
		body.RangeLbl[tr.Value] = tr.Label
	}
	render := func(status int, problem string) {
		c.render(w, q, status, "incidents", view{Title: "Incidents", Nav: "incidents", Live: lq.Cursor == "", Problem: problem, Body: body})
	}
	f, keep, err := lq.filter(q.snap, q.now)
	if err != nil {
		render(http.StatusBadRequest, alertgate.ErrorMessage(err))
		return
	}
	if c.d.Counts != nil {
		counts, err := c.d.Counts(r.Context())
		if err != nil {
			c.failed(w, r, q, err)
			return
		}
		for _, st := range alertgate.IncidentStatuses {
			sq := lq
			sq.Status, sq.Cursor = string(st), ""
			if lq.Status == string(st) {
				sq.Status = ""
			}
			body.Counts = append(body.Counts, statusCount{Status: st, N: counts[st], Query: "/incidents?" + sq.encode(), On: lq.Status == string(st)})
		}
	}
	var next string
	switch lq.Sort {
	case "", sortNewest:
		next, err = c.newest(r, f, keep, lq.Cursor, body)
	default:
		next, err = c.sorted(r, f, keep, lq, body)
	}
	if err != nil {
		if alertgate.ErrorCode(err) == alertgate.EINVALID {
			render(http.StatusBadRequest, alertgate.ErrorMessage(err))
			return
		}
		c.failed(w, r, q, err)
		return
	}
	teams := teamOf(q.snap)
	for i := range body.Rows {
		body.Rows[i].Team = teams(body.Rows[i].Route)
	}
	if next != "" {
		nq := lq
		nq.Cursor = next
		body.Next = "/incidents?" + nq.encode()
	}
	if lq.Cursor != "" {
		fq := lq
		fq.Cursor = ""
		body.First = "/incidents?" + fq.encode()
	}
	render(http.StatusOK, "")
}

// newest fills body with one page, newest first, and returns the next
// page's cursor.
func (c *Console) newest(r *http.Request, f alertgate.IncidentFilter, keep func(*alertgate.Incident) bool, cursor string, body *listBody) (string, error) {
	f.Cursor = cursor
	if keep == nil {
		f.Limit = pageSize
		page, err := c.d.Incidents.List(r.Context(), f)
		if err != nil {
			return "", err
		}
		for _, inc := range page.Incidents {
			body.Rows = append(body.Rows, incidentRow{Incident: inc})
		}
		return page.NextCursor, nil
	}
	f.Limit = scanBatch
	scanned := 0
	for {
		page, err := c.d.Incidents.List(r.Context(), f)
		if err != nil {
			return "", err
		}
		for i := range page.Incidents {
			inc := &page.Incidents[i]
			scanned++
			if !keep(inc) {
				continue
			}
			if len(body.Rows) == pageSize {
				return storeCursor(&body.Rows[pageSize-1].Incident), nil
			}
			body.Rows = append(body.Rows, incidentRow{Incident: *inc})
		}
		if page.NextCursor == "" {
			return "", nil
		}
		if scanned >= scanLimit {
			body.Note = fmt.Sprintf("Looked at %d incidents for this page; older ones may match too.", scanned)
			return page.NextCursor, nil
		}
		f.Cursor = page.NextCursor
	}
}

// sorted fills body with one page of the newest sortWindow matches in
// the order asked; the cursor is an offset into them ("o<n>").
func (c *Console) sorted(r *http.Request, f alertgate.IncidentFilter, keep func(*alertgate.Incident) bool, lq listQuery, body *listBody) (string, error) {
	offset := 0
	if lq.Cursor != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(lq.Cursor, "o"))
		if !strings.HasPrefix(lq.Cursor, "o") || err != nil || n < 0 || n > sortWindow {
			return "", alertgate.FieldErrorf("cursor", "%q is not a cursor of this list", alertgate.Truncate(lq.Cursor, 32))
		}
		offset = n
	}
	f.Limit = scanBatch
	var all []alertgate.Incident
	more := false
	for scanned := 0; ; {
		page, err := c.d.Incidents.List(r.Context(), f)
		if err != nil {
			return "", err
		}
		for i := range page.Incidents {
			scanned++
			if keep == nil || keep(&page.Incidents[i]) {
				all = append(all, page.Incidents[i])
			}
		}
		if page.NextCursor == "" {
			break
		}
		if len(all) >= sortWindow || scanned >= scanLimit {
			more = true
			break
		}
		f.Cursor = page.NextCursor
	}
	if len(all) > sortWindow {
		all = all[:sortWindow]
	}
	if more {
		body.Note = fmt.Sprintf("Sorted among the newest %d matching incidents only; narrow the filters to see older ones.", len(all))
	}
	switch lq.Sort {
	case sortOldest:
		slices.Reverse(all) // the store's order is newest first
	case sortSeverity:
		slices.SortStableFunc(all, func(x, y alertgate.Incident) int { return cmp.Compare(y.Severity.Rank(), x.Severity.Rank()) })
	}
	if offset > len(all) {
		offset = len(all)
	}
	end := min(offset+pageSize, len(all))
	for _, inc := range all[offset:end] {
		body.Rows = append(body.Rows, incidentRow{Incident: inc})
	}
	if end < len(all) {
		return "o" + strconv.Itoa(end), nil
	}
	return "", nil
}

// encode is the query string of lq, empty fields left out.
func (lq listQuery) encode() string {
	v := url.Values{}
	for _, p := range [][2]string{{"status", lq.Status}, {"service", lq.Service}, {"severity", lq.Severity}, {"team", lq.Team},
		{"range", lq.Range}, {"from", lq.From}, {"to", lq.To}, {"sort", lq.Sort}, {"cursor", lq.Cursor}} {
		if p[1] != "" {
			v.Set(p[0], p[1])
		}
	}
	return v.Encode()
}
