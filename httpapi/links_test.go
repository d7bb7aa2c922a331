package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/actionlink"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/snapshot"
)

const linkKey = "link-key-for-tests-0123456789abcdef0123456789"

const linksConfig = escalationConfig + `
public_url: https://gate.example.com
links:
  keys:
    - {id: "2026-12", secret: "` + linkKey + `"}
  ttl: 2h
`

type linkFixture struct {
	*fixture
	signer *actionlink.Signer
}

func newLinkFixture(t testing.TB) *linkFixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte(linksConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if snap.Links == nil {
		t.Fatal("a config with links keys and a public_url built no signer")
	}
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	engine := escalation.New(rdb, prefix, escalation.Options{Directory: func() *escalation.Directory { return current.Load().Escalation }})
	if err := engine.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	store := dedupe.NewStore(rdb, prefix)
	m := metrics.New(store.Counts)
	logger := slog.New(slog.NewJSONHandler(testlog.NewLog(t), nil))
	h := httpapi.NewServer(httpapi.Deps{
		Logger:    logger,
		Snapshot:  current.Load,
		Incidents: incident.NewService(store, incident.Options{Logger: logger, Observer: m, Escalator: engine}),
		Metrics:   m,
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		LinkState: store.LinkState,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &linkFixture{fixture: &fixture{srv: srv, rdb: rdb, prefix: prefix}, signer: snap.Links}
}

func (f *linkFixture) open(t testing.TB, fp string) string {
	t.Helper()
	resp, body := f.do(t, "POST", "/hooks/am", "am-token", amBody("firing", fp))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	var ing struct{ Incidents []string }
	if err := json.Unmarshal(body, &ing); err != nil || len(ing.Incidents) != 1 {
		t.Fatalf("ingest answer %s", body)
	}
	return ing.Incidents[0]
}

func (f *linkFixture) incident(t testing.TB, id string) alertgate.Incident {
	t.Helper()
	resp, body := f.do(t, "GET", "/api/v1/incidents/"+id, "api-token", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get incident: %d %s", resp.StatusCode, body)
	}
	var inc alertgate.Incident
	if err := json.Unmarshal(body, &inc); err != nil {
		t.Fatal(err)
	}
	return inc
}

func (f *linkFixture) token(t *testing.T, id string, a actionlink.Action, epoch int) string {
	t.Helper()
	tok, err := f.signer.Sign(actionlink.Claims{Incident: id, Action: a, User: "alice", Epoch: epoch, Step: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// get fetches path with a User-Agent; method GET or HEAD.
func (f *linkFixture) get(t *testing.T, method, path, ua string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, nil)
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post submits the confirmation form as a browser on the page would.
func (f *linkFixture) post(t *testing.T, path string, form url.Values, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var confirmField = regexp.MustCompile(`name="confirm" value="([^"]+)"`)

// confirm GETs a link's page and returns its form's hidden field.
func (f *linkFixture) confirm(t *testing.T, tok string) string {
	t.Helper()
	resp, body := f.get(t, "GET", "/a/"+tok, "")
	m := confirmField.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("confirmation page: %d, no form in\n%s", resp.StatusCode, body)
	}
	return m[1]
}

func sameOrigin(f *linkFixture) map[string]string {
	return map[string]string{"Origin": f.srv.URL, "Sec-Fetch-Site": "same-origin"}
}

// userAgents are what fetches links in the wild: chat unfurlers, mail
// security scanners, previews, and people.
var userAgents = []string{
	"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
	"Slack-ImgProxy (+https://api.slack.com/robots)",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Microsoft Office/16.0 (SafeLinks)",
	"Microsoft Office Existence Discovery",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
	"curl/8.5.0",
	"",
}

func TestLinkPageChangesNothing(t *testing.T) {
	f := newLinkFixture(t)
	id := f.open(t, "get1")
	before := f.incident(t, id)
	if before.Escalation == nil || before.Escalation.NextStep == 0 {
		t.Fatalf("fresh incident's escalation %+v, want a step due", before.Escalation)
	}
	for _, a := range []actionlink.Action{actionlink.Acknowledge, actionlink.Resolve, actionlink.Open} {
		tok := f.token(t, id, a, 1)
		for _, ua := range userAgents {
			for _, method := range []string{"GET", "HEAD"} {
				resp, body := f.get(t, method, "/a/"+tok, ua)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s %s link with UA %q: %d\n%s", method, a, ua, resp.StatusCode, body)
				}
				checkPageHeaders(t, resp)
				if method == "HEAD" {
					if body != "" {
						t.Errorf("HEAD has a body")
					}
					continue
				}
				for _, want := range []string{"Down get1", "triggered", "critical", `name="viewport"`} {
					if !strings.Contains(body, want) {
						t.Errorf("%s page lacks %q:\n%s", a, want, body)
					}
				}
			}
		}
		after := f.incident(t, id)
		if after.Status != alertgate.Triggered || after.Escalation == nil || after.Escalation.NextStep != before.Escalation.NextStep ||
			len(after.Timeline) != len(before.Timeline) {
			t.Fatalf("fetching the %s link changed the incident: %+v", a, after)
		}
		if a == actionlink.Acknowledge {
			// The page still works after all those fetches: none used it.
			if resp, body := f.post(t, "/a/"+tok, url.Values{"confirm": {f.confirm(t, tok)}}, sameOrigin(f)); resp.StatusCode != http.StatusOK {
				t.Fatalf("the link after the fetches: %d\n%s", resp.StatusCode, body)
			}
			return
		}
	}
}

func checkPageHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	for k, want := range map[string]string{
		"Cache-Control":   "no-store",
		"Referrer-Policy": "no-referrer",
		"X-Robots-Tag":    "noindex",
		"X-Frame-Options": "DENY",
		"Content-Type":    "text/html",
	} {
		if got := resp.Header.Get(k); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
}

func TestLinkAcknowledge(t *testing.T) {
	f := newLinkFixture(t)
	id := f.open(t, "ack1")
	tok := f.token(t, id, actionlink.Acknowledge, 1)
	resp, body := f.get(t, "GET", "/a/"+tok, "")
	for _, want := range []string{"Acknowledge incident #" + id, "Acknowledge as alice", "stops the incident&#39;s escalation"} {
		if !strings.Contains(body, want) {
			t.Errorf("confirmation page lacks %q:\n%s", want, body)
		}
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirmation page: %d", resp.StatusCode)
	}
	resp, body = f.post(t, "/a/"+tok, url.Values{"confirm": {f.confirm(t, tok)}}, sameOrigin(f))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "acknowledged by alice via link") {
		t.Fatalf("POST: %d\n%s", resp.StatusCode, body)
	}
	checkPageHeaders(t, resp)
	inc := f.incident(t, id)
	if inc.Status != alertgate.Acknowledged || inc.Escalation == nil || inc.Escalation.NextStep != 0 {
		t.Fatalf("after the link: %s, escalation %+v; want acknowledged, stopped", inc.Status, inc.Escalation)
	}
	last := inc.Timeline[len(inc.Timeline)-1]
	if last.Type != alertgate.EventAcknowledged || last.Actor != "alice via link" || last.Message != "acknowledged by alice via link" {
		t.Errorf("timeline entry %+v", last)
	}

	// Once only: the page and the button both say so.
	resp, body = f.get(t, "GET", "/a/"+tok, "")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "used already") {
		t.Errorf("GET of a used link: %d\n%s", resp.StatusCode, body)
	}
	resp, body = f.post(t, "/a/"+tok, url.Values{"confirm": {f.signer.FormToken(tok)}}, sameOrigin(f))
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "used already") {
		t.Errorf("second POST: %d\n%s", resp.StatusCode, body)
	}
	// Another acknowledge link: the incident is acknowledged already.
	tok2 := f.token(t, id, actionlink.Acknowledge, 1)
	resp, body = f.get(t, "GET", "/a/"+tok2, "")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "acknowledged already") {
		t.Errorf("GET of an acknowledge link of an acknowledged incident: %d\n%s", resp.StatusCode, body)
	}
	resp, body = f.post(t, "/a/"+tok2, url.Values{"confirm": {f.signer.FormToken(tok2)}}, sameOrigin(f))
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "acknowledged already") {
		t.Errorf("POST of an acknowledge link of an acknowledged incident: %d\n%s", resp.StatusCode, body)
	}
	// A resolve link still works on it.
	res := f.token(t, id, actionlink.Resolve, 1)
	resp, body = f.post(t, "/a/"+res, url.Values{"confirm": {f.confirm(t, res)}}, sameOrigin(f))
	if resp.StatusCode != http.StatusOK || f.incident(t, id).Status != alertgate.IncidentResolved {
		t.Fatalf("resolve link: %d\n%s", resp.StatusCode, body)
	}
}

func TestLinkPostRefused(t *testing.T) {
	f := newLinkFixture(t)
	id := f.open(t, "csrf1")
	tok := f.token(t, id, actionlink.Acknowledge, 1)
	good := f.confirm(t, tok)
	other := f.token(t, id, actionlink.Acknowledge, 1)
	cases := []struct {
		name    string
		form    url.Values
		headers map[string]string
	}{
		{"no form field (a scanner POSTing the URL)", nil, nil},
		{"empty form field", url.Values{"confirm": {""}}, sameOrigin(f)},
		{"another link's form field", url.Values{"confirm": {f.signer.FormToken(other)}}, sameOrigin(f)},
		{"the token as the field", url.Values{"confirm": {tok}}, sameOrigin(f)},
		{"cross-site fetch metadata", url.Values{"confirm": {good}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"same-site but not same-origin", url.Values{"confirm": {good}}, map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"foreign Origin", url.Values{"confirm": {good}}, map[string]string{"Origin": "https://evil.example"}},
	}
	for _, c := range cases {
		resp, body := f.post(t, "/a/"+tok, c.form, c.headers)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403\n%s", c.name, resp.StatusCode, body)
		}
	}
	if inc := f.incident(t, id); inc.Status != alertgate.Triggered {
		t.Fatalf("a refused POST changed the incident to %s", inc.Status)
	}
	// The trusted public URL's origin is accepted, and the link was not
	// used up by the refusals.
	resp, body := f.post(t, "/a/"+tok, url.Values{"confirm": {good}}, map[string]string{"Origin": "https://gate.example.com"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST from the public URL's origin: %d\n%s", resp.StatusCode, body)
	}
}

func TestLinkErrors(t *testing.T) {
	f := newLinkFixture(t)
	id := f.open(t, "err1")
	tok := f.token(t, id, actionlink.Acknowledge, 1)
	kid, rest, _ := strings.Cut(tok, ".")
	payload, sig, _ := strings.Cut(rest, ".")

	pastClock := func() time.Time { return time.Now().Add(-3 * time.Hour) }
	past, _ := actionlink.NewSigner([]actionlink.Key{{ID: "2026-12", Secret: []byte(linkKey)}}, 2*time.Hour, pastClock)
	expired, _ := past.Sign(actionlink.Claims{Incident: id, Action: actionlink.Acknowledge, User: "alice", Epoch: 1})
	foreign, _ := actionlink.NewSigner([]actionlink.Key{{ID: "2025-01", Secret: []byte(linkKey)}}, time.Hour, nil)
	unknownKey, _ := foreign.Sign(actionlink.Claims{Incident: id, Action: actionlink.Acknowledge, User: "alice", Epoch: 1})
	gone := f.token(t, "123456789", actionlink.Acknowledge, 1)
	tampered := kid + "." + payload[:len(payload)-2] + "AA." + sig

	cases := []struct {
		name, token string
		status      int
		want        string
	}{
		{"malformed", "not-a-token", http.StatusBadRequest, "not a valid link"},
		{"cut short", tok[:len(tok)-10], http.StatusBadRequest, "not a valid link"},
		{"tampered", tampered, http.StatusBadRequest, "not genuine"},
		{"unknown key", unknownKey, http.StatusBadRequest, "key this alertgate no longer has"},
		{"expired", expired, http.StatusGone, "expired"},
		{"incident gone", gone, http.StatusNotFound, "not found"},
	}
	for _, c := range cases {
		for _, method := range []string{"GET", "POST"} {
			var resp *http.Response
			var body string
			if method == "GET" {
				resp, body = f.get(t, "GET", "/a/"+c.token, "")
			} else {
				resp, body = f.post(t, "/a/"+c.token, url.Values{"confirm": {f.signer.FormToken(c.token)}}, sameOrigin(f))
			}
			if resp.StatusCode != c.status || !strings.Contains(body, c.want) {
				t.Errorf("%s %s: %d, want %d with %q\n%s", method, c.name, resp.StatusCode, c.status, c.want, body)
			}
			checkPageHeaders(t, resp)
		}
	}
	if inc := f.incident(t, id); inc.Status != alertgate.Triggered {
		t.Fatalf("bad links changed the incident to %s", inc.Status)
	}

	// An open link does not act on POST.
	open := f.token(t, id, actionlink.Open, 1)
	if resp, body := f.post(t, "/a/"+open, url.Values{"confirm": {f.signer.FormToken(open)}}, sameOrigin(f)); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST of an open link: %d\n%s", resp.StatusCode, body)
	}

	// Superseded: the incident resolved and fired again (epoch 2).
	if resp, body := f.do(t, "POST", "/hooks/am", "am-token", amBody("resolved", "err1")); resp.StatusCode != http.StatusOK {
		t.Fatalf("resolve: %d %s", resp.StatusCode, body)
	}
	if again := f.open(t, "err1"); again != id {
		t.Fatalf("refire opened %s, want %s reopened", again, id)
	}
	resp, body := f.get(t, "GET", "/a/"+tok, "")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "out of date") {
		t.Errorf("GET of a superseded link: %d\n%s", resp.StatusCode, body)
	}
	resp, body = f.post(t, "/a/"+tok, url.Values{"confirm": {f.signer.FormToken(tok)}}, sameOrigin(f))
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "out of date") {
		t.Errorf("POST of a superseded link: %d\n%s", resp.StatusCode, body)
	}
	if inc := f.incident(t, id); inc.Status != alertgate.Triggered {
		t.Fatalf("a superseded link changed the incident to %s", inc.Status)
	}
}

func TestLinkOpenPage(t *testing.T) {
	f := newLinkFixture(t)
	id := f.open(t, "open1")
	open := f.token(t, id, actionlink.Open, 1)
	resp, body := f.get(t, "GET", "/a/"+open, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Incident #"+id) {
		t.Fatalf("open page: %d\n%s", resp.StatusCode, body)
	}
	forms := regexp.MustCompile(`action="([^"]+)">\s*<input type="hidden" name="confirm" value="([^"]+)">\s*<button type="submit" class="(\w+)"`).FindAllStringSubmatch(body, -1)
	if len(forms) != 2 || forms[0][3] != "acknowledge" || forms[1][3] != "resolve" {
		t.Fatalf("open page of a triggered incident offers %v, want acknowledge and resolve:\n%s", forms, body)
	}
	// The acknowledge button acts with its own fresh token.
	resp, body = f.post(t, "/a/"+forms[0][1], url.Values{"confirm": {forms[0][2]}}, sameOrigin(f))
	if resp.StatusCode != http.StatusOK || f.incident(t, id).Status != alertgate.Acknowledged {
		t.Fatalf("acknowledge from the open page: %d\n%s", resp.StatusCode, body)
	}
	_, body = f.get(t, "GET", "/a/"+open, "")
	if strings.Contains(body, `class="acknowledge"`) || !strings.Contains(body, `class="resolve"`) {
		t.Errorf("open page of an acknowledged incident should offer only resolve:\n%s", body)
	}
}

// FuzzLinkToken: whatever follows /a/, GET and POST answer a page, never a
// 5xx, and nothing acts without a genuine token.
func FuzzLinkToken(f *testing.F) {
	lf := newLinkFixture(f)
	id := lf.open(f, "fuzz1")
	good, _ := lf.signer.Sign(actionlink.Claims{Incident: id, Action: actionlink.Acknowledge, User: "alice", Epoch: 1})
	for _, s := range []string{good, good[:len(good)-1], good + ".", "..", "%2e%2e", "a.b.c", strings.Repeat("A", 3000), "\x00", "<script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		if token == good {
			return // the one genuine token: acting on it is right
		}
		target := lf.srv.URL + "/a/" + url.PathEscape(token)
		for _, method := range []string{"GET", "HEAD", "POST"} {
			req, err := http.NewRequestWithContext(t.Context(), method, target, strings.NewReader("confirm="+url.QueryEscape(token)))
			if err != nil {
				return // not a URL a client could send
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 || method == "POST" && resp.StatusCode < 400 {
				t.Fatalf("%s /a/%q: %d", method, token, resp.StatusCode)
			}
		}
		if inc := lf.incident(t, id); inc.Status != alertgate.Triggered {
			t.Fatalf("/a/%q changed the incident to %s", token, inc.Status)
		}
	})
}
