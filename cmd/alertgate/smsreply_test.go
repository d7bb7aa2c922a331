package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/smsreply"
	"github.com/alertgate/alertgate/snapshot"
)

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAuthToken  = "twilio-token-for-tests"
	testPhone      = "+15005550006"
)

// A page by SMS carries a reply code, and answering it acknowledges the
// incident: serve pages alice through a (fake) Twilio, and her "1a",
// posted as Twilio posts it, acknowledges.
func TestServeSMSReply(t *testing.T) {
	_, prefix := redistest.New(t)
	sms := make(chan url.Values, 4)
	twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		sms <- r.PostForm
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`)
	}))
	t.Cleanup(twilio.Close)
	const public = "https://alertgate.example.com"
	cfg := `
public_url: ` + public + `
redis:
  url: ` + redistest.URL() + `
  key_prefix: "` + prefix + `"
api:
  tokens: [api-token]
integrations:
  - {name: generic, type: generic, tokens: [t], generic: {dedup_key: id, summary: summary, severity: severity}}
notifiers:
  - {id: sms, type: twilio, account_sid: ` + testAccountSID + `, auth_token: ` + testAuthToken + `, from: "+15005550001", base_url: "` + twilio.URL + `"}
users:
  - {id: alice, contacts: [{notifier: sms, address: "` + testPhone + `"}]}
escalation_policies:
  - id: p
    steps:
      - {targets: [{user: alice}], delay: 5m}
default_escalation_policy: p
routes:
  - {name: all, group_wait: 0s}
`
	path := filepath.Join(t.TempDir(), "alertgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServe(t, "--config", path)
	resp, body := httpDo(t, http.MethodPost, base+"/hooks/generic", "t", "application/json",
		`{"id":"disk-1","summary":"Disk full on web-1","severity":"critical"}`, nil)
	var acc struct{ Incidents []string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &acc) != nil || len(acc.Incidents) != 1 {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	id := acc.Incidents[0]
	select {
	case form := <-sms:
		if form.Get("To") != testPhone || !strings.Contains(form.Get("Body"), "Disk full on web-1") {
			t.Fatalf("Twilio got %v", form)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no SMS within 15s of the alert")
	}

	reply := url.Values{"AccountSid": {testAccountSID}, "MessageSid": {"SM1"}, "From": {testPhone},
		"To": {"+15005550001"}, "Body": {"1a"}}
	sig := smsreply.Sign(testAuthToken, public+"/twilio/sms/sms", reply)
	resp, body = httpDo(t, http.MethodPost, base+"/twilio/sms/sms", "", "application/x-www-form-urlencoded", reply.Encode(),
		map[string]string{"X-Twilio-Signature": sig})
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<Message>Acknowledged #"+id+" ") {
		t.Fatalf("reply: %d %s", resp.StatusCode, body)
	}
	resp, body = httpDo(t, http.MethodGet, base+"/api/v1/incidents/"+id, "api-token", "", "", nil)
	var inc alertgate.Incident
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &inc) != nil || inc.Status != alertgate.Acknowledged {
		t.Fatalf("incident after 1a: %d %s", resp.StatusCode, body)
	}
}

func httpDo(t *testing.T, method, u, token, contentType, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
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
	return resp, b
}

// replyCode gives codes to SMS pages only, and only when replies can
// reach alertgate.
func TestReplyCode(t *testing.T) {
	rdb, prefix := redistest.New(t)
	load := func(publicURL string) *snapshot.Snapshot {
		t.Helper()
		snap, err := snapshot.Load([]byte(`
public_url: `+publicURL+`
notifiers:
  - {id: sms, type: twilio, account_sid: `+testAccountSID+`, auth_token: x, from: "+15005550001"}
  - {id: quiet, type: twilio, account_sid: `+testAccountSID+`, auth_token: x, from: "+15005550002", replies: false}
  - {id: chat, type: slack, url: "https://hooks.slack.com/services/T/B/x"}
`), "test.yaml", noEnv)
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	s := &server{smsReplies: smsreply.New(rdb, prefix, smsreply.Options{})}
	s.current.Store(load("https://alertgate.example.com"))
	page := func(notifier, address string, kind notify.Kind) *notify.Page {
		return &notify.Page{Key: "42.1.0.1.alice", Incident: "42", Epoch: 1, Step: 1, User: "alice",
			Notifier: notifier, Address: address, Kind: kind}
	}
	for _, tc := range []struct {
		name string
		p    *notify.Page
		want string
	}{
		{"sms page", page("sms", testPhone, ""), "1"},
		{"sms page again", page("sms", testPhone, notify.KindPage), "1"},
		{"resolution notice", page("sms", testPhone, notify.KindResolved), ""},
		{"digest", page("sms", testPhone, notify.KindDigest), ""},
		{"replies off", page("quiet", testPhone, ""), ""},
		{"slack", page("chat", "", ""), ""},
		{"console", page("console", "alice", ""), ""},
		{"not a number", page("sms", "whatsapp:+15005550006", ""), ""},
	} {
		tc.p.ReplyCode = "stale"
		if err := s.replyCode(t.Context(), tc.p); err != nil || tc.p.ReplyCode != tc.want {
			t.Errorf("%s: ReplyCode %q, %v; want %q", tc.name, tc.p.ReplyCode, err, tc.want)
		}
	}
	s.current.Store(load(""))
	p := page("sms", testPhone, "")
	if err := s.replyCode(t.Context(), p); err != nil || p.ReplyCode != "" {
		t.Errorf("without public_url: %q, %v", p.ReplyCode, err)
	}
}
