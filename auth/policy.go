package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/alertgate/alertgate/config"
)

// Policy is one config's access rules. It is immutable; a reload builds a
// new one (snapshot.Build).
type Policy struct {
	tokens      []apiToken
	users       map[string]account
	proxyHeader string
	proxies     []netip.Prefix
	ttl         time.Duration
	rate        config.LoginRate
	secure      bool
	dummyCost   int
}

type apiToken struct {
	secret config.Secret
	scopes []string
	owner  string
}

type account struct {
	hash  []byte // nil: the user cannot log in with a password
	admin bool
}

// NewPolicy compiles the access rules of a validated config.
func NewPolicy(cfg *config.Config) *Policy {
	p := &Policy{
		users:       make(map[string]account, len(cfg.Users)),
		proxyHeader: cfg.Auth.ProxyHeader,
		proxies:     cfg.Auth.Proxies(),
		ttl:         cfg.Auth.TTL(),
		rate:        cfg.Auth.LoginRate.Limits(),
		dummyCost:   defaultCost,
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme == "https" {
		p.secure = true
	}
	for _, s := range cfg.API.Tokens {
		p.tokens = append(p.tokens, apiToken{secret: s, scopes: fullAccess})
	}
	for _, t := range cfg.API.ScopedTokens {
		p.tokens = append(p.tokens, apiToken{secret: t.Token, scopes: t.Scopes, owner: t.Owner})
	}
	costSet := false
	for _, u := range cfg.Users {
		a := account{admin: u.Admin}
		if u.PasswordHash != "" {
			a.hash = []byte(u.PasswordHash.Reveal())
			// Unknown users are checked against a dummy hash of the cost
			// the users have, so the time taken does not tell them apart.
			if c, err := bcrypt.Cost(a.hash); err == nil && !costSet {
				p.dummyCost, costSet = c, true
			}
		}
		p.users[u.ID] = a
	}
	if costSet {
		go p.Prepare() // in the background: a reload does not wait for it
	}
	return p
}

// defaultCost is the cost alertgate hash-password uses.
const defaultCost = 12

// SessionTTL is how long a login lasts.
func (p *Policy) SessionTTL() time.Duration { return p.ttl }

// SecureCookies reports whether cookies carry Secure (public_url is https).
func (p *Policy) SecureCookies() bool { return p.secure }

// Token returns the principal of a bearer token, comparing the candidate
// with every token so that the time taken does not tell which matched.
func (p *Policy) Token(candidate string) (Principal, bool) {
	if candidate == "" {
		return Principal{}, false
	}
	match := -1
	for i, t := range p.tokens {
		eq := subtle.ConstantTimeCompare([]byte(t.secret.Reveal()), []byte(candidate))
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return Principal{}, false
	}
	t := p.tokens[match]
	return Principal{Kind: KindToken, Name: t.owner, Scopes: t.scopes}, true
}

// Person returns the principal of a configured user, for a session or
// the proxy header; ok is false for an id the config does not have (any
// more: a session outlives the removal of its user by nothing).
func (p *Policy) Person(kind Kind, id string) (Principal, bool) {
	a, ok := p.users[id]
	if !ok {
		return Principal{}, false
	}
	return Principal{Kind: kind, Name: id, Scopes: personScopes(a.admin)}, true
}

// checkPassword reports whether password is user's. Unknown users and users
// without a hash are checked against a dummy hash, so every attempt takes
// one bcrypt comparison.
func (p *Policy) checkPassword(user, password string) bool {
	a, known := p.users[user]
	hash := a.hash
	if hash == nil {
		hash = dummyHash(p.dummyCost)
		known = false
	}
	ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	return ok && known
}

var dummies sync.Map // cost → hash of a random password nobody knows

func dummyHash(cost int) []byte {
	if h, ok := dummies.Load(cost); ok {
		return h.([]byte)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	if err != nil {
		h, _ = bcrypt.GenerateFromPassword([]byte(rand.Text()), defaultCost)
	}
	actual, _ := dummies.LoadOrStore(cost, h)
	return actual.([]byte)
}

// Prepare computes the dummy hash of unknown-user logins ahead of the
// first one (which would otherwise take one bcrypt longer, and so tell).
// Users' hashes should share one cost: the dummy has the first one's.
func (p *Policy) Prepare() { dummyHash(p.dummyCost) }

// ProxyUser returns the user that the trusted proxy's header names. A
// header from an address outside trusted_proxies is ignored (found is
// false), as is an absent header; a header naming nobody configured is
// found but not ok.
func (p *Policy) ProxyUser(r *http.Request) (user string, found, ok bool) {
	if p.proxyHeader == "" || !p.trusted(remoteIP(r)) {
		return "", false, false
	}
	user = strings.TrimSpace(r.Header.Get(p.proxyHeader))
	if user == "" {
		return "", false, false
	}
	_, ok = p.users[user]
	return user, true, ok
}

// ClientAddr is the address a login is counted against: the connection's
// peer, or behind trusted proxies the nearest X-Forwarded-For hop that is
// not one. IPv6 clients count by /64, what one host usually has.
func (p *Policy) ClientAddr(r *http.Request) string {
	ip := remoteIP(r)
	if p.trusted(ip) {
		hops := r.Header.Values("X-Forwarded-For")
		var all []string
		for _, h := range hops {
			all = append(all, strings.Split(h, ",")...)
		}
		for i := len(all) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(all[i]))
			if err != nil {
				break
			}
			ip = hop.Unmap()
			if !p.trusted(ip) {
				break
			}
		}
	}
	if !ip.IsValid() {
		return "unknown"
	}
	if ip.Is6() {
		pre, _ := ip.Prefix(64)
		return pre.String()
	}
	return ip.String()
}

func (p *Policy) trusted(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	for _, pre := range p.proxies {
		if pre.Contains(ip) {
			return true
		}
	}
	return false
}

func remoteIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}
