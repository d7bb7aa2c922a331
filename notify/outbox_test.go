package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/notify"
)

// Pages committed before the consumer group exists are delivered: the
// group starts at the stream's beginning. Each is delivered once, and its
// outcome recorded on its incident's timeline after the engine's "paged".
func TestPagesAreDeliveredOnceAndRecorded(t *testing.T) {
	h := newHarness(t)
	var pages []notify.Page
	for i := 1; i <= 40; i++ { // ids 1…40 cover every shard
		id := strconv.Itoa(i)
		h.addIncident(id)
		p := page(id, "alice")
		p.Step, p.Repeat = i%3+1, i%2
		h.commit(p)
		pages = append(pages, p)
	}
	var out syncBuffer
	d := h.deliverer(testlog.New(t), map[string]notify.Notifier{notify.ConsoleName: notify.NewConsole(&out)}, notify.DelivererOptions{})

	h.clock.Advance(1500 * time.Millisecond)
	if err := d.Pass(t.Context()); err != nil {
		t.Fatalf("Pass: %v", err)
	}
	// The pass delivered all it read, and it read everything (40 < 16 × Batch).
	counts := keyCounts(t, out.String())
	if got, want := len(counts), len(pages); got != want {
		t.Fatalf("%d pages on the console, want %d:\n%s", got, want, out.String())
	}
	for _, p := range pages {
		if got := counts[p.Key]; got != 1 {
			t.Errorf("page %s shown %d times, want 1", p.Key, got)
		}
		e := h.outcome(p)
		want := alertgate.PageEntry{Key: p.Key, User: p.User, Notifier: p.Notifier, Step: p.Step, Repeat: p.Repeat, Attempts: 1}
		if e.Type != alertgate.EventPageDelivered || *e.Page != want {
			t.Errorf("page %s: entry %s %+v, want %s %+v", p.Key, e.Type, *e.Page, alertgate.EventPageDelivered, want)
		}
		if got, want := e.At, h.clock.Now().UnixMilli(); got != want {
			t.Errorf("page %s: at %d, want %d (the deliverer's clock)", p.Key, got, want)
		}
		if got, want := e.Actor, "notifier:console"; got != want {
			t.Errorf("page %s: actor %q, want %q", p.Key, got, want)
		}
		if types := h.timeline(p.Incident); len(types) != 2 || types[0].Type != alertgate.EventPaged {
			t.Errorf("incident %s: timeline %+v, want paged then page_delivered", p.Incident, types)
		}
		if got := h.result(p); got != "delivered" {
			t.Errorf("page %s: pages hash says %q, want delivered", p.Key, got)
		}
	}
	h.requireOutboxEmpty()
	if d, f, dup := h.obs.counts(); d != len(pages) || f != 0 || dup != 0 {
		t.Errorf("observer: %d delivered, %d failed, %d duplicates; want %d, 0, 0", d, f, dup, len(pages))
	}
	for _, lag := range h.obs.lags {
		if lag != 1500*time.Millisecond {
			t.Errorf("lag %s, want 1.5s (clock − Page.At)", lag)
		}
	}

	// Nothing is left to deliver.
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(keyCounts(t, out.String())); got != len(pages) {
		t.Errorf("a second pass delivered again: %d lines", got)
	}
}

// Two replicas over one Redis deliver every page exactly once. Each
// replica's first delivery waits until the other has one in flight too, so
// the two really take pages at the same time.
func TestTwoDeliverersDeliverEveryPageOnce(t *testing.T) {
	h := newHarness(t)
	const incidents, users = 100, 5
	for i := 1; i <= incidents; i++ {
		id := strconv.Itoa(i)
		h.addIncident(id)
		for u := range users {
			h.commit(page(id, "user"+strconv.Itoa(u)))
		}
	}
	var out syncBuffer
	console := notify.NewConsole(&out)
	inA, inB := make(chan struct{}), make(chan struct{})
	fakeA := newFake(meet(inA, inB, console))
	fakeB := newFake(meet(inB, inA, console))
	log := testlog.New(t)
	o := notify.DelivererOptions{Batch: 4, Concurrency: 4}
	o.Consumer = "a"
	a := h.deliverer(log, map[string]notify.Notifier{notify.ConsoleName: fakeA}, o)
	o.Consumer = "b"
	b := h.deliverer(log, map[string]notify.Notifier{notify.ConsoleName: fakeB}, o)

	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	all := func() bool { d, _, _ := h.obs.counts(); return d >= incidents*users }
	var wg sync.WaitGroup
	for _, d := range []*notify.Deliverer{a, b} {
		wg.Go(func() {
			for !all() && ctx.Err() == nil {
				if err := d.Pass(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("%s: Pass: %v", d.Consumer(), err)
					return
				}
			}
		})
	}
	wg.Wait()
	if !all() {
		t.Fatalf("not every page delivered within %s", waitFor)
	}

	counts := keyCounts(t, out.String())
	if got, want := len(counts), incidents*users; got != want {
		t.Errorf("%d distinct pages delivered, want %d", got, want)
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if counts[k] != 1 {
			t.Errorf("page %s delivered %d times, want once", k, counts[k])
		}
	}
	if fakeA.total() == 0 || fakeB.total() == 0 {
		t.Errorf("deliveries: a %d, b %d; want both to have delivered", fakeA.total(), fakeB.total())
	}
	if _, f, dup := h.obs.counts(); f != 0 || dup != 0 {
		t.Errorf("observer: %d failed, %d duplicates; want none", f, dup)
	}
	for i := 1; i <= incidents; i++ {
		if got := len(h.timeline(strconv.Itoa(i), alertgate.EventPageDelivered)); got != users {
			t.Errorf("incident %d: %d page_delivered entries, want %d", i, got, users)
		}
	}
	h.requireOutboxEmpty()
}

// meet returns a notify func that, on its first call, says so on mine and
// waits (at most waitFor) for the other replica's first call, then hands
// every page to n.
func meet(mine, other chan struct{}, n notify.Notifier) func(context.Context, notify.Page, int) (bool, error) {
	var once sync.Once
	return func(ctx context.Context, p notify.Page, _ int) (bool, error) {
		once.Do(func() {
			close(mine)
			select {
			case <-other:
			case <-time.After(waitFor):
			}
		})
		return n.Notify(ctx, p)
	}
}

// A consumer that read pages and died before recording them: another
// replica re-claims them once they have been idle for ClaimAfter, not
// before, and delivers each once.
func TestEntriesOfADeadConsumerAreReclaimed(t *testing.T) {
	h := newHarness(t)
	var pages []notify.Page
	for i := 1; i <= 20; i++ {
		id := strconv.Itoa(i)
		h.addIncident(id)
		pages = append(pages, page(id, "bob"))
		h.commit(pages[len(pages)-1])
	}
	log := testlog.New(t)
	fake := newFake(nil)
	ns := map[string]notify.Notifier{notify.ConsoleName: fake}
	patient := h.deliverer(log, ns, notify.DelivererOptions{Consumer: "patient", ClaimAfter: time.Hour})

	// The dead consumer reads every shard's entries and is never heard of again.
	read := 0
	for n := range redisx.Shards {
		streams, err := h.rdb.XReadGroup(t.Context(), &redis.XReadGroupArgs{
			Group: notify.Group, Consumer: "dead", Streams: []string{h.layout.Shard(n).Key(redisx.Outbox), ">"}, Count: 100, Block: -1,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatal(err)
		}
		for _, s := range streams {
			read += len(s.Messages)
		}
	}
	if read != len(pages) {
		t.Fatalf("the dead consumer read %d entries, want %d", read, len(pages))
	}

	// Not idle for an hour: nobody may take them yet.
	if err := patient.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := fake.total(); got != 0 {
		t.Fatalf("%d pages delivered while their consumer might still be alive, want 0", got)
	}

	quick := h.deliverer(log, ns, notify.DelivererOptions{
		Consumer: "quick", ClaimAfter: 20 * time.Millisecond,
		Concurrency: len(pages), // every page starts at once: none waits past ClaimAfter/2
	})
	passUntil(t, func() bool { d, _, _ := h.obs.counts(); return d == len(pages) }, quick)
	for _, p := range pages {
		if got := fake.callsOf(p.Key); got != 1 {
			t.Errorf("page %s delivered %d times, want 1", p.Key, got)
		}
		// The dead consumer's read counts as the first delivery.
		if e := h.outcome(p); e.Type != alertgate.EventPageDelivered || e.Page.Attempts != 2 {
			t.Errorf("page %s: %s after %d attempts, want page_delivered after 2", p.Key, e.Type, e.Page.Attempts)
		}
	}
	// Each may have reached the target twice: counted as possible
	// duplicates.
	h.obs.mu.Lock()
	if got := h.obs.redelivered[notify.ConsoleName]; got != len(pages) {
		t.Errorf("%d redeliveries counted, want %d", got, len(pages))
	}
	h.obs.mu.Unlock()
	h.requireOutboxEmpty()
}

// A replica that stalls mid-delivery past ClaimAfter: another delivers the
// page too, and whichever records second finds the key recorded. The
// timeline keeps one entry; the duplicate is counted.
func TestDuplicateDeliveryIsRecordedOnce(t *testing.T) {
	h := newHarness(t)
	h.addIncident("7")
	p := page("7", "carol")
	h.commit(p)

	entered, release := make(chan struct{}), make(chan struct{})
	stalled := newFake(func(ctx context.Context, _ notify.Page, _ int) (bool, error) {
		close(entered)
		select {
		case <-release:
			return false, nil
		case <-ctx.Done():
			return true, ctx.Err()
		}
	})
	fine := newFake(nil)
	log := testlog.NewLog(t)
	slow := h.deliverer(log.Logger(), map[string]notify.Notifier{notify.ConsoleName: stalled}, notify.DelivererOptions{Consumer: "slow", ClaimAfter: time.Hour})
	quick := h.deliverer(log.Logger(), map[string]notify.Notifier{notify.ConsoleName: fine}, notify.DelivererOptions{Consumer: "quick", ClaimAfter: 20 * time.Millisecond})

	slowDone := make(chan error, 1)
	go func() { slowDone <- slow.Pass(t.Context()) }()
	select {
	case <-entered:
	case <-time.After(waitFor):
		t.Fatal("the slow replica never started delivering")
	}
	passUntil(t, func() bool { return h.result(p) != "" }, quick)
	close(release)
	select {
	case err := <-slowDone:
		if err != nil {
			t.Fatalf("slow Pass: %v", err)
		}
	case <-time.After(waitFor):
		t.Fatal("the slow replica's pass never ended")
	}

	if got := stalled.total() + fine.total(); got != 2 {
		t.Errorf("%d deliveries, want 2 (one per replica)", got)
	}
	e := h.outcome(p) // exactly one entry
	if e.Page.Attempts != 2 {
		t.Errorf("recorded attempt %d, want 2 (the re-claim)", e.Page.Attempts)
	}
	if d, _, dup := h.obs.counts(); d != 1 || dup != 1 {
		t.Errorf("observer: %d delivered, %d duplicates; want 1, 1", d, dup)
	}
	if h.obs.duplicates[notify.ConsoleName] != 1 {
		t.Errorf("duplicates by notifier %v, want console: 1", h.obs.duplicates)
	}
	if log.Count("page delivered again after its outcome was recorded (a replica stalled or died); the timeline keeps the first") != 1 {
		t.Error("the duplicate delivery was not logged")
	}
	h.requireOutboxEmpty()
}

// Retryable failures leave the page pending; it is re-claimed after
// ClaimAfter and tried again, up to MaxAttempts.
func TestRetryableFailures(t *testing.T) {
	t.Run("then delivered", func(t *testing.T) {
		h := newHarness(t)
		h.addIncident("3")
		p := page("3", "dave")
		h.commit(p)
		fake := newFake(func(_ context.Context, _ notify.Page, call int) (bool, error) {
			if call < 3 {
				return true, fmt.Errorf("slack answered 503 (attempt %d)", call)
			}
			return false, nil
		})
		d := h.deliverer(testlog.New(t), map[string]notify.Notifier{notify.ConsoleName: fake},
			notify.DelivererOptions{ClaimAfter: 10 * time.Millisecond, MaxAttempts: 5})
		h.passAdvancing(time.Second, func() bool { return h.result(p) != "" }, d)
		if got := fake.callsOf(p.Key); got != 3 {
			t.Errorf("%d calls, want 3", got)
		}
		if e := h.outcome(p); e.Type != alertgate.EventPageDelivered || e.Page.Attempts != 3 || e.Page.Error != "" {
			t.Errorf("entry %s %+v, want page_delivered after 3 attempts, no error", e.Type, *e.Page)
		}
		h.requireOutboxEmpty()
	})

	t.Run("until MaxAttempts", func(t *testing.T) {
		h := newHarness(t)
		h.addIncident("4")
		p := page("4", "erin")
		h.commit(p)
		fake := newFake(func(_ context.Context, _ notify.Page, call int) (bool, error) {
			return true, fmt.Errorf("slack answered 503 (attempt %d)", call)
		})
		log := testlog.NewLog(t, testlog.ExpectError("page failed"))
		d := h.deliverer(log.Logger(), map[string]notify.Notifier{notify.ConsoleName: fake},
			notify.DelivererOptions{ClaimAfter: 10 * time.Millisecond, MaxAttempts: 3})
		h.passAdvancing(time.Second, func() bool { return h.result(p) != "" }, d)

		e := h.outcome(p)
		want := alertgate.PageEntry{Key: p.Key, User: p.User, Notifier: p.Notifier, Step: 1, Attempts: 3, Error: "gave up after 3 attempts: slack answered 503 (attempt 3)"}
		if e.Type != alertgate.EventPageFailed || *e.Page != want {
			t.Errorf("entry %s %+v, want %s %+v", e.Type, *e.Page, alertgate.EventPageFailed, want)
		}
		if got := h.result(p); got != "failed" {
			t.Errorf("pages hash says %q, want failed", got)
		}
		if got := log.Count("page waits"); got != 2 {
			t.Errorf("%d retries logged, want 2", got)
		}
		if _, f, _ := h.obs.counts(); f != 1 {
			t.Errorf("%d failures observed, want 1", f)
		}
		// Given up: no pass tries again.
		h.requireOutboxEmpty()
		if err := d.Pass(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := fake.callsOf(p.Key); got != 3 {
			t.Errorf("%d calls, want 3 (MaxAttempts)", got)
		}
	})
}

// A permanent failure is recorded at the first attempt and never retried.
func TestPermanentFailureIsRecordedOnce(t *testing.T) {
	h := newHarness(t)
	h.addIncident("5")
	p := page("5", "frank")
	h.commit(p)
	fake := newFake(func(context.Context, notify.Page, int) (bool, error) {
		return false, errors.New("slack answered 404 channel_not_found")
	})
	log := testlog.New(t, testlog.ExpectError("page failed"))
	d := h.deliverer(log, map[string]notify.Notifier{notify.ConsoleName: fake}, notify.DelivererOptions{ClaimAfter: time.Millisecond})
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	e := h.outcome(p)
	if e.Type != alertgate.EventPageFailed || e.Page.Attempts != 1 || e.Page.Error != "slack answered 404 channel_not_found" {
		t.Errorf("entry %s %+v, want page_failed after 1 attempt with the notifier's error", e.Type, *e.Page)
	}
	h.requireOutboxEmpty()
	for range 3 {
		if err := d.Pass(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.callsOf(p.Key); got != 1 {
		t.Errorf("%d calls, want 1", got)
	}
	if h.obs.failed[notify.ConsoleName] != 1 {
		t.Errorf("failures by notifier %v, want console: 1", h.obs.failed)
	}
}

// A page for a notifier nobody configured fails for good, saying so.
func TestUnknownNotifier(t *testing.T) {
	h := newHarness(t)
	h.addIncident("6")
	p := page("6", "grace")
	p.Notifier = "pigeon"
	h.commit(p)
	log := testlog.New(t, testlog.ExpectError("page failed"))
	d := h.deliverer(log, map[string]notify.Notifier{notify.ConsoleName: newFake(nil)}, notify.DelivererOptions{})
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	e := h.outcome(p)
	if e.Type != alertgate.EventPageFailed || e.Page.Error != `unknown notifier "pigeon"` || e.Page.Notifier != "pigeon" {
		t.Errorf("entry %s %+v, want page_failed: unknown notifier \"pigeon\"", e.Type, *e.Page)
	}
	if h.obs.failed["pigeon"] != 1 {
		t.Errorf("failures by notifier %v, want pigeon: 1", h.obs.failed)
	}
	h.requireOutboxEmpty()
}

// Entries that are not pages are acknowledged with an ERROR and do not
// hold up the pages behind them.
func TestMalformedEntriesDoNotWedgeTheLoop(t *testing.T) {
	h := newHarness(t)
	good := page("16", "heidi") // shard 0
	h.addIncident(good.Incident)
	wrongShard := page("17", "heidi") // shard 1's incident
	h.addIncident(wrongShard.Incident)
	wrongShardJSON := mustJSON(t, wrongShard)

	h.addRaw(0, "not_page", "x")
	h.addRaw(0, "page", "{not json")
	h.addRaw(0, "page", `{"incident":"16","notifier":"console"}`)   // no key
	h.addRaw(0, "page", `{"key":"k","incident":"0"}`)               // no incident of ours
	h.addRaw(0, "page", `{"key":"k","incident":"16","step":"one"}`) // wrong type
	h.addRaw(0, "page", wrongShardJSON)
	h.commit(good)

	fake := newFake(nil)
	log := testlog.NewLog(t, testlog.ExpectError("malformed outbox entry; dropped"))
	d := h.deliverer(log.Logger(), map[string]notify.Notifier{notify.ConsoleName: fake}, notify.DelivererOptions{})
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := fake.callsOf(good.Key); got != 1 {
		t.Errorf("the good page was delivered %d times, want 1", got)
	}
	if e := h.outcome(good); e.Type != alertgate.EventPageDelivered {
		t.Errorf("the good page: %s, want page_delivered", e.Type)
	}
	if got := fake.total(); got != 1 {
		t.Errorf("%d deliveries, want only the good page's", got)
	}
	if got := log.Count("malformed outbox entry; dropped"); got != 6 {
		t.Errorf("%d malformed entries logged, want 6", got)
	}
	if got := len(h.timeline(wrongShard.Incident)); got != 0 {
		t.Errorf("the misplaced page wrote %d timeline entries, want 0", got)
	}
	h.requireOutboxEmpty()
}

// A page whose incident is gone is dropped, before delivery or, if it went
// during delivery, at the record, which then writes nothing for it.
func TestPageOfAGoneIncidentIsDropped(t *testing.T) {
	h := newHarness(t)
	before := page("8", "ivan") // never had an incident hash
	h.commit(before)
	during := page("9", "judy")
	h.addIncident(during.Incident)
	h.commit(during)
	fake := newFake(func(ctx context.Context, p notify.Page, _ int) (bool, error) {
		// the incident is deleted while its page is out
		return false, h.rdb.Del(ctx, h.shard(p.Incident).KeyOf(redisx.Incident, p.Incident), h.shard(p.Incident).KeyOf(redisx.Timeline, p.Incident)).Err()
	})
	log := testlog.NewLog(t)
	d := h.deliverer(log.Logger(), map[string]notify.Notifier{notify.ConsoleName: fake}, notify.DelivererOptions{})
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := fake.callsOf(before.Key); got != 0 {
		t.Errorf("a page of a missing incident was delivered %d times", got)
	}
	if got := fake.callsOf(during.Key); got != 1 {
		t.Errorf("the page whose incident went during delivery: %d calls, want 1", got)
	}
	if got := log.Count("page for an incident that no longer exists; dropped"); got != 2 {
		t.Errorf("%d drops logged, want 2", got)
	}
	for _, p := range []notify.Page{before, during} {
		s := h.shard(p.Incident)
		n, err := h.rdb.Exists(t.Context(), s.KeyOf(redisx.Pages, p.Incident)).Result()
		if err != nil {
			t.Fatal(err)
		}
		// The engine's paged entry of "before" stays; nothing new beside it.
		if got := h.timeline(p.Incident, alertgate.EventPageDelivered, alertgate.EventPageFailed); n != 0 || len(got) != 0 {
			t.Errorf("incident %s: pages hash exists %d, %d delivery entries; want neither", p.Incident, n, len(got))
		}
	}
	if d, f, dup := h.obs.counts(); d+f+dup != 0 {
		t.Errorf("observer told of %d outcomes, want none", d+f+dup)
	}
	h.requireOutboxEmpty()
}

// A Redis that lost the consumer group (flushed, restarted empty) gets it
// back at the next pass, and the pages written since are delivered.
func TestLostConsumerGroupIsMadeAgain(t *testing.T) {
	h := newHarness(t)
	fake := newFake(nil)
	log := testlog.NewLog(t)
	d := h.deliverer(log.Logger(), map[string]notify.Notifier{notify.ConsoleName: fake}, notify.DelivererOptions{})
	p := page("18", "kim") // shard 2
	h.addIncident(p.Incident)
	stream := h.shard(p.Incident).Key(redisx.Outbox)
	if err := h.rdb.Del(t.Context(), stream).Err(); err != nil {
		t.Fatal(err)
	}
	h.commit(p)
	passUntil(t, func() bool { return h.result(p) != "" }, d)
	if got := fake.callsOf(p.Key); got != 1 {
		t.Errorf("%d calls, want 1", got)
	}
	if log.Count("outbox consumer group missing (Redis flushed or restarted empty?); making it again") == 0 {
		t.Error("the missing group was not logged")
	}
	h.requireOutboxEmpty()
}

// Check refuses a Deliverer that could deliver nothing.
func TestCheckWantsNotifiers(t *testing.T) {
	h := newHarness(t)
	if err := notify.NewDeliverer(h.rdb, h.prefix, notify.DelivererOptions{}).Check(t.Context()); err == nil {
		t.Error("Check accepted a Deliverer without notifiers")
	}
}

func mustJSON(t *testing.T, p notify.Page) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A page committed twice (two entries, one key) is delivered once: the
// second entry finds the outcome recorded before its delivery starts.
func TestAPageCommittedTwiceIsDeliveredOnce(t *testing.T) {
	h := newHarness(t)
	p := page("10", "liam")
	h.addIncident(p.Incident)
	h.commit(p)
	h.commit(p)
	fake := newFake(nil)
	log := testlog.NewLog(t)
	// One entry a pass, so the second is read after the first is recorded.
	d := h.deliverer(log.Logger(), map[string]notify.Notifier{notify.ConsoleName: fake}, notify.DelivererOptions{Batch: 1})
	for range 2 {
		if err := d.Pass(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.callsOf(p.Key); got != 1 {
		t.Errorf("%d deliveries, want 1", got)
	}
	h.outcome(p) // exactly one entry
	if got := log.Count("page already recorded; dropped its redelivery"); got != 1 {
		t.Errorf("%d redeliveries dropped, want 1", got)
	}
	if _, _, dup := h.obs.counts(); dup != 0 {
		t.Errorf("%d duplicates counted, want 0: nothing was delivered twice", dup)
	}
	h.requireOutboxEmpty()
}

// A notifier that panics fails its page for good; the pass goes on.
func TestPanickingNotifierFailsThePage(t *testing.T) {
	h := newHarness(t)
	bad, good := page("11", "mia"), page("12", "mia")
	h.addIncident(bad.Incident)
	h.addIncident(good.Incident)
	h.commit(bad)
	h.commit(good)
	fake := newFake(func(_ context.Context, p notify.Page, _ int) (bool, error) {
		if p.Key == bad.Key {
			panic("boom")
		}
		return false, nil
	})
	log := testlog.New(t, testlog.ExpectError("notifier panicked"), testlog.ExpectError("page failed"))
	d := h.deliverer(log, map[string]notify.Notifier{notify.ConsoleName: fake}, notify.DelivererOptions{ClaimAfter: time.Millisecond})
	for range 3 {
		if err := d.Pass(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if e := h.outcome(bad); e.Type != alertgate.EventPageFailed || e.Page.Error != "notifier panicked: boom" || e.Page.Attempts != 1 {
		t.Errorf("the panicking page: %s %+v, want page_failed after 1 attempt, notifier panicked: boom", e.Type, *e.Page)
	}
	if got := fake.callsOf(bad.Key); got != 1 {
		t.Errorf("the panicking page was tried %d times, want 1", got)
	}
	if e := h.outcome(good); e.Type != alertgate.EventPageDelivered {
		t.Errorf("the other page: %s, want page_delivered", e.Type)
	}
	h.requireOutboxEmpty()
}

// An entry that waited for a delivery slot past ClaimAfter/2 is not started
// by the pass that read it (another replica may re-claim it while it is
// out); a later pass delivers it.
func TestEntriesNotStartedInTimeAreLeftForALaterPass(t *testing.T) {
	h := newHarness(t)
	first, second := page("16", "nora"), page("17", "nora") // shards 0 and 1: read in that order
	for _, p := range []notify.Page{first, second} {
		h.addIncident(p.Incident)
		h.commit(p)
	}
	fake := newFake(func(ctx context.Context, p notify.Page, call int) (bool, error) {
		if p.Key == first.Key && call == 1 {
			<-ctx.Done() // holds the only slot for NotifyTimeout, past the window
			return true, ctx.Err()
		}
		return false, nil
	})
	d := h.deliverer(testlog.New(t), map[string]notify.Notifier{notify.ConsoleName: fake}, notify.DelivererOptions{
		Concurrency: 1, ClaimAfter: 100 * time.Millisecond, NotifyTimeout: 150 * time.Millisecond,
	})
	if got, want := d.PassTimeout(), 50*time.Millisecond+150*time.Millisecond+5*time.Second; got != want {
		t.Errorf("PassTimeout %s, want %s", got, want)
	}
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := fake.callsOf(first.Key); got != 1 {
		t.Errorf("first page: %d calls in the pass, want 1", got)
	}
	if got := fake.callsOf(second.Key); got != 0 {
		t.Fatalf("second page: started %d times after waiting past the window, want 0", got)
	}
	h.passAdvancing(time.Second, func() bool { return h.result(first) != "" && h.result(second) != "" }, d)
	// The first timed out once; the second was put back untried, which
	// is no attempt.
	for _, c := range []struct {
		p    notify.Page
		want int
	}{{first, 2}, {second, 1}} {
		p, want := c.p, c.want
		if e := h.outcome(p); e.Type != alertgate.EventPageDelivered || e.Page.Attempts != want {
			t.Errorf("page %s: %s after %d attempts, want page_delivered after %d", p.Key, e.Type, e.Page.Attempts, want)
		}
	}
	if got := fake.callsOf(second.Key); got != 1 {
		t.Errorf("second page: %d calls, want 1", got)
	}
}

// Check forgets the consumers of stopped replicas, but never one that
// holds an entry.
func TestCheckForgetsConsumersOfStoppedReplicas(t *testing.T) {
	h := newHarness(t)
	ns := map[string]notify.Notifier{notify.ConsoleName: newFake(nil)}
	h.deliverer(testlog.New(t), ns, notify.DelivererOptions{}) // makes the groups

	p := page("16", "olga") // shard 0
	h.addIncident(p.Incident)
	h.commit(p)
	stream := h.layout.Shard(0).Key(redisx.Outbox)
	ctx := t.Context()
	if err := h.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: notify.Group, Consumer: "holder", Streams: []string{stream, ">"}, Block: -1}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := h.rdb.XGroupCreateConsumer(ctx, stream, notify.Group, "stopped").Err(); err != nil {
		t.Fatal(err)
	}
	const silent = 5 * time.Millisecond
	consumers := func() map[string]redis.XInfoConsumer {
		list, err := h.rdb.XInfoConsumers(ctx, stream, notify.Group).Result()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]redis.XInfoConsumer{}
		for _, c := range list {
			m[c.Name] = c
		}
		return m
	}
	deadline := time.Now().Add(waitFor)
	for c := consumers(); c["holder"].Idle < silent || c["stopped"].Idle < silent; c = consumers() {
		if time.Now().After(deadline) {
			t.Fatalf("consumers never silent for %s: %+v", silent, c)
		}
	}

	h.deliverer(testlog.New(t), ns, notify.DelivererOptions{ForgetConsumersAfter: silent})
	c := consumers()
	if _, ok := c["stopped"]; ok {
		t.Error("the stopped consumer is still in the group")
	}
	if got := c["holder"].Pending; got != 1 {
		t.Errorf("the consumer holding an entry: %d pending (present: %v), want it kept with 1", got, c)
	}
}
