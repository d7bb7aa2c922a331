package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/config"
)

func openRedis(rc config.Redis) (redis.UniversalClient, error) {
	opts, err := rc.Options()
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	clientOptions(opts)
	return redis.NewUniversalClient(opts), nil
}

// clientOptions sets what alertgate needs of every Redis client.
//
// No command is ever resent: a client that resends after a timeout may
// have Redis run a script twice (Redis runs both copies once it answers
// again). A sender that gets 503 retries the whole delivery anyway, and the
// scripts' request memory makes a repeat harmless, so nothing is gained by
// resending here. On a cluster this also means a MOVED or ASK reply is not
// followed: the request gets 503 and go-redis reloads the slot map for the
// next one.
//
// One dial per attempt: with go-redis's default of five dials 100 ms apart,
// every request held its sender for half a second while Redis was down.
func clientOptions(o *redis.UniversalOptions) {
	o.MaxRetries = -1
	o.MaxRedirects = -1
	o.DialerRetries = 1
}

// checkRedis warns about a Redis that would lose state. It never stops
// start-up: Redis may come later, and /readyz says so meanwhile.
func checkRedis(ctx context.Context, rdb redis.UniversalClient, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		logger.Warn("redis is not reachable yet; ingest answers 503 until it is", "err", err.Error())
		return
	}
	settings, err := rdb.ConfigGet(ctx, "*").Result()
	if err != nil {
		return // not every Redis allows CONFIG (managed services, the embedded one)
	}
	if p := settings["maxmemory-policy"]; strings.HasPrefix(p, "allkeys-") {
		logger.Error("redis maxmemory-policy evicts keys alertgate needs; set it to noeviction", "maxmemory_policy", p)
	}
	if settings["appendonly"] == "no" && settings["save"] == "" {
		logger.Warn("redis keeps nothing on disk (no AOF, no snapshots): a Redis restart loses every incident")
	}
}

// redisLog adapts go-redis's logger to slog.
type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(_ context.Context, format string, v ...any) {
	r.l.Warn("redis client", "detail", fmt.Sprintf(format, v...))
}
