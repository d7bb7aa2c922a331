package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate/auth"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

// accessConfig has every kind of caller. The hashes are of "dev" (cost 10;
// the fixture swaps in a cost-4 hash of the same password, for speed).
const accessConfig = `
public_url: https://alertgate.example.com
api:
  tokens:
    - flat-token
    - {token: ingest-token, scopes: [ingest]}
    - {token: read-token, scopes: [read], owner: alice}
    - {token: write-token, scopes: [write], owner: alice}
    - {token: admin-token, scopes: [admin]}
auth:
  login_rate: {per_user: 3, per_address: 100, window: 1h}
  PROXY
integrations:
  - name: am
    type: alertmanager
    tokens: [am-token]
users:
  - id: alice
    password_hash: $2a$10$MtoYkBQd2zjGSL0EtfGpAua5Q858rALLpeDxkuxpca.seJHQvMITG
    contacts: [{notifier: console, address: alice}]
  - id: bob
    password_hash: $2a$10$MtoYkBQd2zjGSL0EtfGpAua5Q858rALLpeDxkuxpca.seJHQvMITG
    contacts: [{notifier: console, address: bob}]
`

const cheapDevHash = "$2a$04$hKH9kTtWhZAp3bUlSCbs2./dtNtuzVRUwLD4sWP7MlZUNTW0NiaxW"

type accessFixture struct {
	srv  *httptest.Server
	deps httpapi.Deps
	now  *accessClock
}

type accessClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *accessClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *accessClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newAccessFixture serves accessConfig; proxy is the auth block's proxy
// lines ("" for none).
func newAccessFixture(t *testing.T, proxy string, logOpts ...testlog.Option) *accessFixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	cfgText := strings.Replace(accessConfig, "PROXY", proxy, 1)
	snap, err := snapshot.Load([]byte(cfgText), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for i := range snap.Config.Users {
		snap.Config.Users[i].PasswordHash = cheapDevHash
	}
	snap.Access = auth.NewPolicy(snap.Config)
	store := dedupe.NewStore(rdb, prefix)
	logger := slog.New(slog.NewJSONHandler(testlog.NewLog(t, logOpts...), nil))
	m := metrics.New(store.Counts)
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	clk := &accessClock{t: time.Now()}
	d := httpapi.Deps{
		Logger:    logger,
		Snapshot:  current.Load,
		Incidents: incident.NewService(store, incident.Options{Logger: logger, Observer: m}),
		Metrics:   m,
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Overrides: oncall.NewStore(rdb, prefix),
		Silences:  silence.NewStore(rdb, prefix, silence.Options{}),
		Sessions:  auth.NewStore(rdb, prefix, auth.Options{Now: clk.Now}),
	}
	srv := httptest.NewServer(httpapi.NewServer(d))
	t.Cleanup(srv.Close)
	return &accessFixture{srv: srv, deps: d, now: clk}
}

type accessReq struct {
	method, path, body string
	header             map[string]string
	cookies            []*http.Cookie
}

func (f *accessFixture) send(t *testing.T, r accessReq) (*http.Response, string) {
	t.Helper()
	hr, err := http.NewRequestWithContext(t.Context(), r.method, f.srv.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	for _, c := range r.cookies {
		hr.AddCookie(c)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func accessBearer(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok}
}

// routeScopes says which scope each API route needs where it is not the
// method's (GET read, anything else write).
var routeScopes = map[string]string{
	"POST /api/v1/explain": "read", // explains, changes nothing
}

// TestEveryAPIRouteNeedsItsScope walks the router: every /api/v1 route
// (the calendar feeds carry their own token) refuses a caller without
// credentials (401), with a wrong token (401), with a token lacking the
// scope (403) and an ingest token (403), and lets the right scope through.
func TestEveryAPIRouteNeedsItsScope(t *testing.T) {
	f := newAccessFixture(t, "")
	var routes []struct{ method, path, tmpl string }
	err := httpapi.RoutesOf(f.deps).Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, _ := rt.GetPathTemplate()
		methods, _ := rt.GetMethods()
		if !strings.HasPrefix(tmpl, "/api/v1/") || strings.HasSuffix(tmpl, ".ics") {
			return nil
		}
		path := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(tmpl, "x")
		for _, m := range methods {
			routes = append(routes, struct{ method, path, tmpl string }{m, path, tmpl})
		}
		return nil
	})
	if err != nil || len(routes) < 20 {
		t.Fatalf("walked %d routes (%v)", len(routes), err)
	}
	tokenOf := map[string]string{"read": "read-token", "write": "write-token", "admin": "admin-token"}
	for _, rt := range routes {
		name := rt.method + " " + rt.tmpl
		need, ok := routeScopes[name]
		if !ok {
			need = "read"
			if rt.method != http.MethodGet && rt.method != http.MethodHead {
				need = "write"
			}
		}
		t.Run(name, func(t *testing.T) {
			check := func(what string, hdr map[string]string, want int) {
				t.Helper()
				resp, body := f.send(t, accessReq{method: rt.method, path: rt.path, header: hdr})
				if want != 0 && resp.StatusCode != want {
					t.Errorf("%s: %d %s, want %d", what, resp.StatusCode, body, want)
				}
				if want == 0 && (resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode >= 500 && resp.StatusCode != 503) {
					t.Errorf("%s: %d %s, want the handler's answer", what, resp.StatusCode, body)
				}
			}
			check("no credentials", nil, 401)
			check("wrong token", accessBearer("nope"), 401)
			check("ingest token", accessBearer("ingest-token"), 403)
			if need == "write" {
				check("read token", accessBearer("read-token"), 403)
			}
			if need == "admin" {
				check("write token", accessBearer("write-token"), 403)
			}
			check(need+" token", accessBearer(tokenOf[need]), 0)
			check("flat token", accessBearer("flat-token"), 0)
		})
	}
}

// browser is a client with a cookie jar that does not follow redirects.
type loginBrowser struct {
	t      *testing.T
	f      *accessFixture
	client *http.Client
	base   *url.URL
}

func newBrowser(t *testing.T, f *accessFixture) *loginBrowser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(f.srv.URL)
	return &loginBrowser{t: t, f: f, base: u, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *loginBrowser) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, _ := http.NewRequestWithContext(b.t.Context(), method, b.f.srv.URL+path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	resp, err := b.client.Do(r)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

var loginTokenRE = regexp.MustCompile(`name="login_token" value="([^"]+)"`)

// login logs in through the form; it returns the POST's response.
func (b *loginBrowser) login(user, password string) *http.Response {
	b.t.Helper()
	resp, page := b.do("GET", "/login", nil, nil)
	m := loginTokenRE.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		b.t.Fatalf("login page: %d %s", resp.StatusCode, page)
	}
	resp, _ = b.do("POST", "/login", url.Values{"user": {user}, "password": {password}, "login_token": {m[1]}, "next": {"/incidents"}}, nil)
	return resp
}

func sessionCookieOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie && c.Value != "" {
			return c
		}
	}
	return nil
}

func TestLoginSessionCSRF(t *testing.T) {
	f := newAccessFixture(t, "")
	b := newBrowser(t, f)

	resp := b.login("alice", "dev")
	c := sessionCookieOf(resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/incidents" || c == nil {
		t.Fatalf("login: %d %v, want 303 to /incidents with a session cookie", resp.StatusCode, resp.Header)
	}
	// The cookie's attributes; Secure because public_url is https.
	raw := resp.Header.Values("Set-Cookie")
	var line string
	for _, l := range raw {
		if strings.HasPrefix(l, auth.SessionCookie+"=") {
			line = l
		}
	}
	for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=43200"} {
		if !strings.Contains(line, attr) {
			t.Errorf("Set-Cookie %q lacks %s", line, attr)
		}
	}
	// The jar keeps Secure cookies away from http://; send it by hand.
	cookies := []*http.Cookie{{Name: auth.SessionCookie, Value: c.Value}}
	csrf := auth.CSRFToken(c.Value)

	resp, body := f.send(t, accessReq{method: "GET", path: "/api/v1/incidents", cookies: cookies})
	if resp.StatusCode != 200 {
		t.Fatalf("GET with the session: %d %s", resp.StatusCode, body)
	}
	id := accessIncident(t, f)
	post := "/api/v1/incidents/" + id + "/notes"
	for name, hdr := range map[string]map[string]string{
		"missing CSRF":       nil,
		"forged CSRF":        {"X-CSRF-Token": auth.CSRFToken("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")},
		"cross-site request": {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"},
		"other origin":       {"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
	} {
		resp, body := f.send(t, accessReq{method: "POST", path: post, body: `{"text":"hi"}`, header: hdr, cookies: cookies})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d %s, want 403", name, resp.StatusCode, body)
		}
	}
	// The right token, as a header and as a form field; the timeline names
	// alice whatever the body says.
	resp, body = f.send(t, accessReq{method: "POST", path: post, body: `{"text":"hi","actor":"bob"}`, header: map[string]string{"X-CSRF-Token": csrf}, cookies: cookies})
	if resp.StatusCode != 200 || !strings.Contains(body, `"actor":"user:alice"`) || strings.Contains(body, "user:bob") {
		t.Fatalf("note with the CSRF header: %d %s, want 200 by user:alice", resp.StatusCode, body)
	}
	form := url.Values{"csrf_token": {csrf}}.Encode()
	resp, body = f.send(t, accessReq{method: "POST", path: "/api/v1/incidents/" + id + "/acknowledge", body: form,
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, cookies: cookies})
	if resp.StatusCode != 200 || !strings.Contains(body, `"actor":"user:alice"`) {
		t.Fatalf("acknowledge with the CSRF field: %d %s", resp.StatusCode, body)
	}

	// Logout needs the token too, then the session is gone.
	resp, _ = f.send(t, accessReq{method: "POST", path: "/logout", cookies: cookies})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without CSRF: %d, want 403", resp.StatusCode)
	}
	resp, _ = f.send(t, accessReq{method: "POST", path: "/logout", header: map[string]string{"X-CSRF-Token": csrf}, cookies: cookies})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d, want 303", resp.StatusCode)
	}
	if resp, _ := f.send(t, accessReq{method: "GET", path: "/api/v1/incidents", cookies: cookies}); resp.StatusCode != 401 {
		t.Errorf("after logout: %d, want 401", resp.StatusCode)
	}
}

// accessIncident opens one incident through the ingest hook.
func accessIncident(t *testing.T, f *accessFixture) string {
	t.Helper()
	resp, body := f.send(t, accessReq{method: "POST", path: "/hooks/am", body: amBody("firing", "acc1"), header: accessBearer("am-token")})
	m := regexp.MustCompile(`"incidents":\["([^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	return m[1]
}

func TestTokenActors(t *testing.T) {
	f := newAccessFixture(t, "")
	id := accessIncident(t, f)
	for _, c := range []struct{ tok, want string }{
		{"write-token", `"actor":"user:alice"`}, // owned: the body cannot name bob
		{"flat-token", `"actor":"user:bob"`},    // a full-access bot may
		{"admin-token", `"actor":"user:bob"`},
	} {
		resp, body := f.send(t, accessReq{method: "POST", path: "/api/v1/incidents/" + id + "/notes", body: `{"text":"x","actor":"bob"}`, header: accessBearer(c.tok)})
		if resp.StatusCode != 200 || !strings.Contains(lastEntry(body), c.want) {
			t.Errorf("%s: %d, last entry %s, want %s", c.tok, resp.StatusCode, lastEntry(body), c.want)
		}
	}
}

func lastEntry(body string) string {
	i := strings.LastIndex(body, `{"at"`)
	if i < 0 {
		return body
	}
	return body[i:]
}

// A session id the client had before logging in (planted by an attacker:
// one of their own sessions, or one they made up) is never the session
// after the login: the login opens a new one and ends the old.
func TestSessionFixation(t *testing.T) {
	f := newAccessFixture(t, "")
	attacker := newBrowser(t, f)
	planted := sessionCookieOf(attacker.login("bob", "dev"))
	if planted == nil {
		t.Fatal("bob's login gave no session")
	}
	victim := newBrowser(t, f)
	// The victim's browser carries bob's cookie and a made-up one.
	victim.client.Jar.SetCookies(victim.base, []*http.Cookie{{Name: auth.SessionCookie, Value: planted.Value, Path: "/"}})
	resp := victim.login("alice", "dev")
	got := sessionCookieOf(resp)
	if got == nil || got.Value == planted.Value {
		t.Fatalf("login kept the planted session id")
	}
	if resp, _ := f.send(t, accessReq{method: "GET", path: "/api/v1/incidents", cookies: []*http.Cookie{{Name: auth.SessionCookie, Value: planted.Value}}}); resp.StatusCode != 401 {
		t.Errorf("the planted id after the login: %d, want 401", resp.StatusCode)
	}
	made := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	if resp, _ := f.send(t, accessReq{method: "GET", path: "/api/v1/incidents", cookies: []*http.Cookie{{Name: auth.SessionCookie, Value: made}}}); resp.StatusCode != 401 {
		t.Errorf("a made-up id: %d, want 401", resp.StatusCode)
	}
	if resp, _ := f.send(t, accessReq{method: "GET", path: "/api/v1/incidents", cookies: []*http.Cookie{{Name: auth.SessionCookie, Value: got.Value}}}); resp.StatusCode != 200 {
		t.Errorf("the new session: %d, want 200", resp.StatusCode)
	}
}

func TestLoginRefusalsHTTP(t *testing.T) {
	f := newAccessFixture(t, "")
	b := newBrowser(t, f)
	// Without the form's token (another site's form, or a script).
	resp, _ := b.do("POST", "/login", url.Values{"user": {"alice"}, "password": {"dev"}}, nil)
	if resp.StatusCode != http.StatusForbidden || sessionCookieOf(resp) != nil {
		t.Errorf("login without the form token: %d, want 403 and no session", resp.StatusCode)
	}
	if resp := b.login("alice", "wrong"); resp.StatusCode != http.StatusUnauthorized || sessionCookieOf(resp) != nil {
		t.Errorf("wrong password: %d, want 401", resp.StatusCode)
	}
	b.login("alice", "wrong")
	b.login("alice", "wrong")
	resp = b.login("alice", "dev")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || sessionCookieOf(resp) != nil {
		t.Errorf("4th attempt: %d (Retry-After %q), want 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// An open redirect is refused: next stays on the site.
	b2 := newBrowser(t, f)
	_, page := b2.do("GET", "/login?next=//evil.example/x", nil, nil)
	if strings.Contains(page, "evil.example") {
		t.Errorf("login page keeps an off-site next")
	}
}

func TestSessionExpires(t *testing.T) {
	f := newAccessFixture(t, "")
	c := sessionCookieOf(newBrowser(t, f).login("alice", "dev"))
	cookies := []*http.Cookie{{Name: auth.SessionCookie, Value: c.Value}}
	f.now.Add(12*time.Hour - time.Second)
	if resp, _ := f.send(t, accessReq{method: "GET", path: "/api/v1/incidents", cookies: cookies}); resp.StatusCode != 200 {
		t.Errorf("just before the TTL: %d, want 200", resp.StatusCode)
	}
	f.now.Add(time.Second)
	if resp, _ := f.send(t, accessReq{method: "GET", path: "/api/v1/incidents", cookies: cookies}); resp.StatusCode != 401 {
		t.Errorf("at the TTL: %d, want 401", resp.StatusCode)
	}
}

func TestProxyHeader(t *testing.T) {
	hdr := map[string]string{"X-Forwarded-User": "alice"}
	// The test server's clients come from 127.0.0.1.
	trusted := newAccessFixture(t, "proxy_header: X-Forwarded-User\n  trusted_proxies: [127.0.0.1/32]")
	if resp, body := trusted.send(t, accessReq{method: "GET", path: "/api/v1/incidents", header: hdr}); resp.StatusCode != 200 {
		t.Errorf("from a trusted proxy: %d %s, want 200", resp.StatusCode, body)
	}
	if resp, _ := trusted.send(t, accessReq{method: "GET", path: "/api/v1/incidents", header: map[string]string{"X-Forwarded-User": "mallory"}}); resp.StatusCode != 401 {
		t.Errorf("an unknown user from the proxy: %d, want 401", resp.StatusCode)
	}
	// A change needs a session's CSRF token, which GET /login gives.
	id := accessIncident(t, trusted)
	if resp, _ := trusted.send(t, accessReq{method: "POST", path: "/api/v1/incidents/" + id + "/notes", body: `{"text":"x"}`, header: hdr}); resp.StatusCode != 403 {
		t.Errorf("a change through the proxy without a session: %d, want 403", resp.StatusCode)
	}
	resp, _ := trusted.send(t, accessReq{method: "GET", path: "/login?next=/x", header: hdr})
	c := sessionCookieOf(resp)
	if resp.StatusCode != http.StatusSeeOther || c == nil {
		t.Fatalf("GET /login through the proxy: %d, want 303 with a session", resp.StatusCode)
	}
	h := map[string]string{"X-Forwarded-User": "alice", "X-CSRF-Token": auth.CSRFToken(c.Value)}
	resp, body := trusted.send(t, accessReq{method: "POST", path: "/api/v1/incidents/" + id + "/notes", body: `{"text":"x"}`, header: h, cookies: []*http.Cookie{{Name: auth.SessionCookie, Value: c.Value}}})
	if resp.StatusCode != 200 || !strings.Contains(lastEntry(body), `"actor":"user:alice"`) {
		t.Errorf("a change with the proxy's session: %d %s", resp.StatusCode, lastEntry(body))
	}

	untrusted := newAccessFixture(t, "proxy_header: X-Forwarded-User\n  trusted_proxies: [10.0.0.0/8]")
	if resp, _ := untrusted.send(t, accessReq{method: "GET", path: "/api/v1/incidents", header: hdr}); resp.StatusCode != 401 {
		t.Errorf("the header from an untrusted address: %d, want 401 (ignored)", resp.StatusCode)
	}
	if resp, _ := untrusted.send(t, accessReq{method: "GET", path: "/login", header: hdr}); resp.StatusCode != 200 || sessionCookieOf(resp) != nil {
		t.Errorf("GET /login with the header from an untrusted address: %d, want the form and no session", resp.StatusCode)
	}
}
