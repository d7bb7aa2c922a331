// Package redistest gives tests a real Redis with a key prefix of their own.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr is the Redis tests use: $ALERTGATE_TEST_REDIS_ADDR, or 127.0.0.1:6379.
func Addr() string {
	if a := os.Getenv("ALERTGATE_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// New connects to the test Redis and returns a client and a key prefix
// unique to this test; every key under the prefix is deleted when the test
// ends. Without a Redis the test skips locally but fails under CI=true: a
// skipped suite in CI would be a hidden red.
func New(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	addr := Addr()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redis at %s: %v (CI must run every Redis-backed test; .ci/run starts redis-server)", addr, err)
		}
		tb.Skipf("no redis at %s (%v); set ALERTGATE_TEST_REDIS_ADDR or run .ci/run", addr, err)
	}
	prefix := Prefix(tb)
	tb.Cleanup(func() {
		DeletePrefix(tb, c, prefix)
		_ = c.Close()
	})
	return c, prefix
}

// Prefix returns a key prefix unique to this test run.
func Prefix(tb testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", ".", " ", "_", "{", "(", "}", ")").Replace(tb.Name())
	return "test:" + name + ":" + hex.EncodeToString(b[:])
}

// DeletePrefix removes every key under prefix (SCAN + DEL, never FLUSHDB:
// tests share the server).
func DeletePrefix(tb testing.TB, c redis.UniversalClient, prefix string) {
	tb.Helper()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			c.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Del(ctx, batch...)
	}
	if err := iter.Err(); err != nil {
		tb.Logf("redistest: cleanup of %s: %v", prefix, err)
	}
}
