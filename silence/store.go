package silence

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
)

const (
	// Retention is how long an expired silence is kept after its end, as
	// Alertmanager keeps them: long enough to see what was silenced over a
	// weekend, and to copy one.
	Retention = 5 * 24 * time.Hour
	// MaxLive bounds the silences that have not ended: the engine matches
	// every alert against every one. Create refuses more with ECONFLICT.
	MaxLive = 5000
	// MaxKept bounds the silences kept, expired ones included: past it, a
	// new silence deletes the expired one that ended first, before its
	// Retention is up.
	MaxKept = 2 * MaxLive
	// prunePerChange bounds the silences one change deletes.
	prunePerChange = 100
	// idPrefix starts every silence id.
	idPrefix = "sil-"
	// maxCASTries bounds Expire's read-compare-write rounds: only another
	// expiry of the same silence at the same moment makes one fail.
	maxCASTries = 5
)

// KeyBase is the start of every silence key under prefix (redis.key_prefix),
// hash tag included: "<prefix>:v1:{silences}:".
func KeyBase(prefix string) string { return prefix + ":" + redisx.Version + ":{silences}:" }

// Options tune a Store.
type Options struct {
	// Now is the clock of Create, Expire, Get and List (the state they
	// report); time.Now if nil. Active takes its instant from the caller.
	Now func() time.Time
}

// Store keeps silences in Redis. It is safe for concurrent use.
type Store struct {
	rdb     redis.UniversalClient
	now     func() time.Time
	all     string // hash: id → JSON
	ends    string // zset: id by ends_at
	version string // string: token of the last change

	mu    sync.Mutex
	cache activeCache
}

// activeCache is what Active read last: reused while the version stands.
type activeCache struct {
	version string
	at      time.Time          // the instant it was read for: it holds what had not ended then
	byID    map[string]decoded // id → the JSON read and the silence it decodes to
	list    []Silence          // ordered by start
	invalid []string
}

type decoded struct {
	js string
	s  Silence
	ok bool
}

// NewStore returns the store of the deployment whose keys start with prefix.
func NewStore(rdb redis.UniversalClient, prefix string, opts Options) *Store {
	base := KeyBase(prefix)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{
		rdb:     rdb,
		now:     opts.Now,
		all:     base + "all",
		ends:    base + "ends",
		version: base + "version",
	}
}

func (s *Store) keys() []string { return []string{s.all, s.ends, s.version} }

// Check loads the store's scripts: a start-up check that Redis accepts them.
func (s *Store) Check(ctx context.Context) error {
	for _, sc := range []*redisx.Script{createScript, expireScript, activeScript} {
		if err := sc.Load(ctx, s.rdb); err != nil {
			return err
		}
	}
	return nil
}

// pruneLua deletes the silences that ended at or before H.cutoff, at most
// H.prune of them; KEYS as in the scripts that include it.
const pruneLua = `
local function prune()
  local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', H.cutoff, 'LIMIT', 0, H.prune)
  if #old > 0 then
    redis.call('HDEL', KEYS[1], unpack(old))
    redis.call('ZREM', KEYS[2], unpack(old))
  end
end
`

// createScript stores one new silence.
//
//	KEYS[1]  all (hash)
//	KEYS[2]  ends (zset)
//	KEYS[3]  version
//	H        id, ends_ms (the silence's end), now (Unix ms), cutoff (Unix
//	         ms: silences that ended at or before it are deleted), prune (at
//	         most that many), max_live, max_kept, ver (the new version)
//	ARGV[2]  the silence's JSON
//
// Returns {"ok", live after} | {"exists", live} | {"full", live}, where
// live counts the silences that have not ended.
var createScript = redisx.NewScript("silence: create", pruneLua+`
if redis.call('HEXISTS', KEYS[1], H.id) == 1 then
  return {'exists', redis.call('ZCOUNT', KEYS[2], '(' .. H.now, '+inf')}
end
prune()
local live = redis.call('ZCOUNT', KEYS[2], '(' .. H.now, '+inf')
if live >= H.max_live then return {'full', live} end
local over = redis.call('ZCARD', KEYS[2]) - H.max_kept + 1
if over > 0 then
  local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', H.now, 'LIMIT', 0, math.min(over, H.prune))
  if #old > 0 then
    redis.call('HDEL', KEYS[1], unpack(old))
    redis.call('ZREM', KEYS[2], unpack(old))
  end
end
redis.call('HSET', KEYS[1], H.id, ARGV[2])
redis.call('ZADD', KEYS[2], H.ends_ms, H.id)
redis.call('SET', KEYS[3], H.ver)
return {'ok', live + 1}
`)

// Create stores sl as a new silence and returns it as stored: id set,
// matchers in canonical form, a start in the past (or none) moved to now,
// created_at now, state at now. It checks sl first (prepare); errors are
// EINVALID naming the field. Past MaxLive silences it refuses with
// ECONFLICT.
//
// With an idempotencyKey, the silence's id is derived from it, so a
// client's retry of the same key creates nothing and returns the silence
// the first request made (created false), for as long as it is kept. An
// empty key makes a fresh id.
func (s *Store) Create(ctx context.Context, sl Silence, idempotencyKey string) (_ Silence, created bool, err error) {
	now := s.now()
	if err := sl.prepare(now); err != nil {
		return sl, false, err
	}
	sl.ID = redisx.NewID(idPrefix)
	if idempotencyKey != "" {
		sl.ID = redisx.IDFromKey(idPrefix, "silence", idempotencyKey)
	}
	js, err := json.Marshal(sl)
	if err != nil {
		return sl, false, fmt.Errorf("silence: encode: %w", err)
	}
	h := redisx.NewObject().
		Str("id", sl.ID).
		Int("ends_ms", sl.EndsAt.UnixMilli()).
		Int("now", now.UnixMilli()).
		Int("cutoff", now.Add(-Retention).UnixMilli()).
		Int("prune", prunePerChange).
		Int("max_live", MaxLive).
		Int("max_kept", MaxKept).
		Str("ver", redisx.RequestID())
	reply, err := createScript.Run(ctx, s.rdb, s.keys(), h, js)
	if err != nil {
		return sl, false, err
	}
	r := createScript.ReadReply(reply, 2)
	status, n := r.Str(0), r.Int(1)
	if err := r.Err(); err != nil {
		return sl, false, err
	}
	switch {
	case status == "ok":
		sl.State = sl.StateAt(now)
		return sl, true, nil
	case status == "exists" && idempotencyKey != "":
		first, err := s.Get(ctx, sl.ID)
		return first, false, err
	case status == "full":
		return sl, false, &alertgate.Error{Code: alertgate.ECONFLICT, Field: "matchers", Message: fmt.Sprintf(
			"%d silences are pending or active, the most alertgate keeps; expire some first", n)}
	}
	// 96 random bits collided, or the script answered nonsense.
	return sl, false, &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
		Err: fmt.Errorf("silence: create %s: script answered %q", sl.ID, status)}
}

// Get returns the silence called id, its state at now; ENOTFOUND when
// there is none (any more).
func (s *Store) Get(ctx context.Context, id string) (Silence, error) {
	js, err := s.rdb.HGet(ctx, s.all, id).Result()
	if errors.Is(err, redis.Nil) {
		return Silence{}, notFound(id)
	}
	if err != nil {
		return Silence{}, redisx.Wrap("silence: get", err)
	}
	sl, err := decode(js)
	if err != nil {
		return Silence{}, err
	}
	sl.State = sl.StateAt(s.now())
	return sl, nil
}

func notFound(id string) error {
	return alertgate.Errorf(alertgate.ENOTFOUND, "no silence %q (expired silences are kept for %d days)",
		alertgate.Truncate(id, 64), days(Retention))
}

// List returns the silences kept in state (every state when ""), each with
// its state at now: active first (soonest to end first), then pending
// (soonest to start first), then expired (latest to end first).
func (s *Store) List(ctx context.Context, state State) ([]Silence, error) {
	if state != "" && !state.Valid() {
		return nil, alertgate.FieldErrorf("state", "%q is not one of active, pending, expired", alertgate.Truncate(string(state), 32))
	}
	all, err := s.rdb.HVals(ctx, s.all).Result()
	if err != nil {
		return nil, redisx.Wrap("silence: list", err)
	}
	now := s.now()
	out := make([]Silence, 0, len(all))
	for _, js := range all {
		sl, err := decode(js)
		if err != nil {
			return nil, err
		}
		sl.State = sl.StateAt(now)
		if state == "" || sl.State == state {
			out = append(out, sl)
		}
	}
	sortSilences(out)
	return out, nil
}

// expireScript replaces a silence's JSON with its expired form, if it is
// still what Go read (compare and set), and prunes.
//
//	KEYS     as createScript's
//	H        id, ends_ms (the new end), ver (the new version), cutoff, prune
//	ARGV[2]  the JSON read
//	ARGV[3]  the expired silence's JSON
//
// Returns {"ok"} | {"changed"} (read again) | {"missing"}.
var expireScript = redisx.NewScript("silence: expire", pruneLua+`
local cur = redis.call('HGET', KEYS[1], H.id)
if not cur then return {'missing'} end
if cur ~= ARGV[2] then return {'changed'} end
redis.call('HSET', KEYS[1], H.id, ARGV[3])
redis.call('ZADD', KEYS[2], H.ends_ms, H.id)
redis.call('SET', KEYS[3], H.ver)
prune()
return {'ok'}
`)

// Expire ends the silence called id now: ends_at becomes now, and so does
// starts_at of a pending one, so it never starts. A silence that has
// already ended is left as it is (expiring is idempotent: a client may
// retry it). It returns the silence as it is afterwards; ENOTFOUND when
// there is none.
func (s *Store) Expire(ctx context.Context, id string) (Silence, error) {
	for range maxCASTries {
		js, err := s.rdb.HGet(ctx, s.all, id).Result()
		if errors.Is(err, redis.Nil) {
			return Silence{}, notFound(id)
		}
		if err != nil {
			return Silence{}, redisx.Wrap("silence: expire", err)
		}
		sl, err := decode(js)
		if err != nil {
			return Silence{}, err
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		if !sl.EndsAt.After(now) {
			sl.State = Expired
			return sl, nil
		}
		sl.EndsAt = now
		if sl.StartsAt.After(now) {
			sl.StartsAt = now
		}
		after, err := json.Marshal(sl)
		if err != nil {
			return Silence{}, fmt.Errorf("silence: encode: %w", err)
		}
		h := redisx.NewObject().
			Str("id", sl.ID).
			Int("ends_ms", now.UnixMilli()).
			Str("ver", redisx.RequestID()).
			Int("cutoff", now.Add(-Retention).UnixMilli()).
			Int("prune", prunePerChange)
		reply, err := expireScript.Run(ctx, s.rdb, s.keys(), h, js, after)
		if err != nil {
			return Silence{}, err
		}
		r := expireScript.ReadReply(reply, 1)
		status := r.Str(0)
		if err := r.Err(); err != nil {
			return Silence{}, err
		}
		switch status {
		case "ok":
			sl.State = Expired
			return sl, nil
		case "missing":
			return Silence{}, notFound(id)
		}
		// "changed": another expiry came first; read what it wrote.
	}
	return Silence{}, alertgate.Unavailable("silence: expire: the silence kept changing; try again",
		fmt.Errorf("silence: expire %s: %d tries", id, maxCASTries))
}

// activeScript reads the silences that have not ended, unless nothing
// changed since the version the caller holds.
//
//	KEYS  as createScript's
//	H     now (Unix ms), ver (the version the caller holds, "" for none)
//
// Returns {version} when the version is ver, else {version, id, JSON, id,
// JSON, …} of the silences that end after now ("" when no change was ever
// made: such a reply is never taken as unchanged).
var activeScript = redisx.NewScript("silence: active", `
local v = redis.call('GET', KEYS[3]) or ''
if v ~= '' and v == H.ver then return {v} end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. H.now, '+inf')
local out = {v}
if #ids == 0 then return out end
local vals = hmgetMany(KEYS[1], ids)
for i = 1, #ids do
  out[#out + 1] = ids[i]
  out[#out + 1] = vals[i]
end
return out
`)

// Active returns the silences that had not ended at `at`, pending and
// active, as a Set that answers which of them mute an alert at `at`. It
// is one round trip to Redis, and a short one when no silence changed
// since the last call: the escalation engine calls it on every pass.
func (s *Store) Active(ctx context.Context, at time.Time) (Set, error) {
	s.mu.Lock()
	held := s.cache
	s.mu.Unlock()
	ver := held.version
	if at.Before(held.at) {
		ver = "" // the cache left out what had ended by its own, later, instant
	}
	h := redisx.NewObject().Int("now", at.UnixMilli()).Str("ver", ver)
	reply, err := activeScript.Run(ctx, s.rdb, s.keys(), h)
	if err != nil {
		return Set{}, err
	}
	if len(reply) == 0 {
		return Set{}, &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
			Err: errors.New("silence: active: empty reply")}
	}
	got, _ := reply[0].(string)
	if got != "" && got == ver {
		return held.set(at), nil
	}
	next := activeCache{version: got, at: at, byID: make(map[string]decoded, len(reply)/2)}
	for i := 1; i+1 < len(reply); i += 2 {
		id, _ := reply[i].(string)
		js, ok := reply[i+1].(string)
		if !ok {
			continue // gone between the index and the hash: cannot happen in one script
		}
		d, reused := held.byID[id]
		if !reused || d.js != js {
			sl, err := decode(js)
			d = decoded{js: js, s: sl, ok: err == nil}
		}
		next.byID[id] = d
		if d.ok {
			next.list = append(next.list, d.s)
		} else {
			next.invalid = append(next.invalid, id)
		}
	}
	sortByStart(next.list)
	slices.Sort(next.invalid)
	s.mu.Lock()
	if !next.at.Before(s.cache.at) {
		s.cache = next // else a call for a later instant has stored its read meanwhile
	}
	s.mu.Unlock()
	return next.set(at), nil
}

// set is the cache as the Set at `at`: what ends after at, nothing else.
func (c *activeCache) set(at time.Time) Set {
	return Set{silences: c.list, Invalid: c.invalid}.Later(at)
}

func decode(js string) (Silence, error) {
	var sl Silence
	if err := json.Unmarshal([]byte(js), &sl); err != nil {
		return sl, &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
			Err: fmt.Errorf("silence: decode: %w", err)}
	}
	if err := sl.parseMatchers(false); err != nil {
		return sl, &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
			Err: fmt.Errorf("silence: decode %s: %w", sl.ID, err)}
	}
	return sl, nil
}

// sortByStart orders silences by start, then end, then id.
func sortByStart(list []Silence) {
	slices.SortFunc(list, func(a, b Silence) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), a.EndsAt.Compare(b.EndsAt), cmp.Compare(a.ID, b.ID))
	})
}
