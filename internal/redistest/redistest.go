// Package redistest gives tests a real Redis with a key prefix of their own.
//
// By default that is the single server at $ALERTGATE_TEST_REDIS_ADDR. With
// $ALERTGATE_TEST_REDIS_CLUSTER set to comma-separated seed addresses (what
// scripts/redis-cluster start prints) it is that Redis Cluster instead.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr is the Redis tests use: $ALERTGATE_TEST_REDIS_ADDR, or 127.0.0.1:6379.
// In cluster mode it is still the single server; use URL for the Redis the
// current mode tests against.
func Addr() string {
	if a := os.Getenv("ALERTGATE_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// ClusterAddrs returns the seed addresses of $ALERTGATE_TEST_REDIS_CLUSTER,
// or nil when tests run against a single server.
func ClusterAddrs() []string {
	var addrs []string
	for a := range strings.SplitSeq(os.Getenv("ALERTGATE_TEST_REDIS_CLUSTER"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// URL is the redis.url alertgate should use to reach the test Redis:
// redis://ADDR/0, or redis+cluster://h1:p1,h2:p2,… in cluster mode.
func URL() string {
	if seeds := ClusterAddrs(); len(seeds) > 0 {
		return "redis+cluster://" + strings.Join(seeds, ",")
	}
	return "redis://" + Addr() + "/0"
}

// New connects to the test Redis and returns a client and a key prefix
// unique to this test; every key under the prefix is deleted when the test
// ends. The client is a *redis.ClusterClient in cluster mode and a
// *redis.Client otherwise. Without a Redis the test skips locally but fails
// under CI=true: a skipped suite in CI would be a hidden red.
func New(tb testing.TB) (redis.UniversalClient, string) {
	tb.Helper()
	var (
		c     redis.UniversalClient
		where string
		hint  string
	)
	if seeds := ClusterAddrs(); len(seeds) > 0 {
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds, MaxRetries: -1})
		where = "redis cluster at " + strings.Join(seeds, ",")
		hint = "start one with scripts/redis-cluster start, or unset ALERTGATE_TEST_REDIS_CLUSTER"
	} else {
		c = redis.NewClient(&redis.Options{Addr: Addr(), MaxRetries: -1})
		where = "redis at " + Addr()
		hint = "set ALERTGATE_TEST_REDIS_ADDR or run .ci/run"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := check(ctx, c); err != nil {
		_ = c.Close()
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s: %v (CI must run every Redis-backed test; .ci/run starts the servers)", where, err)
		}
		tb.Skipf("no %s (%v); %s", where, err, hint)
	}
	prefix := Prefix(tb)
	tb.Cleanup(func() {
		DeletePrefix(tb, c, prefix)
		_ = c.Close()
	})
	return c, prefix
}

// check pings the server; a cluster must also be healthy on every master.
func check(ctx context.Context, c redis.UniversalClient) error {
	if err := c.Ping(ctx).Err(); err != nil {
		return err
	}
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		return nil
	}
	return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		info, err := m.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: %w", m.Options().Addr, err)
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: cluster_state is not ok", m.Options().Addr)
		}
		return nil
	})
}

// Prefix returns a key prefix unique to this test run.
func Prefix(tb testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", ".", " ", "_", "{", "(", "}", ")").Replace(tb.Name())
	return "test:" + name + ":" + hex.EncodeToString(b[:])
}

// DeletePrefix removes every key under prefix (SCAN + DEL, never FLUSHDB:
// tests share the server). On a cluster it scans every master and deletes
// key by key: one DEL of keys from different slots fails with CROSSSLOT.
func DeletePrefix(tb testing.TB, c redis.UniversalClient, prefix string) {
	tb.Helper()
	ctx := context.Background()
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		var errs []string
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			if err := deleteOnNode(ctx, m, prefix, true); err != nil {
				mu.Lock()
				errs = append(errs, m.Options().Addr+": "+err.Error())
				mu.Unlock()
			}
			return nil
		})
		if err == nil && len(errs) > 0 {
			err = fmt.Errorf("%s", strings.Join(errs, "; "))
		}
	} else {
		err = deleteOnNode(ctx, c, prefix, false)
	}
	if err != nil {
		tb.Logf("redistest: cleanup of %s: %v", prefix, err)
	}
}

// deleteOnNode deletes the keys under prefix that one server holds, in
// batches of 1000: one multi-key DEL per batch, or, on a cluster node, a
// pipeline of single-key DELs.
func deleteOnNode(ctx context.Context, c redis.Cmdable, prefix string, cluster bool) error {
	del := func(keys []string) error {
		if !cluster {
			return c.Del(ctx, keys...).Err()
		}
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, k)
			}
			return nil
		})
		return err
	}
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var batch []string
	var firstErr error
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			if err := del(batch); err != nil && firstErr == nil {
				firstErr = err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := del(batch); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return firstErr
}
