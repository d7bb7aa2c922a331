package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/notify"
)

// start is when every test's clock starts; pages are committed then.
var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// waitFor bounds every wait on a condition.
const waitFor = 10 * time.Second

// harness is one test's Redis, clock and observer.
type harness struct {
	t      *testing.T
	rdb    redis.UniversalClient
	prefix string
	layout redisx.Layout
	clock  *fakeclock.Clock
	obs    *observer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	rdb, prefix := redistest.New(t)
	return newHarnessOn(t, rdb, prefix)
}

func newHarnessOn(t *testing.T, rdb redis.UniversalClient, prefix string) *harness {
	return &harness{t: t, rdb: rdb, prefix: prefix, layout: redisx.NewLayout(prefix),
		clock: fakeclock.New(start), obs: newObserver()}
}

// deliverer returns a checked Deliverer whose notifiers are ns; o's zero
// Clock, Logger and Observer become the harness's.
func (h *harness) deliverer(log *slog.Logger, ns map[string]notify.Notifier, o notify.DelivererOptions) *notify.Deliverer {
	h.t.Helper()
	o.Notifiers = func(name string) (notify.Notifier, bool) {
		n, ok := ns[name]
		return n, ok
	}
	if o.Clock == nil {
		o.Clock = h.clock
	}
	if o.Logger == nil {
		o.Logger = log
	}
	if o.Observer == nil {
		o.Observer = h.obs
	}
	d := notify.NewDeliverer(h.rdb, h.prefix, o)
	if err := d.Check(h.t.Context()); err != nil {
		h.t.Fatalf("Check: %v", err)
	}
	return d
}

func (h *harness) shard(incident string) redisx.Shard {
	h.t.Helper()
	n, ok := redisx.IncidentShard(incident)
	if !ok {
		h.t.Fatalf("bad incident id %q", incident)
	}
	return h.layout.Shard(n)
}

// addIncident writes what record.lua looks for of an incident: its hash.
func (h *harness) addIncident(id string) {
	h.t.Helper()
	err := h.rdb.HSet(h.t.Context(), h.shard(id).KeyOf(redisx.Incident, id),
		"id", id, "status", string(alertgate.Triggered), "title", "incident "+id).Err()
	if err != nil {
		h.t.Fatal(err)
	}
}

// commitScript does for one page what the escalation engine's step commit
// does: an entry with one field "page" in the outbox of the incident's
// shard, and the "paged" entry on its timeline.
//
// KEYS[1] the outbox, KEYS[2] the timeline; ARGV[2] the page's JSON,
// ARGV[3] the paged entry's page object. Returns {entry id}.
var commitScript = redisx.NewScript("test: commit page", `
local id = redis.call('XADD', KEYS[1], '*', 'page', ARGV[2])
redis.call('RPUSH', KEYS[2], '{"at":' .. string.format('%d', now) .. ',"actor":"escalation","type":"' .. EV_paged .. '","page":' .. ARGV[3] .. '}')
return {id}
`)

// commit writes p as the engine would, at the harness's clock.
func (h *harness) commit(p notify.Page) string {
	h.t.Helper()
	body, err := json.Marshal(p)
	if err != nil {
		h.t.Fatal(err)
	}
	paged, err := json.Marshal(alertgate.PageEntry{Key: p.Key, User: p.User, Notifier: p.Notifier, Step: p.Step, Repeat: p.Repeat, Reason: p.Reason})
	if err != nil {
		h.t.Fatal(err)
	}
	shard := h.shard(p.Incident)
	reply, err := commitScript.Run(h.t.Context(), h.rdb,
		[]string{shard.Key(redisx.Outbox), shard.KeyOf(redisx.Timeline, p.Incident)},
		redisx.NewHeader(shard, h.clock.Now(), redisx.RequestID(), "escalation"), body, paged)
	if err != nil {
		h.t.Fatal(err)
	}
	r := commitScript.ReadReply(reply, 1)
	id := r.Str(0)
	if err := r.Err(); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// addRaw writes an outbox entry of any shape to shard n's stream.
func (h *harness) addRaw(n int, values ...any) {
	h.t.Helper()
	if err := h.rdb.XAdd(h.t.Context(), &redis.XAddArgs{Stream: h.layout.Shard(n).Key(redisx.Outbox), Values: values}).Err(); err != nil {
		h.t.Fatal(err)
	}
}

// page is a page to user about incident, from step 1 of the first pass.
func page(incident, user string) notify.Page {
	return notify.Page{
		Key:        incident + ".1.0.0." + user,
		Incident:   incident,
		Title:      "Disk full on db-" + incident,
		Service:    "db",
		Severity:   alertgate.SeverityCritical,
		AlertCount: 2,
		Since:      start.Add(-time.Minute),
		Policy:     "payments",
		Step:       1,
		User:       user,
		Notifier:   notify.ConsoleName,
		Address:    user + "@example.com",
		Reason:     "on call in rotation payments-primary",
		At:         start,
	}
}

// timelineEntry is a timeline entry as Redis holds it ("at" in Unix ms).
type timelineEntry struct {
	At    int64                `json:"at"`
	Type  string               `json:"type"`
	Actor string               `json:"actor"`
	Page  *alertgate.PageEntry `json:"page"`
}

// timeline returns the incident's entries of the given types (all if none).
func (h *harness) timeline(id string, types ...string) []timelineEntry {
	h.t.Helper()
	raw, err := h.rdb.LRange(h.t.Context(), h.shard(id).KeyOf(redisx.Timeline, id), 0, -1).Result()
	if err != nil {
		h.t.Fatal(err)
	}
	var out []timelineEntry
	for _, s := range raw {
		var e timelineEntry
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			h.t.Fatalf("timeline entry %s: %v", s, err)
		}
		if len(types) == 0 || slices.Contains(types, e.Type) {
			out = append(out, e)
		}
	}
	return out
}

// outcome returns the one delivery entry (delivered or failed) of a page,
// failing the test unless there is exactly one.
func (h *harness) outcome(p notify.Page) timelineEntry {
	h.t.Helper()
	var found []timelineEntry
	for _, e := range h.timeline(p.Incident, alertgate.EventPageDelivered, alertgate.EventPageFailed) {
		if e.Page != nil && e.Page.Key == p.Key {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		h.t.Fatalf("page %s: %d delivery entries on the timeline, want 1: %+v", p.Key, len(found), found)
	}
	return found[0]
}

// result is what the incident's pages hash says of p ("" if nothing).
func (h *harness) result(p notify.Page) string {
	h.t.Helper()
	v, err := h.rdb.HGet(h.t.Context(), h.shard(p.Incident).KeyOf(redisx.Pages, p.Incident), p.Key).Result()
	if errors.Is(err, redis.Nil) {
		return ""
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

// requireOutboxEmpty fails the test unless every stream is empty and no
// entry is pending.
func (h *harness) requireOutboxEmpty() {
	h.t.Helper()
	ctx := h.t.Context()
	for n := range redisx.Shards {
		key := h.layout.Shard(n).Key(redisx.Outbox)
		if l, err := h.rdb.XLen(ctx, key).Result(); err != nil || l != 0 {
			h.t.Errorf("shard %d: outbox holds %d entries (%v), want 0", n, l, err)
		}
		pend, err := h.rdb.XPending(ctx, key, notify.Group).Result()
		if err != nil {
			h.t.Errorf("shard %d: XPENDING: %v", n, err)
		} else if pend.Count != 0 {
			h.t.Errorf("shard %d: %d entries pending, want 0", n, pend.Count)
		}
	}
}

// passUntil runs passes of ds, in turn, until done says so.
func passUntil(t *testing.T, done func() bool, ds ...*notify.Deliverer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	for !done() {
		if ctx.Err() != nil {
			t.Fatalf("condition not met within %s", waitFor)
		}
		for _, d := range ds {
			if err := d.Pass(ctx); err != nil && ctx.Err() == nil {
				t.Fatalf("Pass: %v", err)
			}
		}
	}
}

// passAdvancing runs passes of ds, moving the harness's clock on by step
// after each round, until done says so: pages put back to wait (retries,
// throttling) fall due on the clock.
func (h *harness) passAdvancing(step time.Duration, done func() bool, ds ...*notify.Deliverer) {
	h.t.Helper()
	passUntil(h.t, func() bool {
		if done() {
			return true
		}
		h.clock.Advance(step)
		return false
	}, ds...)
}

// observer is a notify.Observer that keeps what it is told.
type observer struct {
	mu          sync.Mutex
	delivered   map[string]int
	failed      map[string]int
	duplicates  map[string]int
	lags        []time.Duration
	waiting     map[string]int // by reason
	redelivered map[string]int
	failovers   map[string]int // by where to
	digests     []int          // pages per digest
	breaker     []string       // "target state", in order
}

func newObserver() *observer {
	return &observer{delivered: map[string]int{}, failed: map[string]int{}, duplicates: map[string]int{},
		waiting: map[string]int{}, failovers: map[string]int{}, redelivered: map[string]int{}}
}

func (o *observer) PageRedelivered(notifier string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.redelivered[notifier]++
}

func (o *observer) PageWaiting(_, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waiting[reason]++
}

func (o *observer) PageFailover(_, to string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failovers[to]++
}

func (o *observer) Digest(_ string, pages int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.digests = append(o.digests, pages)
}

func (o *observer) BreakerState(target, state string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.breaker = append(o.breaker, target+" "+state)
}

// waits returns how often pages waited for reason.
func (o *observer) waits(reason string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.waiting[reason]
}

func (o *observer) PageDelivered(notifier string, lag time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delivered[notifier]++
	o.lags = append(o.lags, lag)
}

func (o *observer) PageFailed(notifier string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed[notifier]++
}

func (o *observer) PageDuplicate(notifier string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.duplicates[notifier]++
}

// counts returns delivered, failed and duplicate pages of all notifiers.
func (o *observer) counts() (delivered, failed, duplicates int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range o.delivered {
		delivered += n
	}
	for _, n := range o.failed {
		failed += n
	}
	for _, n := range o.duplicates {
		duplicates += n
	}
	return delivered, failed, duplicates
}

// fakeNotifier counts calls per page key and answers with fn (nil:
// success).
type fakeNotifier struct {
	mu    sync.Mutex
	calls map[string]int
	fn    func(ctx context.Context, p notify.Page, call int) (bool, error)
}

func newFake(fn func(ctx context.Context, p notify.Page, call int) (bool, error)) *fakeNotifier {
	return &fakeNotifier{calls: map[string]int{}, fn: fn}
}

func (f *fakeNotifier) Notify(ctx context.Context, p notify.Page) (bool, error) {
	f.mu.Lock()
	f.calls[p.Key]++
	call := f.calls[p.Key]
	f.mu.Unlock()
	if f.fn == nil {
		return false, nil
	}
	return f.fn(ctx, p, call)
}

func (f *fakeNotifier) callsOf(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func (f *fakeNotifier) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// syncBuffer is a strings.Builder safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// keyCounts counts the console lines per page key (their key= token).
func keyCounts(t *testing.T, out string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "  ") {
			continue // a page's link lines, a digest's items
		}
		_, key, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " key=")
		if !ok {
			t.Fatalf("console line without key=: %q", line)
		}
		counts[key]++
	}
	return counts
}
