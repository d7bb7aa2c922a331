package httpapi

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/auth"
)

// The login page: GET /login shows the form (or, behind the trusted
// proxy, opens a session for the user it names and goes on), POST /login
// logs in, POST /logout ends the session. The form posts only to itself
// and carries a token bound to a short-lived cookie (login CSRF: another
// site must not log the browser in as someone else). Every login opens a
// session with a new id and ends the one the browser had, so an id
// planted before the login is worth nothing after it.

var (
	loginCSS = template.CSS(string(linkCSS) +
		`label{display:block;font-weight:600;margin:.75rem 0 .25rem}` +
		`input{box-sizing:border-box;width:100%;font:inherit;padding:.7rem .8rem;border:1px solid #c4c9d4;border-radius:.5rem;margin-bottom:.5rem}` +
		`button{margin-top:.75rem}`)
	loginCSP = "default-src 'none'; style-src 'sha256-" + cssHash(string(loginCSS)) + "'; img-src 'none'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

	loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>Log in · alertgate</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
<h1>Log in to alertgate</h1>
{{if .Problem}}<div class="card problem"><p class="lead" id="problem">{{.Problem}}</p></div>{{end}}
<div class="card">
<form method="post" action="/login">
<input type="hidden" name="login_token" value="{{.Token}}">
<input type="hidden" name="next" value="{{.Next}}">
<label for="user">User</label>
<input id="user" name="user" autocomplete="username" autocapitalize="none" spellcheck="false" required value="{{.User}}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>
</div>
</main>
</body>
</html>
`))
)

type loginPage struct {
	Problem, Token, Next, User string
	CSS                        template.CSS
}

// writeLoginPage renders the form with a fresh login nonce.
func writeLoginPage(w http.ResponseWriter, pol *auth.Policy, status int, p loginPage) {
	nonce := auth.LoginNonce()
	http.SetCookie(w, pol.LoginCookieFor(nonce))
	p.Token, p.CSS = auth.LoginFormToken(nonce), loginCSS
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", loginCSP)
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, p)
}

// localPath is next when it is a path on this site, else "/": the login
// must not send people on to another site (an open redirect).
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || len(next) > 2048 {
		return "/"
	}
	return next
}

var sessionsOff = alertgate.Errorf(alertgate.EUNAVAILABLE, "logins are not available on this server")

// handleLoginPage serves GET and HEAD /login.
func handleLoginPage(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := d.Snapshot()
		pol := policyOf(snap)
		next := localPath(r.URL.Query().Get("next"))
		user, viaProxy, known := pol.ProxyUser(r)
		if viaProxy && r.Method == http.MethodGet {
			if !known {
				writeLoginPage(w, pol, http.StatusForbidden, loginPage{Problem: "Your sign-in names user " +
					strconv.Quote(alertgate.Truncate(user, 64)) + ", who is not in alertgate's config.", Next: next})
				return
			}
			if d.Sessions == nil {
				writeError(w, sessionsOff, 0)
				return
			}
			// A GET that opens a session: harmless, as it opens one only
			// for whom the proxy vouches, and the cookie is this browser's.
			startSession(d, w, r, pol, user, "proxy", next)
			return
		}
		writeLoginPage(w, pol, http.StatusOK, loginPage{Next: next})
	})
}

// handleLogin serves POST /login.
func handleLogin(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := d.Snapshot()
		pol := policyOf(snap)
		if err := crossOrigin(snap).Check(r); err != nil {
			writeLoginPage(w, pol, http.StatusForbidden, loginPage{Problem: "Refused: the form was sent from another site."})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxAuthForm)
		if err := r.ParseForm(); err != nil {
			writeLoginPage(w, pol, http.StatusBadRequest, loginPage{Problem: "The form could not be read."})
			return
		}
		f := r.PostForm
		next, user := localPath(f.Get("next")), f.Get("user")
		nonce := ""
		if c, err := r.Cookie(auth.LoginCookie); err == nil {
			nonce = c.Value
		}
		if !auth.CheckLoginFormToken(nonce, f.Get("login_token")) {
			writeLoginPage(w, pol, http.StatusForbidden, loginPage{Problem: "The form expired or did not come from this page. Please log in again.", Next: next, User: user})
			return
		}
		if d.Sessions == nil {
			writeError(w, sessionsOff, 0)
			return
		}
		addr := pol.ClientAddr(r)
		id, s, err := d.Sessions.Login(r.Context(), pol, user, f.Get("password"), addr)
		var limited *auth.RateLimitedError
		switch {
		case errors.As(err, &limited):
			d.Logger.Warn("login refused: rate limit", "user", alertgate.Truncate(user, 64), "client", addr)
			w.Header().Set("Retry-After", retryAfterSeconds(limited.RetryAfter))
			writeLoginPage(w, pol, http.StatusTooManyRequests, loginPage{Problem: "Too many attempts. Try again in " + limited.RetryAfter.Round(1e9).String() + ".", Next: next, User: user})
			return
		case errors.Is(err, auth.ErrBadCredentials):
			d.Logger.Info("login failed", "user", alertgate.Truncate(user, 64), "client", addr)
			writeLoginPage(w, pol, http.StatusUnauthorized, loginPage{Problem: "Wrong user name or password.", Next: next, User: user})
			return
		case err != nil:
			apiLoginFailure(d, w, r, err)
			return
		}
		finishLogin(d, w, r, pol, id, s, next)
	})
}

// startSession opens a session without a password (the proxy vouched).
func startSession(d Deps, w http.ResponseWriter, r *http.Request, pol *auth.Policy, user, via, next string) {
	id, s, err := d.Sessions.Create(r.Context(), user, via, pol.SessionTTL())
	if err != nil {
		apiLoginFailure(d, w, r, err)
		return
	}
	finishLogin(d, w, r, pol, id, s, next)
}

// finishLogin ends the browser's previous session, if any, sets the new
// one's cookie and goes on.
func finishLogin(d Deps, w http.ResponseWriter, r *http.Request, pol *auth.Policy, id string, s auth.Session, next string) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		_ = d.Sessions.Delete(r.Context(), c.Value) // at worst it lives out its TTL
	}
	http.SetCookie(w, pol.SessionCookieFor(id, s))
	clear := pol.LoginCookieFor("")
	clear.MaxAge = -1
	http.SetCookie(w, clear)
	d.Logger.Info("login", "user", s.User, "via", s.Via)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func apiLoginFailure(d Deps, w http.ResponseWriter, r *http.Request, err error) {
	d.Logger.Warn("login failed: store", "err", err.Error())
	countInternal(d, "login", http.StatusServiceUnavailable)
	writeError(w, alertgate.Errorf(alertgate.EUNAVAILABLE, "cannot log in right now; try again in a moment"), 0)
}

// handleLogout serves POST /logout: with the session's CSRF token, it
// ends the session. Without a session it only clears the cookie.
func handleLogout(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := d.Snapshot()
		pol := policyOf(snap)
		c, err := r.Cookie(auth.SessionCookie)
		if err == nil && d.Sessions != nil {
			switch _, err := d.Sessions.Lookup(r.Context(), c.Value); {
			case err == nil:
				if crossOrigin(snap).Check(r) != nil || !auth.CheckCSRF(c.Value, csrfToken(w, r)) {
					writeAccessError(d, w, r, forbidden("missing or wrong CSRF token (form field "+csrfField+" or header "+csrfHeader+")"))
					return
				}
				if err := d.Sessions.Delete(r.Context(), c.Value); err != nil {
					apiLoginFailure(d, w, r, err)
					return
				}
			case !errors.Is(err, auth.ErrNoSession):
				apiLoginFailure(d, w, r, err)
				return
			}
		}
		http.SetCookie(w, pol.ClearSessionCookie())
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
}
