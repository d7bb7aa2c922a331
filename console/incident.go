package console

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/incident"
)

// One incident: GET /incidents/{id} shows it; POST
// /incidents/{id}/{action} acts on it (acknowledge, resolve, escalate,
// reassign, note) and redirects back.

const (
	// maxNoteLen bounds a note, as the API does.
	maxNoteLen = 16 << 10
	// maxRequestIDLen bounds a form's request id, which Redis remembers.
	maxRequestIDLen = 128
)

type kv struct{ K, V string }

func sortedPairs(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	slices.SortFunc(out, func(a, b kv) int { return strings.Compare(a.K, b.K) })
	return out
}

type linkView struct {
	Href, Text string // Href "" when the link is not http(s): shown as text
}

type alertView struct {
	alertgate.IncidentAlert
	Labels, Annotations, Details []kv
	Links                        []linkView
	// Routes are the ways through the route tree this alert takes now
	// (routing.Tree.Explain).
	Routes []string
}

// pageRow is one page of the incident: whom it paged, when, through
// what, and how delivery went (the timeline's page entries, by key).
type pageRow struct {
	Key, User, Notifier, Kind string
	Step, Repeat              int
	PagedAt                   time.Time
	// Result is delivered, failed, waiting, or "" (not yet delivered).
	Result   string
	ResultAt time.Time
	Detail   string
	Attempts int
}

type incidentBody struct {
	Inc       *alertgate.Incident
	Team      string
	Alerts    []alertView
	Timeline  []alertgate.TimelineEntry
	Pages     []pageRow
	Users     []string
	Rotations []string
	Now       time.Time
	// Explain: the page links to the explain view of the first alert.
	Explain bool
	// Form values shown back after a mistake.
	Note, Target string
	// Work is people's work on it: roles, status updates, impact,
	// postmortem, follow-ups (work.go).
	Work workView
}

func (b *incidentBody) CanAcknowledge() bool { return b.Inc.Status == alertgate.Triggered }
func (b *incidentBody) CanResolve() bool     { return b.Inc.Status != alertgate.IncidentResolved }
func (b *incidentBody) CanEscalate() bool {
	return b.Inc.Status != alertgate.IncidentResolved && b.Inc.EscalationPolicy != ""
}

// doneMessages say what an action did, after its redirect (?done=…);
// the query names the action only, so a link cannot make the page say
// anything else.
var doneMessages = map[string]string{
	"acknowledge": "Acknowledged. Escalation stopped.",
	"resolve":     "Resolved.",
	"escalate":    "Escalated: the next step ran.",
	"reassign":    "Reassigned: the person is being paged.",
	"note":        "Note added.",
}

func (c *Console) incidentPage(w http.ResponseWriter, r *http.Request, q *request) {
	c.showIncident(w, r, q, http.StatusOK, doneMessages[r.URL.Query().Get("done")], "", nil)
}

// showIncident renders the incident page; form carries what the person
// typed when problem says what was wrong with it.
func (c *Console) showIncident(w http.ResponseWriter, r *http.Request, q *request, status int, done, problem string, form *incidentBody) {
	id := r.PathValue("id")
	inc, err := c.d.Incidents.GetWork(r.Context(), id, &q.snap.Config.Postmortems)
	if err != nil {
		c.failed(w, r, q, err)
		return
	}
	b := &incidentBody{Inc: inc, Now: q.now, Explain: c.d.Explain != nil && len(inc.Alerts) > 0, Timeline: slices.Clone(inc.Timeline), Pages: pagesOf(inc.Timeline)}
	slices.Reverse(b.Timeline) // newest first
	b.Team = teamOf(q.snap)(inc.Route)
	for _, a := range inc.Alerts {
		av := alertView{IncidentAlert: a, Labels: sortedPairs(a.Labels), Annotations: sortedPairs(a.Annotations), Details: sortedPairs(a.Details)}
		for _, l := range a.Links {
			text := l.Text
			if text == "" {
				text = l.Href
			}
			av.Links = append(av.Links, linkView{Href: httpLink(l.Href), Text: text})
		}
		for _, path := range q.snap.Routes.Explain(&a.Alert) {
			av.Routes = append(av.Routes, strings.Join(path, " → "))
		}
		b.Alerts = append(b.Alerts, av)
	}
	for _, u := range q.snap.Config.Users {
		b.Users = append(b.Users, u.ID)
	}
	b.Rotations = q.snap.RotationIDs
	var typed *workForm
	if form != nil {
		b.Note, b.Target = form.Note, form.Target
		typed = &form.Work.Form
	}
	b.Work = workOf(q, inc, typed)
	c.render(w, q, status, "incident", view{Title: "#" + inc.ID + " " + inc.Title, Nav: "incidents", Live: problem == "",
		Done: done, Problem: problem, Body: b})
}

// pagesOf gathers the page entries of a timeline by page key: paged,
// then delivered, failed or waiting.
func pagesOf(tl []alertgate.TimelineEntry) []pageRow {
	var rows []pageRow
	at := map[string]int{}
	for _, e := range tl {
		if e.Page == nil {
			continue
		}
		p := e.Page
		i, ok := at[p.Key+"\x00"+p.Kind]
		if !ok {
			rows = append(rows, pageRow{Key: p.Key, User: p.User, Notifier: p.Notifier, Kind: p.Kind, Step: p.Step, Repeat: p.Repeat, PagedAt: e.At})
			i = len(rows) - 1
			at[p.Key+"\x00"+p.Kind] = i
		}
		row := &rows[i]
		if p.Notifier != "" {
			row.Notifier = p.Notifier // a failover names the next contact's notifier
		}
		switch e.Type {
		case alertgate.EventPageDelivered:
			row.Result, row.ResultAt, row.Detail, row.Attempts = "delivered", e.At, "", p.Attempts
		case alertgate.EventPageFailed:
			row.Result, row.ResultAt, row.Detail, row.Attempts = "failed", e.At, p.Error, p.Attempts
		case alertgate.EventPageWaiting:
			if row.Result != "delivered" && row.Result != "failed" {
				row.Result, row.ResultAt, row.Detail = "waiting", e.At, e.Message
			}
		case alertgate.EventPageFailover:
			row.Detail = e.Message
		}
	}
	return rows
}

// incidentAction serves POST /incidents/{id}/{action}.
func (c *Console) incidentAction(w http.ResponseWriter, r *http.Request, q *request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	form := r.PostForm
	reqID := form.Get("request_id")
	if len(reqID) > maxRequestIDLen || !utf8.ValidString(reqID) || strings.ContainsFunc(reqID, unicode.IsControl) {
		c.problem(w, q, http.StatusBadRequest, "The form's request id is malformed. Reload the page and try again.")
		return
	}
	by := incident.By{Actor: q.actor(), RequestID: reqID}
	text := strings.ReplaceAll(form.Get("text"), "\r\n", "\n") // a textarea's line ends
	typed := &incidentBody{Note: text, Target: form.Get("target")}
	var err error
	switch action {
	case "acknowledge":
		_, err = c.d.Incidents.Acknowledge(r.Context(), id, by)
	case "resolve":
		_, err = c.d.Incidents.Resolve(r.Context(), id, by)
	case "note":
		switch {
		case strings.TrimSpace(text) == "":
			err = alertgate.FieldErrorf("note", "a note needs text")
		case len(text) > maxNoteLen:
			err = alertgate.FieldErrorf("note", "longer than %d bytes", maxNoteLen)
		default:
			_, err = c.d.Incidents.AddNote(r.Context(), id, by, text)
		}
	case "escalate":
		if len(text) > maxNoteLen {
			err = alertgate.FieldErrorf("note", "longer than %d bytes", maxNoteLen)
		} else {
			_, err = c.d.Incidents.Escalate(r.Context(), id, by, text)
		}
	case "reassign":
		var t escalation.Target
		if t, err = c.target(q, form.Get("target")); err == nil {
			if len(text) > maxNoteLen {
				err = alertgate.FieldErrorf("note", "longer than %d bytes", maxNoteLen)
			} else {
				_, err = c.d.Incidents.Reassign(r.Context(), id, t, by, text)
			}
		}
	default:
		c.problem(w, q, http.StatusNotFound, "There is no such action.")
		return
	}
	if err != nil {
		status := statusOf(err)
		if status >= 500 {
			c.d.Logger.Warn("console action failed", "incident_id", id, "action", action, "actor", by.Actor, "err", err.Error())
		}
		if status == http.StatusNotFound {
			c.problem(w, q, status, messageOf(err))
			return
		}
		c.showIncident(w, r, q, status, "", messageOf(err), typed)
		return
	}
	http.Redirect(w, r, "/incidents/"+id+"?done="+action, http.StatusSeeOther)
}

// target reads the reassign form's choice: "user:<id>" or
// "rotation:<id>", either one the config has.
func (c *Console) target(q *request, s string) (escalation.Target, error) {
	kind, id, _ := strings.Cut(s, ":")
	switch kind {
	case "user":
		if slices.ContainsFunc(q.snap.Config.Users, func(u config.User) bool { return u.ID == id }) {
			return escalation.Target{Kind: escalation.User, ID: id}, nil
		}
	case "rotation":
		if _, ok := q.snap.Rotations[id]; ok {
			return escalation.Target{Kind: escalation.Rotation, ID: id}, nil
		}
	case "":
		return escalation.Target{}, alertgate.FieldErrorf("reassign", "choose whom to page")
	}
	return escalation.Target{}, alertgate.FieldErrorf("reassign", "no user or rotation %q in the config", alertgate.Truncate(s, 64))
}
