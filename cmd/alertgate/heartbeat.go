package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/heartbeat"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/lifecycle"
)

// heartbeatPoll is how often every replica looks for missed heartbeats
// (docs/heartbeats.md). Not a setting: an interval is at least 1s, so a
// miss is seen at most a second late, and a check of nothing due is one
// ZRANGEBYSCORE.
const heartbeatPoll = time.Second

// startHeartbeats builds the heartbeat checker over the pipeline svc and
// checks its scripts. It shares the escalation engine's lease: the same
// claim-and-lease mechanism, the same trade-off (a replica that dies
// holding a heartbeat delays its alert by at most the lease).
func (s *server) startHeartbeats(ctx context.Context, rdb redis.UniversalClient, cfg *config.Config, svc *incident.Service) error {
	s.heartbeats = heartbeat.New(rdb, cfg.Redis.KeyPrefix, heartbeat.Options{
		Snapshot: s.current.Load,
		Accept:   svc,
		Lease:    cfg.Escalation.Lease,
		Logger:   s.logger,
	})
	// As with the store: a script Redis refuses is our bug; an unreachable
	// Redis only delays the check (the loop retries every cycle).
	if err := s.heartbeats.Check(ctx); err != nil && alertgate.ErrorCode(err) == alertgate.EINTERNAL {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// heartbeatComponent runs the checker on every replica; the claims make
// them act as one.
func (s *server) heartbeatComponent() lifecycle.Component {
	return lifecycle.Component{Name: "heartbeats", Run: func(ctx context.Context) error {
		loop := &lifecycle.Loop{
			Name: "heartbeats", Interval: heartbeatPoll, Work: s.heartbeats.Pass,
			Timeout: s.paging.lease, SlowAfter: time.Second, Logger: s.logger,
		}
		return loop.Run(ctx)
	}}
}
