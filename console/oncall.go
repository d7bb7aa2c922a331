package console

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/schedule"
)

// On-call: GET /oncall shows every rotation's person now and the next
// two weeks of shifts, overrides marked; POST /oncall/overrides creates an
// override (the same rules as POST /api/v1/overrides).

const (
	// onCallWindow is how far ahead the page shows shifts.
	onCallWindow = 14 * 24 * time.Hour
	// maxOverrideLen bounds one override, as the API does.
	maxOverrideLen = 366 * 24 * time.Hour
	// maxCommentLen bounds an override's comment, as the API does.
	maxCommentLen = 1024
)

type shiftView struct {
	schedule.Span
	// Override describes the override that put User there, "" for the
	// rotation's own shift.
	Override string
	Now      bool
}

// dayView is one day of the two-week timeline: who is on call when,
// each shift cut to the day.
type dayView struct {
	Day    string
	Shifts []dayShift
}

type dayShift struct {
	shiftView
	// Hours is the part of the day: "all day", or "09:00–24:00".
	Hours string
}

type rotationView struct {
	ID, Team, Zone string
	Loc            *time.Location
	Current        shiftView
	Shifts         []shiftView
	Days           []dayView
	Participants   []string
	// Form: the override form's values shown back after a mistake.
	Form overrideForm
	// Problem is what was wrong with this rotation's override form.
	Problem string
}

type overrideForm struct {
	User, Replaces, Start, End, Comment string
}

type onCallBody struct {
	Rotations []rotationView
	Users     []string
	Now       time.Time
	// CanOverride is false when overrides are not stored (no store).
	CanOverride bool
}

func (c *Console) onCallPage(w http.ResponseWriter, r *http.Request, q *request) {
	done := ""
	if r.URL.Query().Get("done") == "override" {
		done = "Override created."
	}
	c.showOnCall(w, r, q, http.StatusOK, done, "", "", overrideForm{})
}

func (c *Console) showOnCall(w http.ResponseWriter, r *http.Request, q *request, status int, done, problem, formRotation string, form overrideForm) {
	byRot := map[string][]schedule.Override{}
	if c.d.Overrides != nil {
		var err error
		if byRot, err = c.d.Overrides.ByRotation(r.Context()); err != nil {
			c.failed(w, r, q, err)
			return
		}
	}
	b := &onCallBody{Now: q.now, CanOverride: c.d.Overrides != nil}
	for _, u := range q.snap.Config.Users {
		b.Users = append(b.Users, u.ID)
	}
	teams := map[string]string{}
	for _, rc := range q.snap.Config.Rotations {
		teams[rc.ID] = rc.Team
	}
	for _, rot := range q.snap.RotationList() {
		ovs := byRot[rot.ID]
		byID := map[string]schedule.Override{}
		for _, o := range ovs {
			byID[o.ID] = o
		}
		loc := rot.Location
		if loc == nil {
			loc = time.UTC
		}
		rv := rotationView{ID: rot.ID, Team: teams[rot.ID], Zone: loc.String(), Loc: loc}
		describe := func(s schedule.Span) shiftView {
			sv := shiftView{Span: s, Now: !q.now.Before(s.Start) && q.now.Before(s.End)}
			if o, ok := byID[s.Override]; ok {
				sv.Override = "override by " + o.CreatedBy
				if o.Replaces != "" {
					sv.Override += ", covering " + o.Replaces
				}
				if o.Comment != "" {
					sv.Override += ": " + o.Comment
				}
			} else if s.Override != "" {
				sv.Override = "override"
			}
			return sv
		}
		now, _, _ := rot.OnCall(q.now, ovs)
		rv.Current = describe(now)
		for _, s := range rot.Shifts(q.now, q.now.Add(onCallWindow), ovs) {
			rv.Shifts = append(rv.Shifts, describe(s))
		}
		rv.Days = days(rv.Shifts, q.now, loc)
		for _, l := range rot.Layers {
			for _, p := range l.Participants {
				if !slices.Contains(rv.Participants, p) {
					rv.Participants = append(rv.Participants, p)
				}
			}
		}
		if rot.ID == formRotation {
			rv.Form, rv.Problem = form, problem
		} else {
			rv.Form = overrideForm{Start: q.now.In(loc).Format(dateTimeLocal), End: q.now.In(loc).Add(8 * time.Hour).Format(dateTimeLocal)}
		}
		b.Rotations = append(b.Rotations, rv)
	}
	pageProblem := ""
	if formRotation == "" {
		pageProblem = problem
	}
	c.render(w, q, status, "oncall", view{Title: "On call", Nav: "oncall", Done: done, Problem: pageProblem, Body: b})
}

// days lays the shifts out by day in the rotation's zone: the timeline
// of the next two weeks, one row per day, each shift cut to the day.
func days(shifts []shiftView, now time.Time, loc *time.Location) []dayView {
	var out []dayView
	start := now.In(loc)
	d0 := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)
	for i := 0; i < int(onCallWindow/(24*time.Hour)); i++ {
		from, to := d0.AddDate(0, 0, i), d0.AddDate(0, 0, i+1) // a day of 23 or 25 hours across DST
		dv := dayView{Day: from.Format("Mon 02 Jan")}
		for _, s := range shifts {
			if !s.Start.Before(to) || !s.End.After(from) {
				continue
			}
			a, b := s.Start, s.End
			if a.Before(from) {
				a = from
			}
			if b.After(to) {
				b = to
			}
			hours := "all day"
			if !a.Equal(from) || !b.Equal(to) {
				end := b.In(loc).Format("15:04")
				if b.Equal(to) {
					end = "24:00"
				}
				hours = a.In(loc).Format("15:04") + "–" + end
			}
			dv.Shifts = append(dv.Shifts, dayShift{shiftView: s, Hours: hours})
		}
		out = append(out, dv)
	}
	return out
}

// createOverride serves POST /oncall/overrides.
func (c *Console) createOverride(w http.ResponseWriter, r *http.Request, q *request) {
	f := r.PostForm
	rotID := f.Get("rotation")
	form := overrideForm{User: f.Get("user"), Replaces: f.Get("replaces"), Start: f.Get("start"), End: f.Get("end"),
		Comment: strings.ReplaceAll(f.Get("comment"), "\r\n", "\n")} // a textarea's line ends
	if c.d.Overrides == nil {
		c.problem(w, q, http.StatusServiceUnavailable, "Overrides are not available on this server.")
		return
	}
	rot, ok := q.snap.Rotations[rotID]
	if !ok {
		c.showOnCall(w, r, q, http.StatusUnprocessableEntity, "", "No rotation "+quote(rotID)+" in the config.", "", form)
		return
	}
	o, err := c.override(q, rot, form)
	if err != nil {
		c.showOnCall(w, r, q, http.StatusUnprocessableEntity, "", alertgate.ErrorMessage(err), rot.ID, form)
		return
	}
	reqID := f.Get("request_id")
	if len(reqID) > maxRequestIDLen || !utf8.ValidString(reqID) || strings.ContainsFunc(reqID, unicode.IsControl) {
		reqID = ""
	}
	if _, _, err := c.d.Overrides.CreateOnce(r.Context(), o, reqID); err != nil {
		if statusOf(err) < 500 {
			c.showOnCall(w, r, q, statusOf(err), "", messageOf(err), rot.ID, form)
			return
		}
		c.failed(w, r, q, err)
		return
	}
	c.d.Logger.Info("override created", "rotation", o.Rotation, "user", o.User, "actor", o.CreatedBy)
	http.Redirect(w, r, "/oncall?done=override#rotation-"+rot.ID, http.StatusSeeOther)
}

// override checks the form as POST /api/v1/overrides checks its body;
// the times are wall-clock times in the rotation's zone.
func (c *Console) override(q *request, rot *schedule.Rotation, form overrideForm) (schedule.Override, error) {
	var o schedule.Override
	hasUser := func(id string) bool {
		for _, u := range q.snap.Config.Users {
			if u.ID == id {
				return true
			}
		}
		return false
	}
	loc := rot.Location
	if loc == nil {
		loc = time.UTC
	}
	switch {
	case form.User == "":
		return o, alertgate.FieldErrorf("user", "choose who goes on call")
	case !hasUser(form.User):
		return o, alertgate.FieldErrorf("user", "no user %s in the config", quote(form.User))
	}
	if form.Replaces != "" {
		in := false
		for _, l := range rot.Layers {
			in = in || slices.Contains(l.Participants, form.Replaces)
		}
		switch {
		case !in:
			return o, alertgate.FieldErrorf("replaces", "%s is in no layer of rotation %s; choose \"the whole rotation\" instead", quote(form.Replaces), rot.ID)
		case form.Replaces == form.User:
			return o, alertgate.FieldErrorf("replaces", "is the user themselves")
		}
	}
	start, err := time.ParseInLocation(dateTimeLocal, form.Start, loc)
	if err != nil {
		return o, alertgate.FieldErrorf("start", "%s is not a date and time such as 2026-01-02T15:04", quote(form.Start))
	}
	end, err := time.ParseInLocation(dateTimeLocal, form.End, loc)
	if err != nil {
		return o, alertgate.FieldErrorf("end", "%s is not a date and time such as 2026-01-02T15:04", quote(form.End))
	}
	switch {
	case !end.After(start):
		return o, alertgate.FieldErrorf("end", "must be after the start")
	case !end.After(q.now):
		return o, alertgate.FieldErrorf("end", "is in the past")
	case end.Sub(start) > maxOverrideLen:
		return o, alertgate.FieldErrorf("end", "an override lasts at most 366 days; change the rotation for longer")
	}
	if len(form.Comment) > maxCommentLen || !utf8.ValidString(form.Comment) ||
		strings.ContainsFunc(form.Comment, func(c rune) bool { return unicode.IsControl(c) && c != '\n' && c != '\t' }) {
		return o, alertgate.FieldErrorf("comment", "must be at most %d bytes of text", maxCommentLen)
	}
	return schedule.Override{Rotation: rot.ID, User: form.User, Replaces: form.Replaces, Start: start.UTC(), End: end.UTC(),
		Comment: form.Comment, CreatedBy: q.actor(), CreatedAt: q.now}, nil
}

// quote quotes s for a message, shortened.
func quote(s string) string { return `"` + alertgate.Truncate(s, 64) + `"` }
