package main

import (
	"context"
	"fmt"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/lifecycle"
)

// reminderPoll is how often every replica looks for overdue postmortems
// and follow-ups (docs/incidents-work.md). Reminders go out once a day
// per item, so minutes late is nothing, and a pass reads every incident
// of the lookback: not worth doing more often. The marks make the
// replicas send each once.
const reminderPoll = 5 * time.Minute

// reminderComponent runs the reminder pass on every replica. Its store is
// its own (a store is only a client and a key prefix), so the component
// needs nothing from the others but the Redis client.
func (s *server) reminderComponent() lifecycle.Component {
	var reminders *incident.Reminders
	return lifecycle.Component{
		Name: "reminders",
		Start: func(ctx context.Context) error {
			cfg := s.current.Load().Config
			store := dedupe.NewStore(s.rdb, cfg.Redis.KeyPrefix)
			// As with the other scripts: one Redis refuses is our bug; an
			// unreachable Redis only delays the check.
			if err := store.CheckWork(ctx); err != nil && alertgate.ErrorCode(err) == alertgate.EINTERNAL {
				return fmt.Errorf("redis: %w", err)
			}
			reminders = incident.NewReminders(store, incident.ReminderOptions{
				Config: func() *config.Config { return s.current.Load().Config },
				Logger: s.logger,
			})
			return nil
		},
		Run: func(ctx context.Context) error {
			loop := &lifecycle.Loop{Name: "reminders", Interval: reminderPoll, Work: reminders.Work, Logger: s.logger}
			return loop.Run(ctx)
		},
	}
}
