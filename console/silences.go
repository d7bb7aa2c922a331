package console

import (
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/silence"
)

// Silences: GET /silences lists them with their state; POST /silences
// creates one (matchers one per line, in Alertmanager's syntax); POST
// /silences/{id}/expire ends one now.

// silenceDurations are the form's choices of how long a new silence lasts.
var silenceDurations = []struct {
	Value, Label string
	d            time.Duration
}{
	{"1h", "1 hour", time.Hour},
	{"2h", "2 hours", 2 * time.Hour},
	{"4h", "4 hours", 4 * time.Hour},
	{"8h", "8 hours", 8 * time.Hour},
	{"24h", "1 day", 24 * time.Hour},
	{"72h", "3 days", 72 * time.Hour},
	{"168h", "1 week", 168 * time.Hour},
}

type silenceForm struct {
	Matchers, Duration, Start, Comment string
}

type silencesBody struct {
	Silences  []silence.Silence
	Durations []struct{ Value, Label string }
	Form      silenceForm
	Now       time.Time
	Off       bool
}

func (c *Console) silencesPage(w http.ResponseWriter, r *http.Request, q *request) {
	done := ""
	switch r.URL.Query().Get("done") {
	case "created":
		done = "Silence created."
	case "expired":
		done = "Silence expired."
	}
	c.showSilences(w, r, q, http.StatusOK, done, "", silenceForm{Duration: "2h", Matchers: r.URL.Query().Get("matchers")})
}

func (c *Console) showSilences(w http.ResponseWriter, r *http.Request, q *request, status int, done, problem string, form silenceForm) {
	b := &silencesBody{Form: form, Now: q.now, Off: c.d.Silences == nil}
	for _, d := range silenceDurations {
		b.Durations = append(b.Durations, struct{ Value, Label string }{d.Value, d.Label})
	}
	if c.d.Silences != nil {
		list, err := c.d.Silences.List(r.Context(), "")
		if err != nil {
			c.failed(w, r, q, err)
			return
		}
		b.Silences = list
	}
	c.render(w, q, status, "silences", view{Title: "Silences", Nav: "silences", Done: done, Problem: problem, Body: b})
}

// createSilence serves POST /silences.
func (c *Console) createSilence(w http.ResponseWriter, r *http.Request, q *request) {
	f := r.PostForm
	form := silenceForm{Matchers: f.Get("matchers"), Duration: f.Get("duration"), Start: f.Get("start"),
		Comment: strings.ReplaceAll(f.Get("comment"), "\r\n", "\n")}
	if c.d.Silences == nil {
		c.problem(w, q, http.StatusServiceUnavailable, "Silences are not available on this server.")
		return
	}
	bad := func(err error) {
		c.showSilences(w, r, q, statusOf(err), "", messageOf(err), form)
	}
	var matchers []string
	for line := range strings.Lines(form.Matchers) {
		if m := strings.TrimSpace(line); m != "" {
			matchers = append(matchers, m)
		}
	}
	if len(matchers) == 0 {
		bad(alertgate.FieldErrorf("matchers", "write at least one matcher, such as alertname=\"DiskFull\""))
		return
	}
	var d time.Duration
	for _, sd := range silenceDurations {
		if sd.Value == form.Duration {
			d = sd.d
		}
	}
	if d == 0 {
		bad(alertgate.FieldErrorf("duration", "choose how long the silence lasts"))
		return
	}
	start := q.now
	if form.Start != "" {
		t, err := time.ParseInLocation(dateTimeLocal, form.Start, time.UTC)
		if err != nil {
			bad(alertgate.FieldErrorf("start", "%s is not a date and time such as 2026-01-02T15:04", quote(form.Start)))
			return
		}
		start = t
	}
	reqID := f.Get("request_id")
	if len(reqID) > maxRequestIDLen || !utf8.ValidString(reqID) || strings.ContainsFunc(reqID, unicode.IsControl) {
		reqID = ""
	}
	sl := silence.Silence{Matchers: matchers, StartsAt: start, EndsAt: start.Add(d), Comment: form.Comment, CreatedBy: q.person.Name}
	created, _, err := c.d.Silences.Create(r.Context(), sl, reqID)
	if err != nil {
		if statusOf(err) >= 500 {
			c.failed(w, r, q, err)
			return
		}
		bad(err)
		return
	}
	c.d.Logger.Info("silence created", "silence", created.ID, "actor", q.actor())
	http.Redirect(w, r, "/silences?done=created", http.StatusSeeOther)
}

// expireSilence serves POST /silences/{id}/expire.
func (c *Console) expireSilence(w http.ResponseWriter, r *http.Request, q *request) {
	if c.d.Silences == nil {
		c.problem(w, q, http.StatusServiceUnavailable, "Silences are not available on this server.")
		return
	}
	id := r.PathValue("id")
	if _, err := c.d.Silences.Expire(r.Context(), id); err != nil {
		c.failed(w, r, q, err)
		return
	}
	c.d.Logger.Info("silence expired", "silence", id, "actor", q.actor())
	http.Redirect(w, r, "/silences?done=expired", http.StatusSeeOther)
}
