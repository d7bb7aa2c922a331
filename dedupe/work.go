package dedupe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
)

// Fields of an incident's hash that hold the current state of people's
// work (the timeline holds its history; work.lua keeps both in step).
const (
	// RoleField + role holds the user who holds the role.
	RoleField = "role:"
	// ImpactField holds the impact window a person set (ImpactEntry JSON).
	ImpactField = "impact"
	// PostmortemField holds the postmortem (PostmortemEntry JSON).
	PostmortemField = "pm"
	// FollowUpField + id holds a follow-up (FollowUpEntry JSON).
	FollowUpField = "fu:"
)

// WorkChange is one change work.lua records (see its comment).
type WorkChange struct {
	// Entry is the timeline entry; its At is Now.
	Entry alertgate.TimelineEntry
	// Field is the hash field of the state the change replaces ("" for
	// none) and Value its new value ("" deletes it).
	Field, Value string
	// Prev, when not nil, is the value the field must hold ("" for none):
	// the state a partial change was merged into.
	Prev *string
	// Want is "new" (the field must not exist), "existing" (it must) or "".
	Want string
	// ResolvedOnly refuses the change unless the incident is resolved.
	ResolvedOnly bool
	// Pages are queued with the change (notify.Page JSON).
	Pages [][]byte

	Actor     string
	RequestID string
	Now       time.Time
}

// WorkResult is what work.lua answered.
type WorkResult string

const (
	WorkDone     WorkResult = "done"
	WorkNoop     WorkResult = "noop"
	WorkStale    WorkResult = "stale"
	WorkMissing  WorkResult = "missing"
	WorkExists   WorkResult = "exists"
	WorkConflict WorkResult = "conflict"
)

// Work records a change; a missing incident is ENOTFOUND, every other
// outcome the caller's to explain (with the incident's status).
func (s *Store) Work(ctx context.Context, id string, c WorkChange) (WorkResult, alertgate.IncidentStatus, error) {
	n, ok := redisx.IncidentShard(id)
	if !ok {
		return "", "", notFound(id)
	}
	entry, err := EntryJSON(c.Now, c.Actor, c.Entry)
	if err != nil {
		return "", "", err
	}
	shard := s.layout.Shard(n)
	h := header(shard, c.Now, c.RequestID, c.Actor).
		Str("field", c.Field).Str("value", c.Value).
		Bool("check", c.Prev != nil).Str("want", c.Want).Bool("resolved_only", c.ResolvedOnly).
		Int("pages", int64(len(c.Pages)))
	if c.Prev != nil {
		h.Str("prev", *c.Prev)
	}
	args := make([]any, 0, 1+len(c.Pages))
	args = append(args, entry)
	for _, p := range c.Pages {
		args = append(args, p)
	}
	keys := []string{shard.KeyOf(redisx.Incident, id), shard.KeyOf(redisx.Timeline, id), shard.Key(redisx.Outbox)}
	reply, err := workScript.Run(ctx, s.rdb, keys, h, args...)
	if err != nil {
		return "", "", err
	}
	r := workScript.ReadReply(reply, 2)
	result, status := WorkResult(r.Str(0)), alertgate.IncidentStatus(r.Str(1))
	if err := r.Err(); err != nil {
		return "", "", err
	}
	switch result {
	case "notfound":
		return "", "", notFound(id)
	case WorkDone, WorkNoop, WorkStale, WorkMissing, WorkExists, WorkConflict:
		return result, status, nil
	}
	return "", "", corrupt(fmt.Errorf("dedupe: work returned %q", result))
}

// WorkField returns one work field of an incident's hash ("" when unset);
// a missing incident is ENOTFOUND.
func (s *Store) WorkField(ctx context.Context, id, field string) (string, error) {
	n, ok := redisx.IncidentShard(id)
	if !ok {
		return "", notFound(id)
	}
	vals, err := s.rdb.HMGet(ctx, s.layout.Shard(n).KeyOf(redisx.Incident, id), "id", field).Result()
	if err != nil {
		return "", redisx.Wrap("dedupe: work field", err)
	}
	if vals[0] == nil {
		return "", notFound(id)
	}
	v, _ := vals[1].(string)
	return v, nil
}

// WorkState is what the reminder pass needs of one incident.
type WorkState struct {
	ID, Title, Service string
	Severity           alertgate.Severity
	Status             alertgate.IncidentStatus
	TriggeredAt        time.Time
	ResolvedAt         time.Time
	Postmortem         *alertgate.PostmortemEntry
	FollowUps          []alertgate.FollowUpEntry
}

// WorkStates returns the work state of every incident triggered at or
// after since, shard by shard (the order is not meaningful).
func (s *Store) WorkStates(ctx context.Context, since time.Time) ([]WorkState, error) {
	var out []WorkState
	min := strconv.FormatInt(since.UnixMilli(), 10)
	const chunk = 200
	for n := range redisx.Shards {
		sh := s.layout.Shard(n)
		for offset := int64(0); ; offset += chunk {
			ids, err := s.rdb.ZRangeByScore(ctx, sh.Key(redisx.Incidents), &redis.ZRangeBy{Min: min, Max: "+inf", Offset: offset, Count: chunk}).Result()
			if err != nil {
				return nil, redisx.Wrap("dedupe: work states", err)
			}
			if len(ids) == 0 {
				break
			}
			p := s.rdb.Pipeline()
			cmds := make([]*redis.MapStringStringCmd, len(ids))
			for i, id := range ids {
				cmds[i] = p.HGetAll(ctx, sh.KeyOf(redisx.Incident, id))
			}
			if _, err := p.Exec(ctx); err != nil {
				return nil, redisx.Wrap("dedupe: work states", err)
			}
			for _, c := range cmds {
				if ws, ok, err := decodeWorkState(c.Val()); err != nil {
					return nil, err
				} else if ok {
					out = append(out, ws)
				}
			}
			if len(ids) < chunk {
				break
			}
		}
	}
	return out, nil
}

func decodeWorkState(f map[string]string) (WorkState, bool, error) {
	if f["id"] == "" {
		return WorkState{}, false, nil
	}
	ws := WorkState{
		ID: f["id"], Title: f["title"], Service: f["service"], Severity: alertgate.Severity(f["severity"]),
		Status: alertgate.IncidentStatus(f["status"]), TriggeredAt: msTime(f["triggered_at"]), ResolvedAt: msTime(f["resolved_at"]),
	}
	if raw := f[PostmortemField]; raw != "" {
		var pm alertgate.PostmortemEntry
		if err := json.Unmarshal([]byte(raw), &pm); err != nil {
			return ws, false, corrupt(fmt.Errorf("dedupe: incident %s postmortem: %w", ws.ID, err))
		}
		ws.Postmortem = &pm
	}
	for k, raw := range f {
		if !strings.HasPrefix(k, FollowUpField) {
			continue
		}
		var fu alertgate.FollowUpEntry
		if err := json.Unmarshal([]byte(raw), &fu); err != nil {
			return ws, false, corrupt(fmt.Errorf("dedupe: incident %s follow-up: %w", ws.ID, err))
		}
		ws.FollowUps = append(ws.FollowUps, fu)
	}
	return ws, true, nil
}

// Remind queues the pages of one reminder, once per item: a second call
// with the same item (from any replica) queues nothing. item names the
// reminder ("<incident>.pm.<day>"); the mark is kept for ttl. queued
// reports whether this call queued it.
func (s *Store) Remind(ctx context.Context, id, item string, ttl time.Duration, now time.Time, pages [][]byte) (queued bool, err error) {
	n, ok := redisx.IncidentShard(id)
	if !ok {
		return false, notFound(id)
	}
	shard := s.layout.Shard(n)
	h := header(shard, now, "", "reminders").Int("ttl_ms", ttl.Milliseconds())
	args := make([]any, len(pages))
	for i, p := range pages {
		args[i] = p
	}
	keys := []string{shard.KeyOf(redisx.Incident, id), shard.KeyOf(redisx.Link, "remind."+item), shard.Key(redisx.Outbox)}
	reply, err := remindScript.Run(ctx, s.rdb, keys, h, args...)
	if err != nil {
		return false, err
	}
	r := remindScript.ReadReply(reply, 1)
	result := r.Str(0)
	if err := r.Err(); err != nil {
		return false, err
	}
	switch result {
	case "queued":
		return true, nil
	case "sent", "notfound":
		return false, nil
	}
	return false, corrupt(errors.New("dedupe: remind returned " + strconv.Quote(result)))
}
