package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/internal/redisx"
)

// Sessions live under their own hash tag, so the login script's keys share
// a cluster slot:
//
//	<prefix>:v1:{sessions}:session:<sha256 of the id>  JSON of a Session, expiring with it
//	<prefix>:v1:{sessions}:login:user:<sha256 of the name>  failed-attempt count
//	<prefix>:v1:{sessions}:login:addr:<address>           failed-attempt count
//
// Only the hash of a session id is stored: whoever reads Redis cannot take
// over a session.

// KeyBase is the start of every key of the store under prefix.
func KeyBase(prefix string) string { return prefix + ":" + redisx.Version + ":{sessions}:" }

// Errors of Login and Lookup.
var (
	// ErrBadCredentials: an unknown user or a wrong password (never said
	// which).
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrNoSession: no such session, or it expired.
	ErrNoSession = errors.New("no such session")
)

// RateLimitedError refuses a login attempt past auth.login_rate.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many login attempts; try again in %s", e.RetryAfter.Round(time.Second))
}

// Session is one login.
type Session struct {
	User string `json:"user"`
	// Via is "password" or "proxy".
	Via       string    `json:"via"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Options tune a Store.
type Options struct {
	// Now is the store's clock (session expiry); time.Now if nil.
	Now func() time.Time
}

// Store keeps sessions and login counters in Redis. It is safe for
// concurrent use.
type Store struct {
	rdb  redis.UniversalClient
	base string
	now  func() time.Time
}

// NewStore returns the store of the deployment whose keys start with prefix.
func NewStore(rdb redis.UniversalClient, prefix string, opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{rdb: rdb, base: KeyBase(prefix), now: opts.Now}
}

// idBytes is the size of a session id: 256 random bits.
const idBytes = 32

// maxUserLen and maxPasswordLen bound what a login form may send.
const (
	maxUserLen     = 128
	maxPasswordLen = 1024
)

func (s *Store) sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return s.base + "session:" + hex.EncodeToString(sum[:])
}

func (s *Store) userKey(user string) string {
	sum := sha256.Sum256([]byte(user))
	return s.base + "login:user:" + hex.EncodeToString(sum[:16])
}

func (s *Store) addrKey(addr string) string { return s.base + "login:addr:" + addr }

// Login checks user's password and opens a new session: a new id every
// time, whatever cookie the browser sent, so a session id planted before
// the login is never the one after it. addr is the client address
// (Policy.ClientAddr) the attempt counts against besides the user name.
func (s *Store) Login(ctx context.Context, p *Policy, user, password, addr string) (id string, _ Session, err error) {
	if len(user) > maxUserLen || len(password) > maxPasswordLen {
		return "", Session{}, ErrBadCredentials
	}
	keys := []string{s.userKey(user), s.addrKey(addr)}
	res, err := reserveScript.Run(ctx, s.rdb, keys, p.rate.PerUser, p.rate.PerAddress, p.rate.Window.Milliseconds()).Int64Slice()
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: counting the login: %w", err)
	}
	if res[0] == 0 {
		return "", Session{}, &RateLimitedError{RetryAfter: max(time.Duration(res[1])*time.Millisecond, time.Second)}
	}
	if !p.checkPassword(user, password) {
		return "", Session{}, ErrBadCredentials
	}
	// A good password does not count against the limits.
	if err := refundScript.Run(ctx, s.rdb, keys).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return "", Session{}, fmt.Errorf("auth: counting the login: %w", err)
	}
	return s.Create(ctx, user, "password", p.ttl)
}

// reserveScript counts one login attempt, or refuses it.
// KEYS: user counter, address counter. ARGV: the user limit, the address
// limit, the window in ms. Returns {1, 0} when counted, {0, ms until the
// full counter ends} when a counter is full. Counting before the password
// is checked (and refunding a good one) bounds the attempts in flight at
// once too.
var reserveScript = redis.NewScript(`
for i = 1, 2 do
  local n = tonumber(redis.call('GET', KEYS[i]) or '0')
  if n >= tonumber(ARGV[i]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[3]); ttl = tonumber(ARGV[3]) end
    return {0, ttl}
  end
end
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
end
return {1, 0}
`)

// refundScript takes back one counted attempt. KEYS: as reserveScript.
var refundScript = redis.NewScript(`
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
`)

// Create opens a session for user (who logged in by via) lasting ttl and
// returns its id, which only the client gets.
func (s *Store) Create(ctx context.Context, user, via string, ttl time.Duration) (string, Session, error) {
	var b [idBytes]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now()
	sess := Session{User: user, Via: via, CreatedAt: now.UTC(), ExpiresAt: now.Add(ttl).UTC()}
	js, err := json.Marshal(sess)
	if err != nil {
		return "", Session{}, err
	}
	ok, err := s.rdb.SetNX(ctx, s.sessionKey(id), js, ttl).Result()
	switch {
	case err != nil:
		return "", Session{}, fmt.Errorf("auth: storing the session: %w", err)
	case !ok:
		return "", Session{}, errors.New("auth: session id collision") // 2^-256: a broken random source
	}
	return id, sess, nil
}

// Lookup returns the session of id. A malformed, unknown or expired id is
// ErrNoSession.
func (s *Store) Lookup(ctx context.Context, id string) (Session, error) {
	if !wellFormed(id) {
		return Session{}, ErrNoSession
	}
	js, err := s.rdb.Get(ctx, s.sessionKey(id)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return Session{}, ErrNoSession
	case err != nil:
		return Session{}, fmt.Errorf("auth: reading the session: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(js, &sess); err != nil {
		return Session{}, ErrNoSession
	}
	// Redis expires the key as well; the check here holds with a clock
	// that is not Redis's (and between the deadline and the expiry).
	if !s.now().Before(sess.ExpiresAt) {
		return Session{}, ErrNoSession
	}
	return sess, nil
}

// Delete ends the session of id (logout). An unknown id is no error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !wellFormed(id) {
		return nil
	}
	if err := s.rdb.Del(ctx, s.sessionKey(id)).Err(); err != nil {
		return fmt.Errorf("auth: deleting the session: %w", err)
	}
	return nil
}

// wellFormed reports whether id looks like one Create makes, so that
// junk is refused before Redis is asked.
func wellFormed(id string) bool {
	if len(id) != base64.RawURLEncoding.EncodedLen(idBytes) {
		return false
	}
	return strings.IndexFunc(id, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}) < 0
}

// CSRFToken is the token the forms of session id carry: an HMAC keyed by
// the session id, which only the client's cookie holds, so another site
// can neither read nor forge it, and no server state is needed.
func CSRFToken(id string) string {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("alertgate csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether token is session id's CSRF token.
func CheckCSRF(id, token string) bool {
	return token != "" && hmac.Equal([]byte(CSRFToken(id)), []byte(token))
}

// LoginNonce and the login form's token guard the login form itself
// (login CSRF: another site logging the browser in as someone else).
// The nonce goes in a short-lived cookie, the token in the form.
func LoginNonce() string { return rand.Text() }

// LoginFormToken is the login form's token for nonce.
func LoginFormToken(nonce string) string {
	m := hmac.New(sha256.New, []byte(nonce))
	m.Write([]byte("alertgate login v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckLoginFormToken reports whether token is nonce's login form token.
func CheckLoginFormToken(nonce, token string) bool {
	return nonce != "" && token != "" && hmac.Equal([]byte(LoginFormToken(nonce)), []byte(token))
}
