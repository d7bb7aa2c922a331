package config

import (
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"
)

// Access to alertgate (docs/access.md): people log in as the users of the
// config (users[].password_hash), or are named by a trusted proxy's header;
// programs send API tokens. This file holds the config side of it; package
// auth enforces it.

// The scopes of an API token.
const (
	// ScopeIngest is reserved for sending alerts with an API token; no
	// /api/v1 endpoint takes it yet (senders use integration tokens).
	ScopeIngest = "ingest"
	// ScopeRead reads incidents, on-call, silences, the outbox.
	ScopeRead = "read"
	// ScopeWrite acts: acknowledge, resolve, notes, silences, overrides. It
	// includes read.
	ScopeWrite = "write"
	// ScopeAdmin includes every other scope, and lets an ownerless token
	// name the actor of an action in the request body.
	ScopeAdmin = "admin"
)

// Scopes lists every scope, in the order of the docs.
var Scopes = []string{ScopeIngest, ScopeRead, ScopeWrite, ScopeAdmin}

// APIToken is one entry of api.tokens written as a mapping, with scopes and
// an owner. Entries written as plain strings stay in API.Tokens: they have
// full access and no owner, as they always had.
type APIToken struct {
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// Scopes limit what the token may do (ScopeIngest …); required.
	Scopes []string `yaml:"scopes"`
	// Owner, a user id, is who the timeline shows acting with the token.
	// Empty: "api".
	Owner string `yaml:"owner"`

	// at is the entry's index in api.tokens, for the problems' paths.
	at int
}

// Path is where the entry stands in the file: "api.tokens[N]".
func (t APIToken) Path() string { return "api.tokens[" + strconv.Itoa(t.at) + "]" }

// Auth configures logins and sessions.
type Auth struct {
	// ProxyHeader, when set, names the header in which an authenticating
	// reverse proxy (oauth2-proxy, Authelia, …) passes the id of the user
	// it logged in. It is believed only from TrustedProxies.
	ProxyHeader string `yaml:"proxy_header"`
	// TrustedProxies are the addresses (CIDR prefixes or single IPs) whose
	// ProxyHeader and X-Forwarded-For are believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// SessionTTL is how long a login lasts, from the login (not extended
	// by use). Default 12h.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// LoginRate bounds login attempts.
	LoginRate LoginRate `yaml:"login_rate"`
}

// LoginRate bounds the login attempts per user name and per client address
// in each Window; Redis counts them for every replica. Successful logins
// do not count.
type LoginRate struct {
	// PerUser attempts per user name in a window. Default 10.
	PerUser int `yaml:"per_user"`
	// PerAddress attempts per client address in a window. Default 50.
	PerAddress int `yaml:"per_address"`
	// Window is how long a count lasts from its first attempt. Default 15m.
	Window time.Duration `yaml:"window"`
}

// Defaults of auth, applied where a field is zero (SessionTTL …).
const (
	DefaultSessionTTL       = 12 * time.Hour
	DefaultLoginPerUser     = 10
	DefaultLoginPerAddress  = 50
	DefaultLoginWindow      = 15 * time.Minute
	minSessionTTL           = time.Minute
	MinBcryptCost           = 10
	maxProxyHeaderLen       = 64
	maxLoginRate            = 1_000_000
	minLoginWindow          = time.Second
	defaultProxyHeaderUsage = "X-Forwarded-User"
)

// TTL is SessionTTL or its default.
func (a Auth) TTL() time.Duration {
	if a.SessionTTL > 0 {
		return a.SessionTTL
	}
	return DefaultSessionTTL
}

// Limits are the login limits with the defaults filled in.
func (r LoginRate) Limits() LoginRate {
	if r.PerUser == 0 {
		r.PerUser = DefaultLoginPerUser
	}
	if r.PerAddress == 0 {
		r.PerAddress = DefaultLoginPerAddress
	}
	if r.Window == 0 {
		r.Window = DefaultLoginWindow
	}
	return r
}

// Proxies parses TrustedProxies (valid after Validate; bad entries are
// skipped).
func (a Auth) Proxies() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range a.TrustedProxies {
		if p, err := parseProxy(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

var apiType = reflect.TypeFor[API]()

// decodeAPI decodes the api block. An api.tokens entry may be a string
// (API.Tokens) or a mapping (API.ScopedTokens); the loader's generic
// decoding knows one Go type per YAML value, so the mappings are taken
// out of the list before it decodes the rest.
func (l *loader) decodeAPI(n *yaml.Node, v reflect.Value, path string) {
	api := v.Addr().Interface().(*API)
	if n.Kind != yaml.MappingNode {
		l.decodeStruct(n, v, path)
		return
	}
	rest := *n
	rest.Content = slices.Clone(n.Content)
	for i := 0; i+1 < len(rest.Content); i += 2 {
		key, seq := rest.Content[i], deref(rest.Content[i+1])
		if key.Kind != yaml.ScalarNode || key.Value != "tokens" || seq.Kind != yaml.SequenceNode {
			continue
		}
		plain := *seq
		plain.Content = nil
		for at, item := range seq.Content {
			if deref(item).Kind != yaml.MappingNode {
				plain.Content = append(plain.Content, item)
				continue
			}
			t := APIToken{at: at}
			l.decode(item, reflect.ValueOf(&t).Elem(), fieldPath(path, "tokens")+"["+strconv.Itoa(at)+"]", item.Line)
			api.ScopedTokens = append(api.ScopedTokens, t)
		}
		rest.Content[i+1] = &plain
	}
	l.decodeStruct(&rest, v, path)
}

// readAccessSecrets reads the token_file and password_hash_file twins.
func (l *loader) readAccessSecrets(c *Config, configPath string) {
	dir := filepath.Dir(configPath)
	for i := range c.API.ScopedTokens {
		t := &c.API.ScopedTokens[i]
		l.readSecret(&t.Token, t.TokenFile, t.Path()+".token", dir)
	}
	for i := range c.Users {
		u := &c.Users[i]
		l.readSecret(&u.PasswordHash, u.PasswordHashFile, "users["+strconv.Itoa(i)+"].password_hash", dir)
	}
}

func (c *Config) validateAccess(ps *problems) {
	users := make(map[string]bool, len(c.Users))
	for i := range c.Users {
		u := &c.Users[i]
		users[u.ID] = true
		if u.PasswordHash == "" {
			continue
		}
		p := "users[" + strconv.Itoa(i) + "].password_hash"
		// Never quote the hash: a hash leaks the password to whoever can
		// run a dictionary against it.
		cost, err := bcrypt.Cost([]byte(u.PasswordHash.Reveal()))
		switch {
		case err != nil:
			ps.add(p, "is not a bcrypt hash (make one with: alertgate hash-password)")
		case cost < MinBcryptCost:
			ps.add(p, "bcrypt cost %d is below %d: make a new hash with alertgate hash-password", cost, MinBcryptCost)
		}
	}

	seen := make(map[string]string)
	for i, s := range c.API.Tokens {
		if s != "" {
			seen[s.Reveal()] = "api.tokens[" + strconv.Itoa(i) + "]"
		}
	}
	for _, t := range c.API.ScopedTokens {
		p := t.Path()
		switch {
		case t.Token == "":
			ps.add(p+".token", "required (token or token_file)")
		default:
			if first, dup := seen[t.Token.Reveal()]; dup {
				ps.add(p+".token", "the same token as %s: each token needs its own value", first)
			}
			seen[t.Token.Reveal()] = p
		}
		if len(t.Scopes) == 0 {
			ps.add(p+".scopes", "at least one scope is required: %s", strings.Join(Scopes, ", "))
		}
		have := make(map[string]bool)
		for j, s := range t.Scopes {
			sp := p + ".scopes[" + strconv.Itoa(j) + "]"
			switch {
			case !slices.Contains(Scopes, s):
				ps.add(sp, "%q is not a scope: one of %s", s, strings.Join(Scopes, ", "))
			case have[s]:
				ps.add(sp, "%q is listed twice", s)
			}
			have[s] = true
		}
		if t.Owner != "" && !users[t.Owner] {
			ps.add(p+".owner", "no user %q (an owner is one of users[].id)", t.Owner)
		}
	}

	a := &c.Auth
	if h := a.ProxyHeader; h != "" {
		if len(h) > maxProxyHeaderLen || !isHeaderName(h) {
			ps.add("auth.proxy_header", "%q is not a header name (such as %s)", h, defaultProxyHeaderUsage)
		}
		if len(a.TrustedProxies) == 0 {
			ps.add("auth.trusted_proxies", "required with proxy_header: without it anyone could send the header")
		}
		if strings.EqualFold(h, "Authorization") || strings.EqualFold(h, "Cookie") {
			ps.add("auth.proxy_header", "%s cannot name the user", h)
		}
	}
	for i, s := range a.TrustedProxies {
		if _, err := parseProxy(s); err != nil {
			ps.add("auth.trusted_proxies["+strconv.Itoa(i)+"]", "%q is not an IP address or CIDR prefix (such as 10.0.0.0/8)", s)
		}
	}
	if a.SessionTTL != 0 && a.SessionTTL < minSessionTTL {
		ps.add("auth.session_ttl", "must be at least %s", minSessionTTL)
	}
	r := a.LoginRate
	for _, f := range []struct {
		name string
		n    int
	}{{"per_user", r.PerUser}, {"per_address", r.PerAddress}} {
		if f.n < 0 || f.n > maxLoginRate {
			ps.add("auth.login_rate."+f.name, "must be from 1 to %d (0 or absent: the default)", maxLoginRate)
		}
	}
	if r.Window != 0 && r.Window < minLoginWindow {
		ps.add("auth.login_rate.window", "must be at least %s", minLoginWindow)
	}
}
