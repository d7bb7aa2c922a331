// Package oncall keeps what people change about on-call while alertgate
// runs: the overrides of rotations, in Redis (Store), and the tokens that
// open calendar feeds (FeedToken). What a rotation is and who is on call
// when are package schedule's, which is pure; this package only stores.
//
// # Redis layout
//
// Every key is under one hash tag of its own, so each script touches one
// Cluster slot, whatever rotations it reads or prunes:
//
//	O = <prefix>:v1:{oncall}:             (KeyBase)
//
//	O overrides                  hash  override id → override JSON
//	O overrides:ends             zset  override id by its end (Unix ms)
//	O overrides:rotation:<id>    zset  override id by its end, one per rotation
//
// The hash alone answers ByRotation in one HGETALL-like round trip (HVALS);
// the sorted sets answer List and pruning without reading every override.
//
// # Retention and limits
//
// An override that ended more than Retention (30 days) ago is deleted by
// a later Create, at most prunePerCreate of them a call, so a backlog
// clears over a few creations and no call runs long. A rotation keeps at
// most MaxPerRotation overrides (ended ones count until pruned); Create
// refuses more with ECONFLICT (409), since the escalation engine reads
// every override of every rotation in each batch of steps.
package oncall

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/schedule"
)

const (
	// Retention is how long an override is kept after it ended.
	Retention = 30 * 24 * time.Hour
	// MaxPerRotation caps the overrides kept for one rotation.
	MaxPerRotation = 1000
	// prunePerCreate bounds the overrides one Create deletes.
	prunePerCreate = 100
	// idPrefix starts every override id.
	idPrefix = "ov-"
)

// KeyBase is the start of every on-call key under prefix (redis.key_prefix),
// hash tag included: "<prefix>:v1:{oncall}:".
func KeyBase(prefix string) string { return prefix + ":" + redisx.Version + ":{oncall}:" }

// Store keeps overrides in Redis. It is safe for concurrent use.
type Store struct {
	rdb       redis.UniversalClient
	overrides string // hash: id → JSON
	ends      string // zset: id by end
	byRot     string // the key of a rotation's zset, less the rotation id
}

// NewStore returns the store of the deployment whose keys start with prefix.
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	base := KeyBase(prefix)
	return &Store{
		rdb:       rdb,
		overrides: base + "overrides",
		ends:      base + "overrides:ends",
		byRot:     base + "overrides:rotation:",
	}
}

func (s *Store) rotationKey(rotation string) string { return s.byRot + rotation }

// Check loads the store's scripts: a start-up check that Redis accepts them.
func (s *Store) Check(ctx context.Context) error {
	for _, sc := range []*redisx.Script{createScript, deleteScript, listScript} {
		if err := sc.Load(ctx, s.rdb); err != nil {
			return err
		}
	}
	return nil
}

// createScript stores one new override and prunes old ones.
//
//	KEYS[1]  overrides (hash)
//	KEYS[2]  overrides:ends
//	KEYS[3]  overrides:rotation:<the override's rotation>
//	H        id, end_ms (the override's end), cutoff (Unix ms: overrides
//	         that ended at or before it are deleted), prune (at most that
//	         many), max (overrides a rotation may keep), rotkey (the key
//	         of a rotation's zset, less the rotation id)
//	ARGV[2]  the override's JSON
//
// Returns {"ok", count after} | {"full", count} | {"exists", count}.
var createScript = redisx.NewScript("oncall: create override", `
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', H.cutoff, 'LIMIT', 0, H.prune)
for _, id in ipairs(old) do
  local js = redis.call('HGET', KEYS[1], id)
  if js then
    redis.call('ZREM', H.rotkey .. cjson.decode(js).rotation, id)
    redis.call('HDEL', KEYS[1], id)
  end
  redis.call('ZREM', KEYS[2], id)
end
local n = redis.call('ZCARD', KEYS[3])
if n >= H.max then return {'full', n} end
if redis.call('HSETNX', KEYS[1], H.id, ARGV[2]) == 0 then return {'exists', n} end
redis.call('ZADD', KEYS[2], H.end_ms, H.id)
redis.call('ZADD', KEYS[3], H.end_ms, H.id)
return {'ok', n + 1}
`)

// Create stores o as a new override and returns it with its id. The
// caller sets o.CreatedAt (its clock: the store has none); it is also the
// "now" that pruning counts Retention from. Create checks only what the
// store needs (rotation, user, start before end); whether they exist in
// the config is the caller's to check.
func (s *Store) Create(ctx context.Context, o schedule.Override) (schedule.Override, error) {
	o, _, err := s.CreateOnce(ctx, o, "")
	return o, err
}

// CreateOnce is Create for a client that may retry: the override's id is
// derived from idempotencyKey, so a repeat of the same key creates nothing
// and returns the override the first request made (created false). An
// empty key makes a fresh id, as Create does.
func (s *Store) CreateOnce(ctx context.Context, o schedule.Override, idempotencyKey string) (_ schedule.Override, created bool, err error) {
	switch {
	case o.Rotation == "":
		return o, false, alertgate.FieldErrorf("rotation", "required")
	case o.User == "":
		return o, false, alertgate.FieldErrorf("user", "required")
	case !o.Start.Before(o.End):
		return o, false, alertgate.FieldErrorf("end", "must be after start")
	case o.CreatedAt.IsZero():
		return o, false, alertgate.FieldErrorf("created_at", "required")
	}
	o.ID = redisx.NewID(idPrefix)
	if idempotencyKey != "" {
		o.ID = redisx.IDFromKey(idPrefix, "override", idempotencyKey)
	}
	o.Start, o.End, o.CreatedAt = o.Start.UTC(), o.End.UTC(), o.CreatedAt.UTC()
	js, err := json.Marshal(o)
	if err != nil {
		return o, false, fmt.Errorf("oncall: encode override: %w", err)
	}
	h := redisx.NewObject().
		Str("id", o.ID).
		Int("end_ms", o.End.UnixMilli()).
		Int("cutoff", o.CreatedAt.Add(-Retention).UnixMilli()).
		Int("prune", prunePerCreate).
		Int("max", MaxPerRotation).
		Str("rotkey", s.byRot)
	reply, err := createScript.Run(ctx, s.rdb, []string{s.overrides, s.ends, s.rotationKey(o.Rotation)}, h, js)
	if err != nil {
		return o, false, err
	}
	r := createScript.ReadReply(reply, 2)
	status, n := r.Str(0), r.Int(1)
	if err := r.Err(); err != nil {
		return o, false, err
	}
	switch {
	case status == "ok":
		return o, true, nil
	case status == "exists" && idempotencyKey != "":
		first, err := s.Get(ctx, o.ID)
		return first, false, err
	case status == "full":
		return o, false, &alertgate.Error{Code: alertgate.ECONFLICT, Field: "rotation", Message: fmt.Sprintf(
			"rotation %q already has %d overrides, the most alertgate keeps for one rotation; delete some (ended overrides go %d days after their end)",
			o.Rotation, n, int(Retention/(24*time.Hour)))}
	}
	// 96 random bits collided, or the script answered nonsense.
	return o, false, &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
		Err: fmt.Errorf("oncall: create override %s: script answered %q", o.ID, status)}
}

// Get returns the override called id; ENOTFOUND when there is none.
func (s *Store) Get(ctx context.Context, id string) (schedule.Override, error) {
	js, err := s.rdb.HGet(ctx, s.overrides, id).Result()
	if errors.Is(err, redis.Nil) {
		return schedule.Override{}, notFound(id)
	}
	if err != nil {
		return schedule.Override{}, redisx.Wrap("oncall: get override", err)
	}
	return decode(js)
}

func notFound(id string) error {
	return alertgate.Errorf(alertgate.ENOTFOUND, "no override %q", alertgate.Truncate(id, 64))
}

// deleteScript deletes one override and its index entries.
//
//	KEYS[1]  overrides (hash)
//	KEYS[2]  overrides:ends
//	H        id, rotkey (as in createScript)
//
// Returns {"ok", the override's JSON} | {"missing", ""}.
var deleteScript = redisx.NewScript("oncall: delete override", `
local js = redis.call('HGET', KEYS[1], H.id)
if not js then return {'missing', ''} end
redis.call('HDEL', KEYS[1], H.id)
redis.call('ZREM', KEYS[2], H.id)
redis.call('ZREM', H.rotkey .. cjson.decode(js).rotation, H.id)
return {'ok', js}
`)

// Delete deletes the override called id; ENOTFOUND when there is none.
func (s *Store) Delete(ctx context.Context, id string) error {
	h := redisx.NewObject().Str("id", id).Str("rotkey", s.byRot)
	reply, err := deleteScript.Run(ctx, s.rdb, []string{s.overrides, s.ends}, h)
	if err != nil {
		return err
	}
	r := deleteScript.ReadReply(reply, 2)
	if status := r.Str(0); r.Err() == nil && status == "missing" {
		return notFound(id)
	}
	return r.Err()
}

// listScript reads the overrides of an index that end at or after a time.
//
//	KEYS[1]  an index: overrides:ends or overrides:rotation:<id>
//	KEYS[2]  overrides (hash)
//	H        from (Unix ms)
//
// Returns the overrides' JSON (false for an id the hash lacks), in order
// of their ends.
var listScript = redisx.NewScript("oncall: list overrides", `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], H.from, '+inf')
if #ids == 0 then return {} end
return hmgetMany(KEYS[2], ids)
`)

// List returns the overrides of rotation ("" for every rotation) that
// overlap [from, to), ordered by start; a zero to has no end.
func (s *Store) List(ctx context.Context, rotation string, from, to time.Time) ([]schedule.Override, error) {
	index := s.ends
	if rotation != "" {
		index = s.rotationKey(rotation)
	}
	// Scores are whole milliseconds (rounded down), so the script may
	// return a few that end just before from; the filter below drops them.
	h := redisx.NewObject().Int("from", from.UnixMilli())
	reply, err := listScript.Run(ctx, s.rdb, []string{index, s.overrides}, h)
	if err != nil {
		return nil, err
	}
	out := make([]schedule.Override, 0, len(reply))
	for _, v := range reply {
		js, ok := v.(string)
		if !ok {
			continue // deleted between the index and the hash: cannot happen in one script
		}
		o, err := decode(js)
		if err != nil {
			return nil, err
		}
		if o.End.After(from) && (to.IsZero() || o.Start.Before(to)) {
			out = append(out, o)
		}
	}
	sortOverrides(out)
	return out, nil
}

// ByRotation returns every override kept, by rotation, each rotation's
// ordered by start. It is one round trip (the escalation engine calls it
// once per batch of steps); MaxPerRotation bounds what it returns.
func (s *Store) ByRotation(ctx context.Context) (map[string][]schedule.Override, error) {
	all, err := s.rdb.HVals(ctx, s.overrides).Result()
	if err != nil {
		return nil, redisx.Wrap("oncall: read overrides", err)
	}
	out := make(map[string][]schedule.Override)
	for _, js := range all {
		o, err := decode(js)
		if err != nil {
			return nil, err
		}
		out[o.Rotation] = append(out[o.Rotation], o)
	}
	for _, list := range out {
		sortOverrides(list)
	}
	return out, nil
}

func decode(js string) (schedule.Override, error) {
	var o schedule.Override
	if err := json.Unmarshal([]byte(js), &o); err != nil {
		return o, &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
			Err: fmt.Errorf("oncall: decode override: %w", err)}
	}
	return o, nil
}

// sortOverrides orders by start, then creation, then id: a stable answer
// for the API whatever order Redis returns.
func sortOverrides(list []schedule.Override) {
	slices.SortFunc(list, func(a, b schedule.Override) int {
		return cmp.Or(a.Start.Compare(b.Start), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
}
