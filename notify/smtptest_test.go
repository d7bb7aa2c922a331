package notify_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a small SMTP server on loopback for the e-mail tests: EHLO,
// STARTTLS (or TLS from the start), AUTH PLAIN and LOGIN, MAIL, RCPT,
// DATA, RSET, NOOP, QUIT, and failures on cue. It records each session.
type smtpServer struct {
	t    *testing.T
	ln   net.Listener
	cert tls.Certificate
	// Roots trusts the server's self-signed certificate.
	Roots *x509.CertPool

	cfg smtpConfig

	// hanging gets a value each time a session stops answering.
	hanging chan struct{}

	mu       sync.Mutex
	sessions []*smtpSession
	conns    []net.Conn
	wg       sync.WaitGroup
	done     chan struct{}
}

// smtpConfig is how the server behaves.
type smtpConfig struct {
	NoStartTLS  bool     // do not offer STARTTLS
	ImplicitTLS bool     // TLS from the first byte
	Mechs       []string // AUTH mechanisms offered; default PLAIN LOGIN
	User, Pass  string   // the credentials AUTH accepts
	// Reply maps a stage ("greeting", "ehlo", "auth", "mail", "rcpt",
	// "data", "end" (after the message)) to the reply that replaces the
	// normal one, such as "451 4.3.0 try later".
	Reply map[string]string
	// Hang is the stage at which the server stops answering.
	Hang string
	// Addr is where to listen; default 127.0.0.1:0.
	Addr string
}

// smtpSession is what one connection did.
type smtpSession struct {
	Helo     string
	TLS      bool
	AuthMech string
	AuthUser string
	From     string
	Rcpts    []string
	Data     string
}

func newSMTPServer(t *testing.T, cfg smtpConfig) *smtpServer {
	t.Helper()
	if cfg.Mechs == nil {
		cfg.Mechs = []string{"PLAIN", "LOGIN"}
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s := &smtpServer{t: t, cfg: cfg, done: make(chan struct{}), hanging: make(chan struct{}, 16)}
	s.cert, s.Roots = smtpSelfSigned(t)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ImplicitTLS {
		ln = tls.NewListener(ln, s.tlsConfig())
	}
	s.ln = ln
	s.wg.Go(s.serve)
	t.Cleanup(s.close)
	return s
}

func (s *smtpServer) tlsConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
}

// Port is the port the server listens on (its host is 127.0.0.1).
func (s *smtpServer) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Sessions are the sessions so far; each one's fields are final once its
// client has quit.
func (s *smtpServer) Sessions() []smtpSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]smtpSession, len(s.sessions))
	for i, ss := range s.sessions {
		out[i] = *ss
	}
	return out
}

func (s *smtpServer) close() {
	close(s.done)
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *smtpServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Go(func() { s.session(c) })
	}
}

// smtpConn is one connection's reader and writer, replaced after STARTTLS.
type smtpConn struct {
	c net.Conn
	r *textproto.Reader
	w *bufio.Writer
}

func (sc *smtpConn) reply(lines ...string) {
	for _, l := range lines {
		_, _ = sc.w.WriteString(l + "\r\n")
	}
	_ = sc.w.Flush()
}

func newSMTPConn(c net.Conn) *smtpConn {
	return &smtpConn{c: c, r: textproto.NewReader(bufio.NewReader(c)), w: bufio.NewWriter(c)}
}

func (s *smtpServer) session(c net.Conn) {
	defer func() { _ = c.Close() }()
	ss := &smtpSession{}
	s.mu.Lock()
	s.sessions = append(s.sessions, ss)
	s.mu.Unlock()
	record := func(f func()) {
		s.mu.Lock()
		defer s.mu.Unlock()
		f()
	}
	sc := newSMTPConn(c)
	if tc, ok := c.(*tls.Conn); ok {
		if tc.Handshake() != nil {
			return
		}
		record(func() { ss.TLS = true })
	}
	// answer replies normal, unless the script says otherwise for stage;
	// it reports whether the session goes on.
	answer := func(stage string, normal ...string) bool {
		if s.cfg.Hang == stage {
			select {
			case s.hanging <- struct{}{}:
			default:
			}
			<-s.done
			return false
		}
		if r, ok := s.cfg.Reply[stage]; ok {
			sc.reply(r)
			return !strings.HasPrefix(r, "421")
		}
		sc.reply(normal...)
		return true
	}
	if !answer("greeting", "220 test.invalid ESMTP ready") {
		return
	}
	for {
		line, err := sc.r.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			record(func() { ss.Helo = arg })
			ext := []string{"250-test.invalid", "250-PIPELINING", "250-8BITMIME"}
			if !s.cfg.NoStartTLS && !ss.TLS {
				ext = append(ext, "250-STARTTLS")
			}
			if len(s.cfg.Mechs) > 0 {
				ext = append(ext, "250-AUTH "+strings.Join(s.cfg.Mechs, " "))
			}
			ext = append(ext, "250 HELP")
			if !answer("ehlo", ext...) {
				return
			}
		case "STARTTLS":
			if s.cfg.NoStartTLS || ss.TLS {
				sc.reply("502 5.5.1 not here")
				continue
			}
			sc.reply("220 2.0.0 go ahead")
			tc := tls.Server(c, s.tlsConfig())
			if tc.Handshake() != nil {
				return
			}
			c = tc
			sc = newSMTPConn(tc)
			record(func() { ss.TLS = true })
		case "AUTH":
			user, pass, mech, ok := s.auth(sc, arg)
			if !ok {
				return
			}
			if r, scripted := s.cfg.Reply["auth"]; scripted {
				// A careless server quotes what it got.
				sc.reply(strings.ReplaceAll(r, "{got}", base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass))))
				continue
			}
			if user != s.cfg.User || pass != s.cfg.Pass {
				sc.reply("535 5.7.8 authentication failed")
				continue
			}
			record(func() { ss.AuthMech, ss.AuthUser = mech, user })
			sc.reply("235 2.7.0 authenticated")
		case "MAIL":
			record(func() { ss.From = arg })
			if !answer("mail", "250 2.1.0 ok") {
				return
			}
		case "RCPT":
			record(func() { ss.Rcpts = append(ss.Rcpts, arg) })
			if !answer("rcpt", "250 2.1.5 ok") {
				return
			}
		case "DATA":
			if !answer("data", "354 end with .") {
				return
			}
			if _, scripted := s.cfg.Reply["data"]; scripted {
				continue
			}
			body, err := sc.r.ReadDotBytes()
			if err != nil {
				return
			}
			record(func() { ss.Data = string(body) })
			if !answer("end", "250 2.0.0 queued") {
				return
			}
		case "RSET", "NOOP":
			sc.reply("250 2.0.0 ok")
		case "QUIT":
			sc.reply("221 2.0.0 bye")
			return
		default:
			sc.reply("500 5.5.2 what?")
		}
	}
}

// auth reads an AUTH exchange: PLAIN with or without an initial response,
// or LOGIN.
func (s *smtpServer) auth(sc *smtpConn, arg string) (user, pass, mech string, ok bool) {
	mech, initial, _ := strings.Cut(arg, " ")
	mech = strings.ToUpper(mech)
	read := func(prompt string) (string, bool) {
		sc.reply("334 " + prompt)
		line, err := sc.r.ReadLine()
		if err != nil {
			return "", false
		}
		b, err := base64.StdEncoding.DecodeString(line)
		return string(b), err == nil
	}
	switch mech {
	case "PLAIN":
		var resp string
		if initial != "" {
			b, err := base64.StdEncoding.DecodeString(initial)
			if err != nil {
				return "", "", mech, false
			}
			resp = string(b)
		} else if resp, ok = read(""); !ok {
			return "", "", mech, false
		}
		parts := strings.Split(resp, "\x00")
		if len(parts) != 3 {
			return "", "", mech, false
		}
		return parts[1], parts[2], mech, true
	case "LOGIN":
		if user, ok = read(base64.StdEncoding.EncodeToString([]byte("Username:"))); !ok {
			return "", "", mech, false
		}
		if pass, ok = read(base64.StdEncoding.EncodeToString([]byte("Password:"))); !ok {
			return "", "", mech, false
		}
		return user, pass, mech, true
	}
	sc.reply("504 5.5.4 unknown mechanism")
	return "", "", mech, false
}

// smtpSelfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func smtpSelfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "alertgate test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
