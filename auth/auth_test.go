package auth

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/internal/redistest"
)

// devHash is "dev" at cost 10 (the lowest the config takes; fast tests).
const (
	devHash   = "$2a$10$MtoYkBQd2zjGSL0EtfGpAua5Q858rALLpeDxkuxpca.seJHQvMITG"
	cheapHash = "$2a$04$hKH9kTtWhZAp3bUlSCbs2./dtNtuzVRUwLD4sWP7MlZUNTW0NiaxW"
)

func testPolicy(t *testing.T, extra string) *Policy {
	t.Helper()
	cfg, err := config.Load([]byte(`
listen: ":8080"
public_url: https://alertgate.example.com
users:
  - id: alice
    password_hash: `+devHash+`
    contacts: [{notifier: console, address: alice}]
  - id: root
    password_hash: `+devHash+`
    admin: true
    contacts: [{notifier: console, address: root}]
  - id: nopass
    contacts: [{notifier: console, address: nopass}]
api:
  tokens:
    - flat-token
    - token: read-token
      scopes: [read]
      owner: alice
    - token: ingest-token
      scopes: [ingest]
`+extra), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Cost 4 keeps the tests fast; the config takes 10 and up.
	for i := range cfg.Users {
		if cfg.Users[i].PasswordHash != "" {
			cfg.Users[i].PasswordHash = cheapHash
		}
	}
	return NewPolicy(cfg)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testStore(t *testing.T) (*Store, *clock) {
	rdb, prefix := redistest.New(t)
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	return NewStore(rdb, prefix, Options{Now: clk.Now}), clk
}

func TestLoginRotatesAndExpires(t *testing.T) {
	ctx := context.Background()
	pol := testPolicy(t, "auth: {session_ttl: 1h}")
	st, clk := testStore(t)

	id1, s, err := st.Login(ctx, pol, "alice", "dev", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if s.User != "alice" || s.Via != "password" || !s.ExpiresAt.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("session = %+v", s)
	}
	id2, _, err := st.Login(ctx, pol, "alice", "dev", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if id1 == id2 || len(id1) != 43 {
		t.Errorf("ids %q and %q: want two different 256-bit ids", id1, id2)
	}
	if got, err := st.Lookup(ctx, id1); err != nil || got.User != "alice" {
		t.Errorf("Lookup = %+v, %v", got, err)
	}
	// Only the hash of the id is in Redis.
	keys, _ := st.rdb.Keys(ctx, st.base+"*").Result()
	for _, k := range keys {
		if len(k) >= len(id1) && slices.Contains([]string{id1, id2}, k[len(k)-len(id1):]) {
			t.Errorf("key %s holds a session id", k)
		}
	}

	clk.Add(time.Hour)
	if _, err := st.Lookup(ctx, id1); !errors.Is(err, ErrNoSession) {
		t.Errorf("Lookup after the TTL = %v, want ErrNoSession", err)
	}
	clk.Add(-time.Minute)
	if err := st.Delete(ctx, id2); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Lookup(ctx, id2); !errors.Is(err, ErrNoSession) {
		t.Errorf("Lookup after Delete = %v, want ErrNoSession", err)
	}
	// An id the client made up is no session, well-formed or not.
	for _, made := range []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x", ""} {
		if _, err := st.Lookup(ctx, made); !errors.Is(err, ErrNoSession) {
			t.Errorf("Lookup(%q) = %v, want ErrNoSession", made, err)
		}
	}
}

func TestLoginRefusals(t *testing.T) {
	ctx := context.Background()
	pol := testPolicy(t, "")
	st, _ := testStore(t)
	for _, c := range []struct{ user, pass string }{
		{"alice", "wrong"}, {"nobody", "dev"}, {"nopass", ""}, {"nopass", "dev"}, {"", ""},
	} {
		if _, _, err := st.Login(ctx, pol, c.user, c.pass, "192.0.2.9"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Login(%q, %q) = %v, want ErrBadCredentials", c.user, c.pass, err)
		}
	}
}

func TestLoginRateLimits(t *testing.T) {
	ctx := context.Background()
	pol := testPolicy(t, "auth: {login_rate: {per_user: 3, per_address: 5, window: 1h}}")
	st, _ := testStore(t)

	// A good password does not count.
	for range 4 {
		if _, _, err := st.Login(ctx, pol, "alice", "dev", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if _, _, err := st.Login(ctx, pol, "alice", "guess", "192.0.2."+string(rune('1'+i))); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// Per user: the fourth attempt is refused, even with the password,
	// from anywhere.
	_, _, err := st.Login(ctx, pol, "alice", "dev", "198.51.100.7")
	var rl *RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter <= 50*time.Minute {
		t.Fatalf("4th attempt = %v, want rate limited for about an hour", err)
	}
	// Per address: five failures from one address over other names block
	// that address, not others.
	for _, u := range []string{"a", "b", "c", "d", "e"} {
		if _, _, err := st.Login(ctx, pol, u, "x", "203.0.113.5"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("%s: %v", u, err)
		}
	}
	if _, _, err := st.Login(ctx, pol, "root", "dev", "203.0.113.5"); !errors.As(err, &rl) {
		t.Errorf("6th attempt from the address = %v, want rate limited", err)
	}
	if _, _, err := st.Login(ctx, pol, "root", "dev", "203.0.113.6"); err != nil {
		t.Errorf("from another address: %v", err)
	}
}

func TestTokens(t *testing.T) {
	pol := testPolicy(t, "")
	for _, c := range []struct {
		tok        string
		ok         bool
		name       string
		read, writ bool
		admin      bool
	}{
		{"flat-token", true, "", true, true, true},
		{"read-token", true, "alice", true, false, false},
		{"ingest-token", true, "", false, false, false},
		{"nope", false, "", false, false, false},
		{"", false, "", false, false, false},
	} {
		p, ok := pol.Token(c.tok)
		if ok != c.ok || p.Name != c.name || p.Has(config.ScopeRead) != c.read || p.Has(config.ScopeWrite) != c.writ || p.Has(config.ScopeAdmin) != c.admin {
			t.Errorf("Token(%q) = %+v, %v", c.tok, p, ok)
		}
	}
	if p, _ := pol.Token("read-token"); p.Actor() != "user:alice" {
		t.Errorf("actor = %q", p.Actor())
	}
	if p, _ := pol.Token("flat-token"); p.Actor() != "api" {
		t.Errorf("actor = %q", p.Actor())
	}
	if p, _ := pol.Person(KindSession, "root"); !p.Has(config.ScopeAdmin) {
		t.Errorf("admin user lacks admin")
	}
	if p, _ := pol.Person(KindSession, "alice"); p.Has(config.ScopeAdmin) || !p.Has(config.ScopeWrite) {
		t.Errorf("alice = %+v", p)
	}
}

func TestProxyHeader(t *testing.T) {
	pol := testPolicy(t, "auth: {proxy_header: X-Forwarded-User, trusted_proxies: [10.0.0.0/8]}")
	for _, c := range []struct {
		remote, user string
		found, known bool
		wantUser     string
	}{
		{"10.1.2.3:5555", "alice", true, true, "alice"},
		{"10.1.2.3:5555", "mallory", true, false, "mallory"},
		{"192.0.2.1:5555", "alice", false, false, ""}, // not a trusted proxy: ignored
		{"10.1.2.3:5555", "", false, false, ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.user != "" {
			r.Header.Set("X-Forwarded-User", c.user)
		}
		u, found, known := pol.ProxyUser(r)
		if u != c.wantUser || found != c.found || known != c.known {
			t.Errorf("%s %q: got %q %v %v", c.remote, c.user, u, found, known)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.0.0.2")
	if got := pol.ClientAddr(r); got != "203.0.113.9" {
		t.Errorf("ClientAddr behind proxies = %s, want 203.0.113.9", got)
	}
	r.RemoteAddr = "192.0.2.50:1" // not a proxy: its X-Forwarded-For is not believed
	if got := pol.ClientAddr(r); got != "192.0.2.50" {
		t.Errorf("ClientAddr = %s, want 192.0.2.50", got)
	}
	r.RemoteAddr = "[2001:db8:1:2:3::4]:1"
	if got := pol.ClientAddr(r); got != "2001:db8:1:2::/64" {
		t.Errorf("ClientAddr v6 = %s", got)
	}
}

func TestCSRF(t *testing.T) {
	id := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	tok := CSRFToken(id)
	if !CheckCSRF(id, tok) || CheckCSRF(id, "") || CheckCSRF(id, tok[:len(tok)-1]+"x") || CheckCSRF("B"+id[1:], tok) {
		t.Error("CSRF check accepts a wrong token or refuses the right one")
	}
	n := LoginNonce()
	if !CheckLoginFormToken(n, LoginFormToken(n)) || CheckLoginFormToken("", LoginFormToken("")) || CheckLoginFormToken(LoginNonce(), LoginFormToken(n)) {
		t.Error("login form token check wrong")
	}
}

func TestCookie(t *testing.T) {
	s := Session{CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	c := testPolicy(t, "").SessionCookieFor("id", s)
	if c.Name != SessionCookie || !c.HttpOnly || !c.Secure || c.SameSite != 2 || c.Path != "/" || c.MaxAge != 3600 {
		t.Errorf("cookie = %+v", c)
	}
}
