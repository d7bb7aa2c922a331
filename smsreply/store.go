// Package smsreply lets people act on incidents by answering the SMS that
// paged them. Each SMS page carries a small reply code ("1": reply "1a" to
// acknowledge, "1r" to resolve); the Store remembers, per phone number,
// which page every live code stands for. ParseReply reads a reply,
// VerifySignature checks that Twilio sent it, and the text helpers word
// the answers. The HTTP handler (httpapi/handle_twilio.go) ties them to
// incident.Service.Act.
//
// # Redis layout
//
// Each phone number has its own hash tag, so every change is one script
// on one Cluster slot and no number's codes can crowd another's:
//
//	N = <prefix>:v1:{sms:<hash of the number>}:   (the hash: SHA-256, 32 hex digits)
//
//	N codes    hash  code ("1".."99") → the page it stands for (JSON:
//	                 id, incident, title, user, epoch, step, notifier,
//	                 key, expires in Unix ms)
//
// A code lives TTL (default 24 h) from when its page was last sent; the
// hash expires with its newest code, and expired codes are dropped by the
// next Assign. The number itself is never stored in the key, only its
// hash; it is in the value of no key either.
package smsreply

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/notify"
)

// DefaultTTL is how long a reply code works after its page was sent:
// as long as an action link.
const DefaultTTL = 24 * time.Hour

// maxTitle bounds the title a code remembers, for the help text.
const maxTitle = 80

// Options configure a Store. Zero values take defaults.
type Options struct {
	// TTL is how long a code works after its page was sent; DefaultTTL
	// if 0.
	TTL time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Store keeps the reply codes of every phone number in Redis. It is safe
// for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	now    func() time.Time
}

// New returns the store of the deployment whose keys start with prefix
// (redis.key_prefix).
func New(rdb redis.UniversalClient, prefix string, o Options) *Store {
	s := &Store{rdb: rdb, prefix: prefix, ttl: cmp.Or(o.TTL, DefaultTTL), now: o.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// TTL is how long a code works after its page was sent.
func (s *Store) TTL() time.Duration { return s.ttl }

// KeyBase is the start of every key of one phone number under prefix,
// hash tag included: "<prefix>:v1:{sms:<hash>}:".
func KeyBase(prefix, number string) string {
	sum := sha256.Sum256([]byte(number))
	return prefix + ":" + redisx.Version + ":{sms:" + hex.EncodeToString(sum[:16]) + "}:"
}

func (s *Store) codesKey(number string) string { return KeyBase(s.prefix, number) + "codes" }

// Assignment is what one live reply code stands for: the page it was
// sent with.
type Assignment struct {
	// Code is the reply code, "1" to "99".
	Code string
	// ID names this assignment of the code: it changes when the code is
	// given to another incident, or to a later epoch of the same one, so
	// a nonce made from it (Nonce) acts once per page run.
	ID       string
	Incident string
	// Title is the incident's title when the page was made, cut short.
	Title    string
	User     string
	Epoch    int
	Step     int
	Notifier string
	// PageKey is the idempotency key of the page the code was last sent
	// with.
	PageKey string
	Expires time.Time
}

// record is an Assignment as Redis keeps it.
type record struct {
	ID       string `json:"id"`
	Incident string `json:"incident"`
	Title    string `json:"title"`
	User     string `json:"user"`
	Epoch    int    `json:"epoch"`
	Step     int    `json:"step"`
	Notifier string `json:"notifier"`
	Key      string `json:"key"`
	Expires  int64  `json:"expires"`
}

func (r record) assignment(code string) Assignment {
	return Assignment{Code: code, ID: r.ID, Incident: r.Incident, Title: r.Title, User: r.User, Epoch: r.Epoch,
		Step: r.Step, Notifier: r.Notifier, PageKey: r.Key, Expires: time.UnixMilli(r.Expires)}
}

// Nonce is the one-time token an action on the assignment's incident
// through this code carries (dedupe.Condition.Nonce): "1a" acts once,
// "1r" once, for one run of the incident's escalation. It is made from
// the number, the code, the assignment and the action, so it names no
// secret and needs none: the sender's number was proven by Twilio's
// signature.
func (a Assignment) Nonce(number string, action dedupe.Action) string {
	sum := sha256.Sum256([]byte("sms\x00" + number + "\x00" + a.Code + "\x00" + a.ID + "\x00" + string(action)))
	return "sms-" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

// assignScript gives a page's number a code for its incident.
//
//	KEYS[1]  N codes
//	H        now (Unix ms), ttl (ms), max (the highest code), key (the
//	         page key), incident, epoch (the page's), id (a fresh
//	         assignment id)
//	ARGV[2]  the page's record JSON, without id and expires
//
// The same page key gets its code back unchanged. A live code of the same
// incident is the incident's code on this number: it moves to the page
// (step, key, a new expiry) and keeps its id while the epoch stays; a
// page of an earlier epoch than the code's gets the code and changes
// nothing. Otherwise the lowest free code is taken; with every code live
// there is none to give (""), rather than take one from another incident
// that an old SMS may still be answered with. Expired codes are dropped
// on the way.
//
// Returns {code, id, outcome}: outcome "same", "moved", "kept", "new" or
// "full" (code and id "").
var assignScript = redisx.NewScript("smsreply: assign", `
local codes = KEYS[1]
local all = redis.call('HGETALL', codes)
local used = {}
local mine, mineCode
for i = 1, #all, 2 do
  local code, a = all[i], cjson.decode(all[i + 1])
  if a.expires <= now then
    redis.call('HDEL', codes, code)
  else
    used[code] = true
    if a.key == H.key then return {code, a.id, 'same'} end
    if a.incident == H.incident then mine, mineCode = a, code end
  end
end
local rec = cjson.decode(ARGV[2])
rec.expires = now + H.ttl
local code, outcome
if mine then
  if H.epoch < mine.epoch then return {mineCode, mine.id, 'kept'} end
  code, outcome = mineCode, 'moved'
  if H.epoch == mine.epoch then rec.id = mine.id else rec.id = H.id end
else
  for n = 1, H.max do
    if not used[tostring(n)] then code = tostring(n) break end
  end
  if not code then return {'', '', 'full'} end
  rec.id, outcome = H.id, 'new'
end
redis.call('HSET', codes, code, cjson.encode(rec))
if redis.call('PTTL', codes) < H.ttl then redis.call('PEXPIRE', codes, H.ttl) end
return {code, rec.id, outcome}
`)

// Assign gives p's number (p.Address) a reply code for p's incident and
// returns it: the code the same page got before, else the incident's live
// code on that number, else the lowest free one. It returns "" when all
// MaxCode codes of the number are live for other incidents: that page
// goes out without one (its links still work).
func (s *Store) Assign(ctx context.Context, p notify.Page) (string, error) {
	if p.Address == "" || p.Incident == "" || p.Key == "" {
		return "", alertgate.Errorf(alertgate.EINVALID, "smsreply: a page needs an address, an incident and a key for a reply code")
	}
	rec, err := json.Marshal(record{Incident: p.Incident, Title: cut(p.Title, maxTitle), User: p.User, Epoch: p.Epoch,
		Step: p.Step, Notifier: p.Notifier, Key: p.Key})
	if err != nil {
		return "", fmt.Errorf("smsreply: assign: %w", err)
	}
	h := redisx.NewObject().Int("now", s.now().UnixMilli()).Int("ttl", s.ttl.Milliseconds()).Int("max", MaxCode).
		Str("key", p.Key).Str("incident", p.Incident).Int("epoch", int64(p.Epoch)).Str("id", redisx.RequestID())
	reply, err := assignScript.Run(ctx, s.rdb, []string{s.codesKey(p.Address)}, h, rec)
	if err != nil {
		return "", err
	}
	r := assignScript.ReadReply(reply, 3)
	code := r.Str(0)
	return code, r.Err()
}

// Lookup returns the live assignment of code on number; ok is false when
// the code is unknown or expired.
func (s *Store) Lookup(ctx context.Context, number, code string) (a Assignment, ok bool, err error) {
	if !validCode(code) {
		return Assignment{}, false, nil
	}
	js, err := s.rdb.HGet(ctx, s.codesKey(number), code).Result()
	if errors.Is(err, redis.Nil) {
		return Assignment{}, false, nil
	}
	if err != nil {
		return Assignment{}, false, redisx.Wrap("smsreply: lookup", err)
	}
	var rec record
	if err := json.Unmarshal([]byte(js), &rec); err != nil {
		return Assignment{}, false, badRecord(err)
	}
	if rec.Expires <= s.now().UnixMilli() {
		return Assignment{}, false, nil
	}
	return rec.assignment(code), true, nil
}

// Live returns number's live assignments, lowest code first.
func (s *Store) Live(ctx context.Context, number string) ([]Assignment, error) {
	all, err := s.rdb.HGetAll(ctx, s.codesKey(number)).Result()
	if err != nil {
		return nil, redisx.Wrap("smsreply: live codes", err)
	}
	now := s.now().UnixMilli()
	out := make([]Assignment, 0, len(all))
	for code, js := range all {
		var rec record
		if err := json.Unmarshal([]byte(js), &rec); err != nil {
			return nil, badRecord(err)
		}
		if rec.Expires > now && validCode(code) {
			out = append(out, rec.assignment(code))
		}
	}
	slices.SortFunc(out, func(a, b Assignment) int { return cmp.Compare(codeNumber(a.Code), codeNumber(b.Code)) })
	return out, nil
}

// Match is what one reply from a number comes to.
type Match struct {
	// Reply is the reply as read; Understood is false when it was not a
	// reply at all (ParseReply failed).
	Reply      Reply
	Understood bool
	// Assignment is the live code the reply acts on: the one it names,
	// or for a bare action the number's only one. Nil when none.
	Assignment *Assignment
	// Live are the number's live codes (not read for a keyword).
	Live []Assignment
}

// Match reads a reply from number and finds the live code it is for.
func (s *Store) Match(ctx context.Context, number, body string) (Match, error) {
	r, ok := ParseReply(body)
	m := Match{Reply: r, Understood: ok}
	if r.Keyword {
		return m, nil
	}
	live, err := s.Live(ctx, number)
	if err != nil {
		return m, err
	}
	m.Live = live
	if !ok {
		return m, nil
	}
	switch {
	case r.Code != "":
		if i := slices.IndexFunc(live, func(a Assignment) bool { return a.Code == r.Code }); i >= 0 {
			m.Assignment = &live[i]
		}
	case len(live) == 1:
		m.Assignment = &live[0]
	}
	return m, nil
}

func codeNumber(code string) int {
	n, _ := strconv.Atoi(code)
	return n
}

func badRecord(err error) error {
	return &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error", Err: fmt.Errorf("smsreply: stored code: %w", err)}
}

// cut shortens s to at most n runes, marking a cut with "…".
func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}
