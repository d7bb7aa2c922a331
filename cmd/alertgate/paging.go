package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/oncall"
)

// The paging components: the escalation engine, which commits due steps
// into the outbox, and the delivery loop, which hands outbox pages to
// notifiers. Both run on every replica; Redis makes them act as one.

// pokes is a one-slot "work is waiting" signal: a send never blocks, and
// many pokes before the loop looks make one cycle.
type pokes chan struct{}

func newPokes() pokes { return make(pokes, 1) }

func (p pokes) poke() {
	select {
	case p <- struct{}{}:
	default:
	}
}

// notifiers finds a notifier by its config name: the built-in console,
// which prints pages on standard output, or a channel of the current
// config (a reload brings new ones; pages for a notifier the config lost
// fail for good, and the timeline says so).
func (s *server) notifiers() func(string) (notify.Notifier, bool) {
	console := notify.NewConsole(s.stdout)
	return func(name string) (notify.Notifier, bool) {
		if name == config.NotifierConsole {
			return console, true
		}
		n, ok := s.current.Load().Notifiers[name]
		return n, ok
	}
}

// pagingComponents run the engine and delivery loops built by startRedis.
func (s *server) pagingComponents() []lifecycle.Component {
	return []lifecycle.Component{
		{Name: "escalation", Run: func(ctx context.Context) error {
			loop := &lifecycle.Loop{
				Name: "escalation", Interval: s.paging.escalateEvery, Trigger: s.paging.escalate,
				Work: s.paging.engine.Pass, Timeout: 4 * s.paging.lease, SlowAfter: time.Second, Logger: s.logger,
			}
			return loop.Run(ctx)
		}},
		{Name: "delivery", Run: func(ctx context.Context) error {
			loop := &lifecycle.Loop{
				Name: "delivery", Interval: s.paging.deliverEvery, Trigger: s.paging.deliver,
				Work: s.paging.deliverer.Pass, Timeout: time.Minute, SlowAfter: 5 * time.Second, Logger: s.logger,
			}
			return loop.Run(ctx)
		}},
	}
}

// startPaging builds the engine (its steps held back by gate) and the
// delivery loop over rdb, and checks their scripts (and creates the outbox
// consumer groups).
func (s *server) startPaging(ctx context.Context, rdb redis.UniversalClient, cfg *config.Config, overrides *oncall.Store,
	gate escalation.Gate) error {
	s.paging.escalate, s.paging.deliver = newPokes(), newPokes()
	s.paging.escalateEvery, s.paging.deliverEvery = cfg.Escalation.PollInterval, cfg.Delivery.PollInterval
	s.paging.lease = cfg.Escalation.Lease
	s.paging.engine = escalation.New(rdb, cfg.Redis.KeyPrefix, escalation.Options{
		Directory:   func() *escalation.Directory { return s.current.Load().Escalation },
		Overrides:   overrides,
		Lease:       cfg.Escalation.Lease,
		Logger:      s.logger,
		Observer:    metrics.NewEscalation(s.metrics.Registry),
		Committed:   func() { s.paging.escalate.poke(); s.paging.deliver.poke() },
		Gate:        gate,
		HoldRecheck: cfg.Escalation.HoldRecheck,
	})
	s.paging.deliverer = notify.NewDeliverer(rdb, cfg.Redis.KeyPrefix, notify.DelivererOptions{
		Notifiers:   s.notifiers(),
		ClaimAfter:  cfg.Delivery.ClaimAfter,
		MaxAttempts: cfg.Delivery.MaxAttempts,
		Prepare:     s.preparePage,
		More:        s.paging.deliver.poke,
		// The retry and breaker settings are read at start; a reload
		// changes notifiers and their limits, not these.
		RetryInitial:    cfg.Delivery.RetryInitial,
		RetryMax:        cfg.Delivery.RetryMax,
		GiveUpAfter:     cfg.Delivery.GiveUpAfter,
		BreakerFailures: cfg.Delivery.BreakerFailures,
		BreakerOpenFor:  cfg.Delivery.BreakerOpenFor,
		PerTarget:       cfg.Delivery.PerTarget,
		Limits:          func(name string) notify.Limits { return s.current.Load().NotifierLimits(name) },
		Logger:          s.logger,
		Observer:        metrics.NewDelivery(s.metrics.Registry),
	})
	// As with the store: a script Redis refuses is our bug; an unreachable
	// Redis only delays the checks (the loops retry every cycle).
	for _, check := range []func(context.Context) error{s.paging.engine.Check, s.paging.deliverer.Check, overrides.Check} {
		if err := check(ctx); err != nil && alertgate.ErrorCode(err) == alertgate.EINTERNAL {
			return fmt.Errorf("redis: %w", err)
		}
	}
	return nil
}

// paging is what the paging components share.
type paging struct {
	engine                      *escalation.Engine
	deliverer                   *notify.Deliverer
	escalateEvery, deliverEvery time.Duration
	// lease bounds an engine pass: past it, the pass's claims are
	// another replica's to take, and its commits would be refused.
	lease             time.Duration
	escalate, deliver pokes
}
