package notify_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate/notify"
)

const (
	testSMTPUser = "pager"
	testSMTPPass = "s3cret-Pa55w0rd"
)

// emailAt is the notifier's clock in every e-mail test.
var emailAt = time.Date(2025, 3, 1, 12, 0, 30, 0, time.UTC)

// emailNotifierFor returns a notifier for srv with o's other fields.
func emailNotifierFor(t *testing.T, srv *smtpServer, o notify.EmailOptions) *notify.Email {
	t.Helper()
	o.Host = "127.0.0.1"
	o.Port = srv.Port()
	if o.From == "" {
		o.From = "alertgate <pager@example.com>"
	}
	if o.RootCAs == nil && !o.InsecureSkipVerify {
		o.RootCAs = srv.Roots
	}
	if o.HELO == "" {
		o.HELO = "alertgate.test"
	}
	if o.Username == "" {
		o.Username, o.Password = testSMTPUser, testSMTPPass
	}
	o.Now = func() time.Time { return emailAt }
	e, err := notify.NewEmail(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func smtpServerWithAuth(t *testing.T, cfg smtpConfig) *smtpServer {
	cfg.User, cfg.Pass = testSMTPUser, testSMTPPass
	return newSMTPServer(t, cfg)
}

func emailLinked(p notify.Page) notify.Page {
	p.Links = notify.Links{
		Acknowledge: "https://pager.example.com/a/tok-ack?x=1&y=2",
		Resolve:     "https://pager.example.com/r/tok-res",
		Open:        "https://pager.example.com/incidents/42",
	}
	return p
}

var emailBoundaryRE = regexp.MustCompile(`boundary=([0-9A-Za-z'()+_,\-./:=?]+)`)

// normaliseEmail replaces MIME boundaries (random per message) with stable
// names; nothing else in the message varies.
func normaliseEmail(t *testing.T, msg string) string {
	t.Helper()
	for i, m := range emailBoundaryRE.FindAllStringSubmatch(msg, -1) {
		msg = strings.ReplaceAll(msg, m[1], "BOUNDARY"+string(rune('1'+i)))
	}
	return msg
}

// sendEmail delivers p through a fresh server and returns what it received.
func sendEmail(t *testing.T, p notify.Page) smtpSession {
	t.Helper()
	srv := smtpServerWithAuth(t, smtpConfig{})
	e := emailNotifierFor(t, srv, notify.EmailOptions{})
	if retry, err := e.Notify(t.Context(), p); err != nil {
		t.Fatalf("Notify: %v (retry %v)", err, retry)
	}
	ss := srv.Sessions()
	if len(ss) != 1 {
		t.Fatalf("%d sessions, want 1", len(ss))
	}
	return ss[0]
}

// The message as the server received it, headers and both parts.
func TestEmailGolden(t *testing.T) {
	tests := []struct {
		name string
		page notify.Page
	}{
		{"links", emailLinked(page("42", "alice"))},
		{"no_links", page("42", "alice")},
		{"resolved", resolvedOf(emailLinked(page("42", "alice")))},
		{"digest", digestOf(emailLinked(page("42", "alice")), 12, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := normaliseEmail(t, sendEmail(t, tt.page).Data)
			checkGolden(t, filepath.Join("email", tt.name+".eml"), []byte(got))
		})
	}
}

// parsedEmail is a received message: its headers and its decoded parts.
type parsedEmail struct {
	header     mail.Header
	text, html string
}

func parseEmail(t *testing.T, data string) parsedEmail {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	out := parsedEmail{header: m.Header}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = part
		if part.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(part)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			out.text = string(b)
		case "text/html":
			out.html = string(b)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	return out
}

// A round trip over STARTTLS with AUTH: the envelope, the threading
// headers and both parts arrive; two pages of one incident thread under
// one root.
func TestEmailRoundTrip(t *testing.T) {
	srv := smtpServerWithAuth(t, smtpConfig{})
	e := emailNotifierFor(t, srv, notify.EmailOptions{})
	first := emailLinked(page("42", "alice"))
	again := first
	again.Key, again.Step, again.Address = "42.1.0.1.bob", 2, "Bob <bob@example.com>"
	for _, p := range []notify.Page{first, again} {
		if retry, err := e.Notify(t.Context(), p); err != nil {
			t.Fatalf("Notify %s: %v (retry %v)", p.Key, err, retry)
		}
	}
	ss := srv.Sessions()
	if len(ss) != 2 {
		t.Fatalf("%d sessions, want 2", len(ss))
	}
	for i, want := range []struct{ rcpt, id string }{
		{"<alice@example.com>", "<page-42.1.0.0.alice@example.com>"},
		{"<bob@example.com>", "<page-42.1.0.1.bob@example.com>"},
	} {
		s := ss[i]
		if !s.TLS || s.AuthUser != testSMTPUser || s.AuthMech != "PLAIN" || s.Helo != "alertgate.test" {
			t.Errorf("session %d: tls %v, auth %q as %q, helo %q; want TLS, PLAIN as %q, alertgate.test", i, s.TLS, s.AuthMech, s.AuthUser, s.Helo, testSMTPUser)
		}
		if !strings.HasPrefix(s.From, "FROM:<pager@example.com>") || len(s.Rcpts) != 1 || !strings.HasPrefix(s.Rcpts[0], "TO:"+want.rcpt) {
			t.Errorf("session %d: envelope %q → %q, want <pager@example.com> → %s", i, s.From, s.Rcpts, want.rcpt)
		}
		m := parseEmail(t, s.Data)
		for h, v := range map[string]string{
			"Subject":                     "[CRITICAL] Disk full on db-42 #42",
			"Message-Id":                  want.id,
			"In-Reply-To":                 "<incident-42@example.com>",
			"References":                  "<incident-42@example.com>",
			"Auto-Submitted":              "auto-generated",
			"X-Alertgate-Idempotency-Key": []string{first.Key, again.Key}[i],
		} {
			if got := m.header.Get(h); got != v {
				t.Errorf("session %d: %s %q, want %q", i, h, got, v)
			}
		}
		if from, err := m.header.AddressList("From"); err != nil || len(from) != 1 || from[0].Name != "alertgate" || from[0].Address != "pager@example.com" {
			t.Errorf("session %d: From %q (%v)", i, m.header.Get("From"), err)
		}
		for _, s := range []string{"[CRITICAL] Disk full on db-42", "Service: db", "Alerts: 2 alerts", "Since: 2025-03-01 11:59 UTC",
			"Acknowledge: https://pager.example.com/a/tok-ack?x=1&y=2", "Resolve: https://pager.example.com/r/tok-res", "Open: https://pager.example.com/incidents/42"} {
			if !strings.Contains(m.text, s) {
				t.Errorf("session %d: text part lacks %q:\n%s", i, s, m.text)
			}
		}
		for _, s := range []string{`<a href="https://pager.example.com/a/tok-ack?x=1&amp;y=2">Acknowledge</a>`, `<a href="https://pager.example.com/incidents/42">Open</a>`, "2 alerts", "2025-03-01 11:59 UTC"} {
			if !strings.Contains(m.html, s) {
				t.Errorf("session %d: html part lacks %q:\n%s", i, s, m.html)
			}
		}
		if strings.Contains(s.Data, testSMTPPass) {
			t.Errorf("session %d: the password is in the message", i)
		}
	}
}

// LOGIN when it is all the server offers, and TLS from the first byte.
func TestEmailLoginAndImplicitTLS(t *testing.T) {
	tests := []struct {
		name string
		cfg  smtpConfig
		o    notify.EmailOptions
		mech string
	}{
		{"login chosen", smtpConfig{Mechs: []string{"LOGIN"}}, notify.EmailOptions{}, "LOGIN"},
		{"login asked for", smtpConfig{}, notify.EmailOptions{Auth: notify.EmailAuthLogin}, "LOGIN"},
		{"implicit tls", smtpConfig{ImplicitTLS: true}, notify.EmailOptions{TLS: notify.EmailImplicitTLS}, "PLAIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtpServerWithAuth(t, tt.cfg)
			e := emailNotifierFor(t, srv, tt.o)
			if _, err := e.Notify(t.Context(), page("7", "alice")); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			ss := srv.Sessions()
			if len(ss) != 1 || !ss[0].TLS || ss[0].AuthMech != tt.mech || ss[0].AuthUser != testSMTPUser || ss[0].Data == "" {
				t.Fatalf("sessions %+v, want one over TLS with %s", ss, tt.mech)
			}
		})
	}
}

// emailNotifyErr runs Notify and returns its *notify.Error.
func emailNotifyErr(t *testing.T, ctx context.Context, e *notify.Email, p notify.Page) (bool, *notify.Error) {
	t.Helper()
	retry, err := e.Notify(ctx, p)
	if err == nil {
		t.Fatal("Notify succeeded, want an error")
	}
	var ne *notify.Error
	if !errors.As(err, &ne) {
		t.Fatalf("error %T %v is not a *notify.Error", err, err)
	}
	if r, _ := notify.Failed(err); r != retry || ne.Retry != retry {
		t.Errorf("retry %v, Failed says %v, Error.Retry %v", retry, r, ne.Retry)
	}
	if strings.Contains(err.Error(), testSMTPPass) {
		t.Errorf("error names the password: %v", err)
	}
	return retry, ne
}

// 4xx replies retry, 5xx replies do not; the status is the reply code.
func TestEmailReplyCodes(t *testing.T) {
	tests := []struct {
		stage, reply string
		retry        bool
	}{
		{"greeting", "421 4.3.2 shutting down", true},
		{"ehlo", "421 4.7.0 too busy", true},
		{"mail", "451 4.3.0 try again later", true},
		{"rcpt", "450 4.2.1 mailbox busy", true},
		{"rcpt", "550 5.1.1 no such user", false},
		{"data", "451 4.3.0 queue full", true},
		{"end", "552 5.3.4 message too big", false},
		{"end", "451 4.7.1 greylisted", true},
		{"auth", "535 5.7.8 bad credentials {got}", false},
		{"auth", "454 4.7.0 temporary authentication failure", true},
	}
	for _, tt := range tests {
		t.Run(tt.stage+" "+tt.reply[:3], func(t *testing.T) {
			srv := smtpServerWithAuth(t, smtpConfig{Reply: map[string]string{tt.stage: tt.reply}})
			e := emailNotifierFor(t, srv, notify.EmailOptions{})
			retry, ne := emailNotifyErr(t, t.Context(), e, page("42", "alice"))
			if retry != tt.retry {
				t.Errorf("retry %v, want %v (%v)", retry, tt.retry, ne)
			}
			if want := tt.reply[:3]; strconv.Itoa(ne.Status) != want {
				t.Errorf("status %d, want %s (%v)", ne.Status, want, ne)
			}
		})
	}
}

// The server quotes the AUTH PLAIN blob back, and a wrong password is
// still nowhere in the error.
func TestEmailPasswordNeverInErrors(t *testing.T) {
	srv := newSMTPServer(t, smtpConfig{User: "someone", Pass: "else", Reply: map[string]string{"auth": "535 5.7.8 rejected {got} for " + testSMTPPass}})
	e := emailNotifierFor(t, srv, notify.EmailOptions{})
	_, ne := emailNotifyErr(t, t.Context(), e, page("42", "alice"))
	if !strings.Contains(ne.Error(), "[redacted]") {
		t.Errorf("error %q: want the quoted credentials redacted", ne)
	}
	if strings.Contains(e.Target(), testSMTPPass) {
		t.Errorf("Target %q names the password", e.Target())
	}
}

// A server that stops answering fails the page retryably once the
// context's deadline passes, long before the session timeout.
func TestEmailHangingServer(t *testing.T) {
	for _, stage := range []string{"greeting", "end"} {
		t.Run(stage, func(t *testing.T) {
			srv := smtpServerWithAuth(t, smtpConfig{Hang: stage})
			e := emailNotifierFor(t, srv, notify.EmailOptions{Timeout: time.Minute})
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			began := time.Now()
			retry, ne := emailNotifyErr(t, ctx, e, page("42", "alice"))
			if !retry || ne.Status != 0 {
				t.Errorf("retry %v status %d, want a retryable error without status (%v)", retry, ne.Status, ne)
			}
			if took := time.Since(began); took > 10*time.Second {
				t.Errorf("took %v; the deadline was 300ms", took)
			}
		})
	}
}

// Without a context deadline, Timeout bounds the whole session.
func TestEmailTimeoutBoundsTheSession(t *testing.T) {
	srv := smtpServerWithAuth(t, smtpConfig{Hang: "rcpt"})
	e := emailNotifierFor(t, srv, notify.EmailOptions{Timeout: 300 * time.Millisecond})
	began := time.Now()
	retry, ne := emailNotifyErr(t, context.WithoutCancel(t.Context()), e, page("42", "alice"))
	if !retry || ne.Status != 0 {
		t.Errorf("retry %v status %d, want a retryable error without status (%v)", retry, ne.Status, ne)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("took %v; the timeout was 300ms", took)
	}
}

// Cancelling the context ends a session that hangs, whatever the timeout.
func TestEmailCancelEndsTheSession(t *testing.T) {
	srv := smtpServerWithAuth(t, smtpConfig{Hang: "end"})
	e := emailNotifierFor(t, srv, notify.EmailOptions{Timeout: 30 * time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		select {
		case <-srv.hanging:
			cancel()
		case <-ctx.Done():
		}
	}()
	began := time.Now()
	retry, ne := emailNotifyErr(t, ctx, e, page("42", "alice"))
	if !retry || ne.Status != 0 {
		t.Errorf("retry %v status %d, want a retryable error without status (%v)", retry, ne.Status, ne)
	}
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("took %v: the cancel did not end the session, its timeout did", took)
	}
}

// Credentials never cross an unencrypted connection to another host,
// even under "none": the page fails for good instead.
func TestEmailNoPasswordInTheClear(t *testing.T) {
	srv := smtpServerWithAuth(t, smtpConfig{NoStartTLS: true, Addr: "127.0.0.2:0"})
	e, err := notify.NewEmail(notify.EmailOptions{Host: "127.0.0.2", Port: srv.Port(), From: "pager@example.com",
		TLS: notify.EmailNoTLS, Username: testSMTPUser, Password: testSMTPPass})
	if err != nil {
		t.Fatal(err)
	}
	if retry, ne := emailNotifyErr(t, t.Context(), e, page("42", "alice")); retry || !strings.Contains(ne.Error(), "unencrypted") {
		t.Errorf("retry %v, %v; want a permanent error about the unencrypted connection", retry, ne)
	}
	for _, s := range srv.Sessions() {
		if s.AuthUser != "" || s.From != "" {
			t.Errorf("session went on: %+v", s)
		}
	}
}

// Nothing listening: retry.
func TestEmailConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	e, err := notify.NewEmail(notify.EmailOptions{Host: "127.0.0.1", Port: port, From: "pager@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if retry, ne := emailNotifyErr(t, t.Context(), e, page("42", "alice")); !retry || ne.Status != 0 {
		t.Errorf("retry %v status %d, want retry", retry, ne.Status)
	}
}

// Configuration problems are permanent, and no credentials or mail leave
// over a connection that is not what the policy demands.
func TestEmailConfigurationProblemsArePermanent(t *testing.T) {
	tests := []struct {
		name string
		cfg  smtpConfig
		o    notify.EmailOptions
	}{
		{"no STARTTLS under the starttls policy", smtpConfig{NoStartTLS: true}, notify.EmailOptions{}},
		{"a certificate nobody vouches for", smtpConfig{}, notify.EmailOptions{RootCAs: x509.NewCertPool()}},
		{"no AUTH mechanism offered", smtpConfig{Mechs: []string{}}, notify.EmailOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtpServerWithAuth(t, tt.cfg)
			e := emailNotifierFor(t, srv, tt.o)
			if retry, ne := emailNotifyErr(t, t.Context(), e, page("42", "alice")); retry {
				t.Errorf("retryable, want permanent: %v", ne)
			}
			for _, s := range srv.Sessions() {
				if s.AuthUser != "" || s.From != "" {
					t.Errorf("session went on: %+v", s)
				}
			}
		})
	}
}

// "none" sends in the clear to a relay without STARTTLS, and without AUTH
// when no username is set.
func TestEmailNoTLSRelay(t *testing.T) {
	srv := newSMTPServer(t, smtpConfig{NoStartTLS: true, Mechs: []string{}})
	e, err := notify.NewEmail(notify.EmailOptions{Host: "127.0.0.1", Port: srv.Port(), From: "pager@example.com", TLS: notify.EmailNoTLS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Notify(t.Context(), page("42", "alice")); err != nil {
		t.Fatal(err)
	}
	if ss := srv.Sessions(); len(ss) != 1 || ss[0].TLS || ss[0].Data == "" {
		t.Errorf("sessions %+v, want one message in the clear", ss)
	}
}

func TestEmailBadAddressIsPermanent(t *testing.T) {
	srv := smtpServerWithAuth(t, smtpConfig{})
	e := emailNotifierFor(t, srv, notify.EmailOptions{})
	p := page("42", "alice")
	p.Address = "not an address"
	if retry, ne := emailNotifyErr(t, t.Context(), e, p); retry {
		t.Errorf("retryable: %v", ne)
	}
	if n := len(srv.Sessions()); n != 0 {
		t.Errorf("%d sessions for a bad address", n)
	}
}

func TestNewEmailValidates(t *testing.T) {
	ok := notify.EmailOptions{Host: "smtp.example.com", From: "alertgate <pager@example.com>"}
	tests := []struct {
		name string
		edit func(o *notify.EmailOptions)
		want string
	}{
		{"no host", func(o *notify.EmailOptions) { o.Host = "" }, "host is required"},
		{"host with port", func(o *notify.EmailOptions) { o.Host = "smtp.example.com:587" }, "without a scheme or port"},
		{"host with scheme", func(o *notify.EmailOptions) { o.Host = "smtp://smtp.example.com" }, "without a scheme or port"},
		{"port out of range", func(o *notify.EmailOptions) { o.Port = 70000 }, "port 70000"},
		{"unknown tls", func(o *notify.EmailOptions) { o.TLS = "ssl" }, `tls "ssl"`},
		{"unknown auth", func(o *notify.EmailOptions) { o.Username, o.Auth = "u", "cram-md5" }, `auth "cram-md5"`},
		{"password without user", func(o *notify.EmailOptions) { o.Password = testSMTPPass }, "needs a username"},
		{"bad from", func(o *notify.EmailOptions) { o.From = "alertgate" }, "RFC 5322"},
		{"negative timeout", func(o *notify.EmailOptions) { o.Timeout = -time.Second }, "negative"},
		{"helo with space", func(o *notify.EmailOptions) { o.HELO = "a b" }, "helo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			_, err := notify.NewEmail(o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testSMTPPass) {
				t.Errorf("error names the password: %v", err)
			}
		})
	}
	for _, tt := range []struct {
		o      notify.EmailOptions
		target string
	}{
		{ok, "smtp.example.com:587"},
		{notify.EmailOptions{Host: "smtp.example.com", From: ok.From, TLS: notify.EmailImplicitTLS}, "smtp.example.com:465"},
		{notify.EmailOptions{Host: "::1", Port: 25, From: ok.From, TLS: notify.EmailNoTLS, Username: "u", Password: testSMTPPass}, "[::1]:25"},
	} {
		e, err := notify.NewEmail(tt.o)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Target(); got != tt.target {
			t.Errorf("Target %q, want %q", got, tt.target)
		}
	}
}

var msgIDAtom = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+)*@[a-z0-9.-]+$`)

// Message-IDs are valid whatever the key, and one key has one id.
func TestEmailMessageIDs(t *testing.T) {
	e, err := notify.NewEmail(notify.EmailOptions{Host: "h", From: "A <pager@Example.COM>"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, key := range []string{"42.1.0.0.alice", "42.r1.#ops", "42..x.", "42.=2E.x", "42=2E=2Ex=2E", "42. x", "a@b<c>", ".lead", "42.1.0.0.Alice"} {
		p := page("42", "alice")
		p.Key = key
		id := e.PageMessageID(p)
		if !msgIDAtom.MatchString(id) {
			t.Errorf("key %q: id %q is not a valid msg-id", key, id)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("keys %q and %q share id %q", key, other, id)
		}
		seen[id] = key
		if e.PageMessageID(p) != id {
			t.Errorf("key %q: id changes", key)
		}
	}
	if got := e.RootMessageID("42"); got != "incident-42@example.com" {
		t.Errorf("root %q", got)
	}
}

// Sender text is escaped in the HTML part and cannot add headers.
func TestEmailEscapesSenderText(t *testing.T) {
	p := emailLinked(page("42", "alice"))
	p.Title = "<script>alert(1)</script>\r\nBcc: victim@example.com"
	p.Links.Open = "javascript:alert(1)"
	text, html, err := notify.EmailBodies(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "javascript:") {
		t.Errorf("html not escaped:\n%s", html)
	}
	if strings.Contains(text, "\r") {
		t.Errorf("text keeps a CR")
	}
	if s := notify.EmailSubject(p); strings.ContainsAny(s, "\r\n") {
		t.Errorf("subject %q spans lines", s)
	}
	m := parseEmail(t, sendEmail(t, p).Data)
	if got := m.header.Get("Bcc"); got != "" {
		t.Errorf("a title added Bcc %q", got)
	}
}
