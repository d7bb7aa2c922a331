package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alertgate/alertgate/auth"
	"github.com/alertgate/alertgate/snapshot"
)

// Who is on a page: the console's pages are for people logged in at
// /login (a session cookie, from a password or from the trusted proxy's
// header). The check is httpapi's for a session (access.go), with two
// differences that suit pages: nobody logged in is sent to /login, which
// comes back here after, rather than answered 401; and a bearer token
// opens no page (a token is for programs; its holder has no session, so
// no CSRF token for the forms).

// csrfField is the form field carrying the session's CSRF token, as in
// httpapi.
const csrfField = "csrf_token"

// maxForm bounds a console form (a note is at most 16 KiB).
const maxForm = 64 << 10

// request is what one console request knows once the person is known.
type request struct {
	snap *snapshot.Snapshot
	// person is who is logged in; actor names them on timelines.
	person auth.Principal
	// csrf goes in every form.
	csrf string
	now  time.Time
}

// actor is how the timeline names the person ("user:alice").
func (q *request) actor() string { return q.person.Actor() }

type handlerFunc func(w http.ResponseWriter, r *http.Request, q *request)

// page wraps a handler in the session check: GETs without a login go to
// /login and come back; a POST must come from this site and carry the
// session's CSRF token, else 403.
func (c *Console) page(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := c.d.Snapshot()
		q := &request{snap: snap, now: c.d.Now()}
		w.Header().Set("Cache-Control", "no-store")
		if c.d.Sessions == nil {
			c.problem(w, q, http.StatusServiceUnavailable, "Logins are not available on this server, so the console is off.")
			return
		}
		pol := snap.Access
		if pol == nil {
			pol = auth.NewPolicy(snap.Config)
		}
		sessionID := ""
		if ck, err := r.Cookie(auth.SessionCookie); err == nil {
			s, err := c.d.Sessions.Lookup(r.Context(), ck.Value)
			switch {
			case err == nil:
				if p, ok := pol.Person(auth.KindSession, s.User); ok {
					q.person, sessionID = p, ck.Value
				}
			case !errors.Is(err, auth.ErrNoSession):
				c.d.Logger.Warn("console: session lookup failed", "err", err.Error())
				c.problem(w, q, http.StatusServiceUnavailable, "The session cannot be checked right now (is Redis down?). Try again in a moment.")
				return
			}
		}
		if sessionID == "" {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(loginNext(r)), http.StatusSeeOther)
			return
		}
		q.csrf = auth.CSRFToken(sessionID)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := crossOrigin(snap).Check(r); err != nil {
				c.problem(w, q, http.StatusForbidden, "Refused: the form was sent from another site.")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				c.problem(w, q, http.StatusBadRequest, "The form could not be read (too large, or not a form).")
				return
			}
			if !auth.CheckCSRF(sessionID, r.PostForm.Get(csrfField)) {
				c.problem(w, q, http.StatusForbidden, "The form's security token is missing or wrong. Reload the page and try again.")
				return
			}
		}
		h(w, r, q)
	})
}

// loginNext is where /login sends the person back to: this page, or for
// a POST (whose form is gone) the page the form was on.
func loginNext(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if parts[0] == "incidents" && len(parts) == 3 {
		return "/incidents/" + url.PathEscape(parts[1])
	}
	return "/" + url.PathEscape(parts[0])
}

// crossOrigin refuses cross-site form posts (Sec-Fetch-Site, Origin),
// trusting the configured public URL as httpapi does.
func crossOrigin(snap *snapshot.Snapshot) *http.CrossOriginProtection {
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(snap.Config.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	return cop
}
