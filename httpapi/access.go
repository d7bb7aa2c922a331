package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/auth"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/snapshot"
)

// Access (docs/access.md). Every /api/v1 route (and, as they come, every
// console page) is wrapped in requireScope, which identifies the caller:
//
//   - Authorization: Bearer <api token>: the token's scopes and owner. A
//     bearer request carries no ambient credential, so it needs no CSRF
//     token.
//   - the trusted proxy's header (auth.proxy_header, believed only from
//     auth.trusted_proxies): the user it names.
//   - the alertgate_session cookie of a login.
//
// A cookie, and a proxy's header, go with every request the browser makes,
// even one another site starts, so a request that changes something on
// such credentials must pass http.CrossOriginProtection and carry the
// session's CSRF token (form field csrf_token, or header X-CSRF-Token).
// Through the proxy, that means logging in once at /login, which then
// opens a session without a password.

// csrfField and csrfHeader carry a session's CSRF token.
const (
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
	// maxAuthForm bounds the forms read here (login, logout, the CSRF
	// field of a console form).
	maxAuthForm = 64 << 10
)

type principalError struct {
	status int
	msg    string
}

func (e *principalError) Error() string { return e.msg }

func unauthorized(msg string) error { return &principalError{http.StatusUnauthorized, msg} }
func forbidden(msg string) error    { return &principalError{http.StatusForbidden, msg} }

// writeAccessError answers a refused request. There is no forbidden code
// in the error table (alertgate.E…), so 403 is written here.
func writeAccessError(d Deps, w http.ResponseWriter, r *http.Request, err error) {
	var pe *principalError
	if !errors.As(err, &pe) {
		d.Logger.Warn("access check failed", "path", r.URL.Path, "err", err.Error())
		countInternal(d, "access", http.StatusServiceUnavailable)
		writeError(w, alertgate.Errorf(alertgate.EUNAVAILABLE, "cannot check the session now"), 0)
		return
	}
	if pe.status == http.StatusUnauthorized {
		writeError(w, alertgate.Errorf(alertgate.EUNAUTHORIZED, "%s", pe.msg), 0)
		return
	}
	encode(w, pe.status, errorBody{Error: errorDetail{Code: "forbidden", Message: pe.msg}})
}

// policyOf is the snapshot's access policy (built by snapshot.Build; made
// here for a snapshot built in code without one).
func policyOf(snap *snapshot.Snapshot) *auth.Policy {
	if snap.Access != nil {
		return snap.Access
	}
	return auth.NewPolicy(snap.Config)
}

// unsafeMethod reports whether a request with method m may change state.
func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// methodScope is the scope a route of method m needs unless it says
// otherwise: reading needs read, anything else write.
func methodScope(m string) string {
	if unsafeMethod(m) {
		return config.ScopeWrite
	}
	return config.ScopeRead
}

// requireScope guards a route: the caller must be identified and hold
// scope ("": by method, methodScope). The handler finds the principal with
// auth.FromContext and the snapshot with requestSnapshot.
func requireScope(d Deps, scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			snap := d.Snapshot() // once: the handler finds it in the context
			p, err := identify(d, snap, w, r)
			if err != nil {
				writeAccessError(d, w, r, err)
				return
			}
			need := scope
			if need == "" {
				need = methodScope(r.Method)
			}
			if !p.Has(need) {
				writeAccessError(d, w, r, forbidden("this needs the "+need+" scope, which the caller lacks"))
				return
			}
			r = withSnapshot(r, snap)
			next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
		})
	}
}

// identify resolves the caller of r (see the top of the file), checking
// the CSRF defences of a state-changing request on ambient credentials.
func identify(d Deps, snap *snapshot.Snapshot, w http.ResponseWriter, r *http.Request) (auth.Principal, error) {
	pol := policyOf(snap)
	if r.Header.Get("Authorization") != "" {
		p, ok := pol.Token(bearer(r))
		if !ok {
			return p, unauthorized("missing or wrong bearer token")
		}
		return p, nil
	}
	proxyUser, viaProxy, known := pol.ProxyUser(r)
	if viaProxy && !known {
		return auth.Principal{}, unauthorized("the proxy names user " + strconv.Quote(alertgate.Truncate(proxyUser, 64)) + ", who is not in the config")
	}
	p, sessionID, err := sessionPrincipal(d, r, pol)
	if err != nil {
		return p, err
	}
	// Behind the proxy, the proxy's word on who is there wins over an
	// older cookie of someone else.
	if viaProxy && sessionID != "" && p.Name != proxyUser {
		sessionID = ""
	}
	switch {
	case sessionID != "":
	case viaProxy:
		p, _ = pol.Person(auth.KindProxy, proxyUser)
	default:
		return auth.Principal{}, unauthorized("log in, or send Authorization: Bearer <api token>")
	}
	if unsafeMethod(r.Method) {
		if err := crossOrigin(snap).Check(r); err != nil {
			return p, forbidden("refused: a cross-site request")
		}
		if sessionID == "" {
			return p, forbidden("a change needs a session's CSRF token: log in at /login first")
		}
		if !auth.CheckCSRF(sessionID, csrfToken(w, r)) {
			return p, forbidden("missing or wrong CSRF token (form field " + csrfField + " or header " + csrfHeader + ")")
		}
	}
	return p, nil
}

// csrfToken is the CSRF token r carries: the header, or the form field of
// a form post.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if t := r.Header.Get(csrfHeader); t != "" {
		return t
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") && !strings.HasPrefix(ct, "multipart/form-data") {
		return ""
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthForm)
	if err := r.ParseForm(); err != nil {
		return ""
	}
	return r.PostForm.Get(csrfField)
}

// sessionPrincipal is the principal of r's session cookie; sessionID is
// "" without a valid session.
func sessionPrincipal(d Deps, r *http.Request, pol *auth.Policy) (p auth.Principal, sessionID string, err error) {
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil || d.Sessions == nil {
		return p, "", nil
	}
	s, err := d.Sessions.Lookup(r.Context(), c.Value)
	switch {
	case errors.Is(err, auth.ErrNoSession):
		return p, "", nil
	case err != nil:
		return p, "", err
	}
	p, ok := pol.Person(auth.KindSession, s.User)
	if !ok {
		return p, "", nil // the user left the config
	}
	p.CSRF = auth.CSRFToken(c.Value)
	return p, c.Value, nil
}

// actorOf is who the timeline shows doing what r asks: the identified
// caller. An ownerless token with the admin scope (every plain api.tokens
// string: a bot acting for people) may name the person in the body;
// nobody else can act under another's name.
func actorOf(r *http.Request, claimed string) string {
	p, ok := auth.FromContext(r.Context())
	switch {
	case !ok || (p.Name == "" && p.Has(config.ScopeAdmin)):
		if claimed != "" {
			return "user:" + claimed
		}
		return "api"
	default:
		return p.Actor()
	}
}

// nameOf is actorOf for fields that hold a bare name (a silence's
// created_by).
func nameOf(r *http.Request, claimed string) string {
	p, ok := auth.FromContext(r.Context())
	switch {
	case !ok || (p.Name == "" && p.Has(config.ScopeAdmin)):
		return claimed
	case p.Name == "":
		return "api"
	default:
		return p.Name
	}
}
