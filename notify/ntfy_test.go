package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/notify"
)

const (
	ntfyToken    = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"
	ntfyPassword = "ntfy-pa55word"
)

var ntfyHeaders = []string{"Content-Type", "Authorization", "X-Alertgate-Idempotency-Key"}

func newNtfy(t *testing.T, o notify.NtfyOptions) *notify.Ntfy {
	t.Helper()
	o.Now = pushClock
	n, err := notify.NewNtfy(o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNtfyRequest(t *testing.T) {
	f := newPushFake(t)
	warning := pushPage("ops-alerts", true)
	warning.Severity = alertgate.SeverityWarning
	warning.Links = notify.Links{Acknowledge: "https://alertgate.example.com/a/tok-ack"}
	for _, c := range []struct {
		name string
		o    notify.NtfyOptions
		page notify.Page
	}{
		{"links", notify.NtfyOptions{BaseURL: f.URL, Token: ntfyToken}, pushPage("ops-alerts", true)},
		{"no-links", notify.NtfyOptions{BaseURL: f.URL, Username: "alertgate", Password: ntfyPassword}, pushPage("ops-alerts", false)},
		// A server under a path prefix, no auth, a warning with one link.
		{"resolved", notify.NtfyOptions{BaseURL: f.URL, Token: ntfyToken}, resolvedOf(pushPage("ops-alerts", true))},
		{"digest", notify.NtfyOptions{BaseURL: f.URL, Token: ntfyToken}, digestOf(pushPage("ops-alerts", true), 12, true)},
		// Must stay last: the check below reads its request.
		{"prefix-warning", notify.NtfyOptions{BaseURL: f.URL + "/ntfy/"}, warning},
	} {
		n := newNtfy(t, c.o)
		if retry, err := n.Notify(context.Background(), c.page); err != nil {
			t.Fatalf("%s: retry %v, %v", c.name, retry, err)
		}
		checkGolden(t, filepath.Join("ntfy", c.name+".golden"), []byte(f.last(t).golden(ntfyHeaders...)))
	}
	if got := f.last(t).Path; got != "/ntfy/" {
		t.Errorf("a prefixed server is published to at %q", got)
	}
}

func TestNtfyPriorities(t *testing.T) {
	f := newPushFake(t)
	n := newNtfy(t, notify.NtfyOptions{BaseURL: f.URL})
	for sev, want := range map[alertgate.Severity]int{
		alertgate.SeverityCritical: 5, alertgate.SeverityError: 4, alertgate.SeverityWarning: 3, alertgate.SeverityInfo: 2, "": 3,
	} {
		p := pushPage("ops-alerts", false)
		p.Severity = sev
		if _, err := n.Notify(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		var m struct {
			Priority int `json:"priority"`
		}
		if err := json.Unmarshal([]byte(f.last(t).Body), &m); err != nil || m.Priority != want {
			t.Errorf("severity %q: priority %d (%v), want %d", sev, m.Priority, err, want)
		}
	}
}

func TestNtfyRoundTrip(t *testing.T) {
	f := newPushFake(t)
	n := newNtfy(t, notify.NtfyOptions{BaseURL: f.URL, Token: ntfyToken})
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"code":40301,"http":403,"error":"forbidden: ` + r.Header.Get("Authorization") + `"}`))
	}
	pushRoundTrip(t, f, n, pushPage("ops-alerts", true), []pushCase{
		{name: "200", answer: pushAnswer(200, "", `{"id":"sPs71M8A2T","time":1764583950,"event":"message","topic":"ops-alerts"}`), ok: true},
		{name: "400", answer: pushAnswer(400, "", `{"code":40007,"http":400,"error":"invalid request: priority invalid"}`), detail: "status 400: ntfy error 40007: invalid request: priority invalid"},
		{name: "403 echo", answer: echo, detail: "forbidden: Bearer <secret>"},
		{name: "404", answer: pushAnswer(404, "", `{"code":40401,"http":404,"error":"page not found"}`), detail: "page not found"},
		{name: "429", answer: pushAnswer(429, "7", `{"code":42901,"http":429,"error":"limit reached: too many requests"}`), retry: true, after: 7 * time.Second, detail: "ntfy error 42901"},
		{name: "500", answer: pushAnswer(500, "", "internal error"), retry: true, detail: "status 500: internal error"},
		{name: "hang", hang: true, retry: true, detail: "context deadline exceeded"},
	}, ntfyToken)

	b := newNtfy(t, notify.NtfyOptions{BaseURL: f.URL, Username: "alertgate", Password: ntfyPassword})
	f.set(false, echo)
	retry, err := b.Notify(context.Background(), pushPage("ops-alerts", false))
	// The echo quotes "Basic <base64 of user:password>", as good as the
	// password itself.
	if retry || err == nil || !strings.Contains(err.Error(), "forbidden: Basic <secret>") {
		t.Errorf("basic auth echoed: retry %v, %v", retry, err)
	}
}

func TestNtfyRejectsAddress(t *testing.T) {
	f := newPushFake(t)
	n := newNtfy(t, notify.NtfyOptions{BaseURL: f.URL})
	for _, addr := range []string{"", "ops alerts", "ops/alerts", strings.Repeat("a", 65), "ops.alerts"} {
		retry, err := n.Notify(context.Background(), pushPage(addr, true))
		if err == nil || retry || !strings.Contains(err.Error(), "not a topic") {
			t.Errorf("address %q: retry %v, %v; want a permanent error", addr, retry, err)
		}
	}
	if f.count() != 0 {
		t.Errorf("%d requests sent for bad topics", f.count())
	}
}

func TestNtfyUnreachable(t *testing.T) {
	n := newNtfy(t, notify.NtfyOptions{BaseURL: pushClosedURL(), Token: ntfyToken})
	retry, err := n.Notify(context.Background(), pushPage("ops-alerts", true))
	if err == nil || !retry || strings.Contains(err.Error(), ntfyToken) {
		t.Errorf("a closed port: retry %v, %v; want a retryable error without the token", retry, err)
	}
}

func TestNewNtfyChecksOptions(t *testing.T) {
	for _, c := range []struct {
		o    notify.NtfyOptions
		want string
	}{
		{notify.NtfyOptions{Token: ntfyToken, Username: "a", Password: ntfyPassword}, "exclude each other"},
		{notify.NtfyOptions{Username: "a"}, "go together"},
		{notify.NtfyOptions{Password: ntfyPassword}, "go together"},
		{notify.NtfyOptions{BaseURL: "ntfy.sh"}, "base_url: scheme"},
		{notify.NtfyOptions{BaseURL: "https://a:" + ntfyPassword + "@ntfy.example.com"}, "base_url: credentials"},
		{notify.NtfyOptions{BaseURL: "https://ntfy.example.com/#x"}, "base_url: no query or fragment"},
	} {
		n, err := notify.NewNtfy(c.o)
		if err == nil || n != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %q", c.o, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), ntfyPassword) || strings.Contains(err.Error(), ntfyToken) {
			t.Errorf("%v shows a secret", err)
		}
	}
	for base, want := range map[string]string{"": "ntfy:https://ntfy.sh", "https://ntfy.example.com/push/": "ntfy:https://ntfy.example.com/push"} {
		n := newNtfy(t, notify.NtfyOptions{BaseURL: base, Token: ntfyToken})
		if got := n.Target(); got != want {
			t.Errorf("base %q: Target %q, want %q", base, got, want)
		}
	}
}

func TestNtfyLongPageStaysAMessage(t *testing.T) {
	f := newPushFake(t)
	n := newNtfy(t, notify.NtfyOptions{BaseURL: f.URL})
	p := pushPage("ops-alerts", true)
	p.Title, p.Reason, p.Service = strings.Repeat("標題", 400), strings.Repeat("理由", 400), strings.Repeat("服務", 400)
	if _, err := n.Notify(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	var m struct{ Title, Message string }
	if err := json.Unmarshal([]byte(f.last(t).Body), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Message) > 4096 || !utf8.ValidString(m.Message) || !strings.Contains(m.Message, "理由") || !utf8.ValidString(m.Title) {
		t.Errorf("message of %d bytes (valid %v), want at most 4096 bytes of valid UTF-8", len(m.Message), utf8.ValidString(m.Message))
	}
}
