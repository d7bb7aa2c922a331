package auth

import (
	"net/http"
	"time"
)

// Cookie names.
const (
	// SessionCookie holds the session id.
	SessionCookie = "alertgate_session"
	// LoginCookie holds the login form's nonce until the login.
	LoginCookie = "alertgate_login"
)

// loginNonceTTL is how long a login page may wait for its form.
const loginNonceTTL = time.Hour

// SessionCookieFor is the cookie of a new session: HttpOnly (no script
// reads it), SameSite=Lax (other sites' POSTs go without it), Secure when
// public_url is https, for the whole site, expiring with the session.
func (p *Policy) SessionCookieFor(id string, s Session) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", Expires: s.ExpiresAt,
		MaxAge: int(s.ExpiresAt.Sub(s.CreatedAt).Seconds()), HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode,
	}
}

// ClearSessionCookie removes the session cookie from the browser.
func (p *Policy) ClearSessionCookie() *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode}
}

// LoginCookieFor carries the login form's nonce.
func (p *Policy) LoginCookieFor(nonce string) *http.Cookie {
	return &http.Cookie{
		Name: LoginCookie, Value: nonce, Path: "/login", MaxAge: int(loginNonceTTL.Seconds()),
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteStrictMode,
	}
}
