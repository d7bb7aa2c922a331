package notify_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/notify"
)

// pushNow is the clock of every SMS and push test: the page below is 12
// minutes old then.
var pushNow = time.Date(2026, 12, 1, 10, 12, 30, 0, time.UTC)

func pushClock() time.Time { return pushNow }

// pushPage is the page the SMS and push tests send, with or without its
// links.
func pushPage(address string, links bool) notify.Page {
	p := notify.Page{
		Key: "42.1.0.1.alice", Incident: "42", Title: "Disk full on db-1 <primary> & replica",
		Service: "db", Severity: alertgate.SeverityCritical, AlertCount: 3,
		Since: pushNow.Add(-12 * time.Minute), Policy: "payments", Step: 1, User: "alice",
		Address: address, Reason: "on call in rotation payments-primary", At: pushNow,
	}
	if links {
		p.Links = notify.Links{
			Acknowledge: "https://alertgate.example.com/a/tok-ack",
			Resolve:     "https://alertgate.example.com/r/tok-res",
			Open:        "https://alertgate.example.com/i/42",
		}
	}
	return p
}

// pushRequest is one request a fake provider received, as a golden file
// holds it: method and path, the headers that matter, the body.
type pushRequest struct {
	Method, Path string
	Header       http.Header
	Body         string
}

func (r pushRequest) golden(headers ...string) string {
	var b strings.Builder
	b.WriteString(r.Method + " " + r.Path + "\n")
	for _, h := range headers {
		if v := r.Header.Get(h); v != "" {
			b.WriteString(h + ": " + v + "\n")
		}
	}
	b.WriteString("\n" + r.Body + "\n")
	return b.String()
}

// pushFake is a provider on loopback: it records each request and answers
// with answer (by default status 200 and an empty JSON object). A request
// arriving while hang is set waits until the client gives up.
type pushFake struct {
	*httptest.Server
	mu     sync.Mutex
	got    []pushRequest
	answer func(w http.ResponseWriter, r *http.Request)
	hang   bool
}

func newPushFake(t *testing.T) *pushFake {
	f := &pushFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, pushRequest{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: string(body)})
		answer, hang := f.answer, f.hang
		f.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		if answer == nil {
			_, _ = io.WriteString(w, "{}")
			return
		}
		answer(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *pushFake) set(hang bool, answer func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang, f.answer = hang, answer
}

func (f *pushFake) last(t *testing.T) pushRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) == 0 {
		t.Fatal("the provider received no request")
	}
	return f.got[len(f.got)-1]
}

func (f *pushFake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

// pushAnswer answers with status, an optional Retry-After and body.
func pushAnswer(status int, retryAfter, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// pushCase is one answer of a round trip and what Notify must make of it.
type pushCase struct {
	name   string
	hang   bool
	answer func(http.ResponseWriter, *http.Request)
	// ok: Notify succeeds; otherwise retry and after are what Failed
	// must read from the error, and detail a part of its text.
	ok     bool
	retry  bool
	after  time.Duration
	detail string
}

// pushRoundTrip sends p through notify once per case against f.
func pushRoundTrip(t *testing.T, f *pushFake, n notify.Notifier, p notify.Page, cases []pushCase, secrets ...string) {
	t.Helper()
	for _, c := range cases {
		f.set(c.hang, c.answer)
		before := f.count()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if c.hang {
			ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
		}
		retry, err := n.Notify(ctx, p)
		cancel()
		if f.count() != before+1 {
			t.Errorf("%s: the provider received %d requests, want 1", c.name, f.count()-before)
		}
		if c.ok {
			if err != nil || retry {
				t.Errorf("%s: retry %v, %v; want success", c.name, retry, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		gotRetry, after := notify.Failed(err)
		if retry != c.retry || gotRetry != c.retry || after != c.after {
			t.Errorf("%s: Notify says retry %v, Failed says %v after %v; want %v after %v (%v)", c.name, retry, gotRetry, after, c.retry, c.after, err)
		}
		if !strings.Contains(err.Error(), c.detail) {
			t.Errorf("%s: error %q does not say %q", c.name, err, c.detail)
		}
		if c.hang && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, want the context's deadline", c.name, err)
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q shows a secret", c.name, err)
			}
		}
	}
}

// pushClosedURL is the URL of a server that no longer listens.
func pushClosedURL() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

const (
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "twilio-auth-token-s3cret"
	twilioFrom  = "+15017122661"
)

func newTwilio(t *testing.T, base string, o notify.TwilioOptions) *notify.Twilio {
	t.Helper()
	if o.AccountSID == "" {
		o.AccountSID, o.AuthToken = twilioSID, twilioToken
	}
	if o.From == "" && o.MessagingServiceSID == "" {
		o.From = twilioFrom
	}
	o.BaseURL, o.Now = base, pushClock
	n, err := notify.NewTwilio(o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var twilioHeaders = []string{"Content-Type", "Accept", "Authorization", "X-Alertgate-Idempotency-Key"}

// withReply is p with SMS replies on (code "1").
func withReply(p notify.Page) notify.Page {
	p.ReplyCode = "1"
	return p
}

// longTitled is p with a title far too long for one segment.
func longTitled(p notify.Page) notify.Page {
	p.Title = "Disk usage above 95% on every node of the primary PostgreSQL cluster in eu-west-1 (db-1, db-2, db-3), writes failing since the nightly vacuum"
	return p
}

func TestTwilioRequest(t *testing.T) {
	f := newPushFake(t)
	to := "+15558675310"
	for _, c := range []struct {
		name string
		page notify.Page
		o    notify.TwilioOptions
	}{
		{"links", pushPage(to, true), notify.TwilioOptions{}},
		{"no-links", pushPage(to, false), notify.TwilioOptions{}},
		{"reply-code", withReply(pushPage(to, true)), notify.TwilioOptions{}},
		{"reply-code-no-links", withReply(pushPage(to, false)), notify.TwilioOptions{}},
		{"long-title", withReply(longTitled(pushPage(to, true))), notify.TwilioOptions{}},
		{"resolved", resolvedOf(pushPage(to, true)), notify.TwilioOptions{}},
		{"digest", digestOf(pushPage(to, true), 12, true), notify.TwilioOptions{}},
		// Must stay last: the check below reads its request.
		{"messaging-service", pushPage(to, true), notify.TwilioOptions{AccountSID: twilioSID, AuthToken: twilioToken,
			MessagingServiceSID: "MG0123456789abcdef0123456789abcdef"}},
	} {
		n := newTwilio(t, f.URL, c.o)
		if retry, err := n.Notify(context.Background(), c.page); err != nil {
			t.Fatalf("%s: retry %v, %v", c.name, retry, err)
		}
		checkGolden(t, filepath.Join("twilio", c.name+".golden"), []byte(f.last(t).golden(twilioHeaders...)))
		form, err := url.ParseQuery(f.last(t).Body)
		if err != nil {
			t.Fatal(err)
		}
		// Every one of these is GSM-7 (ASCII here) and one segment.
		body := form.Get("Body")
		if septets := len(body) + strings.Count(body, "[") + strings.Count(body, "]"); septets > 160 || strings.ContainsFunc(body, func(r rune) bool { return r > 0x7e }) {
			t.Errorf("%s: %d septets %q, want one GSM-7 segment", c.name, septets, body)
		}
	}
	form, err := url.ParseQuery(f.last(t).Body)
	if err != nil || form.Get("To") != "+15558675310" || form.Get("From") != "" ||
		form.Get("MessagingServiceSid") != "MG0123456789abcdef0123456789abcdef" {
		t.Errorf("the messaging service's form: %v %v", form, err)
	}
}

func TestTwilioRoundTrip(t *testing.T) {
	f := newPushFake(t)
	n := newTwilio(t, f.URL, notify.TwilioOptions{})
	invalidTo := `{"code": 21211, "message": "The 'To' number +15558675310 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`
	pushRoundTrip(t, f, n, pushPage("+15558675310", true), []pushCase{
		{name: "201", answer: pushAnswer(201, "", `{"sid":"SM0123","status":"queued","error_code":null}`), ok: true},
		{name: "400 21211", answer: pushAnswer(400, "", invalidTo), detail: "twilio error 21211: The 'To' number +15558675310 is not a valid phone number. (https://www.twilio.com/docs/errors/21211)"},
		{name: "401", answer: pushAnswer(401, "", `{"code": 20003, "message": "Authenticate", "status": 401}`), detail: "status 401: twilio error 20003: Authenticate"},
		{name: "404", answer: pushAnswer(404, "", `{"code": 20404, "message": "The requested resource was not found", "status": 404}`), detail: "twilio error 20404"},
		{name: "429", answer: pushAnswer(429, "7", `{"code": 20429, "message": "Too Many Requests", "status": 429}`), retry: true, after: 7 * time.Second, detail: "twilio error 20429"},
		{name: "500", answer: pushAnswer(500, "", "oops"), retry: true, detail: "status 500: oops"},
		{name: "echoing proxy", answer: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "you sent "+twilioToken+" in "+r.Header.Get("Authorization"))
		}, retry: true, detail: "you sent <secret> in Basic <secret>"},
		{name: "hang", hang: true, retry: true, detail: "context deadline exceeded"},
	}, twilioToken)

	req := f.last(t)
	user, pass, ok := (&http.Request{Header: req.Header}).BasicAuth()
	if req.Method != http.MethodPost || req.Path != "/2010-04-01/Accounts/"+twilioSID+"/Messages.json" || !ok || user != twilioSID || pass != twilioToken {
		t.Errorf("request %s %s with basic auth %q %v", req.Method, req.Path, user, ok)
	}
}

func TestTwilioRejectsAddress(t *testing.T) {
	f := newPushFake(t)
	n := newTwilio(t, f.URL, notify.TwilioOptions{})
	for _, addr := range []string{"", "5558675310", "+0123456", "+1 555 867 5310", "whatsapp:+15558675310", "+1234567890123456"} {
		retry, err := n.Notify(context.Background(), pushPage(addr, true))
		if err == nil || retry || !strings.Contains(err.Error(), "E.164") {
			t.Errorf("address %q: retry %v, %v; want a permanent E.164 error", addr, retry, err)
		}
	}
	if f.count() != 0 {
		t.Errorf("%d requests sent for bad addresses", f.count())
	}
}

func TestTwilioUnreachable(t *testing.T) {
	n := newTwilio(t, pushClosedURL(), notify.TwilioOptions{})
	retry, err := n.Notify(context.Background(), pushPage("+15558675310", true))
	if err == nil || !retry || strings.Contains(err.Error(), twilioToken) {
		t.Errorf("a closed port: retry %v, %v; want a retryable error without the token", retry, err)
	}
}

func TestNewTwilioChecksOptions(t *testing.T) {
	ok := notify.TwilioOptions{AccountSID: twilioSID, AuthToken: twilioToken, From: twilioFrom}
	for _, c := range []struct {
		change func(o *notify.TwilioOptions)
		want   string
	}{
		{func(o *notify.TwilioOptions) { o.AccountSID = "" }, "account_sid"},
		{func(o *notify.TwilioOptions) { o.AccountSID = "SK0123456789abcdef0123456789abcdef" }, "account_sid"},
		{func(o *notify.TwilioOptions) { o.AuthToken = "" }, "auth_token is required"},
		{func(o *notify.TwilioOptions) { o.From = "" }, "one of from or messaging_service_sid"},
		{func(o *notify.TwilioOptions) { o.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef" }, "exclude each other"},
		{func(o *notify.TwilioOptions) { o.From = "015017122661" }, "E.164"},
		{func(o *notify.TwilioOptions) { o.From, o.MessagingServiceSID = "", "MG123" }, "messaging_service_sid must be"},
		{func(o *notify.TwilioOptions) { o.BaseURL = "ftp://api.twilio.com" }, "base_url: scheme"},
		{func(o *notify.TwilioOptions) { o.BaseURL = "https://user:" + twilioToken + "@api.twilio.com" }, "base_url: credentials"},
		{func(o *notify.TwilioOptions) { o.BaseURL = "https://api.twilio.com/?x=1" }, "base_url: no query"},
	} {
		o := ok
		c.change(&o)
		n, err := notify.NewTwilio(o)
		if err == nil || n != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %q", o, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), twilioToken) {
			t.Errorf("%v shows the auth token", err)
		}
	}
	n, err := notify.NewTwilio(ok)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Target(); got != "twilio:"+twilioSID || strings.Contains(got, twilioToken) {
		t.Errorf("Target = %q", got)
	}
}

// utf16Units is an SMS's length in UCS-2, counted independently of the
// notifier.
func utf16Units(s string) int { return len(utf16.Encode([]rune(s))) }

func TestSMSBody(t *testing.T) {
	p := pushPage("+15558675310", true)
	p.Title = "Disk full on db-1 – “primary”"
	got := notify.SMSBody(p, pushNow)
	want := "[CRITICAL] Disk full on db-1 - \"primary\" - db - 3 alerts - for 12m - #42\nack: https://alertgate.example.com/a/tok-ack"
	if got != want {
		t.Errorf("a Western title:\n%q\nwant\n%q", got, want)
	}

	p.Title = strings.Repeat("Disk full ", 30)
	got = notify.SMSBody(p, pushNow)
	// The title is cut first: the facts after it stay.
	if len(got) > 160 || len(got) < 155 || !strings.HasSuffix(got, "... - db - 3 alerts - for 12m - #42\nack: https://alertgate.example.com/a/tok-ack") || !strings.HasPrefix(got, "[CRITICAL] Disk full Disk") {
		t.Errorf("a long title: %d characters %q, want up to 160, the title cut, ending in the facts and the link", len(got), got)
	}

	// UCS-2: 70 units a segment. The link leaves less than the 40 units
	// of text a page keeps, so it takes two (concatenated: 67 each).
	p.Title = "Диск переполнен на основном сервере базы данных db-1"
	got = notify.SMSBody(p, pushNow)
	link := "\nack: https://alertgate.example.com/a/tok-ack"
	if n := utf16Units(got); n > 2*67 || n > 40+utf16Units(link) || n < 35+utf16Units(link) || !strings.HasSuffix(got, "…"+link) || !strings.HasPrefix(got, "[CRITICAL] Диск") {
		t.Errorf("a Cyrillic title with a link: %d UCS-2 units %q, want 40 of text and the link", n, got)
	}
	noLink := p
	noLink.Links = notify.Links{}
	got = notify.SMSBody(noLink, pushNow)
	if n := utf16Units(got); n > 70 || n < 65 || !strings.HasSuffix(got, "… - db - 3 alerts - for 12m - #42") {
		t.Errorf("a Cyrillic title without links: %d UCS-2 units %q, want up to 70, the title cut", n, got)
	}

	p.Links = notify.Links{Open: "https://alertgate.example.com/i/42"}
	p.Title = "Disk full"
	if got := notify.SMSBody(p, pushNow); got != "[CRITICAL] Disk full - db - 3 alerts - for 12m - #42\nopen: https://alertgate.example.com/i/42" {
		t.Errorf("only an open link: %q", got)
	}

	p.Links = notify.Links{}
	p.Title = "Disk\nfull\ton 🔥 db-1"
	got = notify.SMSBody(p, pushNow)
	if strings.ContainsAny(got, "\n\t") || utf16Units(got) > 70 || !strings.Contains(got, "🔥") {
		t.Errorf("control characters and an emoji: %q", got)
	}

	p.Links.Acknowledge = "https://alertgate.example.com/a/" + strings.Repeat("x", 150)
	p.Title = "Disk full"
	got = notify.SMSBody(p, pushNow)
	if !strings.HasSuffix(got, p.Links.Acknowledge) || !strings.HasPrefix(got, "[CRITICAL] Disk full - db") {
		t.Errorf("a link longer than a segment keeps text and link: %q", got)
	}
}

func TestSMSBodyKeepsGSM7Letters(t *testing.T) {
	p := pushPage("+15558675310", false)
	p.Title = "Müller: Größe überschritten, café à Zürich, señal ¿ok?, Łódź"
	got := notify.SMSBody(p, pushNow)
	if !strings.Contains(got, "Müller: Größe überschritten, café à Zürich, señal ¿ok?, Lodz") {
		t.Errorf("GSM-7 letters are kept and the rest transliterated: %q", got)
	}
	if slices.ContainsFunc([]rune(got), func(r rune) bool { return r == '·' || r == '…' }) {
		t.Errorf("non-GSM-7 punctuation left in %q", got)
	}
}

// TestSMSBodyCountsWideCharacters: an emoji is two UTF-16 units, a GSM-7
// extension character ({ } [ ] ~ ^ \ | €) two septets.
func TestSMSBodyCountsWideCharacters(t *testing.T) {
	p := pushPage("+15558675310", false)
	p.Title = strings.Repeat("🔥", 80)
	if got := notify.SMSBody(p, pushNow); utf16Units(got) > 70 || utf16Units(got) < 60 {
		t.Errorf("emoji: %d UTF-16 units %q, want up to 70", utf16Units(got), got)
	}
	p.Title = strings.Repeat("{x}", 60)
	got := notify.SMSBody(p, pushNow)
	septets := len(got) + strings.Count(got, "{") + strings.Count(got, "}")
	if septets > 160 || septets < 150 || !strings.HasSuffix(got, "... - db - 3 alerts - for 12m - #42") {
		t.Errorf("extension characters: %d septets %q, want up to 160", septets, got)
	}
}
