package notify

import (
	"cmp"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
)

var (
	//go:embed record.lua
	recordSource string
	recordScript = redisx.NewScript("notify: record", recordSource)

	//go:embed forget.lua
	forgetSource string
	forgetScript = redisx.NewScript("notify: forget consumers", forgetSource)

	//go:embed promote.lua
	promoteSource string
	promoteScript = redisx.NewScript("notify: promote waiting pages", promoteSource)

	//go:embed throttle.lua
	throttleSource string
	throttleScript = redisx.NewScript("notify: throttle", throttleSource)
)

// The outcomes record.lua keeps in an incident's pages hash, and the one
// it does not (a page put back to wait).
const (
	resultDelivered = "delivered"
	resultFailed    = "failed"
	resultLater     = "later"
)

// Why a page waits: the reasons PageWaiting counts and the timeline names.
const (
	waitRetry     = "retry"
	waitThrottled = "throttled"
	waitBreaker   = "circuit_open"
)

// maxErrorLen bounds the error a page_failed entry keeps: a notifier may
// quote a whole response body.
const maxErrorLen = 1024

// Limits are what a notifier may send: its target's rate limit, and when
// many messages to one contact become one digest.
type Limits struct {
	// PerSecond messages to the target, with bursts of up to Burst; 0:
	// unlimited. Every replica shares the limit (it is kept in Redis).
	PerSecond float64
	Burst     int
	// DigestAfter: when this many messages or more to one contact are
	// ready at once, they go as one digest; 0: never.
	DigestAfter int
}

// deliveryState is what a page carries from one attempt to the next (the
// outbox entry's "state" field): attempts, age, why it waited.
type deliveryState struct {
	// Attempts made before this entry (retries; waits behind a breaker
	// or a rate limit are not attempts).
	Attempts int `json:"attempts,omitempty"`
	// First is when the page was first handled (Unix ms): GiveUpAfter
	// counts from it.
	First int64 `json:"first,omitempty"`
	// LastError is the last attempt's error.
	LastError string `json:"last_error,omitempty"`
	// Waiting is why the page waited last (waitRetry, …) and Reason says
	// it for people ("throttled by slack until 03:12:05 UTC"); Due is
	// when the wait ends (Unix ms).
	Waiting string `json:"waiting,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Due     int64  `json:"due,omitempty"`
	// Reclaimed: the page was once taken over from a replica that died or
	// stalled holding it, which may have sent it: its delivery is a
	// possible duplicate (PageRedelivered), however it waited since.
	Reclaimed bool `json:"reclaimed,omitempty"`
}

// decodePage reads the "page" field of an outbox entry. Only what the
// record needs is required: a key and an incident of ours. Whatever else
// is missing (a notifier) fails the page visibly on its timeline.
func decodePage(raw string, p *Page) error {
	if err := json.Unmarshal([]byte(raw), p); err != nil {
		return fmt.Errorf("page is not a JSON page: %w", err)
	}
	if p.Key == "" {
		return errors.New("page has no key")
	}
	if _, ok := redisx.IncidentShard(p.Incident); !ok {
		return fmt.Errorf("page names no incident (%q)", alertgate.Truncate(p.Incident, 64))
	}
	return nil
}

// send is one message: one page, or a digest of several to one contact,
// and the outbox entries its outcome settles.
type send struct {
	name    string   // the notifier's config name
	n       Notifier // nil: no such notifier
	target  *target  // nil with n
	page    Page
	entries []*entry
}

// Pass takes what the outbox holds for this replica and delivers it: on
// every shard, waiting pages whose time has come go back into the stream;
// then entries left unrecorded for ClaimAfter are re-claimed (XAUTOCLAIM)
// and new ones read (XREADGROUP), Batch of each. All shards' reads go in
// one pipeline (one round trip per Redis node, one command per key: each
// shard is its own Cluster slot), so a pass over empty streams is cheap.
//
// The pass then orders what it took by urgency (first pages, then
// repeats, then notices; worst severity first; oldest first), groups it by
// target, turns many messages to one contact into a digest, holds back
// what the target's rate limit does not allow yet, and delivers the rest:
// each target's messages start in order, at most PerTarget at once, and
// Concurrency in all. Each target's breaker may hold back more. Whatever
// waits (a retry, a throttled target, an open breaker) goes to the
// shard's waiting set with its due time and reason; whatever fails for
// good, or waits past GiveUpAfter, is dead-lettered and fails over.
//
// ctx bounds the reads and when deliveries may start, which is never
// later than ClaimAfter/2 after the reads: an entry that waited longer
// may be re-claimed by another replica while it is out, so it is left for
// that (or a later pass of this one). A delivery that has started runs to
// its end (NotifyTimeout) and is recorded even after ctx ends: a page
// sent and not recorded would be sent again. So a pass takes at most
// PassTimeout; a Loop running Pass should give it that long.
//
// Pass is safe to call concurrently, in one process or many. Its error
// reports Redis failures; the pages' own failures are recorded and logged.
func (d *Deliverer) Pass(ctx context.Context) error {
	var errs errorSet
	entries, full := d.fetch(ctx, &errs)
	if len(entries) == 0 {
		return errs.err()
	}
	if full && d.o.More != nil {
		defer d.o.More() // after this pass: the next one takes the rest
	}
	// Redis counts an entry's idle time from the read, in real time.
	window, cancel := context.WithTimeout(ctx, d.o.ClaimAfter/2)
	defer cancel()
	todo := d.prepare(ctx, entries, &errs)
	groups := d.plan(ctx, todo, &errs)

	sem := make(chan struct{}, d.o.Concurrency)
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Go(func() { d.runTarget(ctx, window, sem, g, &errs) })
	}
	wg.Wait()
	return errs.err()
}

// runTarget starts one target's messages in order, each once it has one
// of the target's slots and one of the pass's. Those it cannot start
// within the window go back to the waiting set, due at once: no attempt
// was made, so none is counted.
func (d *Deliverer) runTarget(ctx, window context.Context, sem chan struct{}, sends []*send, errs *errorSet) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for i, s := range sends {
		var slots chan struct{}
		if s.target != nil {
			slots = s.target.slots
			if !acquire(ctx, window, slots) {
				d.requeue(ctx, sends[i:], errs)
				return
			}
		}
		if !acquire(ctx, window, sem) {
			if slots != nil {
				<-slots
			}
			d.requeue(ctx, sends[i:], errs)
			return
		}
		release := func() {
			<-sem
			if slots != nil {
				<-slots
			}
		}
		var done func(error)
		if s.target != nil {
			var due time.Time
			var err error
			if done, due, err = s.target.allow(d.o.Clock.Now()); err != nil {
				// Everything the pass has left for the target waits with
				// it, for the same time: the backlog comes due together
				// and drains in order.
				release()
				for _, rest := range sends[i:] {
					d.holdBack(ctx, rest, due, waitBreaker,
						fmt.Sprintf("circuit open for %s until %s", s.target.name, clockTime(due)), errs)
				}
				return
			}
		}
		wg.Go(func() {
			defer release()
			d.deliver(ctx, s, done, errs)
		})
	}
}

// requeue puts messages a pass could not start back to wait, due now, so
// the next pass (of any replica) takes them. With ctx ended they stay
// pending, and are re-claimed after ClaimAfter.
func (d *Deliverer) requeue(ctx context.Context, sends []*send, errs *errorSet) {
	if ctx.Err() != nil {
		return
	}
	now := d.o.Clock.Now()
	for _, s := range sends {
		for _, e := range s.entries {
			e.firstAt(now)
			e.state.Attempts = e.attempt - 1
			errs.add(d.later(ctx, e, now, "", e.state.Reason))
		}
	}
}

// acquire takes a delivery slot: at once if one is free, else the next to
// free up within the window. It fails once ctx has ended.
func acquire(ctx, window context.Context, sem chan struct{}) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	select {
	case sem <- struct{}{}:
		if window.Err() != nil { // both were ready; select chose at random
			<-sem
			return false
		}
		return true
	case <-window.Done():
		return false
	}
}

// PassTimeout is the longest a Pass takes with a Redis that answers:
// deliveries start within ClaimAfter/2 of the reads, and each takes at
// most NotifyTimeout and its records.
func (d *Deliverer) PassTimeout() time.Duration {
	return d.o.ClaimAfter/2 + d.o.NotifyTimeout + recordTimeout
}

// urgency orders pages: first pages before repeats before notices; then
// the worst severity; then the oldest.
func urgency(a, b *entry) int {
	rank := func(p *Page) int {
		switch {
		case !p.IsPage():
			return 2
		case p.Repeat > 0:
			return 1
		}
		return 0
	}
	pa, pb := &a.page, &b.page
	return cmp.Or(
		cmp.Compare(rank(pa), rank(pb)),
		cmp.Compare(pb.Severity.Rank(), pa.Severity.Rank()),
		pa.At.Compare(pb.At),
		strings.Compare(pa.Key, pb.Key),
	)
}

// targetGroup is one target's share of a pass.
type targetGroup struct {
	target *target
	rate   string // the rate limit's key
	limits Limits
	sends  []*send
}

// plan turns a pass's entries into messages, per target in order of
// urgency: digests where one contact has many, and only as many as the
// target's rate limit allows now; the rest wait.
func (d *Deliverer) plan(ctx context.Context, todo []*entry, errs *errorSet) [][]*send {
	slices.SortStableFunc(todo, urgency)
	var order []*targetGroup
	byName := map[string]*targetGroup{}
	var unknown []*send
	for _, e := range todo {
		name := e.page.Notifier
		n, ok := d.o.Notifiers(name)
		if !ok {
			unknown = append(unknown, &send{name: name, page: e.page, entries: []*entry{e}})
			continue
		}
		bt, rt := targetOf(name, n)
		g := byName[bt]
		if g == nil {
			g = &targetGroup{target: d.targets.get(bt), rate: rt, limits: d.o.Limits(name)}
			byName[bt] = g
			order = append(order, g)
		}
		g.sends = append(g.sends, &send{name: name, n: n, target: g.target, page: e.page, entries: []*entry{e}})
	}

	groups := make([][]*send, 0, len(order)+1)
	if len(unknown) > 0 {
		groups = append(groups, unknown)
	}
	for _, g := range order {
		if g.limits.DigestAfter > 0 {
			g.sends = digest(g.sends, g.limits.DigestAfter, d.o.Clock.Now())
		}
		if g.limits.PerSecond > 0 {
			g.sends = d.throttle(ctx, g, errs)
		}
		if len(g.sends) > 0 {
			groups = append(groups, g.sends)
		}
	}
	return groups
}

// digest merges the messages to one contact into one digest when there
// are at least after of them; the digest takes the place of the most
// urgent. Notices and pages mix: a digest says what each item is.
func digest(sends []*send, after int, now time.Time) []*send {
	count := map[string]int{}
	for _, s := range sends {
		count[contactKey(&s.page)]++
	}
	var out []*send
	merged := map[string]*send{}
	for _, s := range sends {
		k := contactKey(&s.page)
		if count[k] < after {
			out = append(out, s)
			continue
		}
		if m := merged[k]; m != nil {
			m.entries = append(m.entries, s.entries...)
			continue
		}
		merged[k] = s
		out = append(out, s)
	}
	for _, m := range merged {
		m.page = digestPage(m.entries, now)
	}
	return out
}

// contactKey names where a message goes: notifier and address.
func contactKey(p *Page) string { return p.Notifier + "|" + p.Address }

// digestPage is the one message that stands for entries, most urgent
// first: the worst severity, every alert, the earliest start.
func digestPage(entries []*entry, now time.Time) Page {
	first := entries[0].page
	p := Page{
		Kind: KindDigest, Incident: first.Incident, User: first.User, Notifier: first.Notifier,
		Address: first.Address, Severity: first.Severity, At: now, Since: first.Since,
		Title: fmt.Sprintf("%d incidents", len(entries)),
	}
	keys := make([]string, len(entries))
	for i, e := range entries {
		it := e.page
		p.Items = append(p.Items, it)
		p.AlertCount += it.AlertCount
		if it.Severity.Rank() > p.Severity.Rank() {
			p.Severity = it.Severity
		}
		if !it.Since.IsZero() && (p.Since.IsZero() || it.Since.Before(p.Since)) {
			p.Since = it.Since
		}
		keys[i] = it.Key
	}
	sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	p.Key = "digest." + hex.EncodeToString(sum[:12])
	return p
}

// throttle reserves the target's rate limit for its messages, in one
// call for the whole group, and puts back to wait what it does not allow
// now, each at the time its turn comes.
func (d *Deliverer) throttle(ctx context.Context, g *targetGroup, errs *errorSet) []*send {
	interval := max(time.Duration(float64(time.Second)/g.limits.PerSecond), time.Millisecond)
	burst := max(g.limits.Burst, 1)
	now := d.o.Clock.Now()
	h := redisx.NewObject().Int("now", now.UnixMilli()).Int("interval", interval.Milliseconds()).
		Int("burst", int64(burst)).Int("want", int64(len(g.sends)))
	reply, err := throttleScript.Run(ctx, d.rdb, []string{d.rateKey(g.rate)}, h)
	if err != nil {
		// A pager would rather send than wait on a limit it cannot read;
		// the target's own 429s still hold it back.
		errs.add(err)
		return g.sends
	}
	r := throttleScript.ReadReply(reply, 2)
	allowed, waitMs := r.Int(0), r.Int(1)
	if err := r.Err(); err != nil {
		errs.add(err)
		return g.sends
	}
	for j, s := range g.sends[allowed:] {
		due := now.Add(time.Duration(waitMs)*time.Millisecond + time.Duration(j)*interval)
		d.holdBack(ctx, s, due, waitThrottled,
			fmt.Sprintf("throttled by %s until %s", s.name, clockTime(due)), errs)
	}
	return g.sends[:allowed]
}

// rateKey is the Redis key of one rate limit: its own hash tag (any
// node), named by a hash of the target, which may hold a URL.
func (d *Deliverer) rateKey(target string) string {
	sum := sha256.Sum256([]byte(target))
	return d.prefix + ":" + redisx.Version + ":{rate:" + hex.EncodeToString(sum[:12]) + "}"
}

// clockTime is a due time as people read it on a timeline.
func clockTime(t time.Time) string { return t.UTC().Format("15:04:05 UTC") }

// deliver sends one message its target's breaker let through (done
// reports the outcome to it), and settles its entries.
func (d *Deliverer) deliver(ctx context.Context, s *send, done func(error), errs *errorSet) {
	p := &s.page
	log := d.log.With("page_key", p.Key, "incident_id", p.Incident, "notifier", s.name, "kind", string(cmp.Or(p.Kind, KindPage)))
	if s.n == nil {
		d.settle(ctx, s, fmt.Errorf("unknown notifier %q", alertgate.Truncate(s.name, 64)), false, 0, log, errs)
		return
	}
	retry, err := d.notify(ctx, s.n, *p, log)
	var unwell error // what the breaker counts: failures that say the target is unwell
	if err != nil && retry {
		unwell = err
	}
	done(unwell)
	s.target.note(err, unwell, d.o.Clock.Now())
	_, after := Failed(err)
	d.settle(ctx, s, err, retry, after, log, errs)
}

// notify calls the notifier. The call outlives ctx (up to NotifyTimeout):
// stopping a page halfway would leave it sent, unrecorded, and sent again.
// A panicking notifier fails the page for good: it would panic again.
func (d *Deliverer) notify(ctx context.Context, n Notifier, p Page, log *slog.Logger) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.o.NotifyTimeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			log.Error("notifier panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			retry, err = false, fmt.Errorf("notifier panicked: %v", v)
		}
	}()
	if d.o.Prepare != nil {
		if p.Items != nil {
			p.Items = slices.Clone(p.Items)
		}
		for i := range p.Items {
			if err := d.o.Prepare(ctx, &p.Items[i]); err != nil {
				return true, fmt.Errorf("prepare page: %w", err)
			}
		}
		if err := d.o.Prepare(ctx, &p); err != nil {
			return true, fmt.Errorf("prepare page: %w", err)
		}
	}
	return n.Notify(ctx, p)
}

// settle records the outcome of one message for each of its entries.
func (d *Deliverer) settle(ctx context.Context, s *send, err error, retry bool, after time.Duration, log *slog.Logger, errs *errorSet) {
	if err == nil && s.page.Kind == KindDigest {
		d.o.Observer.Digest(s.name, len(s.entries))
		log.Info("digest delivered", "pages", len(s.entries))
	}
	for _, e := range s.entries {
		switch {
		case err == nil:
			digestOf := 0
			if s.page.Kind == KindDigest {
				digestOf = len(s.entries)
			}
			errs.add(d.delivered(ctx, e, digestOf))
		default:
			errs.add(d.failed(ctx, e, err, retry, after))
		}
	}
}

// firstAt is when the entry's page was first handled.
func (e *entry) firstAt(now time.Time) time.Time {
	if e.state.First > 0 {
		return time.UnixMilli(e.state.First)
	}
	e.state.First = now.UnixMilli()
	return now
}

// backoff is the pause after the attempt-th failed attempt: doubling from
// RetryInitial up to RetryMax, drawn from the upper half of that.
func (d *Deliverer) backoff(attempt int) time.Duration {
	wait := d.o.RetryMax
	if shift := attempt - 1; shift < 30 {
		wait = min(d.o.RetryInitial<<shift, d.o.RetryMax)
	}
	return wait/2 + time.Duration(d.o.Rand()*float64(wait/2))
}

// failed handles a failed attempt: another later, or give up.
func (d *Deliverer) failed(ctx context.Context, e *entry, cause error, retry bool, after time.Duration) error {
	now := d.o.Clock.Now()
	first := e.firstAt(now)
	switch {
	case !retry:
		return d.giveUp(ctx, e, cause, "")
	case e.attempt >= d.o.MaxAttempts:
		return d.giveUp(ctx, e, cause, fmt.Sprintf("gave up after %s", attempts(e.attempt)))
	}
	wait := max(d.backoff(e.attempt), after)
	if now.Add(wait).Sub(first) > d.o.GiveUpAfter {
		return d.giveUp(ctx, e, cause, fmt.Sprintf("gave up after %s in %s", attempts(e.attempt), now.Sub(first).Round(time.Second)))
	}
	e.state.Attempts = e.attempt
	e.state.LastError = alertgate.Truncate(cause.Error(), maxErrorLen)
	due := now.Add(wait)
	return d.later(ctx, e, due, waitRetry,
		fmt.Sprintf("retry %d of %d at %s after: %s", e.attempt+1, d.o.MaxAttempts, clockTime(due), alertgate.Truncate(cause.Error(), 200)))
}

// attempts says how many attempts: "1 attempt", "5 attempts".
func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}

// holdBack puts a message's entries back to wait until due, without
// counting an attempt, unless that would keep one past GiveUpAfter.
func (d *Deliverer) holdBack(ctx context.Context, s *send, due time.Time, why, reason string, errs *errorSet) {
	now := d.o.Clock.Now()
	for _, e := range s.entries {
		first := e.firstAt(now)
		e.state.Attempts = e.attempt - 1 // this was no attempt
		if due.Sub(first) > d.o.GiveUpAfter {
			errs.add(d.giveUp(ctx, e, errors.New(reason), fmt.Sprintf("gave up after waiting %s", now.Sub(first).Round(time.Second))))
			continue
		}
		errs.add(d.later(ctx, e, due, why, reason))
	}
}

// later records an entry as waiting until due, for why; the timeline
// hears of it when the reason changes. why "" requeues an entry its pass
// could not start: it keeps its reason, and counts as no wait.
func (d *Deliverer) later(ctx context.Context, e *entry, due time.Time, why, reason string) error {
	p := &e.page
	requeued := why == "" // not started in its pass: no wait of its own
	note := ""
	if requeued {
		why = e.state.Waiting
	} else if why != e.state.Waiting {
		note = "waiting: " + reason
	}
	e.state.Waiting, e.state.Reason, e.state.Due = why, reason, due.UnixMilli()
	e.state.Reclaimed = e.state.Reclaimed || e.claimed
	st, err := json.Marshal(e.state)
	if err != nil {
		return fmt.Errorf("notify: encode delivery state: %w", err)
	}
	page, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("notify: encode page: %w", err)
	}
	pe, err := json.Marshal(d.pageEntry(e, nil, 0))
	if err != nil {
		return fmt.Errorf("notify: encode page entry: %w", err)
	}
	h := d.recordHeader(e, resultLater).Int("due", due.UnixMilli()).Str("note", note)
	answer, err := d.record(ctx, e, h, string(st)+"\n"+string(page), pe)
	if err != nil {
		return fmt.Errorf("notify: put page %s back to wait: %w", p.Key, err)
	}
	if answer == answerWaiting && !requeued {
		d.o.Observer.PageWaiting(p.Notifier, why)
		d.log.Info("page waits", "page_key", p.Key, "incident_id", p.Incident, "notifier", p.Notifier,
			"why", why, "until", due, "attempts", e.state.Attempts)
	}
	return nil
}

// deadLetter is what the dead stream keeps of a page given up on.
type deadLetter struct {
	Page     Page      `json:"page"`
	Error    string    `json:"error"`
	Attempts int       `json:"attempts"`
	First    time.Time `json:"first"`
	At       time.Time `json:"at"`
}

// giveUp dead-letters an entry: the page failed for good, the timeline
// and the dead stream say why, and the page fails over, to the person's
// next contact or, with none left, to the policy's next step.
func (d *Deliverer) giveUp(ctx context.Context, e *entry, cause error, why string) error {
	p := &e.page
	now := d.o.Clock.Now()
	msg := cause.Error() // a refusal says it all
	if why != "" {
		msg = why + ": " + msg
	}
	dl, err := json.Marshal(deadLetter{Page: *p, Error: alertgate.Truncate(msg, maxErrorLen), Attempts: e.attempt,
		First: e.firstAt(now), At: now})
	if err != nil {
		return fmt.Errorf("notify: encode dead letter: %w", err)
	}
	pe, err := json.Marshal(d.pageEntry(e, errors.New(msg), 0))
	if err != nil {
		return fmt.Errorf("notify: encode page entry: %w", err)
	}
	who := cmp.Or(p.User, "#"+p.Notifier)
	h := d.recordHeader(e, resultFailed).Str("epoch", strconv.Itoa(p.Epoch)).Str("step_prefix", stepPrefix(p.Key))
	next := ""
	advance := false
	if p.IsPage() && len(p.Next) > 0 {
		np := failoverPage(*p)
		b, err := json.Marshal(np)
		if err != nil {
			return fmt.Errorf("notify: encode failover page: %w", err)
		}
		next = string(b)
		h.Str("failover", fmt.Sprintf("%s could not be reached through %s; trying %s next", who, p.Notifier, np.Notifier))
	} else if p.IsPage() && p.User != "" && p.Step > 0 {
		advance = true
		h.Str("failover", "").Str("advance", "1").
			Str("failover_next", fmt.Sprintf("%s could not be reached on any contact; running the next step now", who))
	}
	answer, err := d.record(ctx, e, h, pe, dl, next)
	if err != nil {
		return fmt.Errorf("notify: record page %s as failed: %w", p.Key, err)
	}
	lag := d.lag(p, now)
	switch answer {
	case answerRecorded:
		d.log.Error("page failed", "page_key", p.Key, "incident_id", p.Incident, "notifier", p.Notifier,
			"err", msg, "attempts", e.attempt, "failover", next != "", "advance", advance)
		d.o.Observer.PageFailed(p.Notifier, lag)
		switch {
		case next != "":
			d.o.Observer.PageFailover(p.Notifier, "contact")
		case advance:
			d.o.Observer.PageFailover(p.Notifier, "step")
		}
	case answerDuplicate:
		d.log.Info("page failed after its outcome was recorded; the timeline keeps the first", "page_key", p.Key, "err", msg)
	case answerGone:
		d.log.Warn("page for an incident that no longer exists; dropped", "page_key", p.Key)
	}
	return nil
}

// failoverPage is p for the person's next contact. Its key is the
// page's with the contact's number: "<page key>#2".
func failoverPage(p Page) Page {
	base, _, _ := strings.Cut(p.Key, "#")
	c := p.Next[0]
	p.Notifier, p.Address = c.Notifier, c.Address
	p.Next = p.Next[1:]
	p.Contact++
	p.Key = base + "#" + strconv.Itoa(p.Contact+1)
	return p
}

// stepPrefix is the part of a step's page key that every page of that
// step shares, "<incident>.<epoch>.<repeat>.<step>.", or "" for a key of
// another form (a reassignment).
func stepPrefix(key string) string {
	parts := strings.SplitN(key, ".", 5)
	if len(parts) < 5 || parts[1] == "reassign" {
		return ""
	}
	return strings.Join(parts[:4], ".") + "."
}

// noticeFor is the resolution notice that a delivered page earns its
// contact: the same incident, said to be over.
func noticeFor(p Page) Page {
	n := p
	n.Kind = KindResolved
	n.Next, n.Contact = nil, 0
	sum := sha256.Sum256([]byte(contactKey(&p)))
	n.Key = p.Incident + "." + strconv.Itoa(p.Epoch) + ".resolved." + hex.EncodeToString(sum[:8])
	return n
}

// delivered records an entry as delivered; a page earns its contact the
// incident's resolution notice.
func (d *Deliverer) delivered(ctx context.Context, e *entry, digestOf int) error {
	p := &e.page
	now := d.o.Clock.Now()
	pe, err := json.Marshal(d.pageEntry(e, nil, digestOf))
	if err != nil {
		return fmt.Errorf("notify: encode page entry: %w", err)
	}
	notice := ""
	if p.IsPage() {
		b, err := json.Marshal(noticeFor(*p))
		if err != nil {
			return fmt.Errorf("notify: encode notice: %w", err)
		}
		notice = string(b)
	}
	h := d.recordHeader(e, resultDelivered).Str("contact", contactKey(p))
	answer, err := d.record(ctx, e, h, pe, notice)
	if err != nil {
		return fmt.Errorf("notify: record page %s as delivered: %w", p.Key, err)
	}
	lag := d.lag(p, now)
	switch answer {
	case answerRecorded:
		d.log.Info("page delivered", "page_key", p.Key, "incident_id", p.Incident, "notifier", p.Notifier,
			"kind", string(cmp.Or(p.Kind, KindPage)), "attempt", e.attempt, "lag", lag)
		d.o.Observer.PageDelivered(p.Notifier, lag)
		if e.claimed || e.state.Reclaimed {
			d.o.Observer.PageRedelivered(p.Notifier)
		}
	case answerDuplicate:
		d.log.Warn("page delivered again after its outcome was recorded (a replica stalled or died); the timeline keeps the first",
			"page_key", p.Key)
		d.o.Observer.PageDuplicate(p.Notifier)
	case answerGone:
		d.log.Warn("page for an incident that no longer exists; dropped", "page_key", p.Key)
	}
	return nil
}

func (d *Deliverer) lag(p *Page, now time.Time) time.Duration {
	if p.At.IsZero() {
		return 0
	}
	return max(now.Sub(p.At), 0)
}

// pageEntry is the timeline's record of an entry's page.
func (d *Deliverer) pageEntry(e *entry, cause error, digestOf int) alertgate.PageEntry {
	p := &e.page
	pe := alertgate.PageEntry{
		Key: p.Key, User: p.User, Notifier: p.Notifier, Step: p.Step, Repeat: p.Repeat, Attempts: e.attempt,
		Digest: digestOf,
	}
	if !p.IsPage() {
		pe.Kind = string(p.Kind)
	}
	if cause != nil {
		pe.Error = alertgate.Truncate(cause.Error(), maxErrorLen)
	}
	return pe
}

// What record.lua answers.
const (
	answerRecorded  = "recorded"
	answerDuplicate = "duplicate"
	answerGone      = "gone"
	answerDropped   = "dropped"
	answerWaiting   = "waiting"
)

func (d *Deliverer) recordHeader(e *entry, result string) *redisx.Header {
	return redisx.NewHeader(d.layout.Shard(e.shard), d.o.Clock.Now(), e.id, "notifier:"+e.page.Notifier).
		Str("group", Group).Str("entry", e.id).Str("key", e.page.Key).Str("result", result).Str("id", e.page.Incident)
}

// record runs record.lua for an entry: acknowledge and delete it, and
// keep its outcome unless one is kept already.
func (d *Deliverer) record(ctx context.Context, e *entry, h *redisx.Header, args ...any) (string, error) {
	shard := d.layout.Shard(e.shard)
	id := e.page.Incident
	keys := []string{
		d.streams[e.shard],
		shard.KeyOf(redisx.Incident, id),
		shard.KeyOf(redisx.Timeline, id),
		shard.KeyOf(redisx.Pages, id),
		shard.Key(redisx.Later),
		shard.Key(redisx.LaterPages),
		shard.Key(redisx.Dead),
		shard.KeyOf(redisx.Notified, id),
		shard.Key(redisx.Due),
	}
	// On a context of its own: an outcome is recorded even when the pass's
	// context has ended.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	return d.runRecord(ctx, keys, h, args...)
}

// drop acknowledges and deletes an entry that is not to be delivered. It
// runs on the pass's context: nothing was sent, so a drop that does not
// happen now happens at the entry's next claim.
func (d *Deliverer) drop(ctx context.Context, e *entry) error {
	h := redisx.NewHeader(d.layout.Shard(e.shard), d.o.Clock.Now(), e.id, "").
		Str("group", Group).Str("entry", e.id)
	if _, err := d.runRecord(ctx, []string{d.streams[e.shard]}, h); err != nil {
		return fmt.Errorf("notify: drop outbox entry %s of shard %d: %w", e.id, e.shard, err)
	}
	return nil
}

// runRecord runs record.lua and reads its answer.
func (d *Deliverer) runRecord(ctx context.Context, keys []string, h *redisx.Header, args ...any) (string, error) {
	reply, err := recordScript.Run(ctx, d.rdb, keys, h, args...)
	if err != nil {
		return "", err
	}
	r := recordScript.ReadReply(reply, 1)
	answer := r.Str(0)
	if err := r.Err(); err != nil {
		return "", err
	}
	switch answer {
	case answerRecorded, answerDuplicate, answerGone, answerDropped, answerWaiting:
		return answer, nil
	}
	return "", &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
		Err: fmt.Errorf("%s answered %q", recordScript.Name(), answer)}
}
