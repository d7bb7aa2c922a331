package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// The TLS policies of an e-mail notifier.
const (
	// EmailStartTLS requires STARTTLS on a plain connection (submission,
	// port 587): a server that does not offer it fails the page.
	EmailStartTLS = "starttls"
	// EmailImplicitTLS speaks TLS from the first byte (port 465).
	EmailImplicitTLS = "tls"
	// EmailNoTLS sends in the clear: only for tests and relays on the same
	// host or a trusted network.
	EmailNoTLS = "none"
)

// The SMTP AUTH mechanisms an e-mail notifier may be told to use; ""
// lets it pick the best the server offers.
const (
	EmailAuthPlain = "plain"
	EmailAuthLogin = "login"
)

// Defaults of EmailOptions.
const (
	DefaultEmailPort    = 587
	DefaultEmailTLSPort = 465
	DefaultEmailTimeout = 10 * time.Second
)

// Headers go-mail has no name for.
const (
	headerIdempotencyKey gomail.Header = "X-Alertgate-Idempotency-Key"
	headerAutoSubmitted  gomail.Header = "Auto-Submitted"
)

// EmailOptions configure an e-mail notifier.
type EmailOptions struct {
	// Host is the SMTP server's name or IP address, without a port.
	Host string
	// Port defaults to 587 (465 when TLS is "tls").
	Port int
	// Username and Password log in with SMTP AUTH; no AUTH without a
	// Username.
	Username string
	Password string
	// Auth is "plain", "login", or "" for the first of SCRAM-SHA-256,
	// SCRAM-SHA-1, PLAIN, LOGIN the server offers. PLAIN and LOGIN are
	// refused on an unencrypted session except to localhost.
	Auth string
	// From is the sender, an RFC 5322 address such as
	// "alertgate <pager@example.com>". Its domain names Message-IDs.
	From string
	// TLS is "starttls" (the default), "tls" or "none".
	TLS string
	// RootCAs replaces the system roots for the server's certificate, and
	// InsecureSkipVerify skips its check: for tests and private relays.
	RootCAs            *x509.CertPool
	InsecureSkipVerify bool
	// Timeout bounds the whole session, dial included: default 10 s. A
	// context deadline that comes sooner bounds it instead.
	Timeout time.Duration
	// HELO is the name the notifier gives in EHLO: default the host name.
	HELO string
	// Now defaults to time.Now; it dates messages.
	Now func() time.Time
}

// Email sends each page as one e-mail through an SMTP server. One
// incident's pages form one thread in mail clients: every message's
// In-Reply-To and References name the same root id for the incident.
// Email is safe for concurrent use: each Notify is its own SMTP session.
type Email struct {
	o      EmailOptions
	from   *mail.Address
	domain string
}

// NewEmail checks o and returns the notifier.
func NewEmail(o EmailOptions) (*Email, error) {
	o.Host = strings.TrimSpace(o.Host)
	switch {
	case o.Host == "":
		return nil, errors.New("notify: email: host is required")
	case strings.ContainsAny(o.Host, " /:@\t\r\n") && net.ParseIP(o.Host) == nil:
		return nil, fmt.Errorf("notify: email: host %q must be a host name or IP address, without a scheme or port (set port separately)", o.Host)
	}
	if o.TLS == "" {
		o.TLS = EmailStartTLS
	}
	switch o.TLS {
	case EmailStartTLS, EmailNoTLS:
	case EmailImplicitTLS:
		if o.Port == 0 {
			o.Port = DefaultEmailTLSPort
		}
	default:
		return nil, fmt.Errorf("notify: email: tls %q is not one of %q, %q, %q", o.TLS, EmailStartTLS, EmailImplicitTLS, EmailNoTLS)
	}
	if o.Port == 0 {
		o.Port = DefaultEmailPort
	}
	if o.Port < 1 || o.Port > 65535 {
		return nil, fmt.Errorf("notify: email: port %d is not between 1 and 65535", o.Port)
	}
	switch o.Auth {
	case "", EmailAuthPlain, EmailAuthLogin:
	default:
		return nil, fmt.Errorf("notify: email: auth %q is not one of %q, %q (or empty for the best the server offers)", o.Auth, EmailAuthPlain, EmailAuthLogin)
	}
	if o.Username == "" && o.Password != "" {
		return nil, errors.New("notify: email: a password needs a username")
	}
	if o.Username == "" && o.Auth != "" {
		return nil, fmt.Errorf("notify: email: auth %q needs a username", o.Auth)
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("notify: email: timeout %v is negative", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultEmailTimeout
	}
	if strings.ContainsAny(o.HELO, " \t\r\n") {
		return nil, fmt.Errorf("notify: email: helo %q must be one name", o.HELO)
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("notify: email: from %q is not an RFC 5322 address such as \"alertgate <pager@example.com>\": %w", o.From, err)
	}
	at := strings.LastIndexByte(from.Address, '@')
	if at < 0 || at == len(from.Address)-1 {
		return nil, fmt.Errorf("notify: email: from %q has no domain", o.From)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Email{o: o, from: from, domain: strings.ToLower(from.Address[at+1:])}, nil
}

// Target is the SMTP server, host:port: pages through one server share
// its fate.
func (e *Email) Target() string {
	return net.JoinHostPort(e.o.Host, strconv.Itoa(e.o.Port))
}

// Notify sends p to p.Address. Errors are *Error: Status is the SMTP
// reply code when the server answered one; 4xx replies, timeouts and
// connection failures retry; 5xx replies and configuration problems (no
// STARTTLS under the "starttls" policy, a certificate that does not
// verify, no usable AUTH mechanism) do not.
func (e *Email) Notify(ctx context.Context, p Page) (retry bool, err error) {
	if err := e.notify(ctx, p); err != nil {
		return err.Retry, err
	}
	return false, nil
}

func (e *Email) notify(ctx context.Context, p Page) *Error {
	to, err := mail.ParseAddress(p.Address)
	if err != nil {
		return &Error{Err: fmt.Errorf("notify: email: address %q is not an e-mail address: %w", p.Address, err)}
	}
	m, err := e.message(p, to)
	if err != nil {
		return &Error{Err: fmt.Errorf("notify: email: build message: %w", err)}
	}
	limit := time.Now().Add(e.o.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(limit) {
		limit = dl
	}
	timeout := time.Until(limit)
	if timeout <= 0 {
		return &Error{Retry: true, Err: fmt.Errorf("notify: email via %s: %w", e.Target(), context.DeadlineExceeded)}
	}
	s := &session{ctx: ctx, limit: limit, tls: e.tlsConfig(), implicitTLS: e.o.TLS == EmailImplicitTLS}
	defer s.close()
	c, err := e.client(timeout, s.dial)
	if err != nil {
		return &Error{Err: fmt.Errorf("notify: email: %s", e.redact(err.Error()))}
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return e.failed(err)
	}
	return nil
}

// session is the connection of one Notify. go-mail bounds each stage by
// its timeout afresh (dial, then again before MAIL), and reads ctx only
// while dialling; the session's connection holds every deadline to one
// limit for the whole session, and closes when ctx is cancelled.
type session struct {
	ctx         context.Context
	limit       time.Time
	tls         *tls.Config
	implicitTLS bool

	// Set by dial, read by close: both on Notify's goroutine.
	conn net.Conn
	stop func() bool
}

func (s *session) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	s.conn = raw
	s.stop = context.AfterFunc(s.ctx, func() { _ = raw.Close() })
	conn := net.Conn(&boundedConn{Conn: raw, limit: s.limit})
	if err := conn.SetDeadline(s.limit); err != nil {
		return nil, err
	}
	if !s.implicitTLS {
		return conn, nil
	}
	// A *tls.Conn, so that the SMTP client knows the session is encrypted.
	tc := tls.Client(conn, s.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// close closes the connection whatever go-mail did: it leaves it open
// when the session fails before MAIL.
func (s *session) close() {
	if s.stop != nil {
		s.stop()
	}
	if s.conn != nil {
		_ = s.conn.Close()
	}
}

// boundedConn never lets a deadline pass its limit.
type boundedConn struct {
	net.Conn
	limit time.Time
}

func (c *boundedConn) bound(t time.Time) time.Time {
	if t.IsZero() || t.After(c.limit) {
		return c.limit
	}
	return t
}

func (c *boundedConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.bound(t)) }
func (c *boundedConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.bound(t))
}
func (c *boundedConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.bound(t))
}

func (e *Email) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         e.o.Host,
		RootCAs:            e.o.RootCAs,
		InsecureSkipVerify: e.o.InsecureSkipVerify, //nolint:gosec // documented as for tests and private relays only
		MinVersion:         tls.VersionTLS12,
	}
}

// autoAuth is the order of preference when Auth is "": mechanisms that
// never send the password first. go-mail's SMTP client refuses PLAIN and
// LOGIN on an unencrypted session (except to localhost).
var autoAuth = []gomail.SMTPAuthType{
	gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin,
}

// client is a go-mail client for one session.
func (e *Email) client(timeout time.Duration, dial gomail.DialContextFunc) (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(e.o.Port),
		gomail.WithTimeout(timeout),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(e.tlsConfig()),
	}
	switch e.o.TLS {
	case EmailStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case EmailImplicitTLS:
		// dial does the TLS; STARTTLS must not be tried on top of it.
		opts = append(opts, gomail.WithSSL())
	case EmailNoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if e.o.HELO != "" {
		opts = append(opts, gomail.WithHELO(e.o.HELO))
	}
	if e.o.Username != "" {
		switch e.o.Auth {
		case EmailAuthPlain:
			opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain))
		case EmailAuthLogin:
			opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthLogin))
		default:
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(autoAuth...))
		}
		opts = append(opts, gomail.WithUsername(e.o.Username), gomail.WithPassword(e.o.Password))
	}
	return gomail.NewClient(e.o.Host, opts...)
}

// failed classifies a session's error. go-mail's own "temporary" flag
// only looks at the first character of the message, so a timeout is not
// temporary to it; the reply code is read here instead.
func (e *Email) failed(err error) *Error {
	out := &Error{Retry: true}
	var reply *textproto.Error
	var send *gomail.SendError
	switch {
	case errors.As(err, &reply):
		out.Status = reply.Code
	case errors.As(err, &send) && send.ErrorCode() != 0:
		out.Status = send.ErrorCode()
	}
	hint := ""
	if out.Status != 0 {
		// RFC 5321 4.2.1: 4yz is transient, 5yz permanent.
		out.Retry = out.Status < 500
	} else if hint = configProblem(err); hint != "" {
		// The server and the configuration disagree: trying again will
		// change neither.
		out.Retry = false
	}
	// errors.Join (go-mail's close error) spans lines; a timeline entry
	// and a log field should not.
	msg := strings.ReplaceAll(e.redact(err.Error()), "\n", "; ")
	out.Err = &redactedError{msg: "notify: email via " + e.Target() + ": " + msg + hint, err: err}
	return out
}

// configProblem says what to change when err is one the configuration
// causes, and "" for everything else.
func configProblem(err error) string {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	msg := err.Error()
	switch {
	case errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return " (the server's certificate does not verify for this host)"
	case strings.Contains(msg, "does not support STARTTLS"):
		return " (the server offers no STARTTLS; use tls: tls on port 465, or tls: none only for a trusted relay)"
	case strings.Contains(msg, "does not support SMTP AUTH"),
		errors.Is(err, gomail.ErrNoSupportedAuthDiscovered),
		errors.Is(err, gomail.ErrPlainAuthNotSupported),
		errors.Is(err, gomail.ErrLoginAuthNotSupported):
		return " (the server offers no AUTH mechanism this notifier may use here)"
	case errors.Is(err, smtp.ErrUnencrypted):
		return " (the password would cross an unencrypted connection)"
	}
	return ""
}

// redact removes the password, and the forms AUTH PLAIN and LOGIN send it
// in, from text a server or library wrote: a server may echo what it got.
func (e *Email) redact(s string) string {
	if e.o.Password == "" {
		return s
	}
	for _, secret := range []string{
		base64.StdEncoding.EncodeToString([]byte("\x00" + e.o.Username + "\x00" + e.o.Password)),
		base64.StdEncoding.EncodeToString([]byte(e.o.Password)),
		e.o.Password,
	} {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

// redactedError says msg, which names no secret, and unwraps to the
// library's error for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }

// message builds the e-mail for p.
func (e *Email) message(p Page, to *mail.Address) (*gomail.Msg, error) {
	m := gomail.NewMsg()
	m.FromMailAddress(e.from)
	m.SetAddrHeaderFromMailAddress(gomail.HeaderTo, to)
	m.Subject(EmailSubject(p))
	m.SetDateWithValue(e.o.Now())
	m.SetMessageIDWithValue(e.PageMessageID(p))
	// A page and the notice that its incident resolved join the
	// incident's thread; a digest spans incidents and starts its own.
	if p.Kind != KindDigest {
		root := "<" + e.RootMessageID(p.Incident) + ">"
		m.SetGenHeader(gomail.HeaderInReplyTo, root)
		m.SetGenHeader(gomail.HeaderReferences, root)
	}
	// RFC 3834: a machine wrote this; vacation responders stay quiet.
	m.SetGenHeader(headerAutoSubmitted, "auto-generated")
	m.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	// SMTP has no idempotency: servers ignore the header; it lets a
	// reader or a filter tell a redelivery (same key) from a new page.
	m.SetGenHeader(headerIdempotencyKey, oneLine(p.Key))
	m.SetUserAgent("alertgate")
	text, html, err := EmailBodies(p)
	if err != nil {
		return nil, err
	}
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, html)
	return m, nil
}

// EmailSubject is Headline plus " #<incident>" (a digest's headline
// alone: it is about many incidents), on one line.
func EmailSubject(p Page) string {
	s := Headline(p)
	if p.Kind != KindDigest {
		s += " #" + p.Incident
	}
	return strings.Join(strings.Fields(oneLine(s)), " ")
}

// PageMessageID is the Message-ID (without angle brackets) of the e-mail
// for p: the same page sent twice has the same id, so a mail client shows
// a redelivery once.
func (e *Email) PageMessageID(p Page) string {
	return "page-" + msgIDPart(p.Key) + "@" + e.domain
}

// RootMessageID is the id (without angle brackets) every page of the
// incident replies to: "incident-<id>@<from domain>".
func (e *Email) RootMessageID(incident string) string {
	return "incident-" + msgIDPart(incident) + "@" + e.domain
}

// msgIDPart makes s fit the left side of a Message-ID (RFC 5322
// dot-atom-text) one to one: letters, digits, '-', '_' and single dots
// stay; every other byte becomes =XX ('=' included, so no two values
// meet).
func msgIDPart(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		case c == '.' && i > 0 && i < len(s)-1 && s[i-1] != '.' && s[i+1] != '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// emailView is what both parts of the message show.
type emailView struct {
	Headline string
	// Lead is a notice's verdict ("Resolved after 1h 35m"), under the
	// headline.
	Lead  string
	Facts [][2]string
	// Items and More are a digest's list and the "and N more" after it.
	Items  []emailItem
	More   string
	Links  []emailLink
	Footer string
}

type emailLink struct{ Label, URL string }

type emailItem struct {
	Headline, Line string
	Links          []emailLink
}

func emailLinks(l Links) []emailLink {
	var out []emailLink
	for _, link := range []emailLink{
		{"Acknowledge", l.Acknowledge},
		{"Resolve", l.Resolve},
		{"Open", l.Open},
	} {
		if link.URL != "" {
			out = append(out, link)
		}
	}
	return out
}

func viewOf(p Page) emailView {
	v := emailView{Headline: Headline(p), Facts: Facts(p)}
	switch p.Kind {
	case KindResolved:
		v.Lead = Resolution(p)
		v.Facts = slices.DeleteFunc(v.Facts, func(f [2]string) bool { return f[0] == "Lasted" })
		v.Links = emailLinks(Links{Open: p.Links.Open})
		v.Footer = "alertgate, incident " + p.Incident + ", notice " + p.Key
	case KindDigest:
		shown, more := DigestShown(p)
		for _, it := range shown {
			v.Items = append(v.Items, emailItem{Headline: Headline(it), Line: ItemLine(it),
				Links: emailLinks(Links{Acknowledge: it.Links.Acknowledge, Open: it.Links.Open})})
		}
		v.More = More(more)
		v.Footer = "alertgate, digest " + p.Key
	default:
		v.Links = emailLinks(p.Links)
		v.Footer = "alertgate, incident " + p.Incident + ", page " + p.Key
	}
	return v
}

// EmailBodies are the text/plain and text/html parts of p's message.
func EmailBodies(p Page) (text, html string, err error) {
	v := viewOf(p)
	var t strings.Builder
	t.WriteString(oneLine(v.Headline) + "\n\n")
	if v.Lead != "" {
		t.WriteString(oneLine(v.Lead) + "\n\n")
	}
	for _, f := range v.Facts {
		t.WriteString(f[0] + ": " + oneLine(f[1]) + "\n")
	}
	for i, it := range v.Items {
		fmt.Fprintf(&t, "\n%d. %s\n   %s\n", i+1, oneLine(it.Headline), oneLine(it.Line))
		for _, l := range it.Links {
			t.WriteString("   " + l.Label + ": " + oneLine(l.URL) + "\n")
		}
	}
	if v.More != "" {
		t.WriteString("\n" + v.More + "\n")
	}
	if len(v.Links) > 0 {
		t.WriteString("\n")
		for _, l := range v.Links {
			t.WriteString(l.Label + ": " + oneLine(l.URL) + "\n")
		}
	}
	t.WriteString("\n-- \n" + oneLine(v.Footer) + "\n")

	var h bytes.Buffer
	if err := emailHTML.Execute(&h, v); err != nil {
		return "", "", err
	}
	return t.String(), h.String(), nil
}

// emailHTML is the HTML part: inline styles only, no images or external
// assets (mail clients block them and they would track the reader).
var emailHTML = htmltemplate.Must(htmltemplate.New("email").Parse(`<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{{.Headline}}</title></head>
<body style="font-family: sans-serif; color: #222;">
<h2 style="margin: 0 0 12px 0;">{{.Headline}}</h2>
{{- if .Lead}}
<p style="margin: 0 0 12px 0;">{{.Lead}}</p>
{{- end}}
<table style="border-collapse: collapse;">
{{- range .Facts}}
<tr><td style="padding: 2px 12px 2px 0; color: #666;">{{index . 0}}</td><td style="padding: 2px 0;">{{index . 1}}</td></tr>
{{- end}}
</table>
{{- if .Items}}
<ol style="padding-left: 20px;">
{{- range .Items}}
<li style="margin: 0 0 10px 0;"><strong>{{.Headline}}</strong><br>
<span style="color: #666;">{{.Line}}</span>
{{- if .Links}}<br>
{{range $i, $l := .Links}}{{if $i}} &middot; {{end}}<a href="{{$l.URL}}">{{$l.Label}}</a>{{end}}
{{- end}}</li>
{{- end}}
</ol>
{{- end}}
{{- if .More}}
<p>{{.More}}</p>
{{- end}}
{{- if .Links}}
<p>
{{- range $i, $l := .Links}}{{if $i}} &middot; {{end}}<a href="{{$l.URL}}">{{$l.Label}}</a>{{end}}
</p>
{{- end}}
<p style="color: #888; font-size: small;">{{.Footer}}</p>
</body>
</html>
`))
