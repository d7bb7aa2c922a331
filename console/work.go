package console

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/incident"
)

// People's work on an incident (docs/console.md, "Running an incident"):
// GET /declare and POST /declare open one by hand; the incident page's
// forms hand over roles, post status updates, set the impact window, move
// the postmortem on and add and finish follow-ups, each a POST to
// /incidents/{id}/<what> that redirects back (POST-redirect-GET) or shows
// the page again with the problem and what was typed. The rules are the
// JSON API's (httpapi/handle_work.go, docs/incidents-work.md); the
// services (incident/work.go) do the work.

// Bounds of what people write, as the API has them.
const (
	maxTitleLen = 512
	maxNameLen  = 128
	maxLinkLen  = 2048
)

// dateOnly is the format of an <input type="date">.
const dateOnly = "2006-01-02"

// workRoutes are the routes of these forms (called from routes, so the
// console's surface is still read from one place).
func (c *Console) workRoutes(m *http.ServeMux) {
	m.Handle("GET /declare", c.page(c.declarePage))
	m.Handle("POST /declare", c.page(c.declare))
	m.Handle("POST /incidents/{id}/roles", c.page(c.assignRole))
	m.Handle("POST /incidents/{id}/status_updates", c.page(c.postStatusUpdate))
	m.Handle("POST /incidents/{id}/impact", c.page(c.setImpact))
	m.Handle("POST /incidents/{id}/postmortem", c.page(c.setPostmortem))
	m.Handle("GET /incidents/{id}/postmortem.md", c.page(c.postmortemMarkdown))
	m.Handle("POST /incidents/{id}/follow_ups", c.page(c.addFollowUp))
	m.Handle("POST /incidents/{id}/follow_ups/{fu}/done", c.page(c.followUpDone))
}

// init adds this file's page, path and confirmations to the console's
// lists (render.go, console.go, incident.go).
func init() {
	pageNames = append(pageNames, "declare")
	Paths = append(Paths, "/declare")
	for k, v := range map[string]string{
		"declared":     "Declared.",
		"role":         "Role handed over.",
		"status":       "Status update posted.",
		"impact":       "Impact window saved.",
		"postmortem":   "Postmortem saved.",
		"follow_up":    "Follow-up added.",
		"follow_up_ok": "Follow-up done.",
	} {
		doneMessages[k] = v
	}
}

// workForm is what a person typed into the incident page's work forms,
// shown back after a mistake.
type workForm struct {
	StatusText              string
	ImpactStart, ImpactEnd  string
	PMStatus, PMLink        string
	FUTitle, FUOwner, FUDue string
	FULink                  string
	RoleOf, RoleUser        string
}

type roleRow struct{ Role, Holder string }

// Label is how the page names the role.
func (r roleRow) Label() string {
	switch r.Role {
	case alertgate.RoleCommander:
		return "Incident commander"
	case alertgate.RoleCommunications:
		return "Communications lead"
	}
	return r.Role
}

// followUpRow is a follow-up as the page lists it.
type followUpRow struct {
	alertgate.FollowUpEntry
	// DueDay is the UTC day it is due; Href its link when http(s).
	DueDay, Href string
	Overdue      bool
}

// workView is the incident page's part about people's work.
type workView struct {
	Roles []roleRow
	// Notifiers get the status updates ("" none: only the timeline).
	Notifiers []string
	// ImpactSet: a person set the window; else it is the default.
	ImpactSet  bool
	Postmortem *alertgate.PostmortemState
	FollowUps  []followUpRow
	// Skeleton is the drafted postmortem (markdown), shown as text.
	Skeleton string
	Form     workForm
}

// workOf gathers the work part of the incident page; typed (after a
// mistake) replaces the forms' values.
func workOf(q *request, inc *alertgate.Incident, typed *workForm) workView {
	v := workView{
		Notifiers:  q.snap.Config.StatusUpdates.For(inc.Service),
		Postmortem: inc.Postmortem,
		Skeleton:   incident.PostmortemMarkdown(inc),
	}
	for _, fu := range inc.FollowUps {
		v.FollowUps = append(v.FollowUps, followUpRow{FollowUpEntry: fu, DueDay: dueDate(fu.Due), Href: httpLink(fu.Link),
			Overdue: !fu.Done && !fu.Due.IsZero() && q.now.After(fu.Due)})
	}
	for _, role := range alertgate.Roles {
		v.Roles = append(v.Roles, roleRow{Role: role, Holder: inc.Roles[role]})
	}
	if im := inc.Impact; im != nil {
		v.ImpactSet = im.Set
		v.Form.ImpactStart = formTime(im.Start)
		v.Form.ImpactEnd = formTime(im.End)
	}
	v.Form.PMStatus = alertgate.PostmortemDraft
	if pm := inc.Postmortem; pm != nil {
		if pm.Status == alertgate.PostmortemDone {
			v.Form.PMStatus = pm.Status
		}
		v.Form.PMLink = pm.Link
	}
	if typed != nil {
		// The form that went wrong shows what was typed; the others keep
		// their values.
		t := *typed
		if t.ImpactStart == "" && t.ImpactEnd == "" {
			t.ImpactStart, t.ImpactEnd = v.Form.ImpactStart, v.Form.ImpactEnd
		}
		if t.PMStatus == "" {
			t.PMStatus, t.PMLink = v.Form.PMStatus, v.Form.PMLink
		}
		v.Form = t
	}
	return v
}

func formTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateTimeLocal)
}

// dueDate formats a follow-up's due time as its UTC day.
func dueDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateOnly)
}

// workAction is the common part of the work forms: the request id, the
// person, then the change; on success a redirect to the incident page
// saying done, else the page again with the problem and typed.
func (c *Console) workAction(w http.ResponseWriter, r *http.Request, q *request, done string, typed workForm,
	change func(by incident.By) error) {
	id := r.PathValue("id")
	by, ok := c.formBy(w, r, q)
	if !ok {
		return
	}
	if err := change(by); err != nil {
		status := statusOf(err)
		if status >= 500 {
			c.d.Logger.Warn("console action failed", "incident_id", id, "action", done, "actor", by.Actor, "err", err.Error())
		}
		// An unknown incident is a 404 page (showIncident finds none);
		// an unknown follow-up is one on the incident's page.
		c.showIncident(w, r, q, status, "", messageOf(err), &incidentBody{Work: workView{Form: typed}})
		return
	}
	http.Redirect(w, r, "/incidents/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
}

// formBy is who sends the form, with its request id (a double click or
// a resent form acts once).
func (c *Console) formBy(w http.ResponseWriter, r *http.Request, q *request) (incident.By, bool) {
	reqID := r.PostForm.Get("request_id")
	if len(reqID) > maxRequestIDLen || !utf8.ValidString(reqID) || strings.ContainsFunc(reqID, unicode.IsControl) {
		c.problem(w, q, http.StatusBadRequest, "The form's request id is malformed. Reload the page and try again.")
		return incident.By{}, false
	}
	return incident.By{Actor: q.actor(), RequestID: reqID}, true
}

// assignRole serves POST /incidents/{id}/roles: role, user ("" takes the
// role from whoever holds it).
func (c *Console) assignRole(w http.ResponseWriter, r *http.Request, q *request) {
	role, user := r.PostForm.Get("role"), r.PostForm.Get("user")
	c.workAction(w, r, q, "role", workForm{RoleOf: role, RoleUser: user}, func(by incident.By) error {
		if !alertgate.ValidRole(role) {
			return alertgate.FieldErrorf("role", "%q is not a role: use one of %s", alertgate.Truncate(role, 32), strings.Join(alertgate.Roles, ", "))
		}
		if user != "" && !isUser(q, user) {
			return alertgate.FieldErrorf("user", "no user %q in the config", alertgate.Truncate(user, 64))
		}
		_, err := c.d.Incidents.AssignRole(r.Context(), r.PathValue("id"), role, user, by)
		return err
	})
}

// postStatusUpdate serves POST /incidents/{id}/status_updates: text.
func (c *Console) postStatusUpdate(w http.ResponseWriter, r *http.Request, q *request) {
	text := strings.ReplaceAll(r.PostForm.Get("text"), "\r\n", "\n")
	c.workAction(w, r, q, "status", workForm{StatusText: text}, func(by incident.By) error {
		switch {
		case strings.TrimSpace(text) == "":
			return alertgate.FieldErrorf("status update", "a status update needs text")
		case len(text) > maxNoteLen || !utf8.ValidString(text):
			return alertgate.FieldErrorf("status update", "must be at most %d bytes of UTF-8", maxNoteLen)
		}
		_, _, err := c.d.Incidents.PostStatusUpdate(r.Context(), r.PathValue("id"), text, &q.snap.Config.StatusUpdates, by)
		return err
	})
}

// setImpact serves POST /incidents/{id}/impact: start, end (UTC; an empty
// end: it lasts).
func (c *Console) setImpact(w http.ResponseWriter, r *http.Request, q *request) {
	form := r.PostForm
	typed := workForm{ImpactStart: form.Get("start"), ImpactEnd: form.Get("end")}
	c.workAction(w, r, q, "impact", typed, func(by incident.By) error {
		if typed.ImpactStart == "" {
			return alertgate.FieldErrorf("impact start", "required: when customers were first affected")
		}
		start, err := parseFormTime("impact start", typed.ImpactStart)
		if err != nil {
			return err
		}
		end, err := parseFormTime("impact end", typed.ImpactEnd)
		if err != nil {
			return err
		}
		_, err = c.d.Incidents.SetImpact(r.Context(), r.PathValue("id"), start, end, by)
		return err
	})
}

// setPostmortem serves POST /incidents/{id}/postmortem: status (draft,
// done), link ("" none).
func (c *Console) setPostmortem(w http.ResponseWriter, r *http.Request, q *request) {
	form := r.PostForm
	typed := workForm{PMStatus: form.Get("status"), PMLink: strings.TrimSpace(form.Get("link"))}
	c.workAction(w, r, q, "postmortem", typed, func(by incident.By) error {
		switch typed.PMStatus {
		case alertgate.PostmortemDraft, alertgate.PostmortemDone:
		default:
			return alertgate.FieldErrorf("postmortem status", "%q is not one of draft, done", alertgate.Truncate(typed.PMStatus, 32))
		}
		if err := checkLink("postmortem link", typed.PMLink); err != nil {
			return err
		}
		_, err := c.d.Incidents.SetPostmortem(r.Context(), r.PathValue("id"),
			incident.PostmortemChange{Status: &typed.PMStatus, Link: &typed.PMLink}, &q.snap.Config.Postmortems, by)
		return err
	})
}

// addFollowUp serves POST /incidents/{id}/follow_ups: title, owner (a
// user or ""), due (a UTC day or ""), link.
func (c *Console) addFollowUp(w http.ResponseWriter, r *http.Request, q *request) {
	form := r.PostForm
	typed := workForm{FUTitle: strings.TrimSpace(form.Get("title")), FUOwner: form.Get("owner"),
		FUDue: form.Get("due"), FULink: strings.TrimSpace(form.Get("link"))}
	c.workAction(w, r, q, "follow_up", typed, func(by incident.By) error {
		switch {
		case typed.FUTitle == "":
			return alertgate.FieldErrorf("follow-up title", "required: what is to be done")
		case !oneLine(typed.FUTitle, maxTitleLen):
			return alertgate.FieldErrorf("follow-up title", "must be at most %d bytes of one line", maxTitleLen)
		case typed.FUOwner != "" && !isUser(q, typed.FUOwner):
			return alertgate.FieldErrorf("follow-up owner", "no user %q in the config", alertgate.Truncate(typed.FUOwner, 64))
		}
		if err := checkLink("follow-up link", typed.FULink); err != nil {
			return err
		}
		ch := incident.FollowUpChange{Title: &typed.FUTitle, Owner: &typed.FUOwner, Link: &typed.FULink}
		if typed.FUDue != "" {
			day, err := time.ParseInLocation(dateOnly, typed.FUDue, time.UTC)
			if err != nil || day.Year() < 1970 || day.Year() > 9999 {
				return alertgate.FieldErrorf("follow-up due", "%q is not a date such as 2026-01-02", alertgate.Truncate(typed.FUDue, 32))
			}
			// Due on a day means by its end: not overdue (nor reminded)
			// during it.
			due := day.Add(24*time.Hour - time.Second)
			ch.Due = &due
		}
		_, _, err := c.d.Incidents.AddFollowUp(r.Context(), r.PathValue("id"), ch, by)
		return err
	})
}

// followUpDone serves POST /incidents/{id}/follow_ups/{fu}/done.
func (c *Console) followUpDone(w http.ResponseWriter, r *http.Request, q *request) {
	c.workAction(w, r, q, "follow_up_ok", workForm{}, func(by incident.By) error {
		done := true
		_, err := c.d.Incidents.UpdateFollowUp(r.Context(), r.PathValue("id"), r.PathValue("fu"), incident.FollowUpChange{Done: &done}, by)
		return err
	})
}

// postmortemMarkdown serves GET /incidents/{id}/postmortem.md: the
// drafted skeleton, as a download (the page shows it too).
func (c *Console) postmortemMarkdown(w http.ResponseWriter, r *http.Request, q *request) {
	inc, err := c.d.Incidents.GetWork(r.Context(), r.PathValue("id"), &q.snap.Config.Postmortems)
	if err != nil {
		c.failed(w, r, q, err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="postmortem-`+inc.ID+`.md"`)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, incident.PostmortemMarkdown(inc))
}

// declareBody is the declare page: the choices and what was typed.
type declareBody struct {
	Severities []alertgate.Severity
	Users      []string
	Policies   []string
	Rotations  []string
	// Typed: title, severity, service, commander, page ("",
	// "policy:<id>" or "rotation:<id>").
	Title, Severity, Service, Commander, Page string
}

func (c *Console) declareBody(q *request) *declareBody {
	b := &declareBody{Severities: alertgate.Severities, Rotations: q.snap.RotationIDs, Severity: string(alertgate.SeverityCritical)}
	for _, u := range q.snap.Config.Users {
		b.Users = append(b.Users, u.ID)
	}
	for _, p := range q.snap.Config.EscalationPolicies {
		b.Policies = append(b.Policies, p.ID)
	}
	return b
}

// declarePage serves GET /declare.
func (c *Console) declarePage(w http.ResponseWriter, _ *http.Request, q *request) {
	c.render(w, q, http.StatusOK, "declare", view{Title: "Declare an incident", Nav: "declare", Body: c.declareBody(q)})
}

// declare serves POST /declare: it opens the incident and goes to it.
func (c *Console) declare(w http.ResponseWriter, r *http.Request, q *request) {
	form := r.PostForm
	b := c.declareBody(q)
	b.Title, b.Severity, b.Service = strings.TrimSpace(form.Get("title")), form.Get("severity"), strings.TrimSpace(form.Get("service"))
	b.Commander, b.Page = form.Get("commander"), form.Get("page")
	by, ok := c.formBy(w, r, q)
	if !ok {
		return
	}
	d, err := declaration(q, b)
	var inc *alertgate.Incident
	if err == nil {
		inc, _, err = c.d.Incidents.Declare(r.Context(), d, by)
	}
	if err != nil {
		status := statusOf(err)
		if status >= 500 {
			c.d.Logger.Warn("console declare failed", "actor", by.Actor, "err", err.Error())
		}
		c.render(w, q, status, "declare", view{Title: "Declare an incident", Nav: "declare", Problem: messageOf(err), Body: b})
		return
	}
	http.Redirect(w, r, "/incidents/"+url.PathEscape(inc.ID)+"?done=declared", http.StatusSeeOther)
}

// declaration checks the declare form as the API checks its body.
func declaration(q *request, b *declareBody) (incident.Declaration, error) {
	d := incident.Declaration{Title: b.Title, Severity: alertgate.Severity(b.Severity), Service: b.Service, Commander: b.Commander}
	switch {
	case d.Title == "":
		return d, alertgate.FieldErrorf("title", "required: what is wrong, in one line")
	case !oneLine(d.Title, maxTitleLen):
		return d, alertgate.FieldErrorf("title", "must be at most %d bytes of one line", maxTitleLen)
	case d.Severity.Rank() == 0:
		return d, alertgate.FieldErrorf("severity", "%q is not one of critical, error, warning, info", alertgate.Truncate(b.Severity, 32))
	case !oneLine(d.Service, maxNameLen):
		return d, alertgate.FieldErrorf("service", "must be at most %d bytes of one line", maxNameLen)
	case d.Commander != "" && !isUser(q, d.Commander):
		return d, alertgate.FieldErrorf("commander", "no user %q in the config", alertgate.Truncate(d.Commander, 64))
	}
	kind, id, _ := strings.Cut(b.Page, ":")
	switch {
	case b.Page == "":
	case kind == "policy" && slices.ContainsFunc(q.snap.Config.EscalationPolicies, func(p config.EscalationPolicy) bool { return p.ID == id }):
		d.Policy = id
	case kind == "rotation" && q.snap.Rotations[id] != nil:
		d.Rotation = id
	default:
		return d, alertgate.FieldErrorf("page", "no escalation policy or rotation %q in the config", alertgate.Truncate(b.Page, 64))
	}
	return d, nil
}

func isUser(q *request, id string) bool {
	return slices.ContainsFunc(q.snap.Config.Users, func(u config.User) bool { return u.ID == id })
}

// oneLine reports whether s is valid UTF-8 of at most n bytes with no
// control characters.
func oneLine(s string, n int) bool {
	return len(s) <= n && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// parseFormTime reads a datetime-local value as UTC; "" is no time.
func parseFormTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(dateTimeLocal, s, time.UTC)
	if err != nil {
		// Browsers send seconds when the field's step allows them.
		t, err = time.ParseInLocation(dateTimeLocal+":05", s, time.UTC)
	}
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, alertgate.FieldErrorf(field, "%q is not a date and time such as 2026-01-02T15:04 (UTC)", alertgate.Truncate(s, 32))
	}
	return t, nil
}

// checkLink accepts "" (no link) or an absolute http(s) URL, as the API.
func checkLink(field, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || !oneLine(s, maxLinkLen) || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return alertgate.FieldErrorf(field, "must be an absolute http:// or https:// URL of at most %d bytes", maxLinkLen)
	}
	return nil
}
