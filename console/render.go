package console

import (
	"bytes"
	"crypto/rand"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
)

// pages holds one template per page, each the layout plus the page.
type pages struct {
	byName map[string]*template.Template
}

// pageNames are the page templates (templates/<name>.html).
var pageNames = []string{"incidents", "incident", "oncall", "silences", "explain", "problem"}

func mustParsePages() *pages {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	p := &pages{byName: make(map[string]*template.Template, len(pageNames))}
	for _, name := range pageNames {
		t := template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
		p.byName[name] = t
	}
	return p
}

// view is what the layout needs besides the page's own data.
type view struct {
	Title string
	// Nav names the section the page belongs to (incidents, oncall,
	// silences), for aria-current.
	Nav    string
	Person string
	CSRF   string
	// Done says what the last action did (after a redirect); Problem
	// what went wrong with it.
	Done, Problem string
	// Live makes the page's [data-live] regions refresh themselves
	// (static/live.js); without JavaScript nothing changes.
	Live bool
	Body any
}

// render writes page name with status. It renders into a buffer first,
// so a template error is a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, q *request, status int, name string, v view) {
	v.Person, v.CSRF = q.person.Name, q.csrf
	var buf bytes.Buffer
	if err := c.pages.byName[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		c.d.Logger.Error("console: render", "page", name, "err", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// problem shows a page that says only what went wrong.
func (c *Console) problem(w http.ResponseWriter, q *request, status int, msg string) {
	c.render(w, q, status, "problem", view{Title: http.StatusText(status), Problem: msg})
}

// statusOf maps an error of the services to the page's status code, as
// the API's error table does.
func statusOf(err error) int {
	switch alertgate.ErrorCode(err) {
	case alertgate.EINVALID:
		return http.StatusUnprocessableEntity
	case alertgate.ENOTFOUND:
		return http.StatusNotFound
	case alertgate.ECONFLICT:
		return http.StatusConflict
	case alertgate.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case alertgate.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// failed shows the problem of a service call; what is not the person's
// doing is logged (once, here at the edge).
func (c *Console) failed(w http.ResponseWriter, r *http.Request, q *request, err error) {
	status := statusOf(err)
	if status >= 500 {
		c.d.Logger.Warn("console request failed", "path", r.URL.Path, "status", status, "err", err.Error())
	}
	c.problem(w, q, status, messageOf(err))
}

// messageOf is what a person may read about err.
func messageOf(err error) string {
	if statusOf(err) >= 500 {
		if alertgate.ErrorCode(err) == alertgate.EUNAVAILABLE {
			return "alertgate cannot reach its store right now. Try again in a moment."
		}
		return "Something went wrong on alertgate's side; the server log has the details."
	}
	return alertgate.ErrorMessage(err)
}

// requestID names a form's submission, so a double click or a resent
// form acts once (the services' request memory).
func requestID() string { return "console-" + rand.Text() }

var funcs = template.FuncMap{
	"when":     when,
	"whenIn":   whenIn,
	"ago":      ago,
	"httpLink": httpLink,
	"reqID":    requestID,
	"query":    query,
}

// when formats t for a page: UTC, to the second.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// whenIn formats t in loc, with the zone's abbreviation.
func whenIn(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon 2006-01-02 15:04 MST")
}

// ago says how long before now t was, coarsely.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + coarse(-d)
	}
	return coarse(d) + " ago"
}

func coarse(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// httpLink returns s when it is an absolute http or https URL, else "":
// a sender's links become links only then (no javascript:, no data:).
func httpLink(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.String()
}

// query builds a URL query from pairs of names and values, leaving out
// empty values.
func query(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			v.Set(pairs[i], pairs[i+1])
		}
	}
	return v.Encode()
}

// staticHandler serves the embedded stylesheet and script. They change
// only with the binary, so a browser may keep them for an hour.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
