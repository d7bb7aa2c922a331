package main

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/redistest"
)

// The client alertgate runs with never resends a command: Redis stalls
// past redis.timeout, and a note posted meanwhile is sent once, so it can
// run only once when Redis resumes. (The default client resent it, and the
// note appeared twice.)
func TestRedisClientNeverResends(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb, err := openRedis(config.Redis{URL: config.Secret("redis://" + srv.Addr), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	sent := redistest.CountSent(rdb, "evalsha")
	store := dedupe.NewStore(rdb, "resend")
	if err := store.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := store.Ingest(t.Context(), dedupe.Group{Route: "default", Key: "k"}, dedupe.Delivery{
		Alerts: []alertgate.Alert{{Fingerprint: "a", Status: alertgate.Firing, Source: "am", Severity: alertgate.SeverityWarning}},
		Now:    time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.WarmPool(t, rdb, 4)
	before := sent.Load()

	srv.Pause(t)
	_, err = store.Transition(t.Context(), res.IncidentID, dedupe.Change{Action: dedupe.Note, Message: "during the stall", Now: time.Now()})
	srv.Resume(t)
	if got := alertgate.ErrorCode(err); got != alertgate.EUNAVAILABLE {
		t.Fatalf("note during the stall: %v (code %q), want unavailable", err, got)
	}
	if got := sent.Load() - before; got != 1 {
		t.Fatalf("the note was sent %d times during the stall, want once", got)
	}
}

// While Redis is down a request dials once and fails, instead of holding
// its sender through go-redis's default five dials 100 ms apart.
func TestRedisClientDialsOncePerRequest(t *testing.T) {
	rdb, err := openRedis(config.Redis{URL: config.Secret("redis://" + redistest.ClosedAddr(t)), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	var dials atomic.Int64
	rdb.AddHook(dialCounter{&dials})
	if err := rdb.Ping(t.Context()).Err(); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
	if got := dials.Load(); got != 1 {
		t.Fatalf("one request dialled %d times, want once", got)
	}
}

type dialCounter struct{ n *atomic.Int64 }

func (d dialCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d.n.Add(1)
		return next(ctx, network, addr)
	}
}
func (dialCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (dialCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
