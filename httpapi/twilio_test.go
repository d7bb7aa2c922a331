package httpapi_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/smsreply"
	"github.com/alertgate/alertgate/snapshot"
)

const (
	twilioAccount = "AC0123456789abcdef0123456789abcdef"
	twilioToken   = "twilio-auth-token-1234"
	twilioPublic  = "https://alertgate.example.com/base/"
	alicePhone    = "+15005550006"
)

const twilioConfig = `
public_url: ` + twilioPublic + `
api:
  tokens: [api-token]
ingest:
  max_body_bytes: 4096
integrations:
  - name: am
    type: alertmanager
    tokens: [am-token]
notifiers:
  - id: sms
    type: twilio
    account_sid: ` + twilioAccount + `
    auth_token: ` + twilioToken + `
    from: "+15005550001"
  - id: quiet
    type: twilio
    account_sid: ` + twilioAccount + `
    auth_token: ` + twilioToken + `
    from: "+15005550002"
    replies: false
  - id: chat
    type: slack
    url: https://hooks.slack.com/services/T0/B0/x
`

type twilioFixture struct {
	h       http.Handler
	srv     *httptest.Server
	log     *bytes.Buffer
	replies *smsreply.Store
	svc     *incident.Service
	snap    *snapshot.Snapshot
}

// newTwilioFixture serves twilioConfig over the test Redis, logging to
// logger (and into the fixture's buffer).
func newTwilioFixture(tb testing.TB, logger io.Writer) *twilioFixture {
	tb.Helper()
	rdb, prefix := redistest.New(tb)
	snap, err := snapshot.Load([]byte(twilioConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	store := dedupe.NewStore(rdb, prefix)
	buf := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(io.MultiWriter(buf, logger), &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New(store.Counts)
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	svc := incident.NewService(store, incident.Options{Logger: log, Observer: m})
	replies := smsreply.New(rdb, prefix, smsreply.Options{})
	h := httpapi.NewServer(httpapi.Deps{
		Logger: log, Snapshot: current.Load, Incidents: svc, Metrics: m,
		Ready:      func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		SMSReplies: replies,
	})
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &twilioFixture{h: h, srv: srv, log: buf, replies: replies, svc: svc, snap: snap}
}

// open opens an incident with one alert and pages alice's phone about it
// at epoch, returning the incident and the reply code.
func (f *twilioFixture) open(t testing.TB, fingerprint string, epoch int) (id, code string) {
	t.Helper()
	b := alertgate.Batch{Alerts: []alertgate.Alert{{
		Source: "am", Fingerprint: fingerprint, Status: alertgate.Firing, GroupKey: fingerprint, Summary: "Disk full on " + fingerprint,
		Severity: alertgate.SeverityCritical, Labels: map[string]string{"instance": fingerprint},
	}}}
	acc, err := f.svc.Accept(t.Context(), f.snap.Routes, "am", b, false)
	if err != nil || len(acc.Incidents) != 1 {
		t.Fatalf("accept: %+v, %v", acc, err)
	}
	id = acc.Incidents[0]
	inc, err := f.svc.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	code, err = f.replies.Assign(t.Context(), notify.Page{Key: fmt.Sprintf("%s.%d.0.1.alice", id, epoch), Incident: id,
		Title: inc.Title, Epoch: epoch, Step: 1, User: "alice", Notifier: "sms", Address: alicePhone})
	if err != nil || code == "" {
		t.Fatalf("assign: %q, %v", code, err)
	}
	return id, code
}

// twilioForm is what Twilio posts for one inbound SMS.
func twilioForm(from, body string) url.Values {
	return url.Values{
		"AccountSid": {twilioAccount}, "MessageSid": {"SM0123456789abcdef0123456789abcdef"},
		"SmsSid": {"SM0123456789abcdef0123456789abcdef"}, "From": {from}, "To": {"+15005550001"},
		"Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"}, "ApiVersion": {"2010-04-01"}, "FromCountry": {"US"},
	}
}

// post sends form to path as Twilio would: signed over public_url + path.
func (f *twilioFixture) post(t *testing.T, path string, form url.Values, edit func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smsreply.Sign(twilioToken, strings.TrimSuffix(twilioPublic, "/")+path, form))
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
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

// sms sends body from alice's phone and returns the TwiML message back.
func (f *twilioFixture) sms(t *testing.T, from, body string) string {
	t.Helper()
	resp, got := f.post(t, "/twilio/sms/sms", twilioForm(from, body), nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/xml; charset=utf-8" {
		t.Fatalf("sms %q: %d %s %s", body, resp.StatusCode, resp.Header.Get("Content-Type"), got)
	}
	var twiml struct {
		XMLName xml.Name `xml:"Response"`
		Message []string `xml:"Message"`
	}
	if err := xml.Unmarshal([]byte(got), &twiml); err != nil {
		t.Fatalf("sms %q: answer is not TwiML: %v\n%s", body, err, got)
	}
	if len(twiml.Message) > 1 {
		t.Fatalf("sms %q: %d messages", body, len(twiml.Message))
	}
	if len(twiml.Message) == 0 {
		return ""
	}
	return twiml.Message[0]
}

func (f *twilioFixture) status(t *testing.T, id string) *alertgate.Incident {
	t.Helper()
	inc, err := f.svc.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func TestTwilioReplies(t *testing.T) {
	f := newTwilioFixture(t, testlog.NewLog(t))
	id, code := f.open(t, "db-1", 0)
	if code != "1" {
		t.Fatalf("code %q, want 1", code)
	}
	label := "#" + id + " " + f.status(t, id).Title

	if got, want := f.sms(t, alicePhone, " 1A "), "Acknowledged "+label; got != want {
		t.Errorf("1A: %q, want %q", got, want)
	}
	inc := f.status(t, id)
	if inc.Status != alertgate.Acknowledged {
		t.Fatalf("after 1A: %s", inc.Status)
	}
	last := inc.Timeline[len(inc.Timeline)-1]
	if last.Type != alertgate.EventAcknowledged || last.Actor != "alice via SMS" || last.Message != "acknowledged by alice via SMS reply" {
		t.Errorf("timeline entry: %+v", last)
	}
	// The same reply again (or Twilio sending it twice) acts once.
	if got, want := f.sms(t, alicePhone, "1a"), "1a was used already for "+label+"."; got != want {
		t.Errorf("1a again: %q, want %q", got, want)
	}
	if got, want := f.sms(t, alicePhone, "resolve 1"), "Resolved "+label; got != want {
		t.Errorf("resolve 1: %q, want %q", got, want)
	}
	if f.status(t, id).Status != alertgate.IncidentResolved {
		t.Fatal("not resolved")
	}
	if got, want := f.sms(t, alicePhone, "1r"), "1r was used already for "+label+"."; got != want {
		t.Errorf("1r again: %q, want %q", got, want)
	}

	// Someone else acknowledged 2 before alice answers.
	id2, code2 := f.open(t, "db-2", 0)
	if code2 != "2" {
		t.Fatalf("second code %q", code2)
	}
	if _, err := f.svc.Acknowledge(t.Context(), id2, incident.By{Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	if got := f.sms(t, alicePhone, "2a"); !strings.HasSuffix(got, " is already acknowledged.") || !strings.HasPrefix(got, "#"+id2+" ") {
		t.Errorf("2a after bob: %q", got)
	}
	// A code of an earlier escalation run is superseded.
	id3, code3 := f.open(t, "db-3", 7)
	if got := f.sms(t, alicePhone, code3+"a"); !strings.HasPrefix(got, "Code "+code3+" no longer works for #"+id3) {
		t.Errorf("superseded: %q", got)
	}
	if f.status(t, id3).Status != alertgate.Triggered {
		t.Error("a superseded code acted")
	}

	// Unknown codes and unclear replies get the live codes.
	if got := f.sms(t, alicePhone, "9a"); !strings.HasPrefix(got, "Code 9 is unknown or expired.\nReply 1a to acknowledge or 1r to resolve "+label) {
		t.Errorf("9a: %q", got)
	}
	if got := f.sms(t, alicePhone, "a"); !strings.HasPrefix(got, "Several pages are open; say which.\n") {
		t.Errorf("bare a: %q", got)
	}
	if got := f.sms(t, alicePhone, "on it <b>&</b>"); !strings.HasPrefix(got, "Sorry, that is not a reply alertgate understands.") {
		t.Errorf("chatter: %q", got)
	}
	// Codes are scoped to the number: bob's phone has none.
	if got := f.sms(t, "+15005550009", "1a"); got != "Code 1 is unknown or expired. alertgate has no open pages for this number." {
		t.Errorf("other number: %q", got)
	}
	// Twilio answers STOP itself.
	if got := f.sms(t, alicePhone, "STOP"); got != "" {
		t.Errorf("STOP: %q", got)
	}
	if strings.Contains(f.log.String(), twilioToken) {
		t.Error("the auth token is in the log")
	}
}

func TestTwilioRefuses(t *testing.T) {
	f := newTwilioFixture(t, testlog.NewLog(t))
	id, _ := f.open(t, "db-1", 0)
	good := twilioForm(alicePhone, "1a")
	for _, tc := range []struct {
		name string
		path string
		form url.Values
		edit func(*http.Request)
		want int
	}{
		{"no signature", "/twilio/sms/sms", good, func(r *http.Request) { r.Header.Del("X-Twilio-Signature") }, 403},
		{"bad signature", "/twilio/sms/sms", good, func(r *http.Request) { r.Header.Set("X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=") }, 403},
		{"signed for another URL", "/twilio/sms/sms", good, func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", smsreply.Sign(twilioToken, "https://alertgate.example.com/twilio/sms/sms", good))
		}, 403},
		{"signed with another token", "/twilio/sms/sms", good, func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", smsreply.Sign("other-token", twilioPublic+"twilio/sms/sms", good))
		}, 403},
		{"query not signed", "/twilio/sms/sms", good, func(r *http.Request) { r.URL.RawQuery = "x=1" }, 403},
		{"other account", "/twilio/sms/sms", func() url.Values {
			v := twilioForm(alicePhone, "1a")
			v.Set("AccountSid", "AC00000000000000000000000000000000")
			return v
		}(), nil, 403},
		{"no From", "/twilio/sms/sms", func() url.Values { v := twilioForm(alicePhone, "1a"); v.Del("From"); return v }(), nil, 400},
		{"long From", "/twilio/sms/sms", twilioForm("+1"+strings.Repeat("5", 80), "1a"), nil, 400},
		{"unknown notifier", "/twilio/nope/sms", good, nil, 404},
		{"not a twilio notifier", "/twilio/chat/sms", good, nil, 404},
		{"replies off", "/twilio/quiet/sms", good, nil, 404},
		{"JSON", "/twilio/sms/sms", good, func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, 415},
		{"no content type", "/twilio/sms/sms", good, func(r *http.Request) { r.Header.Del("Content-Type") }, 415},
		{"too large", "/twilio/sms/sms", twilioForm(alicePhone, strings.Repeat("a", 5000)), nil, 413},
		{"gzip", "/twilio/sms/sms", good, func(r *http.Request) { r.Header.Set("Content-Encoding", "gzip") }, 415},
	} {
		resp, body := f.post(t, tc.path, tc.form, tc.edit)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.want)
		}
	}
	// A body that is no form, signed as it is.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.srv.URL+"/twilio/sms/sms", strings.NewReader("From=%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("bad form: %d, want 400", resp.StatusCode)
	}
	resp, _ = f.post(t, "/twilio/sms/sms", good, func(r *http.Request) { r.Method = http.MethodGet })
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
	if f.status(t, id).Status != alertgate.Triggered {
		t.Error("a refused request acted")
	}
	// Refusals are logged with the URL that was checked, never a secret.
	log := f.log.String()
	if !strings.Contains(log, `"signed_url":"https://alertgate.example.com/base/twilio/sms/sms"`) {
		t.Errorf("the signed URL is not logged:\n%s", log)
	}
	for _, secret := range []string{twilioToken, smsreply.Sign(twilioToken, twilioPublic+"twilio/sms/sms", good), "RSOYDt4T1cUTdK1PDd93"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}

	// With the query string signed, it works.
	resp, body := f.post(t, "/twilio/sms/sms?tenant=a%20b", good, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Acknowledged #"+id) {
		t.Errorf("signed query: %d %s", resp.StatusCode, body)
	}
}

func TestTwilioRepliesOff(t *testing.T) {
	// Without the store (no Redis for it), replies are off, not broken.
	snap, err := snapshot.Load([]byte(twilioConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.NewServer(httpapi.Deps{Logger: testlog.New(t), Snapshot: func() *snapshot.Snapshot { return snap },
		Metrics: metrics.New(nil)})
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/twilio/sms/sms", strings.NewReader(twilioForm(alicePhone, "1a").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("no store: %d %s", rec.Code, rec.Body)
	}
}
