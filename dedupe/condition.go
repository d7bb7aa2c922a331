package dedupe

import (
	"context"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/internal/redisx"
)

// Why a conditional change (Change.Only) was refused, besides the
// incident's state: the ECONFLICT error wraps one of these.
var (
	// ErrUsed: the condition's nonce was used already.
	ErrUsed = errors.New("dedupe: used already")
	// ErrSuperseded: the incident is in another escalation epoch.
	ErrSuperseded = errors.New("dedupe: superseded")
)

// LinkState is what a confirmation page shows before anyone acts: the
// incident's escalation epoch (0 when it has none) and whether nonce was
// used. It reads; a Transition with the Condition decides.
func (s *Store) LinkState(ctx context.Context, incidentID, nonce string) (epoch int, used bool, err error) {
	n, ok := redisx.IncidentShard(incidentID)
	if !ok {
		return 0, false, notFound(incidentID)
	}
	shard := s.layout.Shard(n)
	var ep *redis.StringCmd
	var ex *redis.IntCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		ep = p.HGet(ctx, shard.KeyOf(redisx.Incident, incidentID), "esc_epoch")
		if nonce != "" {
			ex = p.Exists(ctx, shard.KeyOf(redisx.Link, nonce))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, false, redisx.Wrap("dedupe: link state", err)
	}
	if v, err := ep.Result(); err == nil {
		epoch, _ = strconv.Atoi(v)
	}
	return epoch, ex != nil && ex.Val() > 0, nil
}
