package console_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/auth"
	"github.com/alertgate/alertgate/console"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/explain"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

const testConfig = `
integrations:
  - name: am
    type: alertmanager
    tokens: [am-token]
users:
  - {id: alice, contacts: [{notifier: console, address: alice}]}
  - {id: bob, contacts: [{notifier: console, address: bob}]}
teams:
  - {id: ops, members: [alice, bob]}
  - {id: web, members: [bob]}
rotations:
  - id: ops-weekly
    team: ops
    time_zone: Europe/Berlin
    layers:
      - {name: weekly, participants: [alice, bob], start: "2026-01-05T09:00", shift: 1w}
escalation_policies:
  - id: ops
    steps:
      - {targets: [{user: alice}], delay: 5m}
      - {targets: [{team: ops}], delay: 5m}
default_escalation_policy: ops
routes:
  - name: databases
    match: {service: db}
    team: ops
    group_by: [alertname]
  - name: frontend
    match: {service: web}
    team: web
    group_by: [alertname]
`

// fixture is the console over a real Redis, with a logged-in alice.
type fixture struct {
	srv      *httptest.Server
	snap     *snapshot.Snapshot
	svc      *incident.Service
	sessions *auth.Store
	silences *silence.Store
	cookie   *http.Cookie
	csrf     string
	now      time.Time
	client   *http.Client
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte(testConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	engine := escalation.New(rdb, prefix, escalation.Options{Directory: func() *escalation.Directory { return current.Load().Escalation }})
	if err := engine.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	store := dedupe.NewStore(rdb, prefix)
	svc := incident.NewService(store, incident.Options{Now: clock, Logger: slog.New(slog.DiscardHandler), Escalator: engine})
	sessions := auth.NewStore(rdb, prefix, auth.Options{Now: clock})
	silences := silence.NewStore(rdb, prefix, silence.Options{Now: clock})
	h := console.New(console.Deps{
		Incidents: svc,
		Counts:    store.Counts,
		Snapshot:  current.Load,
		Overrides: oncall.NewStore(rdb, prefix),
		Silences:  silences,
		Sessions:  sessions,
		Explain:   &explain.Deps{Store: store},
		Now:       clock,
		Logger:    testlog.New(t),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	id, _, err := sessions.Create(t.Context(), "alice", "password", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, snap: snap, svc: svc, sessions: sessions, silences: silences, now: now,
		cookie: &http.Cookie{Name: auth.SessionCookie, Value: id}, csrf: auth.CSRFToken(id),
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// open opens an incident through incident.Service.Accept, as a webhook
// would, and returns its id.
func (f *fixture) open(t testing.TB, a alertgate.Alert) string {
	t.Helper()
	if a.Fingerprint == "" {
		a.Fingerprint = a.Labels["alertname"] + "-" + a.Labels["instance"]
	}
	a.Status, a.Source = alertgate.Firing, "am"
	if a.Severity == "" {
		a.Severity = alertgate.SeverityCritical
	}
	if a.StartsAt.IsZero() {
		a.StartsAt = f.now
	}
	acc, err := f.svc.Accept(t.Context(), f.snap.Routes, "am", alertgate.Batch{Alerts: []alertgate.Alert{a}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Incidents) != 1 {
		t.Fatalf("accept: %+v", acc)
	}
	return acc.Incidents[0]
}

// get fetches path as alice (or anonymously with anon).
func (f *fixture) get(t testing.TB, path string, anon ...bool) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(anon) == 0 {
		req.AddCookie(f.cookie)
	}
	return f.do(t, req)
}

// post sends a form as alice, with her CSRF token unless form sets
// csrf_token itself.
func (f *fixture) post(t testing.TB, path string, form url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	switch v, ok := form["csrf_token"]; {
	case !ok:
		form.Set("csrf_token", f.csrf)
	case v == nil: // the test means: no token at all
		delete(form, "csrf_token")
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	req.AddCookie(f.cookie)
	return f.do(t, req)
}

func (f *fixture) do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
	}
}

func TestNotLoggedInGoesToLogin(t *testing.T) {
	f := newFixture(t)
	id := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "DiskFull", "service": "db"}, Summary: "disk full"})
	for _, path := range []string{"/", "/incidents", "/incidents/" + id, "/oncall", "/silences"} {
		resp, _ := f.get(t, path, true)
		if got, want := resp.StatusCode, http.StatusSeeOther; got != want {
			t.Errorf("GET %s without a login: %d, want %d", path, got, want)
			continue
		}
		if got, want := resp.Header.Get("Location"), "/login?next="+url.QueryEscape(path); got != want {
			t.Errorf("GET %s without a login goes to %q, want %q", path, got, want)
		}
	}
	// A forged or ended session is no login either.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+"/incidents", nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: strings.Repeat("A", 43)})
	if resp, _ := f.do(t, req); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET with a made-up session: %d, want 303 to /login", resp.StatusCode)
	}
	// An action without a login acts not.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, f.srv.URL+"/incidents/"+id+"/acknowledge", strings.NewReader("csrf_token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, _ := f.do(t, req); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+url.QueryEscape("/incidents/"+id) {
		t.Errorf("POST without a login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if inc, _ := f.svc.Get(t.Context(), id); inc.Status != alertgate.Triggered {
		t.Errorf("the incident is %s after actions without a login", inc.Status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	resp, _ := f.get(t, "/incidents")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /incidents: %d", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	css, body := f.get(t, "/static/console.css", true)
	if css.StatusCode != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, ":root") {
		t.Errorf("GET /static/console.css: %d %s", css.StatusCode, css.Header.Get("Content-Type"))
	}
	if js, _ := f.get(t, "/static/live.js", true); js.StatusCode != http.StatusOK {
		t.Errorf("GET /static/live.js: %d", js.StatusCode)
	}
}

func TestIncidentListFiltersAndCounts(t *testing.T) {
	f := newFixture(t)
	db := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "DiskFull", "service": "db"}, Summary: "disk full", Service: "db"})
	web := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "Slow", "service": "web"}, Summary: "slow", Service: "web", Severity: alertgate.SeverityWarning})
	if _, err := f.svc.Acknowledge(t.Context(), web, incident.By{Actor: "user:bob"}); err != nil {
		t.Fatal(err)
	}
	resp, body := f.get(t, "/incidents")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /incidents: %d %s", resp.StatusCode, body)
	}
	mustContain(t, body, `href="/incidents/`+db+`"`, `href="/incidents/`+web+`"`, "triggered <strong>1</strong>", "acknowledged <strong>1</strong>")

	for _, tc := range []struct {
		query    string
		has, not string
	}{
		{"status=acknowledged", web, db},
		{"severity=critical", db, web},
		{"team=web", web, db},
		{"team=ops&sort=oldest", db, web},
		{"service=db", db, web},
		{"range=1h&sort=severity", db, ""},
	} {
		resp, body := f.get(t, "/incidents?"+tc.query)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", tc.query, resp.StatusCode)
			continue
		}
		if !strings.Contains(body, `href="/incidents/`+tc.has+`"`) {
			t.Errorf("%s: lacks incident %s", tc.query, tc.has)
		}
		if tc.not != "" && strings.Contains(body, `href="/incidents/`+tc.not+`"`) {
			t.Errorf("%s: shows incident %s", tc.query, tc.not)
		}
	}
	for _, bad := range []string{"status=open", "severity=huge", "sort=random", "from=yesterday", "team=nobody", "sort=oldest&cursor=x"} {
		resp, body := f.get(t, "/incidents?"+bad)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="problem"`) {
			t.Errorf("%s: %d, want 400 with the problem on the page", bad, resp.StatusCode)
		}
	}
}

func TestIncidentListPaging(t *testing.T) {
	f := newFixture(t)
	for i := range 60 {
		f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "A" + strconv.Itoa(i), "service": "db"}, StartsAt: f.now.Add(time.Duration(i) * time.Second)})
	}
	for _, q := range []string{"", "severity=critical", "sort=oldest"} {
		_, body := f.get(t, "/incidents?"+q)
		if got := strings.Count(body, `<td data-label="Incident">`); got != 50 {
			t.Errorf("%q: first page has %d rows, want 50", q, got)
		}
		next := nextLink.FindStringSubmatch(body)
		if next == nil {
			t.Fatalf("%q: no next page link", q)
		}
		_, body = f.get(t, strings.ReplaceAll(next[1], "&amp;", "&"))
		if got := strings.Count(body, `<td data-label="Incident">`); got != 10 {
			t.Errorf("%q: second page has %d rows, want 10", q, got)
		}
		if strings.Contains(body, `rel="next"`) {
			t.Errorf("%q: the last page offers a next page", q)
		}
	}
}

func TestIncidentPageAndActions(t *testing.T) {
	f := newFixture(t)
	id := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "DiskFull", "service": "db", "instance": "db-1"},
		Annotations: map[string]string{"runbook_url": "https://runbooks.example/disk"}, Summary: "disk full on db-1",
		Links: []alertgate.Link{{Href: "http://prom.example/graph?g0.expr=up", Text: "Source"}}})
	resp, body := f.get(t, "/incidents/"+id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET incident: %d %s", resp.StatusCode, body)
	}
	mustContain(t, body, "disk full on db-1", "<code>instance=db-1</code>", `href="https://runbooks.example/disk"`,
		`href="http://prom.example/graph?g0.expr=up"`, "default → databases", `id="acknowledge"`, `name="csrf_token" value="`+f.csrf+`"`)

	steps := []struct {
		action string
		form   url.Values
		typ    string
	}{
		{"note", url.Values{"text": {"looking at it\r\nnow"}}, alertgate.EventNote},
		{"reassign", url.Values{"target": {"user:bob"}}, alertgate.EventReassigned},
		{"escalate", url.Values{"text": {"need more hands"}}, alertgate.EventEscalated},
		{"acknowledge", url.Values{}, alertgate.EventAcknowledged},
		{"resolve", url.Values{}, alertgate.EventResolved},
	}
	for _, s := range steps {
		s.form.Set("request_id", "test-"+s.action)
		resp, body := f.post(t, "/incidents/"+id+"/"+s.action, s.form)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/incidents/"+id+"?done="+s.action {
			t.Fatalf("%s: %d %s\n%s", s.action, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		inc, err := f.svc.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range inc.Timeline {
			// Escalation's own entries say who asked in the message.
			found = found || (e.Type == s.typ && (e.Actor == "user:alice" || strings.Contains(e.Message, "by user:alice")))
		}
		if !found {
			t.Errorf("%s: no %s entry by user:alice on the timeline: %+v", s.action, s.typ, inc.Timeline)
		}
		_, page := f.get(t, resp.Header.Get("Location"))
		if !strings.Contains(page, `id="done"`) {
			t.Errorf("%s: the page after the redirect says nothing done", s.action)
		}
	}
	inc, _ := f.svc.Get(t.Context(), id)
	if inc.Status != alertgate.IncidentResolved {
		t.Errorf("status %s after resolve", inc.Status)
	}
	for _, e := range inc.Timeline {
		if e.Type == alertgate.EventNote && e.Message != "looking at it\nnow" {
			t.Errorf("note %q: a textarea's CRLF should be a newline", e.Message)
		}
	}
	// The same form sent twice (a double click) notes once.
	f.post(t, "/incidents/"+id+"/note", url.Values{"text": {"once"}, "request_id": {"dup"}})
	f.post(t, "/incidents/"+id+"/note", url.Values{"text": {"once"}, "request_id": {"dup"}})
	inc, _ = f.svc.Get(t.Context(), id)
	n := 0
	for _, e := range inc.Timeline {
		if e.Type == alertgate.EventNote && e.Message == "once" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("a resent note form noted %d times", n)
	}
	_, page := f.get(t, "/incidents/"+id)
	mustContain(t, page, "<h2 id=\"h-pages\">Pages</h2>", "bob", "via console")
}

func TestActionMistakesShowOnThePage(t *testing.T) {
	f := newFixture(t)
	id := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "DiskFull", "service": "db"}})
	for _, tc := range []struct {
		action string
		form   url.Values
		status int
	}{
		{"note", url.Values{"text": {"  "}}, http.StatusUnprocessableEntity},
		{"reassign", url.Values{"target": {"user:mallory"}}, http.StatusUnprocessableEntity},
		{"reassign", url.Values{"target": {""}}, http.StatusUnprocessableEntity},
		{"frobnicate", url.Values{}, http.StatusNotFound},
	} {
		resp, body := f.post(t, "/incidents/"+id+"/"+tc.action, tc.form)
		if resp.StatusCode != tc.status || !strings.Contains(body, `id="problem"`) {
			t.Errorf("%s %v: %d, want %d with the problem shown", tc.action, tc.form, resp.StatusCode, tc.status)
		}
	}
	if _, err := f.svc.Resolve(t.Context(), id, incident.By{Actor: "user:bob"}); err != nil {
		t.Fatal(err)
	}
	resp, body := f.post(t, "/incidents/"+id+"/acknowledge", url.Values{})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `id="problem"`) {
		t.Errorf("acknowledging a resolved incident: %d, want 409 on the page", resp.StatusCode)
	}
	if resp, _ := f.get(t, "/incidents/999999"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown incident: %d, want 404", resp.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	id := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "DiskFull", "service": "db"}})
	other := auth.CSRFToken(strings.Repeat("B", 43)) // another session's token
	for name, token := range map[string][]string{"missing": nil, "empty": {""}, "forged": {"forged"}, "another session's": {other}} {
		for _, path := range []string{"/incidents/" + id + "/acknowledge", "/incidents/" + id + "/note", "/silences", "/oncall/overrides", "/silences/x/expire"} {
			resp, _ := f.post(t, path, url.Values{"text": {"x"}, "csrf_token": token})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s CSRF token on %s: %d, want 403", name, path, resp.StatusCode)
			}
		}
	}
	// Cross-site, even with the right token.
	resp, _ := f.post(t, "/incidents/"+id+"/acknowledge", url.Values{}, "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d, want 403", resp.StatusCode)
	}
	if inc, _ := f.svc.Get(t.Context(), id); inc.Status != alertgate.Triggered || len(inc.Timeline) != 2 {
		t.Errorf("refused posts changed the incident: %s %+v", inc.Status, inc.Timeline)
	}
}

func TestXSSIsEscaped(t *testing.T) {
	f := newFixture(t)
	const xss = `<script>alert(1)</script>`
	const attr = `"><img src=x onerror=alert(1)>`
	id := f.open(t, alertgate.Alert{
		Labels:      map[string]string{"alertname": "X" + xss, "service": "db", "evil": attr},
		Annotations: map[string]string{"description": xss, "runbook": "javascript:alert(1)"},
		Summary:     "summary " + xss,
		Service:     "db" + attr,
		Links:       []alertgate.Link{{Href: "javascript:alert(1)", Text: xss}, {Href: "data:text/html,<b>x</b>", Text: "data"}},
		Details:     map[string]string{"d": attr},
	})
	if resp, body := f.post(t, "/incidents/"+id+"/note", url.Values{"text": {"note " + xss + attr}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/incidents/" + id, "/incidents", "/incidents?service=" + url.QueryEscape("db"+attr)} {
		_, body := f.get(t, path)
		for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`, `href="data:`, "onerror=alert(1)>"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: unescaped %q in the page", path, bad)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: the escaped payload is not shown", path)
		}
	}
}

func TestOnCallPageAndOverride(t *testing.T) {
	f := newFixture(t)
	resp, body := f.get(t, "/oncall")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /oncall: %d %s", resp.StatusCode, body)
	}
	// 2026-12-01 12:00 UTC is in the week from Mon 2026-11-30 09:00
	// Berlin: week 47 from 2026-01-05, alice's (odd weeks are bob's).
	mustContain(t, body, `id="rotation-ops-weekly"`, `<strong class="oncall-now">`, "Times in Europe/Berlin.", "Tue 01 Dec", "Mon 14 Dec")
	current := between(body, `<strong class="oncall-now">`, `</strong>`)
	other := map[string]string{"alice": "bob", "bob": "alice"}[current]
	if other == "" {
		t.Fatalf("on call now: %q", current)
	}
	form := url.Values{"rotation": {"ops-weekly"}, "user": {other}, "replaces": {current},
		"start": {"2026-12-01T13:00"}, "end": {"2026-12-01T18:00"}, "comment": {"dentist " + "<b>x</b>"}, "request_id": {"o1"}}
	resp, body = f.post(t, "/oncall/overrides", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create override: %d %s", resp.StatusCode, body)
	}
	_, body = f.get(t, "/oncall?done=override")
	mustContain(t, body, "Override created.", "override by user:alice, covering "+current+": dentist &lt;b&gt;x&lt;/b&gt;",
		`class="is-override`, "Tue 2026-12-01 13:00 CET",
		// The day's timeline cuts shifts to the day: the override, then
		// the rotation's person again.
		`<span class="hours">13:00–18:00</span> <strong>`+other+`</strong> <span class="badge override">`,
		`<span class="hours">18:00–24:00</span> <strong>`+current+`</strong>`)

	for name, change := range map[string]url.Values{
		"unknown user":       {"user": {"mallory"}},
		"not a participant":  {"replaces": {"alice"}, "user": {"alice"}},
		"end before start":   {"end": {"2026-12-01T12:00"}},
		"in the past":        {"start": {"2026-11-01T10:00"}, "end": {"2026-11-01T11:00"}},
		"malformed time":     {"start": {"tomorrow"}},
		"no such rotation":   {"rotation": {"nope"}},
		"too long a comment": {"comment": {strings.Repeat("x", 1025)}},
	} {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		for k, v := range change {
			bad[k] = v
		}
		resp, body := f.post(t, "/oncall/overrides", bad)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%s: %d, want 422 with the problem", name, resp.StatusCode)
		}
	}
}

func TestSilences(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post(t, "/silences", url.Values{"matchers": {"alertname=\"DiskFull\"\r\ninstance=~\"db-.*\"\r\n"}, "duration": {"2h"},
		"comment": {"maintenance <i>now</i>"}, "request_id": {"s1"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/silences?done=created" {
		t.Fatalf("create: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	list, err := f.silences.List(t.Context(), "")
	if err != nil || len(list) != 1 {
		t.Fatalf("silences: %v %+v", err, list)
	}
	s := list[0]
	if s.CreatedBy != "alice" || len(s.Matchers) != 2 || !s.EndsAt.Equal(f.now.Add(2*time.Hour)) {
		t.Errorf("silence %+v", s)
	}
	_, body = f.get(t, "/silences?done=created")
	mustContain(t, body, "Silence created.", "state-active", `<code>alertname=&#34;DiskFull&#34;</code>`, "maintenance &lt;i&gt;now&lt;/i&gt;",
		`action="/silences/`+s.ID+`/expire"`)

	resp, body = f.post(t, "/silences", url.Values{"matchers": {"alertname=~\"(\""}, "duration": {"2h"}, "comment": {"x"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="problem"`) || !strings.Contains(body, "alertname=~&#34;(&#34;") {
		t.Errorf("a bad matcher: %d, want 422 with the form shown back\n%s", resp.StatusCode, body)
	}
	resp, _ = f.post(t, "/silences/"+s.ID+"/expire", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("expire: %d", resp.StatusCode)
	}
	got, err := f.silences.Get(t.Context(), s.ID)
	if err != nil || got.StateAt(f.now) != silence.Expired {
		t.Errorf("after expire: %v %+v", err, got)
	}
	if resp, _ := f.post(t, "/silences/nope/expire", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("expire an unknown silence: %d, want 404", resp.StatusCode)
	}
}

var nextLink = regexp.MustCompile(`href="([^"]*)" rel="next"`)

func TestExplainFirstAlert(t *testing.T) {
	f := newFixture(t)
	id := f.open(t, alertgate.Alert{Labels: map[string]string{"alertname": "DiskFull", "service": "db", "instance": "db-1"},
		Annotations: map[string]string{"summary": "disk full"}, GroupKey: "{}:{alertname=\"DiskFull\"}"})
	_, page := f.get(t, "/incidents/"+id)
	mustContain(t, page, `href="/incidents/`+id+`/explain"`)
	resp, body := f.get(t, "/incidents/"+id+"/explain")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET explain: %d %s", resp.StatusCode, body)
	}
	// The alert arriving again joins its own incident, on its route,
	// under the default policy, whose first step pages alice.
	mustContain(t, body, "Route databases", "default → databases", `join <a href="/incidents/`+id+`">#`+id+`</a>`, "ops", "alice via console")
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}
