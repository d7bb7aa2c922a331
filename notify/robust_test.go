package notify_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/notify"
)

// What the deliverer does when targets fail, throttle or flood: retries
// that honour Retry-After, dead letters and failover, breakers, rate
// limits, digests, urgency and resolution notices.

// targetNotifier is a fake notifier with a target of its own, answering
// with fn and keeping every call in order.
type targetNotifier struct {
	target string
	mu     sync.Mutex
	calls  []notify.Page
	fn     func(p notify.Page, call int) (bool, error)
}

func (n *targetNotifier) Target() string { return n.target }

func (n *targetNotifier) Notify(_ context.Context, p notify.Page) (bool, error) {
	n.mu.Lock()
	n.calls = append(n.calls, p)
	call := len(n.calls)
	n.mu.Unlock()
	if n.fn == nil {
		return false, nil
	}
	return n.fn(p, call)
}

func (n *targetNotifier) got() []notify.Page {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.calls)
}

// messages returns the timeline messages of an incident's entries of typ.
func (h *harness) messages(id, typ string) []string {
	h.t.Helper()
	raw, err := h.rdb.LRange(h.t.Context(), h.shard(id).KeyOf(redisx.Timeline, id), 0, -1).Result()
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, s := range raw {
		if strings.Contains(s, `"type":"`+typ+`"`) {
			_, msg, _ := strings.Cut(s, `"message":"`)
			msg, _, _ = strings.Cut(msg, `"`)
			out = append(out, msg)
		}
	}
	return out
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	h := newHarness(t)
	h.addIncident("3")
	p := page("3", "dave")
	h.commit(p)
	n := &targetNotifier{target: "t", fn: func(_ notify.Page, call int) (bool, error) {
		if call == 1 {
			return true, &notify.Error{Status: 429, Retry: true, RetryAfter: 40 * time.Second}
		}
		return false, nil
	}}
	d := h.deliverer(testlog.New(t), map[string]notify.Notifier{notify.ConsoleName: n},
		notify.DelivererOptions{RetryInitial: time.Second, RetryMax: 2 * time.Second})
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	r, err := d.Outbox(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if r.WaitingTotal != 1 || len(r.Waiting) != 1 {
		t.Fatalf("outbox %+v, want the page waiting", r)
	}
	w := r.Waiting[0]
	if w.Key != p.Key || w.Why != "retry" || w.Attempts != 1 || !w.Due.Equal(start.Add(40*time.Second)) ||
		!strings.Contains(w.LastError, "status 429") {
		t.Errorf("waiting %+v, want the page due at Retry-After (40s, not the 1s backoff) after 1 attempt", w)
	}
	// Not before its time, whatever the backoff says.
	h.clock.Advance(39 * time.Second)
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(n.got()); got != 1 {
		t.Fatalf("%d calls before Retry-After ran out, want 1", got)
	}
	h.clock.Advance(time.Second)
	passUntil(t, func() bool { return h.result(p) != "" }, d)
	if e := h.outcome(p); e.Type != alertgate.EventPageDelivered || e.Page.Attempts != 2 {
		t.Errorf("%s after %d attempts, want page_delivered after 2", e.Type, e.Page.Attempts)
	}
	if got := h.messages("3", alertgate.EventPageWaiting); len(got) != 1 || !strings.HasPrefix(got[0], "waiting: retry 2 of 5 at 12:00:40 UTC after: status 429") {
		t.Errorf("page_waiting messages %q, want one naming the retry and its time", got)
	}
	if h.obs.waits("retry") != 1 {
		t.Errorf("%d retry waits observed, want 1", h.obs.waits("retry"))
	}
	h.requireOutboxEmpty()
}

// Each pause doubles, jittered within its upper half, up to RetryMax.
func TestBackoffIsJitteredAndCapped(t *testing.T) {
	h := newHarness(t)
	h.addIncident("3")
	p := page("3", "dave")
	h.commit(p)
	n := &targetNotifier{target: "t", fn: func(notify.Page, int) (bool, error) { return true, errors.New("down") }}
	draw := 0.0
	d := h.deliverer(testlog.New(t, testlog.AllowError("page failed")), map[string]notify.Notifier{notify.ConsoleName: n},
		notify.DelivererOptions{RetryInitial: time.Second, RetryMax: 4 * time.Second, MaxAttempts: 6, BreakerFailures: 100,
			Rand: func() float64 { return draw }})
	var dues []time.Duration
	for attempt := 1; attempt <= 5; attempt++ {
		draw = float64(attempt%2) * 0.999 // low, high, low, …
		before := h.clock.Now()
		if err := d.Pass(t.Context()); err != nil {
			t.Fatal(err)
		}
		r, err := d.Outbox(t.Context(), 1)
		if err != nil || len(r.Waiting) != 1 {
			t.Fatalf("attempt %d: outbox %+v %v", attempt, r, err)
		}
		wait := r.Waiting[0].Due.Sub(before)
		dues = append(dues, wait.Round(100*time.Millisecond))
		h.clock.Advance(wait)
	}
	want := []time.Duration{time.Second, time.Second, 4 * time.Second, 2 * time.Second, 4 * time.Second}
	if !slices.Equal(dues, want) {
		t.Errorf("pauses %v, want %v (1s high, 2s low, 4s high, 4s low (capped), 4s high)", dues, want)
	}
}

func TestPermanentRefusalIsDeadLetteredAndDoesNotTripTheBreaker(t *testing.T) {
	h := newHarness(t)
	var pages []notify.Page
	for i := 1; i <= 12; i++ {
		id := strconv.Itoa(i)
		h.addIncident(id)
		pages = append(pages, page(id, "ann"))
		h.commit(pages[i-1])
	}
	n := &targetNotifier{target: "slack:x", fn: func(notify.Page, int) (bool, error) {
		return false, &notify.Error{Status: 404, Detail: "no_service"}
	}}
	log := testlog.NewLog(t, testlog.ExpectError("page failed"))
	d := h.deliverer(log.Logger(), map[string]notify.Notifier{notify.ConsoleName: n}, notify.DelivererOptions{BreakerFailures: 3})
	passUntil(t, func() bool { _, f, _ := h.obs.counts(); return f == len(pages) }, d)
	if got := len(n.got()); got != len(pages) {
		t.Errorf("%d calls, want %d: a refusal is never retried", got, len(pages))
	}
	for _, s := range d.Targets() {
		if s.State != "closed" {
			t.Errorf("target %s: breaker %s after refusals, want closed: the target answered", s.Target, s.State)
		}
	}
	r, err := d.Outbox(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.DeadLetters) != len(pages) || r.DeadLetters[0].Error != "status 404: no_service" || r.WaitingTotal != 0 {
		t.Errorf("outbox %+v, want %d dead letters with the target's answer, nothing waiting", r, len(pages))
	}
	h.requireOutboxEmpty()
}

// setEscalation makes the incident's hash and the due set say that the
// policy's next step is due at next.
func (h *harness) setEscalation(id string, epoch int, next time.Time) {
	h.t.Helper()
	shard := h.shard(id)
	ctx := h.t.Context()
	if err := h.rdb.HSet(ctx, shard.KeyOf(redisx.Incident, id), "esc_epoch", epoch, "esc_next", "0|1|0",
		"esc_due", next.UnixMilli()).Err(); err != nil {
		h.t.Fatal(err)
	}
	if err := h.rdb.ZAdd(ctx, shard.Key(redisx.Due), redisZ(next, id)).Err(); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) dueAt(id string) time.Time {
	h.t.Helper()
	score, err := h.rdb.ZScore(h.t.Context(), h.shard(id).Key(redisx.Due), id).Result()
	if err != nil {
		h.t.Fatal(err)
	}
	return time.UnixMilli(int64(score)).UTC()
}

func TestFailoverToTheNextContactThenTheNextStep(t *testing.T) {
	h := newHarness(t)
	h.addIncident("5")
	h.setEscalation("5", 1, start.Add(10*time.Minute))
	p := page("5", "alice")
	p.Epoch = 1
	p.Notifier, p.Address = "sms", "+447700900123"
	p.Next = []notify.Contact{{Notifier: "email", Address: "alice@example.com"}}
	h.commit(p)
	refuse := func(notify.Page, int) (bool, error) { return false, &notify.Error{Status: 400, Detail: "bad number"} }
	sms := &targetNotifier{target: "twilio:AC1", fn: refuse}
	email := &targetNotifier{target: "smtp:mail", fn: refuse}
	log := testlog.NewLog(t, testlog.ExpectError("page failed"))
	d := h.deliverer(log.Logger(), map[string]notify.Notifier{"sms": sms, "email": email}, notify.DelivererOptions{})
	passUntil(t, func() bool { return len(email.got()) == 1 }, d)
	failover := email.got()[0]
	if failover.Key != p.Key+"#2" || failover.Address != "alice@example.com" || failover.Contact != 1 || len(failover.Next) != 0 {
		t.Errorf("failover page %+v, want key %s#2 to alice's e-mail", failover, p.Key)
	}
	passUntil(t, func() bool { _, f, _ := h.obs.counts(); return f == 2 }, d)
	got := h.messages("5", alertgate.EventPageFailover)
	want := []string{
		"alice could not be reached through sms; trying email next",
		"alice could not be reached on any contact; running the next step now",
	}
	if !slices.Equal(got, want) {
		t.Errorf("page_failover messages %q, want %q", got, want)
	}
	if due := h.dueAt("5"); !due.Equal(start) {
		t.Errorf("next step due %s, want now (%s)", due, start)
	}
	h.obs.mu.Lock()
	if h.obs.failovers["contact"] != 1 || h.obs.failovers["step"] != 1 {
		t.Errorf("failovers observed %v, want one to a contact and one to the step", h.obs.failovers)
	}
	h.obs.mu.Unlock()
	h.requireOutboxEmpty()
}

// A step that reached someone has done its work: one unreachable person
// does not run the next step early. Nor does a page of an earlier epoch.
func TestNoEarlyStepWhenTheStepReachedSomeone(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(h *harness)
		epoch int
	}{
		// Bob is reached first. (Were alice's failure recorded before
		// bob's delivery, the next step would run: the deliverer errs on
		// the side of paging.)
		{"another person was reached", func(h *harness) {
			bob := withEpoch(page("6", "bob"), 1)
			h.commit(bob)
			d := h.deliverer(testlog.New(h.t), map[string]notify.Notifier{notify.ConsoleName: &targetNotifier{target: "console"}}, notify.DelivererOptions{})
			passUntil(h.t, func() bool { return h.result(bob) == "delivered" }, d)
		}, 1},
		{"a page of an earlier run", func(*harness) {}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.addIncident("6")
			h.setEscalation("6", 1, start.Add(10*time.Minute))
			alice := withEpoch(page("6", "alice"), c.epoch)
			alice.Notifier = "sms"
			c.setup(h)
			h.commit(alice)
			sms := &targetNotifier{target: "twilio", fn: func(notify.Page, int) (bool, error) { return false, errors.New("refused") }}
			ok := &targetNotifier{target: "console"}
			d := h.deliverer(testlog.New(t, testlog.AllowError("page failed")),
				map[string]notify.Notifier{"sms": sms, notify.ConsoleName: ok}, notify.DelivererOptions{})
			passUntil(t, func() bool { return h.result(alice) != "" }, d)
			if due := h.dueAt("6"); !due.Equal(start.Add(10 * time.Minute)) {
				t.Errorf("next step due %s, want it left at %s", due, start.Add(10*time.Minute))
			}
			if got := h.messages("6", alertgate.EventPageFailover); len(got) != 0 {
				t.Errorf("page_failover entries %q, want none", got)
			}
		})
	}
}

func withEpoch(p notify.Page, epoch int) notify.Page {
	p.Epoch = epoch
	return p
}

// A contact that keeps failing retryably is given up on after
// GiveUpAfter, however many attempts remain.
func TestGiveUpAfterAge(t *testing.T) {
	h := newHarness(t)
	h.addIncident("7")
	p := page("7", "carl")
	p.Next = []notify.Contact{{Notifier: "backup", Address: "carl-2"}}
	h.commit(p)
	down := &targetNotifier{target: "down", fn: func(notify.Page, int) (bool, error) {
		return true, &notify.Error{Status: 503, Retry: true}
	}}
	backup := &targetNotifier{target: "backup"}
	d := h.deliverer(testlog.New(t, testlog.AllowError("page failed")),
		map[string]notify.Notifier{notify.ConsoleName: down, "backup": backup},
		notify.DelivererOptions{MaxAttempts: 100, RetryInitial: 10 * time.Second, RetryMax: 10 * time.Second,
			GiveUpAfter: time.Minute, BreakerFailures: 1000})
	h.passAdvancing(time.Second, func() bool { return len(backup.got()) == 1 }, d)
	e := h.outcome(p)
	if e.Type != alertgate.EventPageFailed || !strings.HasPrefix(e.Page.Error, "gave up after ") || e.Page.Attempts > 12 {
		t.Errorf("%s %+v, want page_failed, given up within a minute (at most 12 attempts at least 5s apart)", e.Type, *e.Page)
	}
	if h.clock.Now().Sub(start) > time.Minute+10*time.Second {
		t.Errorf("failover %s after the first attempt, want within GiveUpAfter", h.clock.Now().Sub(start))
	}
}

// The breaker opens after BreakerFailures failures in a row; while open,
// pages wait without touching the target; a probe closes it, and the
// backlog drains, most urgent first. Nothing is lost.
func TestBreakerHoldsPagesAndTheBacklogDrainsInOrder(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	healthy := false
	var pages []notify.Page
	for i := 1; i <= 8; i++ {
		id := strconv.Itoa(16 * i) // all on shard 0: one read, in order
		h.addIncident(id)
		p := page(id, "dora")
		p.Severity = alertgate.SeverityWarning
		p.At = start.Add(time.Duration(i) * time.Second)
		if i == 6 {
			p.Severity = alertgate.SeverityCritical // the most urgent: first once healthy
		}
		if i == 7 {
			p.Repeat = 1 // a repeat: after every first page
		}
		pages = append(pages, p)
	}
	n := &targetNotifier{target: "hooks.example.com", fn: func(notify.Page, int) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if healthy {
			return false, nil
		}
		return true, &notify.Error{Status: 500, Retry: true}
	}}
	d := h.deliverer(testlog.New(t), map[string]notify.Notifier{notify.ConsoleName: n}, notify.DelivererOptions{
		BreakerFailures: 3, BreakerOpenFor: 300 * time.Millisecond, PerTarget: 1,
		RetryInitial: 100 * time.Millisecond, RetryMax: 100 * time.Millisecond, MaxAttempts: 50, GiveUpAfter: time.Hour,
	})
	// Three pages fail and open the breaker; the rest wait behind it.
	for _, p := range pages[:3] {
		h.commit(p)
	}
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages[3:] {
		h.commit(p)
	}
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(n.got()); got != 3 {
		t.Fatalf("%d calls, want 3: the breaker opened after 3 failures and held the rest", got)
	}
	if s := d.Targets(); len(s) != 1 || s[0].State != "open" || s[0].OpenUntil.IsZero() || !strings.Contains(s[0].LastError, "status 500") {
		t.Fatalf("targets %+v, want one open breaker with its last error", s)
	}
	if h.obs.waits("circuit_open") != 5 {
		t.Errorf("%d circuit_open waits, want 5", h.obs.waits("circuit_open"))
	}
	if got := h.messages(pages[3].Incident, alertgate.EventPageWaiting); len(got) != 1 || !strings.HasPrefix(got[0], "waiting: circuit open for hooks.example.com until ") {
		t.Errorf("page_waiting %q, want the open circuit named", got)
	}
	mu.Lock()
	healthy = true
	mu.Unlock()
	before := len(n.got())
	h.passAdvancing(500*time.Millisecond, func() bool { dl, _, _ := h.obs.counts(); return dl == len(pages) }, d)

	var order []string
	for _, p := range n.got()[before:] {
		order = append(order, p.Incident)
	}
	// The probe is whichever page came due first; then the backlog in
	// urgency order: critical first, then warnings oldest first, the
	// repeat last.
	probe, rest := order[0], order[1:]
	var want []string
	for _, i := range []int{5, 0, 1, 2, 3, 4, 7, 6} {
		if pages[i].Incident != probe {
			want = append(want, pages[i].Incident)
		}
	}
	if !slices.Equal(rest, want) {
		t.Errorf("after the probe (%s) the backlog went %v, want %v", probe, rest, want)
	}
	h.obs.mu.Lock()
	states := slices.Clone(h.obs.breaker)
	h.obs.mu.Unlock()
	if want := []string{"hooks.example.com open", "hooks.example.com half-open", "hooks.example.com closed"}; !slices.Equal(states, want) {
		t.Errorf("breaker states %q, want %q", states, want)
	}
	for _, p := range pages {
		if e := h.outcome(p); e.Type != alertgate.EventPageDelivered {
			t.Errorf("page %s: %s, want delivered", p.Key, e.Type)
		}
	}
	h.requireOutboxEmpty()
}

// The rate limit is the target's, shared by every replica; what it does
// not allow waits for its turn, and the timeline says until when.
func TestRateLimitIsSharedAndVisible(t *testing.T) {
	h := newHarness(t)
	var pages []notify.Page
	for i := 1; i <= 6; i++ {
		id := strconv.Itoa(i)
		h.addIncident(id)
		p := page(id, "user"+id) // six contacts: no digest
		p.Notifier = "chat"
		pages = append(pages, p)
		h.commit(p)
	}
	n := &targetNotifier{target: "slack:hooks.slack.com/#abc"}
	limits := func(string) notify.Limits { return notify.Limits{PerSecond: 1, Burst: 2} }
	ns := map[string]notify.Notifier{"chat": n}
	d1 := h.deliverer(testlog.New(t), ns, notify.DelivererOptions{Limits: limits})
	d2 := h.deliverer(testlog.New(t), ns, notify.DelivererOptions{Limits: limits})
	for _, d := range []*notify.Deliverer{d1, d2} {
		if err := d.Pass(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(n.got()); got != 2 {
		t.Fatalf("%d messages at once, want the burst of 2", got)
	}
	for second := 1; second <= 4; second++ {
		h.clock.Advance(time.Second)
		for _, d := range []*notify.Deliverer{d1, d2} {
			if err := d.Pass(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := len(n.got()), 2+second; got != want {
			t.Fatalf("after %ds: %d messages, want %d (one a second, whichever replica)", second, got, want)
		}
	}
	waited := 0
	for _, p := range pages {
		if msgs := h.messages(p.Incident, alertgate.EventPageWaiting); len(msgs) > 0 {
			waited++
			if !strings.HasPrefix(msgs[0], "waiting: throttled by chat until 12:00:0") {
				t.Errorf("incident %s: %q, want the throttle and its time", p.Incident, msgs[0])
			}
		}
	}
	if waited != 4 {
		t.Errorf("%d incidents record a wait, want 4", waited)
	}
}

// Many messages to one contact at once become one digest; each page is
// recorded, and each earns its resolution notice.
func TestManyPagesToOneContactBecomeADigest(t *testing.T) {
	h := newHarness(t)
	var pages []notify.Page
	for i := 1; i <= 12; i++ {
		id := strconv.Itoa(i)
		h.addIncident(id)
		p := page(id, "erin")
		p.Notifier = "chat"
		if i == 4 {
			p.Severity = alertgate.SeverityCritical
		} else {
			p.Severity = alertgate.SeverityWarning
		}
		pages = append(pages, p)
		h.commit(p)
	}
	other := page("13", "fred")
	other.Notifier = "chat"
	h.addIncident("13")
	h.commit(other)
	n := &targetNotifier{target: "slack"}
	d := h.deliverer(testlog.New(t), map[string]notify.Notifier{"chat": n},
		notify.DelivererOptions{Limits: func(string) notify.Limits { return notify.Limits{DigestAfter: 3} }})
	passUntil(t, func() bool { dl, _, _ := h.obs.counts(); return dl == len(pages)+1 }, d)
	got := n.got()
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2: one digest for erin, fred's page alone", len(got))
	}
	dg := got[0]
	if dg.Kind != notify.KindDigest {
		dg = got[1]
	}
	if dg.Kind != notify.KindDigest || len(dg.Items) != 12 || dg.Severity != alertgate.SeverityCritical ||
		dg.Items[0].Incident != "4" || dg.AlertCount != 24 || dg.User != "erin" {
		t.Errorf("digest %+v, want 12 items for erin, critical first, 24 alerts", dg)
	}
	for _, p := range pages {
		if e := h.outcome(p); e.Type != alertgate.EventPageDelivered || e.Page.Digest != 12 {
			t.Errorf("page %s: %s digest %d, want delivered in a digest of 12", p.Key, e.Type, e.Page.Digest)
		}
		if n := h.notices(p.Incident); len(n) != 1 {
			t.Errorf("incident %s: %d notices kept, want 1", p.Incident, len(n))
		}
	}
	if len(h.obs.digests) != 1 || h.obs.digests[0] != 12 {
		t.Errorf("digests observed %v, want [12]", h.obs.digests)
	}
}

func (h *harness) notices(id string) map[string]string {
	h.t.Helper()
	m, err := h.rdb.HGetAll(h.t.Context(), h.shard(id).KeyOf(redisx.Notified, id)).Result()
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// resolveScript resolves an incident as the transition and ingest
// scripts do: through the prelude's setStatus, which sends the notices.
var resolveScript = redisx.NewScript("test: resolve", `
setStatus(ARGV[2], ST_triggered, ST_resolved, 0)
return {'ok'}
`)

func (h *harness) resolve(id string) {
	h.t.Helper()
	shard := h.shard(id)
	if _, err := resolveScript.Run(h.t.Context(), h.rdb, []string{shard.KeyOf(redisx.Incident, id)},
		redisx.NewHeader(shard, h.clock.Now(), redisx.RequestID(), "test"), id); err != nil {
		h.t.Fatal(err)
	}
}

// Everyone a page reached hears that the incident resolved, once per
// contact, through the contact the page reached; whoever was not reached
// hears nothing. A page that lands after the resolve gets its notice at
// once.
func TestResolutionNoticesGoToEveryoneReached(t *testing.T) {
	h := newHarness(t)
	h.addIncident("9")
	alice, bob, carol := page("9", "alice"), page("9", "bob"), page("9", "carol")
	carol.Notifier = "broken"
	again := alice
	again.Key, again.Repeat = "9.1.1.0.alice", 1 // alice again on a repeat: same contact
	for _, p := range []notify.Page{alice, bob, carol, again} {
		h.commit(p)
	}
	ok := &targetNotifier{target: "console"}
	broken := &targetNotifier{target: "broken", fn: func(notify.Page, int) (bool, error) { return false, errors.New("refused") }}
	d := h.deliverer(testlog.New(t, testlog.AllowError("page failed")),
		map[string]notify.Notifier{notify.ConsoleName: ok, "broken": broken}, notify.DelivererOptions{})
	passUntil(t, func() bool { dl, f, _ := h.obs.counts(); return dl+f == 4 }, d)
	if got := len(h.notices("9")); got != 2 {
		t.Fatalf("%d notices kept, want 2 (alice's contact once, bob's)", got)
	}
	h.clock.Advance(time.Hour)
	h.resolve("9")
	if got := len(h.notices("9")); got != 0 {
		t.Errorf("%d notices kept after the resolve, want none (sent)", got)
	}
	passUntil(t, func() bool { dl, _, _ := h.obs.counts(); return dl == 5 }, d)
	var notices []string
	for _, p := range ok.got() {
		if p.Kind == notify.KindResolved {
			notices = append(notices, p.User)
			if strings.Contains(p.Key, "#") || p.Incident != "9" || !strings.HasPrefix(p.Key, "9.0.resolved.") || !p.At.Equal(start.Add(time.Hour)) {
				t.Errorf("notice %+v, want key 9.0.resolved.<contact>, at the resolve", p)
			}
		}
	}
	slices.Sort(notices)
	if !slices.Equal(notices, []string{"alice", "bob"}) {
		t.Errorf("notices to %v, want alice and bob (carol was never reached)", notices)
	}

	// A page out while the incident resolves: its notice follows it.
	h.addIncident("10")
	late := page("10", "dan")
	h.commit(late)
	slow := &targetNotifier{target: "slow", fn: func(notify.Page, int) (bool, error) {
		h.resolve("10")
		return false, nil
	}}
	d2 := h.deliverer(testlog.New(t), map[string]notify.Notifier{notify.ConsoleName: slow}, notify.DelivererOptions{})
	passUntil(t, func() bool { return len(slow.got()) == 2 }, d2)
	if got := slow.got()[1]; got.Kind != notify.KindResolved || got.User != "dan" {
		t.Errorf("second message %+v, want dan's notice", got)
	}
	h.requireOutboxEmpty()
}

// Pages wait in Redis, not in a replica: one deliverer's waiting page is
// delivered by another.
func TestAnyReplicaDeliversAWaitingPage(t *testing.T) {
	h := newHarness(t)
	h.addIncident("11")
	p := page("11", "gus")
	h.commit(p)
	first := &targetNotifier{target: "t", fn: func(notify.Page, int) (bool, error) { return true, errors.New("timeout") }}
	d1 := h.deliverer(testlog.New(t), map[string]notify.Notifier{notify.ConsoleName: first}, notify.DelivererOptions{})
	if err := d1.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := &targetNotifier{target: "t"}
	d2 := h.deliverer(testlog.New(t), map[string]notify.Notifier{notify.ConsoleName: second}, notify.DelivererOptions{})
	h.clock.Advance(time.Minute)
	passUntil(t, func() bool { return h.result(p) != "" }, d2)
	if len(second.got()) != 1 || len(first.got()) != 1 {
		t.Errorf("calls %d then %d, want 1 and 1", len(first.got()), len(second.got()))
	}
	if e := h.outcome(p); e.Page.Attempts != 2 {
		t.Errorf("attempts %d, want 2", e.Page.Attempts)
	}
}

func redisZ(at time.Time, member string) redis.Z {
	return redis.Z{Score: float64(at.UnixMilli()), Member: member}
}
