package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/notify"
)

// The outbox throughput benchmark's backlog: benchPages pages, benchUsers
// to each of benchPages/benchUsers incidents (ids 1…, so every shard).
const (
	benchPages = 20_000
	benchUsers = 20
	// benchDrainLimit bounds one drain: far more than any rate worth
	// measuring needs, so only a stuck deliverer ends the benchmark.
	benchDrainLimit = 5 * time.Minute
)

// BenchmarkOutboxThroughput: a backlog of 20,000 pages in the outbox
// streams (as the engine commits them: one entry with field "page" per
// page, on the shard of its incident) drained by one Deliverer with the
// default options serve uses, over the real Redis, to a fast sink:
//
//   - sink=nop: an in-process notifier that returns at once, so only the
//     outbox's own work (read, record, acknowledge) is measured;
//   - sink=webhook: the generic webhook notifier, POSTing each page to a
//     loopback httptest server that answers 200 at once, with a transport
//     like the one a config's notifiers share (snapshot/notifiers.go:
//     enough idle connections per host for every delivery at once);
//
// and run in two ways:
//
//   - run=passes: Pass after Pass, back to back: what one Deliverer can do;
//   - run=loop: a lifecycle.Loop at the default delivery poll interval,
//     poked once at the start and then by the deliverer's More hook after
//     each pass that took a full batch, as serve runs it when nothing
//     commits new pages meanwhile (a backlog left by an outage or a
//     restart).
//
// Every page is logged as serve logs it (JSON at INFO, to nowhere). The
// timer covers the drain only: the backlog is written before it starts.
// Reported: pages/s, the ns/op of one drain of 20,000 pages.
//
//	go test -run '^$' -bench OutboxThroughput -benchtime 1x -count 5 ./notify/
func BenchmarkOutboxThroughput(b *testing.B) {
	for _, sink := range []string{"nop", "webhook"} {
		for _, run := range []string{"passes", "loop"} {
			b.Run("sink="+sink+"/run="+run, func(b *testing.B) {
				rdb, prefix := redistest.New(b)
				sinkNotifier, calls := benchSink(b, sink)
				n := &failCounter{Notifier: sinkNotifier, b: b}
				pages := 0
				var drained time.Duration
				round := 0
				for b.Loop() {
					b.StopTimer()
					p := prefix + ":" + strconv.Itoa(round)
					round++
					loadBacklog(b, rdb, p)
					poke := make(chan struct{}, 1)
					d := benchDeliverer(b, rdb, p, n, func() {
						select {
						case poke <- struct{}{}:
						default:
						}
					})
					calls.Store(0)
					b.StartTimer()
					start := time.Now()
					switch run {
					case "passes":
						drainByPasses(b, d, calls)
					default:
						drainByLoop(b, d, calls, poke)
					}
					drained += time.Since(start)
					b.StopTimer()
					requireDrained(b, rdb, p, calls)
					redistest.DeletePrefix(b, rdb, p)
					pages += benchPages
					b.StartTimer() // b.Loop wants it running
				}
				b.ReportMetric(float64(pages)/drained.Seconds(), "pages/s")
				// Failed attempts wait to be retried (seconds): a drain
				// with any is slower for it, not for the outbox's work.
				b.ReportMetric(float64(n.failures.Load())*benchPages/float64(pages), "failed-attempts/drain")
			})
		}
	}
}

// benchSink returns the notifier of a sink and its call counter.
func benchSink(b *testing.B, sink string) (notify.Notifier, *atomic.Int64) {
	calls := &atomic.Int64{}
	if sink == "nop" {
		return nopNotifier{calls}, calls
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		calls.Add(1)
	}))
	b.Cleanup(srv.Close)
	// A client like the one a config's webhook gets (snapshot/notifiers.go):
	// a transport keeping enough idle connections per host for every
	// delivery at once (Go's default keeps two, so most would dial anew).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	client := &http.Client{Timeout: config.DefaultNotifierTimeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b.Cleanup(client.CloseIdleConnections)
	hook, err := notify.NewWebhook(notify.WebhookOptions{URL: srv.URL + "/hook", Secrets: []string{"bench-secret"}, Client: client})
	if err != nil {
		b.Fatal(err)
	}
	return hook, calls
}

// failCounter counts the failed attempts of its Notifier and logs the
// first.
type failCounter struct {
	notify.Notifier
	b        *testing.B
	failures atomic.Int64
	first    sync.Once
}

func (f *failCounter) Notify(ctx context.Context, p notify.Page) (bool, error) {
	retry, err := f.Notifier.Notify(ctx, p)
	if err != nil {
		f.failures.Add(1)
		f.first.Do(func() { f.b.Logf("first failed attempt (retry %v): %v", retry, err) })
	}
	return retry, err
}

// nopNotifier delivers every page at once.
type nopNotifier struct{ calls *atomic.Int64 }

func (n nopNotifier) Notify(context.Context, notify.Page) (bool, error) {
	n.calls.Add(1)
	return false, nil
}

// benchDeliverer is a checked Deliverer with serve's options whose one
// notifier, "sink", is n.
func benchDeliverer(b *testing.B, rdb redis.UniversalClient, prefix string, n notify.Notifier, more func()) *notify.Deliverer {
	d := notify.NewDeliverer(rdb, prefix, notify.DelivererOptions{
		More: more,
		Notifiers: func(name string) (notify.Notifier, bool) {
			return n, name == "sink"
		},
		ClaimAfter:  config.DefaultDeliveryClaimAfter,
		MaxAttempts: config.DefaultDeliveryMaxAttempts,
		// Formatted as serve formats it: each page's INFO line is part of
		// the cost.
		Logger: slog.New(benchLog{b, slog.NewJSONHandler(nowhere{}, nil)}),
	})
	if err := d.Check(b.Context()); err != nil {
		b.Fatal(err)
	}
	return d
}

// loadBacklog writes the incidents (their hashes, what recording a page
// needs of them) and benchPages pages to the outbox streams under prefix.
func loadBacklog(b *testing.B, rdb redis.UniversalClient, prefix string) {
	ctx := b.Context()
	layout := redisx.NewLayout(prefix)
	at := time.Now()
	p := rdb.Pipeline()
	for i := 1; i <= benchPages/benchUsers; i++ {
		id := strconv.Itoa(i)
		n, ok := redisx.IncidentShard(id)
		if !ok {
			b.Fatalf("bad incident id %q", id)
		}
		shard := layout.Shard(n)
		p.HSet(ctx, shard.KeyOf(redisx.Incident, id), "id", id, "status", string(alertgate.Triggered), "title", "incident "+id)
		for u := range benchUsers {
			user := "user" + strconv.Itoa(u)
			body, err := json.Marshal(notify.Page{
				Key: id + ".1.0.1." + user, Incident: id, Title: "Disk full on db-" + id, Service: "db",
				Severity: alertgate.SeverityCritical, AlertCount: 2, Since: at.Add(-time.Minute), Policy: "payments",
				Step: 1, User: user, Notifier: "sink", Address: user + "@example.com",
				Reason: "on call in rotation payments-primary", At: at,
			})
			if err != nil {
				b.Fatal(err)
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: shard.Key(redisx.Outbox), Values: []any{"page", body}})
		}
		if p.Len() >= 1000 {
			if _, err := p.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		b.Fatal(err)
	}
}

// drainByPasses runs Pass until every page reached the notifier. A Pass
// returns only after recording what it delivered.
func drainByPasses(b *testing.B, d *notify.Deliverer, calls *atomic.Int64) {
	ctx, cancel := context.WithTimeout(b.Context(), benchDrainLimit)
	defer cancel()
	for calls.Load() < benchPages {
		if err := d.Pass(ctx); err != nil {
			b.Fatalf("Pass after %d pages: %v", calls.Load(), err)
		}
	}
}

// drainByLoop runs a delivery loop as serve does — poked once, then by
// the deliverer's More hook — until every page reached the notifier, then
// stops it (ending the pass in flight, so what it delivered is recorded).
func drainByLoop(b *testing.B, d *notify.Deliverer, calls *atomic.Int64, poke chan struct{}) {
	ctx, cancel := context.WithCancel(b.Context())
	poke <- struct{}{}
	loop := &lifecycle.Loop{Name: "delivery", Interval: config.DefaultDeliveryPoll, Trigger: poke,
		Work: d.Pass, Timeout: time.Minute, SlowAfter: 5 * time.Second}
	done := make(chan struct{})
	go func() { _ = loop.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(benchDrainLimit)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for calls.Load() < benchPages {
		if time.Now().After(deadline) {
			b.Fatalf("after %v, %d of %d pages delivered", benchDrainLimit, calls.Load(), benchPages)
		}
		<-tick.C
	}
}

// requireDrained fails unless every page was delivered once and
// recorded (its entry deleted): the drain returned only after the last
// pass did.
func requireDrained(b *testing.B, rdb redis.UniversalClient, prefix string, calls *atomic.Int64) {
	if got := calls.Load(); got != benchPages {
		b.Fatalf("%d Notify calls for %d pages, want one each", got, benchPages)
	}
	layout := redisx.NewLayout(prefix)
	for n := range redisx.Shards {
		l, err := rdb.XLen(context.Background(), layout.Shard(n).Key(redisx.Outbox)).Result()
		if err != nil || l != 0 {
			b.Fatalf("shard %d: %d entries left in the outbox (%v), want 0", n, l, err)
		}
	}
}

// nowhere keeps nothing of what is written to it.
type nowhere struct{}

func (nowhere) Write(p []byte) (int, error) { return len(p), nil }

// benchLog fails the benchmark on an ERROR record: a page that failed
// would make the rate meaningless.
type benchLog struct {
	b *testing.B
	slog.Handler
}

func (h benchLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.b.Errorf("deliverer logged an error: %s", r.Message)
	}
	return h.Handler.Handle(ctx, r)
}

func (h benchLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return benchLog{h.b, h.Handler.WithAttrs(attrs)}
}

func (h benchLog) WithGroup(name string) slog.Handler {
	return benchLog{h.b, h.Handler.WithGroup(name)}
}
