package dedupe

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
)

var (
	//go:embed reduce.lua
	reduceSource string
	reduceScript = redisx.NewScript("dedupe: reduce", reduceSource)
)

// Reduce shrinks the incidents resolved before `before` to what reports
// still count (reduce.lua says what stays), at most limit of them per
// shard in one call, and returns how many it reduced. keepTypes are the
// timeline entry types to keep (reports.EventTypes). It is idempotent and
// safe to run on every replica at once: each incident is checked and
// reduced in one script.
func (s *Store) Reduce(ctx context.Context, before time.Time, keepTypes []string, limit int) (int, error) {
	types := make([]any, len(keepTypes))
	for i, t := range keepTypes {
		types[i] = t
	}
	reduced := 0
	for n := range redisx.Shards {
		shard := s.layout.Shard(n)
		// Resolved incidents are indexed by when they were triggered: one
		// resolved before `before` was triggered before it too.
		ids, err := s.rdb.ZRangeByScore(ctx, shard.KeyOf(redisx.Status, string(alertgate.IncidentResolved)), &redis.ZRangeBy{
			Min: "-inf", Max: strconv.FormatInt(before.UnixMilli(), 10), Count: int64(limit),
		}).Result()
		if err != nil {
			return reduced, redisx.Wrap("dedupe: reduce", err)
		}
		for _, id := range ids {
			ok, err := s.reduceOne(ctx, shard, id, before, types)
			if err != nil {
				return reduced, err
			}
			if ok {
				reduced++
			}
		}
	}
	return reduced, nil
}

// reduceOne picks the alert that stays (the first to start) and runs
// reduce.lua on one incident.
func (s *Store) reduceOne(ctx context.Context, shard redisx.Shard, id string, before time.Time, types []any) (bool, error) {
	p := s.rdb.Pipeline()
	reduced := p.HGet(ctx, shard.KeyOf(redisx.Incident, id), "reduced")
	alerts := p.HGetAll(ctx, shard.KeyOf(redisx.IncidentAlerts, id))
	_, _ = p.Exec(ctx)
	if reduced.Err() == nil {
		return false, nil // reduced already: the index still lists it
	}
	vals, err := alerts.Result()
	if err != nil {
		return false, redisx.Wrap("dedupe: reduce "+id, err)
	}
	keep, keepJSON := "", ""
	var first time.Time
	for key, body := range vals {
		var a alertgate.Alert
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return false, corrupt(fmt.Errorf("dedupe: incident %s alert %q: %w", id, key, err))
		}
		if keep == "" || (!a.StartsAt.IsZero() && (first.IsZero() || a.StartsAt.Before(first))) {
			small, err := json.Marshal(alertgate.Alert{Source: a.Source, Fingerprint: a.Fingerprint, Status: a.Status,
				StartsAt: a.StartsAt, Summary: alertgate.Truncate(a.Summary, 200), Severity: a.Severity})
			if err != nil {
				return false, corrupt(err)
			}
			keep, keepJSON, first = key, string(small), a.StartsAt
		}
	}
	h := redisx.NewHeader(shard, time.Now(), redisx.RequestID(), "retention").
		Int("before", before.UnixMilli()).Str("keep", keep).Str("keep_json", keepJSON)
	keys := []string{
		shard.KeyOf(redisx.Incident, id), shard.KeyOf(redisx.Timeline, id), shard.KeyOf(redisx.IncidentAlerts, id),
		shard.KeyOf(redisx.AlertMeta, id), shard.KeyOf(redisx.Pages, id), shard.KeyOf(redisx.Notified, id),
	}
	reply, err := reduceScript.Run(ctx, s.rdb, keys, h, types...)
	if err != nil {
		return false, err
	}
	r := reduceScript.ReadReply(reply, 1)
	res := r.Str(0)
	return res == "reduced", r.Err()
}
