package heartbeat

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/routing"
	"github.com/alertgate/alertgate/snapshot"
)

const testConfig = `
api:
  tokens: [api-token]
integrations:
  - name: watchdog
    type: heartbeat
    interval: 1m
    grace: 30s
    tokens: [hb-token]
    service: monitoring
    labels: {team: sre, alertname: overridden-not}
  - name: am
    type: alertmanager
    tokens: [am-token]
routes:
  - name: heartbeats
    integrations: [watchdog]
    group_wait: 0s
`

const (
	testLease   = 10 * time.Second
	testTimeout = 90 * time.Second // interval + grace
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// countingAcceptor counts the alerts sent through the pipeline.
type countingAcceptor struct {
	svc  *incident.Service
	sent atomic.Int64
}

func (a *countingAcceptor) Accept(ctx context.Context, tree *routing.Tree, integration string, b alertgate.Batch, index bool) (incident.Accepted, error) {
	a.sent.Add(int64(len(b.Alerts)))
	return a.svc.Accept(ctx, tree, integration, b, index)
}

type fixture struct {
	rdb    redis.UniversalClient
	prefix string
	clock  *fakeclock.Clock
	snap   atomic.Pointer[snapshot.Snapshot]
	svc    *incident.Service
	accept *countingAcceptor
	in     config.Integration
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	f := &fixture{rdb: rdb, prefix: prefix, clock: fakeclock.New(t0)}
	snap, err := snapshot.Load([]byte(testConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f.snap.Store(snap)
	f.svc = incident.NewService(dedupe.NewStore(rdb, prefix), incident.Options{Now: f.clock.Now, Logger: testlog.New(t)})
	f.accept = &countingAcceptor{svc: f.svc}
	_, f.in, _ = snap.Receivers.Get("watchdog")
	return f
}

// checker is one replica's checker over the fixture's Redis.
func (f *fixture) checker(t *testing.T) *Checker {
	t.Helper()
	c := New(f.rdb, f.prefix, Options{Snapshot: f.snap.Load, Accept: f.accept, Clock: f.clock, Lease: testLease, Logger: testlog.New(t)})
	if err := c.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) ping(t *testing.T, c *Checker) PingResult {
	t.Helper()
	res, err := c.Ping(t.Context(), f.snap.Load(), f.in)
	if err != nil {
		t.Fatalf("ping: %v", err)
	}
	return res
}

func (f *fixture) pass(t *testing.T, c *Checker) {
	t.Helper()
	if err := c.Pass(t.Context()); err != nil {
		t.Fatalf("pass: %v", err)
	}
}

// passAll runs one pass of every checker at once.
func (f *fixture) passAll(t *testing.T, cs []*Checker) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, len(cs))
	for i, c := range cs {
		wg.Go(func() {
			<-start
			errs[i] = c.Pass(t.Context())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("checker %d: %v", i, err)
		}
	}
}

// incidents returns every incident, fetched whole.
func (f *fixture) incidents(t *testing.T) []*alertgate.Incident {
	t.Helper()
	page, err := f.svc.List(t.Context(), alertgate.IncidentFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*alertgate.Incident, 0, len(page.Incidents))
	for _, inc := range page.Incidents {
		full, err := f.svc.Get(t.Context(), inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, full)
	}
	return out
}

// one asserts there is exactly one incident, in status st, and returns it.
func (f *fixture) one(t *testing.T, st alertgate.IncidentStatus) *alertgate.Incident {
	t.Helper()
	incs := f.incidents(t)
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1: %+v", len(incs), incs)
	}
	if incs[0].Status != st {
		t.Fatalf("incident %s is %s, want %s", incs[0].ID, incs[0].Status, st)
	}
	return incs[0]
}

func (f *fixture) none(t *testing.T) {
	t.Helper()
	if incs := f.incidents(t); len(incs) != 0 {
		t.Fatalf("%d incidents, want none: %+v", len(incs), incs)
	}
}

// A missed ping opens one incident, however many checkers race for it, on
// the heartbeat's route, with the alert's labels, severity and summary.
func TestMissedOpensOnceWithThreeCheckers(t *testing.T) {
	f := newFixture(t)
	cs := []*Checker{f.checker(t), f.checker(t), f.checker(t)}
	if res := f.ping(t, cs[0]); res.Status != StatusOK || !res.NextDeadline.Equal(t0.Add(testTimeout)) {
		t.Fatalf("first ping: %+v, want ok with deadline %v", res, t0.Add(testTimeout))
	}
	f.clock.Advance(testTimeout - time.Millisecond)
	f.passAll(t, cs)
	f.none(t) // not missed yet

	f.clock.Advance(time.Millisecond)
	f.passAll(t, cs)
	inc := f.one(t, alertgate.Triggered)
	if inc.Route != "heartbeats" || inc.Service != "monitoring" || inc.Severity != alertgate.SeverityCritical {
		t.Errorf("incident route %q service %q severity %q", inc.Route, inc.Service, inc.Severity)
	}
	if len(inc.Alerts) != 1 {
		t.Fatalf("alerts %+v", inc.Alerts)
	}
	a := inc.Alerts[0]
	want := map[string]string{"alertname": "HeartbeatMissed", "heartbeat": "watchdog", "team": "sre"}
	for k, v := range want {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, a.Labels[k], v, a.Labels)
		}
	}
	if a.Summary != "No heartbeat from watchdog for 1m30s" || a.Source != "watchdog" || !a.StartsAt.Equal(t0.Add(testTimeout)) {
		t.Errorf("alert summary %q source %q starts %v", a.Summary, a.Source, a.StartsAt)
	}
	if got := f.accept.sent.Load(); got != 1 {
		t.Errorf("%d alerts sent, want 1: the claim lets one checker fire", got)
	}

	// Still missing: no more sends, however long and however many passes.
	for range 5 {
		f.clock.Advance(time.Minute)
		f.passAll(t, cs)
	}
	if inc := f.one(t, alertgate.Triggered); inc.Alerts[0].Received != 1 {
		t.Errorf("alert received %d times, want 1", inc.Alerts[0].Received)
	}
	if got := f.accept.sent.Load(); got != 1 {
		t.Errorf("%d alerts sent, want 1", got)
	}
}

// The next ping after a miss resolves its incident through the pipeline,
// and rearms: the next miss opens again.
func TestNextPingResolves(t *testing.T) {
	f := newFixture(t)
	c, other := f.checker(t), f.checker(t)
	f.ping(t, c)
	f.clock.Advance(testTimeout)
	f.pass(t, c)
	f.one(t, alertgate.Triggered)

	f.clock.Advance(5 * time.Second)
	res := f.ping(t, c)
	if res.Status != StatusResolved || !res.NextDeadline.Equal(f.clock.Now().Add(testTimeout)) {
		t.Fatalf("ping after the miss: %+v, want resolved", res)
	}
	inc := f.one(t, alertgate.IncidentResolved)
	if inc.Alerts[0].Status != alertgate.Resolved {
		t.Errorf("alert %s", inc.Alerts[0].Status)
	}
	if got := f.accept.sent.Load(); got != 2 {
		t.Errorf("%d alerts sent, want 2 (firing, resolved)", got)
	}
	// Nothing left to do, on any replica.
	f.pass(t, other)
	f.pass(t, c)
	if got := f.accept.sent.Load(); got != 2 {
		t.Errorf("%d alerts sent after the resolve, want 2", got)
	}
	if res := f.ping(t, other); res.Status != StatusOK {
		t.Errorf("ping when healthy: %+v", res)
	}

	// Rearmed: missing again fires again (within the reopen window, the
	// same incident reopens).
	f.clock.Advance(testTimeout)
	f.pass(t, other)
	inc = f.one(t, alertgate.Triggered)
	if inc.Reopened != 1 {
		t.Errorf("reopened %d, want 1", inc.Reopened)
	}
}

// Pings while healthy only move the deadline: nothing goes through the
// pipeline, however many pings and passes.
func TestHealthyPingsDoNothing(t *testing.T) {
	f := newFixture(t)
	cs := []*Checker{f.checker(t), f.checker(t)}
	for i := range 20 {
		res := f.ping(t, cs[i%2])
		if res.Status != StatusOK || !res.NextDeadline.Equal(f.clock.Now().Add(testTimeout)) {
			t.Fatalf("ping %d: %+v", i, res)
		}
		f.clock.Advance(testTimeout - time.Second) // just in time, every time
		f.passAll(t, cs)
	}
	f.none(t)
	if got := f.accept.sent.Load(); got != 0 {
		t.Errorf("%d alerts sent, want 0", got)
	}
	// A repeated ping at the same instant is the same ping.
	f.ping(t, cs[0])
	f.ping(t, cs[1])
	f.clock.Advance(testTimeout)
	f.passAll(t, cs)
	f.one(t, alertgate.Triggered)
}

// A heartbeat that never pinged is not watched.
func TestNeverPingedIsNotWatched(t *testing.T) {
	f := newFixture(t)
	c := f.checker(t)
	f.clock.Advance(24 * time.Hour)
	f.pass(t, c)
	f.none(t)
}

// A checker that claimed a missed heartbeat and died before it sent the
// alert delays it by the lease: then another fires it, once.
func TestClaimedThenDiedFiresAfterLease(t *testing.T) {
	f := newFixture(t)
	dead, live := f.checker(t), f.checker(t)
	f.ping(t, live)
	f.clock.Advance(testTimeout)
	claims, err := dead.claim(t.Context(), f.clock.Now(), "")
	if err != nil || len(claims) != 1 || claims[0].action != actionFire {
		t.Fatalf("claim: %+v, %v", claims, err)
	}
	f.pass(t, live)
	f.clock.Advance(testLease - time.Millisecond)
	f.pass(t, live)
	f.none(t) // the lease holds

	f.clock.Advance(time.Millisecond)
	f.pass(t, live)
	f.one(t, alertgate.Triggered)

	// The dead one wakes up: its late commit is refused, and what it
	// would send is the same alert, a repeat.
	n, err := dead.finish(t.Context(), f.snap.Load(), claims)
	if err != nil || n != 0 {
		t.Fatalf("late commit: %d committed, %v; want refused", n, err)
	}
	if inc := f.one(t, alertgate.Triggered); len(inc.Alerts) != 1 {
		t.Errorf("alerts %+v", inc.Alerts)
	}
	f.clock.Advance(time.Hour)
	f.pass(t, live)
	if got := f.accept.sent.Load(); got != 2 {
		t.Errorf("%d alerts sent, want 2 (the live fire, the late repeat)", got)
	}
}

// A checker that sent the alert and died before its commit: after the
// lease another sends it again, which ingest takes as a repeat.
func TestSentThenDiedIsARepeat(t *testing.T) {
	f := newFixture(t)
	dead, live := f.checker(t), f.checker(t)
	f.ping(t, live)
	f.clock.Advance(testTimeout)
	claims, err := dead.claim(t.Context(), f.clock.Now(), "")
	if err != nil || len(claims) != 1 {
		t.Fatalf("claim: %+v, %v", claims, err)
	}
	if err := dead.send(t.Context(), f.snap.Load(), &claims[0]); err != nil {
		t.Fatal(err)
	}
	f.one(t, alertgate.Triggered)
	f.clock.Advance(testLease)
	f.pass(t, live)
	inc := f.one(t, alertgate.Triggered)
	if len(inc.Alerts) != 1 {
		t.Fatalf("alerts %+v", inc.Alerts)
	}
	// Committed now: no third send.
	f.clock.Advance(time.Hour)
	f.pass(t, live)
	if got := f.accept.sent.Load(); got != 2 {
		t.Errorf("%d alerts sent, want 2", got)
	}
}

// A ping that comes while a fire is in flight does not race it: the ping
// is recorded, the holder fires and commits, and the resolve follows.
func TestPingDuringFire(t *testing.T) {
	f := newFixture(t)
	holder, other := f.checker(t), f.checker(t)
	f.ping(t, holder)
	f.clock.Advance(testTimeout)
	claims, err := holder.claim(t.Context(), f.clock.Now(), "")
	if err != nil || len(claims) != 1 {
		t.Fatalf("claim: %+v, %v", claims, err)
	}
	if res := f.ping(t, other); res.Status != StatusRecovering {
		t.Fatalf("ping during the fire: %+v, want recovering", res)
	}
	f.pass(t, other) // the claim holds: nothing
	if got := f.accept.sent.Load(); got != 0 {
		t.Fatalf("%d alerts sent while the claim holds", got)
	}
	if n, err := holder.finish(t.Context(), f.snap.Load(), claims); err != nil || n != 1 {
		t.Fatalf("holder's commit: %d, %v", n, err)
	}
	f.one(t, alertgate.Triggered)
	f.pass(t, other) // due now: the resolve
	f.one(t, alertgate.IncidentResolved)
	f.clock.Advance(testTimeout - time.Second)
	f.pass(t, other)
	f.one(t, alertgate.IncidentResolved)
}

// A heartbeat the config lost is dropped from the checks; configured and
// pinged again, it resolves what it left open.
func TestDroppedWhenUnconfigured(t *testing.T) {
	f := newFixture(t)
	c := f.checker(t)
	f.ping(t, c)
	f.clock.Advance(testTimeout)
	f.pass(t, c)
	f.one(t, alertgate.Triggered)
	f.ping(t, c) // resolves
	f.clock.Advance(testTimeout)

	withHB := f.snap.Load()
	without, err := snapshot.Load([]byte(`
integrations:
  - name: am
    type: alertmanager
    tokens: [am-token]
`), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f.snap.Store(without)
	f.pass(t, c)
	if n, _ := f.rdb.ZCard(t.Context(), newKeys(f.prefix).due).Result(); n != 0 {
		t.Errorf("due holds %d heartbeats, want 0", n)
	}
	if got := f.accept.sent.Load(); got != 2 {
		t.Errorf("%d alerts sent, want 2", got)
	}
	f.snap.Store(withHB)
	f.clock.Advance(time.Hour)
	f.pass(t, c)
	if got := f.accept.sent.Load(); got != 2 {
		t.Errorf("%d alerts sent after re-adding without a ping, want 2", got)
	}
}

// A failed send is retried once the claim's lease runs out.
func TestFailedSendRetriedAfterLease(t *testing.T) {
	f := newFixture(t)
	failing := &failOnce{next: f.accept}
	c := New(f.rdb, f.prefix, Options{Snapshot: f.snap.Load, Accept: failing, Clock: f.clock, Lease: testLease, Logger: testlog.New(t)})
	f.ping(t, c)
	f.clock.Advance(testTimeout)
	if err := c.Pass(t.Context()); alertgate.ErrorCode(err) != alertgate.EUNAVAILABLE {
		t.Fatalf("pass: %v, want the send's error", err)
	}
	f.none(t)
	f.clock.Advance(testLease)
	f.pass(t, c)
	f.one(t, alertgate.Triggered)
}

type failOnce struct {
	next   Acceptor
	failed atomic.Bool
}

func (a *failOnce) Accept(ctx context.Context, tree *routing.Tree, integration string, b alertgate.Batch, index bool) (incident.Accepted, error) {
	if a.failed.CompareAndSwap(false, true) {
		return incident.Accepted{}, alertgate.Errorf(alertgate.EUNAVAILABLE, "redis down")
	}
	return a.next.Accept(ctx, tree, integration, b, index)
}

// A ping that Redis does not take fails as unavailable: the sender
// retries.
func TestPingRedisDown(t *testing.T) {
	f := newFixture(t)
	rdb := redis.NewClient(&redis.Options{Addr: redistest.ClosedAddr(t), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	c := New(rdb, f.prefix, Options{Snapshot: f.snap.Load, Accept: f.accept, Clock: f.clock, Logger: testlog.New(t)})
	if _, err := c.Ping(t.Context(), f.snap.Load(), f.in); alertgate.ErrorCode(err) != alertgate.EUNAVAILABLE {
		t.Fatalf("ping with Redis down: %v, want unavailable", err)
	}
}
