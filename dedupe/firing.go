package dedupe

import (
	"context"
	"encoding/json"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
)

// FiringAlerts calls fn with the labels of every firing alert of every
// open (triggered or acknowledged) incident: the sources inhibition rules
// look for. It reads each shard's status indexes, then the incidents'
// alerts, in two pipelines: cost grows with the open alerts, so callers
// cache the answer (mute caches it for a few seconds).
func (s *Store) FiringAlerts(ctx context.Context, fn func(labels map[string]string)) error {
	p := s.rdb.Pipeline()
	var idCmds []*redis.StringSliceCmd
	for n := range redisx.Shards {
		shard := s.layout.Shard(n)
		for _, st := range []alertgate.IncidentStatus{alertgate.Triggered, alertgate.Acknowledged} {
			idCmds = append(idCmds, p.ZRange(ctx, shard.KeyOf(redisx.Status, string(st)), 0, -1))
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		return redisx.Wrap("dedupe: open incidents", err)
	}
	p = s.rdb.Pipeline()
	var alertCmds []*redis.StringSliceCmd
	for _, c := range idCmds {
		for _, id := range c.Val() {
			n, ok := redisx.IncidentShard(id)
			if !ok {
				continue
			}
			alertCmds = append(alertCmds, p.HVals(ctx, s.layout.Shard(n).KeyOf(redisx.IncidentAlerts, id)))
		}
	}
	if len(alertCmds) == 0 {
		return nil
	}
	if _, err := p.Exec(ctx); err != nil {
		return redisx.Wrap("dedupe: open alerts", err)
	}
	for _, c := range alertCmds {
		for _, v := range c.Val() {
			var a alertgate.Alert
			if json.Unmarshal([]byte(v), &a) == nil && a.Status == alertgate.Firing {
				fn(a.Labels)
			}
		}
	}
	return nil
}
