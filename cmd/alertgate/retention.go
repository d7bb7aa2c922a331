package main

import (
	"context"
	"time"

	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/reports"
)

// retentionPoll is how often every replica reduces the incidents resolved
// longer ago than retention.keep_resolved. Each incident is checked and
// reduced in one script, so replicas running it at once only repeat a
// check; hourly is plenty for a limit counted in days.
const retentionPoll = time.Hour

// retentionBatch bounds the incidents one pass reduces per shard, so a
// first pass over years of history does not hold Redis for long.
const retentionBatch = 500

// retentionComponent reduces long-resolved incidents to what reports
// count (docs/retention.md).
func (s *server) retentionComponent() lifecycle.Component {
	return lifecycle.Component{
		Name: "retention",
		Run: func(ctx context.Context) error {
			work := func(ctx context.Context) error {
				cfg := s.current.Load().Config
				store := dedupe.NewStore(s.rdb, cfg.Redis.KeyPrefix)
				n, err := store.Reduce(ctx, time.Now().Add(-cfg.Retention.KeepResolved), reports.EventTypes, retentionBatch)
				if n > 0 {
					s.logger.Info("reduced resolved incidents", "incidents", n, "keep_resolved", cfg.Retention.KeepResolved)
				}
				return err // the loop logs a failure and tries again next hour
			}
			loop := &lifecycle.Loop{Name: "retention", Interval: retentionPoll, Work: work, Timeout: 10 * time.Minute, Logger: s.logger}
			return loop.Run(ctx)
		},
	}
}
