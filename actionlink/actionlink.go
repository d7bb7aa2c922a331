// Package actionlink signs and verifies the tokens of the links a page
// carries: acknowledge, resolve and open one incident, for one recipient.
//
// A token is three base64url (unpadded) parts joined by dots:
//
//	<key id>.<claims>.<signature>
//
// The key id is the configured id as written (letters, digits, '-' and
// '_'), so a verifier picks the key without trying them all. The claims are
// a short binary record (version, action, epoch, step, expiry, a random
// nonce, incident id and person; see encodeClaims), and the signature is
// HMAC-SHA256 under that key of a domain string, the key id and the
// claims' text. A link is about 110 characters: short enough for SMS
// fallbacks and for mail clients that wrap long lines.
//
// Keys rotate: the first key signs, every key verifies, so a new key goes
// first and an old one stays listed until its links have expired (the
// TTL). docs/links.md is the user-facing description.
package actionlink

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Action is what a link does.
type Action string

const (
	Acknowledge Action = "acknowledge"
	Resolve     Action = "resolve"
	// Open shows the incident; it changes nothing.
	Open Action = "open"
)

// actionCodes are the actions' one-byte codes in the claims.
var actionCodes = map[Action]byte{Acknowledge: 'a', Resolve: 'r', Open: 'o'}

func actionOf(code byte) (Action, bool) {
	for a, c := range actionCodes {
		if c == code {
			return a, true
		}
	}
	return "", false
}

// Claims are what a token binds.
type Claims struct {
	Incident string
	Action   Action
	// User is who acts: the paged person's id, or "#<notifier>" for a page
	// to a channel.
	User string
	// Epoch is the incident's escalation epoch the page was sent in: a
	// link of an earlier epoch is superseded. Step is the escalation step
	// (1-based, 0 for none), kept for the record.
	Epoch int
	Step  int
	// Expires is when the token stops working (whole seconds).
	Expires time.Time
	// Nonce makes the token usable once (NonceSize random bytes,
	// base64url in Nonce).
	Nonce string
}

// Errors of Verify. Each is a client's problem, never ours.
var (
	// ErrMalformed: not a token at all, or one altered so that it no
	// longer parses.
	ErrMalformed = errors.New("actionlink: malformed token")
	// ErrUnknownKey: signed with a key this server does not have (removed
	// by rotation, or never ours).
	ErrUnknownKey = errors.New("actionlink: unknown key id")
	// ErrBadSignature: well formed, but the signature does not match:
	// tampered with, or forged.
	ErrBadSignature = errors.New("actionlink: bad signature")
	// ErrExpired: genuine, but past its expiry.
	ErrExpired = errors.New("actionlink: expired")
)

// Key is one signing key.
type Key struct {
	ID     string
	Secret []byte
}

// MinSecret is the shortest secret a key may have (32 bytes: the HMAC's
// own size, so the key is never the weak part).
const MinSecret = 32

// MaxKeyID bounds a key id; ids travel in every link.
const MaxKeyID = 32

// NonceSize is the nonce's length in bytes: 96 random bits, far beyond
// guessing and collisions.
const NonceSize = 12

// maxField bounds the incident id and the person in a token, so no token
// (or hostile input) is large.
const maxField = 128

// claimsVersion is the first byte of the claims: a later format gets
// another, and old tokens fail as malformed instead of being misread.
const claimsVersion = 1

// signDomain keeps this package's MACs apart from any other use of the
// same secret.
const signDomain = "alertgate action link v1\x00"

// formDomain derives the key of form tokens (FormToken) from a signing key.
const formDomain = "alertgate action link form v1\x00"

// Signer signs and verifies tokens.
type Signer struct {
	keys []Key
	byID map[string][]byte
	ttl  time.Duration
	now  func() time.Time
}

// NewSigner returns a signer whose first key signs and all keys verify.
// now is the clock (time.Now when nil).
func NewSigner(keys []Key, ttl time.Duration, now func() time.Time) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("actionlink: no keys")
	}
	if ttl <= 0 {
		return nil, errors.New("actionlink: ttl must be positive")
	}
	if now == nil {
		now = time.Now
	}
	s := &Signer{ttl: ttl, now: now, byID: make(map[string][]byte, len(keys))}
	for _, k := range keys {
		if !ValidKeyID(k.ID) {
			return nil, fmt.Errorf("actionlink: key id %q: use 1 to %d letters, digits, '-' or '_'", k.ID, MaxKeyID)
		}
		if len(k.Secret) < MinSecret {
			return nil, fmt.Errorf("actionlink: key %s: secret shorter than %d bytes", k.ID, MinSecret)
		}
		if _, dup := s.byID[k.ID]; dup {
			return nil, fmt.Errorf("actionlink: duplicate key id %q", k.ID)
		}
		secret := append([]byte(nil), k.Secret...)
		s.byID[k.ID] = secret
		s.keys = append(s.keys, Key{ID: k.ID, Secret: secret})
	}
	return s, nil
}

// ValidKeyID reports whether id may name a key: it goes into URLs as is.
func ValidKeyID(id string) bool {
	if id == "" || len(id) > MaxKeyID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// TTL is how long a new token works.
func (s *Signer) TTL() time.Duration { return s.ttl }

// Now is the signer's clock.
func (s *Signer) Now() time.Time { return s.now() }

// Sign returns a token for c. A zero Expires becomes now + TTL and an
// empty Nonce a fresh random one.
func (s *Signer) Sign(c Claims) (string, error) {
	if _, ok := actionCodes[c.Action]; !ok {
		return "", fmt.Errorf("actionlink: unknown action %q", c.Action)
	}
	if c.Incident == "" || len(c.Incident) > maxField || c.User == "" || len(c.User) > maxField {
		return "", errors.New("actionlink: incident and user must be 1 to 128 bytes")
	}
	if c.Epoch < 0 || c.Step < 0 {
		return "", errors.New("actionlink: negative epoch or step")
	}
	if c.Expires.IsZero() {
		c.Expires = s.now().Add(s.ttl)
	}
	if c.Nonce == "" {
		c.Nonce = NewNonce()
	}
	nonce, err := base64.RawURLEncoding.DecodeString(c.Nonce)
	if err != nil || len(nonce) != NonceSize {
		return "", errors.New("actionlink: nonce must be NonceSize bytes, base64url")
	}
	k := s.keys[0]
	body := k.ID + "." + base64.RawURLEncoding.EncodeToString(encodeClaims(c, nonce))
	return body + "." + base64.RawURLEncoding.EncodeToString(mac(k.Secret, body)), nil
}

// NewNonce returns a fresh random nonce.
func NewNonce() string {
	b := make([]byte, NonceSize)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxToken bounds what Verify looks at; real tokens are far shorter.
const maxToken = 1024

// Verify checks a token and returns its claims. Its errors are ErrMalformed,
// ErrUnknownKey, ErrBadSignature and ErrExpired; the claims are returned
// with ErrExpired too (they are genuine), and are zero otherwise.
func (s *Signer) Verify(token string) (Claims, error) {
	if len(token) > maxToken {
		return Claims{}, ErrMalformed
	}
	id, rest, ok := strings.Cut(token, ".")
	if !ok {
		return Claims{}, ErrMalformed
	}
	payload, sig64, ok := strings.Cut(rest, ".")
	if !ok || !ValidKeyID(id) || strings.Contains(sig64, ".") {
		return Claims{}, ErrMalformed
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sig64)
	if err != nil || len(sig) != sha256.Size {
		return Claims{}, ErrMalformed
	}
	secret, ok := s.byID[id]
	if !ok {
		return Claims{}, ErrUnknownKey
	}
	if !hmac.Equal(sig, mac(secret, id+"."+payload)) {
		return Claims{}, ErrBadSignature
	}
	// Signed by us: the claims parse unless the format changed.
	c, err := decodeClaims(raw)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	if !s.now().Before(c.Expires) {
		return c, ErrExpired
	}
	return c, nil
}

// FormToken returns the value of the hidden field that a link's
// confirmation form must send back with the POST: an HMAC of the token
// under a key derived from the key that signed it. A scanner or an
// unfurler that POSTs the link without having loaded (and parsed) the page
// cannot know it. "" when the token's key is unknown.
func (s *Signer) FormToken(token string) string {
	id, _, _ := strings.Cut(token, ".")
	secret, ok := s.byID[id]
	if !ok {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(mac(mac(secret, formDomain), token))
}

// CheckFormToken reports whether field is token's form token (constant time).
func (s *Signer) CheckFormToken(token, field string) bool {
	want := s.FormToken(token)
	return want != "" && hmac.Equal([]byte(field), []byte(want))
}

func mac(secret []byte, body string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(signDomain))
	h.Write([]byte(body))
	return h.Sum(nil)
}

// encodeClaims writes the claims record: version, action code, then
// uvarints epoch, step and expiry (Unix seconds), the nonce's bytes, and
// the incident id and person, each a uvarint length and the bytes.
func encodeClaims(c Claims, nonce []byte) []byte {
	b := make([]byte, 0, 32+len(c.Incident)+len(c.User))
	b = append(b, claimsVersion, actionCodes[c.Action])
	b = binary.AppendUvarint(b, uint64(c.Epoch))
	b = binary.AppendUvarint(b, uint64(c.Step))
	b = binary.AppendUvarint(b, uint64(max(c.Expires.Unix(), 0)))
	b = append(b, nonce...)
	b = appendString(b, c.Incident)
	b = appendString(b, c.User)
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// maxCount bounds epoch and step when decoding, so they fit an int
// everywhere (and in Lua's doubles).
const maxCount = 1 << 31

// maxExpiry bounds the expiry (year 9999), so time arithmetic never
// overflows.
const maxExpiry = 253402300799

func decodeClaims(b []byte) (Claims, error) {
	r := reader{b: b}
	if r.byte() != claimsVersion {
		return Claims{}, ErrMalformed
	}
	action, ok := actionOf(r.byte())
	epoch, step, expiry := r.uvarint(), r.uvarint(), r.uvarint()
	nonce := r.bytes(NonceSize)
	incident := r.str()
	user := r.str()
	if r.bad || len(r.b) != 0 || !ok || epoch >= maxCount || step >= maxCount || expiry > maxExpiry ||
		incident == "" || user == "" {
		return Claims{}, ErrMalformed
	}
	return Claims{
		Incident: incident, Action: action, User: user, Epoch: int(epoch), Step: int(step),
		Expires: time.Unix(int64(expiry), 0).UTC(), Nonce: base64.RawURLEncoding.EncodeToString(nonce),
	}, nil
}

// reader reads the claims record; any short read sets bad.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) str() string {
	n := r.uvarint()
	if n > maxField {
		r.bad = true
		r.b = nil
		return ""
	}
	return string(r.bytes(int(n)))
}
