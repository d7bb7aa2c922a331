package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertgate/alertgate/notify"
)

// chatRequest is one request a fake chat server received.
type chatRequest struct {
	method, uri string
	header      http.Header
	body        []byte
}

// dump is the request as its golden file holds it: request line, the
// headers a channel sets, a blank line and the body exactly as sent.
func (r chatRequest) dump(headers ...string) []byte {
	var b bytes.Buffer
	b.WriteString(r.method + " " + r.uri + "\n")
	for _, h := range headers {
		b.WriteString(h + ": " + r.header.Get(h) + "\n")
	}
	b.WriteString("\n")
	b.Write(r.body)
	b.WriteString("\n")
	return b.Bytes()
}

// chatHookServer is a loopback server that records requests and answers
// each with respond (nil: 200 OK).
type chatHookServer struct {
	*httptest.Server
	mu      sync.Mutex
	got     []chatRequest
	respond func(w http.ResponseWriter, r *http.Request)
}

func newChatHookServer(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *chatHookServer {
	t.Helper()
	s := &chatHookServer{respond: respond}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		s.mu.Lock()
		s.got = append(s.got, chatRequest{method: r.Method, uri: r.URL.RequestURI(), header: r.Header.Clone(), body: body})
		s.mu.Unlock()
		if s.respond != nil {
			s.respond(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *chatHookServer) requests() []chatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]chatRequest(nil), s.got...)
}

// only returns the one request the server got, failing unless there was
// exactly one.
func (s *chatHookServer) only(t *testing.T) chatRequest {
	t.Helper()
	got := s.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	return got[0]
}

// chatPage is the test page with all three links.
func chatPage() notify.Page {
	p := page("42", "alice")
	p.Links = notify.Links{
		Acknowledge: "https://alertgate.example.com/a/ack-token",
		Resolve:     "https://alertgate.example.com/a/resolve-token",
		Open:        "https://alertgate.example.com/i/42",
	}
	return p
}

// chatNotifier is what the round-trip tests need of a channel.
type chatNotifier interface {
	notify.Notifier
	Target() string
}

// answer is a canned response.
func chatAnswer(status int, header map[string]string, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

type chatRoundTrip struct {
	name       string
	respond    func(http.ResponseWriter, *http.Request)
	wantErr    bool
	retry      bool
	retryAfter time.Duration
}

// chatRoundTrips are the answers every webhook channel must read the
// same way.
func chatRoundTrips(success int) []chatRoundTrip {
	return []chatRoundTrip{
		{name: "success", respond: chatAnswer(success, nil, "")},
		{name: "400 is permanent", respond: chatAnswer(400, nil, `{"error":"bad request"}`), wantErr: true},
		{name: "404 is permanent", respond: chatAnswer(404, nil, `{"error":"not found"}`), wantErr: true},
		{name: "429 with Retry-After", respond: chatAnswer(429, map[string]string{"Retry-After": "7"}, ""), wantErr: true, retry: true, retryAfter: 7 * time.Second},
		{name: "500 is retried", respond: chatAnswer(500, nil, "oops"), wantErr: true, retry: true},
	}
}

// runChatRoundTrips sends the page through the notifier that newN builds for
// each server, checking the request arrived and how the answer was read.
func runChatRoundTrips(t *testing.T, tests []chatRoundTrip, newN func(t *testing.T, url string) chatNotifier) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newChatHookServer(t, tt.respond)
			n := newN(t, srv.URL)
			retry, err := n.Notify(t.Context(), chatPage())
			if r := srv.only(t); r.method != http.MethodPost || !bytes.Contains(r.body, []byte("Disk full on db-42")) {
				t.Errorf("request %s %s %s, want a POST of the page", r.method, r.uri, r.body)
			}
			if (err != nil) != tt.wantErr || retry != tt.retry {
				t.Fatalf("Notify = %v, %v; want error %v, retry %v", retry, err, tt.wantErr, tt.retry)
			}
			if gotRetry, after := notify.Failed(err); gotRetry != tt.retry || after != tt.retryAfter {
				t.Errorf("Failed(%v) = %v, %v; want %v, %v", err, gotRetry, after, tt.retry, tt.retryAfter)
			}
			if err != nil && !strings.Contains(err.Error(), n.Target()) {
				t.Errorf("error %q does not name the target %q", err, n.Target())
			}
		})
	}
	t.Run("a hanging server is retried after the deadline", func(t *testing.T) {
		release := make(chan struct{})
		srv := newChatHookServer(t, func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		t.Cleanup(func() { close(release) }) // runs before srv.Close
		n := newN(t, srv.URL)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		retry, err := n.Notify(ctx, chatPage())
		if err == nil || !retry {
			t.Fatalf("Notify = %v, %v; want a retryable error", retry, err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want the context deadline", err)
		}
	})
}

// chatNoSecret fails if any of texts holds the secret.
func chatNoSecret(t *testing.T, secret string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("%q reveals the secret %q", s, secret)
		}
	}
}

// --- Teams ---

const teamsTestPath = "/workflows/8c1f/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig="

func newTestTeams(t *testing.T, base, sig string) *notify.Teams {
	t.Helper()
	n, err := notify.NewTeams(notify.TeamsOptions{URL: base + teamsTestPath + sig})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTeamsGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		page notify.Page
	}{
		{"with-links", chatPage()},
		{"without-links", page("42", "alice")},
		{"resolved", resolvedOf(chatPage())},
		{"digest", digestOf(chatPage(), 12, true)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newChatHookServer(t, chatAnswer(http.StatusAccepted, nil, ""))
			retry, err := newTestTeams(t, srv.URL, "SIG").Notify(t.Context(), tt.page)
			if err != nil || retry {
				t.Fatalf("Notify = %v, %v", retry, err)
			}
			checkGolden(t, "teams/"+tt.name+".txt", srv.only(t).dump("Content-Type", "Idempotency-Key"))
		})
	}
}

func TestTeamsCard(t *testing.T) {
	p := chatPage()
	p.Title = "disk\nfull"
	p.Links.Resolve = ""
	p.Severity = "warning"
	msg := string(chatJSON(t, notify.TeamsMessage(p)))
	for _, want := range []string{
		`"text":"[WARNING] disk full"`, // a newline does not split the headline
		`"color":"Warning"`,
		`"title":"Acknowledge"`, `"title":"Open"`,
		`"contentType":"application/vnd.microsoft.card.adaptive"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("card lacks %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "Resolve") {
		t.Errorf("card has a Resolve button without a link:\n%s", msg)
	}

	p.Title = strings.Repeat("x", 5000)
	if msg := string(chatJSON(t, notify.TeamsMessage(p))); strings.Contains(msg, strings.Repeat("x", 1001)) || !strings.Contains(msg, "x…") {
		t.Errorf("a 5000-character title is not cut short: %d bytes", len(msg))
	}
}

func TestTeamsRoundTrip(t *testing.T) {
	tests := append(chatRoundTrips(http.StatusAccepted),
		chatRoundTrip{name: "200 from a flow with a Response action", respond: chatAnswer(200, nil, "")},
		chatRoundTrip{name: "401 (bad signature) is permanent", respond: chatAnswer(401, nil, `{"error":{"code":"DirectApiInvalidAuthorizationScheme"}}`), wantErr: true},
	)
	runChatRoundTrips(t, tests, func(t *testing.T, url string) chatNotifier { return newTestTeams(t, url, "SIG") })
}

func TestNewTeamsRejects(t *testing.T) {
	const secret = "s3cr3t-sig"
	for _, tt := range []struct{ url, want string }{
		{"", "url is required"},
		{"prod-00.westeurope.logic.azure.com/workflows?sig=" + secret, "not an absolute URL"},
		{"http://prod-00.westeurope.logic.azure.com/workflows?sig=" + secret, "must use https"},
		{"ftp://prod-00.westeurope.logic.azure.com/workflows?sig=" + secret, "scheme must be https"},
		{"https://user:" + secret + "@prod-00.westeurope.logic.azure.com/workflows", "user:password"},
		{"https://contoso.webhook.office.com/webhookb2/" + secret, "retired Office 365 connector"},
		{"https://outlook.office.com/webhook/" + secret, "retired Office 365 connector"},
		{"https://%zz/" + secret, "not an absolute URL"},
	} {
		_, err := notify.NewTeams(notify.TeamsOptions{URL: tt.url})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewTeams(%q) = %v, want an error saying %q", tt.url, err, tt.want)
			continue
		}
		chatNoSecret(t, secret, err.Error())
	}
	if _, err := notify.NewTeams(notify.TeamsOptions{URL: "https://prod-00.westeurope.logic.azure.com:443" + teamsTestPath + "x"}); err != nil {
		t.Errorf("a Workflows URL: %v", err)
	}
}

func TestTeamsHidesSecret(t *testing.T) {
	const secret = "s3cr3t-sig"
	// The target echoes the URL it was called at, as a proxy might.
	srv := newChatHookServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "no flow at https://"+r.Host+r.URL.RequestURI())
	})
	n := newTestTeams(t, srv.URL, secret)
	_, echoed := n.Notify(t.Context(), page("42", "alice"))
	if echoed == nil {
		t.Fatal("403: no error")
	}

	srv.Close()
	_, refused := n.Notify(t.Context(), page("42", "alice"))
	if refused == nil {
		t.Fatal("closed server: no error")
	}
	chatNoSecret(t, secret, n.Target(), echoed.Error(), refused.Error())

	if other := newTestTeams(t, srv.URL, "other-sig"); other.Target() == n.Target() {
		t.Errorf("two flows share the target %q", n.Target())
	}
}

// chatJSON is v as JSON.
func chatJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
