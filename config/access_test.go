package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Hashes of "dev" at cost 10 and 4.
const (
	hashCost10 = "$2a$10$MtoYkBQd2zjGSL0EtfGpAua5Q858rALLpeDxkuxpca.seJHQvMITG"
	hashCost4  = "$2a$04$hKH9kTtWhZAp3bUlSCbs2./dtNtuzVRUwLD4sWP7MlZUNTW0NiaxW"
)

const accessBase = `
listen: ":8080"
users:
  - id: alice
    password_hash: ` + hashCost10 + `
    admin: true
    contacts: [{notifier: console, address: alice}]
  - id: bob
    contacts: [{notifier: console, address: bob}]
`

func TestAPITokensPlainAndScoped(t *testing.T) {
	c, err := LoadEnv([]byte(accessBase+`
api:
  tokens:
    - plain-token
    - token: ${SCOPED}
      scopes: [read, write]
      owner: alice
    - plain-two
    - token: ingest-only
      scopes: [ingest]
`), "cfg.yaml", getenvFrom(map[string]string{"SCOPED": "scoped-from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := revealAll(c.API.Tokens), []string{"plain-token", "plain-two"}; !slices.Equal(got, want) {
		t.Errorf("plain tokens = %q, want %q", got, want)
	}
	if len(c.API.ScopedTokens) != 2 {
		t.Fatalf("scoped tokens = %d, want 2", len(c.API.ScopedTokens))
	}
	s := c.API.ScopedTokens[0]
	if s.Token.Reveal() != "scoped-from-env" || !slices.Equal(s.Scopes, []string{"read", "write"}) || s.Owner != "alice" || s.Path() != "api.tokens[1]" {
		t.Errorf("scoped[0] = %+v (%s)", s, s.Path())
	}
	if p := c.API.ScopedTokens[1].Path(); p != "api.tokens[3]" {
		t.Errorf("scoped[1] path = %s, want api.tokens[3]", p)
	}
	if c.Users[0].PasswordHash.Reveal() != hashCost10 || !c.Users[0].Admin {
		t.Errorf("alice: hash or admin not loaded")
	}
	if c.Auth.TTL() != 12*time.Hour || c.Auth.LoginRate.Limits() != (LoginRate{PerUser: 10, PerAddress: 50, Window: 15 * time.Minute}) {
		t.Errorf("defaults: ttl %s, rate %+v", c.Auth.TTL(), c.Auth.LoginRate.Limits())
	}
}

func TestAccessFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "tok", "scoped-from-file\n")
	writeFile(t, dir, "hash", hashCost10+"\n")
	cfg := writeFile(t, dir, "cfg.yaml", `
listen: ":8080"
users:
  - id: alice
    password_hash_file: hash
    contacts: [{notifier: console, address: alice}]
api:
  tokens:
    - token_file: tok
      scopes: [read]
`)
	c, err := LoadFileEnv(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.API.ScopedTokens[0].Token.Reveal() != "scoped-from-file" || c.Users[0].PasswordHash.Reveal() != hashCost10 {
		t.Errorf("files not read: %q", c.API.ScopedTokens[0].Token.Reveal())
	}
}

func TestAccessProblems(t *testing.T) {
	for name, tc := range map[string]struct {
		yaml string
		want []string
	}{
		"bad hash": {`
  - id: carol
    password_hash: not-a-hash
    contacts: [{notifier: console, address: c}]
`, []string{`:12: users[2].password_hash: is not a bcrypt hash (make one with: alertgate hash-password)`}},
		"low cost": {`
  - id: carol
    password_hash: ` + hashCost4 + `
    contacts: [{notifier: console, address: c}]
`, []string{`:12: users[2].password_hash: bcrypt cost 4 is below 10`}},
		"token problems": {`
api:
  tokens:
    - shared
    - token: shared
      scopes: [read, read, root]
      owner: mallory
    - scopes: []
`, []string{
			`:14: api.tokens[1].token: the same token as api.tokens[0]`,
			`:15: api.tokens[1].scopes[1]: "read" is listed twice`,
			`:15: api.tokens[1].scopes[2]: "root" is not a scope: one of ingest, read, write, admin`,
			`:16: api.tokens[1].owner: no user "mallory"`,
			`:17: api.tokens[2].token: required (token or token_file)`,
			`:17: api.tokens[2].scopes: at least one scope is required`,
		}},
		"token unknown field": {`
api:
  tokens:
    - token: x
      scope: [read]
`, []string{`:14: api.tokens[0].scope: unknown field (did you mean "scopes"?)`}},
		"auth problems": {`
auth:
  proxy_header: "X Forwarded"
  trusted_proxies: [10.0.0.0/8, "not-an-ip"]
  session_ttl: 1s
  login_rate: {per_user: -1, window: 1ms}
`, []string{
			`:12: auth.proxy_header: "X Forwarded" is not a header name`,
			`:13: auth.trusted_proxies[1]: "not-an-ip" is not an IP address or CIDR prefix`,
			`:14: auth.session_ttl: must be at least 1m0s`,
			`:15: auth.login_rate.per_user: must be from 1 to`,
			`:15: auth.login_rate.window: must be at least 1s`,
		}},
		"proxy without trusted": {`
auth:
  proxy_header: X-Forwarded-User
`, []string{`auth.trusted_proxies: required with proxy_header`}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load([]byte(accessBase+tc.yaml), "cfg.yaml")
			if err == nil {
				t.Fatal("loaded, want problems")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "$2a$") {
				t.Errorf("error shows a hash:\n%v", err)
			}
		})
	}
}

func TestProxies(t *testing.T) {
	a := Auth{TrustedProxies: []string{"10.0.0.0/8", "127.0.0.1", "::1", "192.168.1.7/16"}}
	got := a.Proxies()
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	if want := []string{"10.0.0.0/8", "127.0.0.1/32", "::1/128", "192.168.0.0/16"}; !slices.Equal(s, want) {
		t.Errorf("Proxies = %q, want %q", s, want)
	}
}
