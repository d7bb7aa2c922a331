// Package console is the web console for people (docs/console.md):
// server-rendered pages over the same services the JSON API uses.
// Incidents (list with filters, one incident with its alerts, timeline,
// pages and actions), on-call (every rotation's next two weeks, overrides)
// and silences.
//
// Every page needs a logged-in person (a session from /login, package
// auth); every form carries the session's CSRF token; every action is
// recorded under the person's name. Pages are html/template (context-aware
// escaping of everything an alert or a person wrote), work without
// JavaScript, and are served with a strict Content-Security-Policy: the
// stylesheet and the one small script (live updates) are embedded and
// served from /static/.
package console

import (
	"context"
	"embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/auth"
	"github.com/alertgate/alertgate/explain"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps are what the console reads and changes.
type Deps struct {
	// Incidents lists, reads and changes incidents.
	Incidents *incident.Service
	// Counts returns how many incidents are in each status
	// (dedupe.Store.Counts); nil: the list shows no counts.
	Counts func(context.Context) (map[alertgate.IncidentStatus]int64, error)
	// Snapshot returns the config that serves (loaded once per request).
	Snapshot func() *snapshot.Snapshot
	// Overrides stores on-call overrides; nil: the on-call page shows the
	// rotations as configured and offers no override form.
	Overrides *oncall.Store
	// Silences stores silences; nil: the silences page says they are off.
	Silences *silence.Store
	// Sessions keeps the logins (the same store as POST /login's); nil:
	// nobody can log in, and every page answers 503.
	Sessions *auth.Store
	// Explain is where the explain view of an incident's first alert
	// reads (its Snapshot and Now are the request's); nil: no explain
	// view.
	Explain *explain.Deps
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Logger logs what people do and what fails.
	Logger *slog.Logger
}

// Console serves the pages.
type Console struct {
	d     Deps
	pages *pages
	mux   *http.ServeMux
}

// New returns the console as one handler for the paths Paths lists.
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{d: d, pages: mustParsePages(), mux: http.NewServeMux()}
	c.routes()
	return securityHeaders(c.mux)
}

// Paths are the path prefixes the console serves; the HTTP server sends
// these to the console's handler (httpapi/routes.go).
var Paths = []string{"/incidents", "/oncall", "/silences", "/static/"}

// routes is the console's whole surface on one screen. Pages are GET
// (and HEAD); every change is a POST from a form, which redirects back
// to a GET (POST-redirect-GET) or, on a mistake, shows the page again
// with the problem.
func (c *Console) routes() {
	m := c.mux
	m.Handle("GET /static/", staticHandler())
	m.Handle("GET /{$}", c.page(func(w http.ResponseWriter, r *http.Request, _ *request) {
		http.Redirect(w, r, "/incidents", http.StatusSeeOther)
	}))
	m.Handle("GET /incidents", c.page(c.incidentList))
	m.Handle("GET /incidents/{id}", c.page(c.incidentPage))
	m.Handle("GET /incidents/{id}/explain", c.page(c.explainPage))
	m.Handle("POST /incidents/{id}/{action}", c.page(c.incidentAction))
	m.Handle("GET /oncall", c.page(c.onCallPage))
	m.Handle("POST /oncall/overrides", c.page(c.createOverride))
	m.Handle("GET /silences", c.page(c.silencesPage))
	m.Handle("POST /silences", c.page(c.createSilence))
	m.Handle("POST /silences/{id}/expire", c.page(c.expireSilence))
	c.reportRoutes(m) // GET /reports, /reports.csv, /static/vendor/ (reports.go)
	c.workRoutes(m)   // /declare; roles, status updates, impact, postmortem, follow-ups (work.go)
	m.Handle("/", c.page(func(w http.ResponseWriter, r *http.Request, req *request) {
		c.problem(w, req, http.StatusNotFound, "There is no such page.")
	}))
}

// securityHeaders sets the headers every console response carries: no
// framing (clickjacking), no inline script or style, no referrer to
// other sites, no caching of pages that show incidents.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// csp allows the console's own stylesheet and script and nothing else:
// no inline script, no inline style, forms only to this site.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
