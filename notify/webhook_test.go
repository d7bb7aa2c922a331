package notify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/notify"
)

// hookNow is the clock of every webhook and Slack test.
var hookNow = time.Date(2026, 12, 1, 11, 30, 0, 0, time.UTC)

func hookClock() time.Time { return hookNow }

// hookPage is a page about a realistic incident; the title carries the
// characters that need escaping in JSON and in Slack's mrkdwn.
func hookPage(withLinks bool) notify.Page {
	p := notify.Page{
		Key:        "42.1.0.1.alice",
		Incident:   "42",
		Title:      `Disk full on db-1 <&> "quoted"`,
		Service:    "db",
		Severity:   alertgate.SeverityCritical,
		AlertCount: 3,
		Since:      hookNow.Add(-95 * time.Minute),
		Policy:     "payments",
		Step:       1,
		Repeat:     0,
		User:       "alice",
		Notifier:   "ops-hook",
		Reason:     "on call in rotation payments-primary",
		At:         hookNow.Add(-time.Minute),
	}
	if withLinks {
		p.Links = notify.Links{
			Acknowledge: "https://alertgate.example.com/a/tok-ack?i=42&u=alice",
			Resolve:     "https://alertgate.example.com/a/tok-res?i=42&u=alice",
			Open:        "https://alertgate.example.com/i/42",
		}
	}
	return p
}

// captured is one request as a server saw it.
type captured struct {
	method, uri string
	header      http.Header
	body        []byte
}

// render is the request as a golden file holds it: the request line, the
// headers sorted by name, a blank line and the body byte for byte.
func (c captured) render() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", c.method, c.uri)
	names := make([]string, 0, len(c.header))
	for name := range c.header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range c.header[name] {
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	b.WriteString("\n")
	b.Write(c.body)
	b.WriteString("\n")
	return b.Bytes()
}

// hookServer is a loopback server that records each request and answers
// with answer; requests come out of the returned channel.
func hookServer(t *testing.T, answer http.HandlerFunc) (*httptest.Server, <-chan captured) {
	t.Helper()
	got := make(chan captured, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server: read body: %v", err)
		}
		got <- captured{method: r.Method, uri: r.RequestURI, header: r.Header.Clone(), body: body}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func answerOK(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

// received is the one request the server got.
func received(t *testing.T, got <-chan captured) captured {
	t.Helper()
	select {
	case c := <-got:
		return c
	default:
		t.Fatal("the server got no request")
		return captured{}
	}
}

// checkGolden compares got with testdata/<name>, or rewrites it.

// checkRoundTrip sends a page to a server answering each status in turn
// and checks how the notifier classifies the answer.
func checkRoundTrip(t *testing.T, newNotifier func(t *testing.T, url string) notify.Notifier, bodies map[int]string) {
	for _, c := range []struct {
		status     int
		retryAfter string
		wantErr    bool
		wantRetry  bool
		wantAfter  time.Duration
	}{
		{status: 200},
		{status: 204},
		{status: 400, wantErr: true},
		{status: 403, wantErr: true},
		{status: 404, wantErr: true},
		{status: 410, wantErr: true},
		{status: 429, retryAfter: "7", wantErr: true, wantRetry: true, wantAfter: 7 * time.Second},
		{status: 500, wantErr: true, wantRetry: true},
		{status: 503, retryAfter: "30", wantErr: true, wantRetry: true, wantAfter: 30 * time.Second},
		{status: 301, wantErr: true}, // redirects are not followed
	} {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			detail := bodies[c.status]
			srv, got := hookServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if c.retryAfter != "" {
					w.Header().Set("Retry-After", c.retryAfter)
				}
				if c.status == 301 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, detail)
			})
			n := newNotifier(t, srv.URL+"/hook")
			retry, err := n.Notify(t.Context(), hookPage(true))
			if c := received(t, got); c.method != http.MethodPost || c.uri != "/hook" || len(c.body) == 0 {
				t.Errorf("server got %s %s with %d bytes", c.method, c.uri, len(c.body))
			}
			if select1(got) {
				t.Error("the server got a second request (a followed redirect or a retry)")
			}
			if gotErr := err != nil; gotErr != c.wantErr {
				t.Fatalf("Notify = %v, want error %v", err, c.wantErr)
			}
			if retry != c.wantRetry {
				t.Errorf("retry = %v, want %v (err %v)", retry, c.wantRetry, err)
			}
			if !c.wantErr {
				return
			}
			var e *notify.Error
			if !errors.As(err, &e) || e.Status != c.status {
				t.Fatalf("err = %v, want a *notify.Error with status %d", err, c.status)
			}
			if detail != "" && !strings.Contains(err.Error(), detail) {
				t.Errorf("err = %v, want the target's answer %q in it", err, detail)
			}
			if fr, after := notify.Failed(err); fr != c.wantRetry || after != c.wantAfter {
				t.Errorf("Failed = %v, %v; want %v, %v", fr, after, c.wantRetry, c.wantAfter)
			}
		})
	}

	t.Run("hanging", func(t *testing.T) {
		release := make(chan struct{})
		srv, got := hookServer(t, func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		t.Cleanup(func() { close(release) }) // runs before srv.Close
		n := newNotifier(t, srv.URL+"/hook")
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		retry, err := n.Notify(ctx, hookPage(false))
		if !retry || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Notify = %v, %v; want a retryable deadline error", retry, err)
		}
		received(t, got)
	})
}

func select1(got <-chan captured) bool {
	select {
	case <-got:
		return true
	default:
		return false
	}
}

func newTestWebhook(t *testing.T, o notify.WebhookOptions) *notify.Webhook {
	t.Helper()
	if o.Now == nil {
		o.Now = hookClock
	}
	w, err := notify.NewWebhook(o)
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	return w
}

func TestWebhookRequestGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		page notify.Page
	}{
		{"page.golden", hookPage(true)},
		{"page-nolinks.golden", hookPage(false)},
		{"resolved.golden", resolvedOf(hookPage(true))},
		{"digest.golden", digestOf(hookPage(true), 12, true)},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, got := hookServer(t, answerOK)
			w := newTestWebhook(t, notify.WebhookOptions{
				URL:     srv.URL + "/hooks/alertgate?team=ops",
				Secrets: []string{"current-secret", "previous-secret"},
				Headers: map[string]string{"x-team": "payments", "Authorization": "Bearer gateway-token"},
			})
			if retry, err := w.Notify(t.Context(), c.page); err != nil {
				t.Fatalf("Notify = %v, %v", retry, err)
			}
			checkGolden(t, "webhook/"+c.name, received(t, got).render())
		})
	}
}

func TestWebhookBodySchema(t *testing.T) {
	srv, got := hookServer(t, answerOK)
	w := newTestWebhook(t, notify.WebhookOptions{URL: srv.URL})
	p := hookPage(true)
	p.Links.Resolve = ""
	if _, err := w.Notify(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(received(t, got).body, &body); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]any{
		"version": 1.0, "idempotency_key": p.Key, "incident_id": "42", "title": p.Title, "severity": "critical",
		"service": "db", "alert_count": 3.0, "since": "2026-12-01T09:55:00Z", "policy": "payments", "step": 1.0,
		"repeat": 0.0, "user": "alice", "reason": p.Reason, "paged_at": "2026-12-01T11:29:00Z", "sent_at": "2026-12-01T11:30:00Z",
	} {
		if body[field] != want {
			t.Errorf("%s = %#v, want %#v", field, body[field], want)
		}
	}
	links, _ := body["links"].(map[string]any)
	if links["acknowledge"] != p.Links.Acknowledge || links["open"] != p.Links.Open {
		t.Errorf("links = %v", links)
	}
	if _, ok := links["resolve"]; ok {
		t.Errorf("an empty link is sent: %v", links)
	}

	p.Links, p.Since = notify.Links{}, time.Time{}
	if _, err := w.Notify(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	body = nil
	if err := json.Unmarshal(received(t, got).body, &body); err != nil {
		t.Fatal(err)
	}
	if _, ok := body["links"]; ok {
		t.Errorf("links sent for a page without links: %v", body["links"])
	}
	if _, ok := body["since"]; ok {
		t.Errorf("since sent for a page without a start: %v", body["since"])
	}
}

func TestWebhookSignature(t *testing.T) {
	srv, got := hookServer(t, answerOK)
	w := newTestWebhook(t, notify.WebhookOptions{URL: srv.URL, Secrets: []string{"new-secret", "old-secret"}})
	if _, err := w.Notify(t.Context(), hookPage(true)); err != nil {
		t.Fatal(err)
	}
	c := received(t, got)

	// The signature, computed here from the documented recipe.
	ts := c.header.Get(notify.HeaderWebhookTimestamp)
	if ts != fmt.Sprint(hookNow.Unix()) {
		t.Errorf("timestamp = %q, want %d", ts, hookNow.Unix())
	}
	m := hmac.New(sha256.New, []byte("new-secret"))
	m.Write([]byte(ts + "." + string(c.body)))
	if got, want := c.header.Get(notify.HeaderWebhookSignature), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Errorf("signature = %q, want %q", got, want)
	}
	if got := c.header.Get(notify.HeaderIdempotencyKey); got != "42.1.0.1.alice" {
		t.Errorf("Idempotency-Key = %q", got)
	}

	for _, v := range []struct {
		name    string
		secrets []string
		body    []byte
		now     time.Time
		want    error
	}{
		{"signed with the first secret", []string{"new-secret"}, c.body, hookNow, nil},
		{"receiver still lists the old secret first", []string{"old-secret", "new-secret"}, c.body, hookNow, nil},
		{"receiver knows only the old secret", []string{"old-secret"}, c.body, hookNow, notify.ErrWebhookSignature},
		{"body changed", []string{"new-secret"}, append(bytes.Clone(c.body), ' '), hookNow, notify.ErrWebhookSignature},
		{"4m59s late", []string{"new-secret"}, c.body, hookNow.Add(299 * time.Second), nil},
		{"replayed after the window", []string{"new-secret"}, c.body, hookNow.Add(6 * time.Minute), notify.ErrWebhookStale},
		{"from the future", []string{"new-secret"}, c.body, hookNow.Add(-6 * time.Minute), notify.ErrWebhookStale},
	} {
		if err := notify.VerifyWebhookSignature(c.header, v.body, v.secrets, v.now, 0); !errors.Is(err, v.want) || (v.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", v.name, err, v.want)
		}
	}
	forged := c.header.Clone()
	forged.Set(notify.HeaderWebhookTimestamp, fmt.Sprint(hookNow.Unix()+1))
	if err := notify.VerifyWebhookSignature(forged, c.body, []string{"new-secret"}, hookNow, 0); !errors.Is(err, notify.ErrWebhookSignature) {
		t.Errorf("a new timestamp on an old signature: Verify = %v", err)
	}
	unsigned := c.header.Clone()
	unsigned.Del(notify.HeaderWebhookSignature)
	if err := notify.VerifyWebhookSignature(unsigned, c.body, []string{"new-secret"}, hookNow, 0); !errors.Is(err, notify.ErrWebhookUnsigned) {
		t.Errorf("no signature: Verify = %v", err)
	}

	// Without secrets there is nothing to sign with, and no signature.
	w = newTestWebhook(t, notify.WebhookOptions{URL: srv.URL})
	if _, err := w.Notify(t.Context(), hookPage(true)); err != nil {
		t.Fatal(err)
	}
	if c := received(t, got); c.header.Get(notify.HeaderWebhookSignature) != "" || c.header.Get(notify.HeaderWebhookTimestamp) == "" {
		t.Errorf("unsigned webhook headers: %v", c.header)
	}
}

func TestWebhookRoundTrip(t *testing.T) {
	checkRoundTrip(t, func(t *testing.T, url string) notify.Notifier {
		return newTestWebhook(t, notify.WebhookOptions{URL: url, Secrets: []string{"s"}})
	}, map[int]string{400: "bad page", 500: "database down"})
}

func TestNewWebhookRejects(t *testing.T) {
	for _, c := range []struct {
		o    notify.WebhookOptions
		want string
	}{
		{notify.WebhookOptions{}, "url is required"},
		{notify.WebhookOptions{URL: "ftp://example.com/x"}, "http or https"},
		{notify.WebhookOptions{URL: "example.com/hook"}, "http or https"},
		{notify.WebhookOptions{URL: "https:///hook"}, "no host"},
		{notify.WebhookOptions{URL: "https://example.com/hook#top"}, "fragment"},
		{notify.WebhookOptions{URL: "https://exa mple.com/s3cret"}, "does not parse"},
		{notify.WebhookOptions{URL: "https://example.com", Secrets: []string{"a", ""}}, "secret 2 is empty"},
		{notify.WebhookOptions{URL: "https://example.com", Headers: map[string]string{"Bad Header": "x"}}, "not a valid HTTP header name"},
		{notify.WebhookOptions{URL: "https://example.com", Headers: map[string]string{"content-type": "text/plain"}}, "Content-Type is set by alertgate"},
		{notify.WebhookOptions{URL: "https://example.com", Headers: map[string]string{"X-Alertgate-Signature": "x"}}, "X-Alertgate-Signature is set by alertgate"},
		{notify.WebhookOptions{URL: "https://example.com", Headers: map[string]string{"idempotency-key": "x"}}, "Idempotency-Key is set by alertgate"},
		{notify.WebhookOptions{URL: "https://example.com", Headers: map[string]string{"Authorization": "Bearer s3cret\r\nX: y"}}, "Authorization: value contains a line break"},
	} {
		_, err := notify.NewWebhook(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewWebhook(%+v) = %v, want an error saying %q", c.o, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows a secret: %v", err)
		}
	}
	for _, ok := range []string{"http://alerts.internal:8080/hook", "https://example.com/hook?token=x"} {
		if _, err := notify.NewWebhook(notify.WebhookOptions{URL: ok, Headers: map[string]string{"X-Team": "ops"}}); err != nil {
			t.Errorf("NewWebhook(%s) = %v", ok, err)
		}
	}
}

func TestWebhookHidesSecrets(t *testing.T) {
	secrets := []string{"PATHSECRET", "QUERYSECRET", "USERSECRET", "HMACSECRET", "BEARERSECRET"}
	srv, _ := hookServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // a refused connection: net/http's error names the URL

	for _, base := range []string{srv.URL, dead.URL} {
		url := strings.Replace(base, "http://", "http://u:USERSECRET@", 1) + "/hooks/PATHSECRET?token=QUERYSECRET"
		w := newTestWebhook(t, notify.WebhookOptions{URL: url, Secrets: []string{"HMACSECRET"},
			Headers: map[string]string{"Authorization": "Bearer BEARERSECRET"}})
		retry, err := w.Notify(t.Context(), hookPage(true))
		if err == nil || !retry {
			t.Fatalf("Notify = %v, %v; want a retryable failure", retry, err)
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) || strings.Contains(w.Target(), s) {
				t.Errorf("%s leaks: err %q, target %q", s, err, w.Target())
			}
		}
		if !strings.HasPrefix(w.Target(), "webhook:http://127.0.0.1:") || !strings.Contains(err.Error(), w.Target()) {
			t.Errorf("target %q, err %q: want the host in both", w.Target(), err)
		}
	}
	a := newTestWebhook(t, notify.WebhookOptions{URL: "https://example.com/hooks/a"})
	b := newTestWebhook(t, notify.WebhookOptions{URL: "https://example.com/hooks/b"})
	if a.Target() == b.Target() {
		t.Errorf("two URLs share the target %q", a.Target())
	}
}
