package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/internal/redisx"
)

// Group is the consumer group every replica reads the outbox streams with:
// one group, so each page goes to one replica at a time.
const Group = "delivery"

// Defaults of DelivererOptions.
const (
	DefaultClaimAfter    = 30 * time.Second
	DefaultMaxAttempts   = 5
	DefaultBatch         = 32
	DefaultConcurrency   = 16
	DefaultPerTarget     = 4
	DefaultNotifyTimeout = 10 * time.Second
	DefaultRetryInitial  = 2 * time.Second
	DefaultRetryMax      = time.Minute
	// DefaultGiveUpAfter bounds how long one contact is tried: a pager
	// that keeps trying a dead phone number for an hour pages nobody.
	DefaultGiveUpAfter     = 5 * time.Minute
	DefaultBreakerFailures = 5
	DefaultBreakerOpenFor  = 30 * time.Second
	// DefaultForgetConsumersAfter: a live replica reads at every pass, a
	// few times a second; one silent for an hour has stopped.
	DefaultForgetConsumersAfter = time.Hour
)

// recordTimeout bounds recording one outcome. Recording runs even when the
// pass's context has ended: a page that was delivered and not recorded is
// delivered again after ClaimAfter.
const recordTimeout = 5 * time.Second

// DelivererOptions configure NewDeliverer; zero fields take the defaults.
type DelivererOptions struct {
	// Consumer names this replica in the consumer group; default
	// hostname-pid-random, so two processes never share a name.
	Consumer string
	// Notifiers finds the notifier a page names. A page whose notifier it
	// does not know fails for good. Check refuses a Deliverer without one.
	Notifiers func(name string) (Notifier, bool)
	// ClaimAfter is how long an entry may stay read and unrecorded before
	// any replica re-claims it: the delivering replica died or stalled.
	// Keep it at least twice NotifyTimeout (the default NotifyTimeout
	// does): an entry whose delivery is still running when it is
	// re-claimed is delivered twice. Redis counts it in whole
	// milliseconds.
	ClaimAfter time.Duration
	// MaxAttempts caps attempts to deliver one page to one contact; a
	// retryable failure at the last attempt gives up (dead letter,
	// failover).
	MaxAttempts int
	// RetryInitial is the pause after a first failed attempt; each later
	// one doubles, up to RetryMax. Each pause is drawn at random from the
	// upper half of its range (jitter, so replicas and pages that failed
	// together do not retry together) and is never shorter than what the
	// target asked for (429/503 Retry-After).
	RetryInitial, RetryMax time.Duration
	// GiveUpAfter bounds how long a page waits for one contact, counted
	// from its first attempt, whatever it waits for: retries, a throttled
	// target, an open breaker. Past it the page is dead-lettered and
	// fails over to the person's next contact, then the policy's next
	// step: nothing is stranded behind a target that is down.
	GiveUpAfter time.Duration
	// BreakerFailures is how many failures in a row open a target's
	// breaker; BreakerOpenFor how long it stays open before one probe
	// (half-open). Permanent refusals (a 400) do not count: the target
	// answered.
	BreakerFailures int
	BreakerOpenFor  time.Duration
	// PerTarget bounds the deliveries to one target at once; they start
	// in order of urgency.
	PerTarget int
	// Limits gives a notifier's rate limit and digest threshold; nil: no
	// limits, no digests.
	Limits func(notifier string) Limits
	// Rand draws the jitter, in [0, 1); math/rand/v2's Float64 if nil.
	Rand func() float64
	// Batch is how many entries one pass takes from each shard, new and
	// re-claimed each.
	Batch int
	// Concurrency bounds the deliveries one pass runs at once.
	Concurrency int
	// NotifyTimeout bounds one Notify call; default DefaultNotifyTimeout,
	// or half of ClaimAfter if that is less.
	NotifyTimeout time.Duration
	// ForgetConsumersAfter: Check drops the group's consumers that hold no
	// entry and have been silent this long (replicas that stopped).
	ForgetConsumersAfter time.Duration
	// Clock gives the time of records and of lag measurements; RealClock
	// if nil.
	Clock lifecycle.Clock
	// More, if set, is called after a pass that took a full Batch from
	// some shard: more is waiting, and the loop should run again now
	// rather than at its next tick (a backlog drains at the deliverer's
	// pace, not Batch × Shards per poll interval).
	More func()
	// Prepare, if set, completes a page just before its Notify call: the
	// per-recipient Links and the SMS ReplyCode, which the outbox does not
	// keep. An error fails the attempt retryably.
	Prepare func(ctx context.Context, p *Page) error
	// Logger gets every outcome; nil: none.
	Logger *slog.Logger
	// Observer counts outcomes; nil: none.
	Observer Observer
}

// Observer is told the outcome of each page recorded: metrics. lag is the
// time from the step committing the page (Page.At) to its outcome.
type Observer interface {
	PageDelivered(notifier string, lag time.Duration)
	// PageFailed counts a page dead-lettered: refused for good, or given
	// up on (attempts, GiveUpAfter).
	PageFailed(notifier string, lag time.Duration)
	// PageDuplicate counts a page delivered again after its outcome was
	// recorded: a replica stalled past ClaimAfter, or died between
	// delivering and recording.
	PageDuplicate(notifier string)
	// PageRedelivered counts a page delivered after it was re-claimed from
	// a replica that died or stalled holding it: that replica may have
	// sent it already, so the target may have it twice (with the same
	// idempotency key). PageDuplicate counts only the redeliveries whose
	// first delivery was recorded.
	PageRedelivered(notifier string)
	// PageWaiting counts a page put back to wait: reason is "retry",
	// "throttled" or "circuit_open".
	PageWaiting(notifier, reason string)
	// PageFailover counts a dead-lettered page that went on to the
	// person's next contact ("contact") or the policy's next step ("step").
	PageFailover(notifier, to string)
	// Digest counts a digest message standing for pages messages.
	Digest(notifier string, pages int)
	// BreakerState reports a target's breaker changing state ("closed",
	// "half-open", "open").
	BreakerState(target, state string)
}

type nopObserver struct{}

func (nopObserver) PageDelivered(string, time.Duration) {}
func (nopObserver) PageFailed(string, time.Duration)    {}
func (nopObserver) PageDuplicate(string)                {}
func (nopObserver) PageWaiting(string, string)          {}
func (nopObserver) PageRedelivered(string)              {}
func (nopObserver) PageFailover(string, string)         {}
func (nopObserver) Digest(string, int)                  {}
func (nopObserver) BreakerState(string, string)         {}

// Deliverer delivers the pages of the outbox streams. Any number of
// replicas run one each over the same Redis; the consumer group hands each
// page to one of them, and a page whose replica died is re-claimed by
// another. Delivery is at least once: the record script tells a
// redelivery from a first delivery by the page's key.
type Deliverer struct {
	rdb     redis.UniversalClient
	layout  redisx.Layout
	prefix  string
	streams [redisx.Shards]string
	o       DelivererOptions
	log     *slog.Logger
	targets *targets

	mu      sync.Mutex
	cursors [redisx.Shards]string // where each shard's next XAUTOCLAIM scan starts
}

// NewDeliverer returns a Deliverer of the outbox streams under prefix.
func NewDeliverer(rdb redis.UniversalClient, prefix string, o DelivererOptions) *Deliverer {
	if o.Consumer == "" {
		o.Consumer = defaultConsumer()
	}
	if o.ClaimAfter <= 0 {
		o.ClaimAfter = DefaultClaimAfter
	}
	// Below a millisecond XAUTOCLAIM's idle time would be 0: entries out
	// with a live replica would be taken from it at once.
	o.ClaimAfter = max(o.ClaimAfter, time.Millisecond)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = DefaultRetryInitial
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultRetryMax
	}
	o.RetryMax = max(o.RetryMax, o.RetryInitial)
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = DefaultGiveUpAfter
	}
	if o.BreakerFailures <= 0 {
		o.BreakerFailures = DefaultBreakerFailures
	}
	if o.BreakerOpenFor <= 0 {
		o.BreakerOpenFor = DefaultBreakerOpenFor
	}
	if o.PerTarget <= 0 {
		o.PerTarget = DefaultPerTarget
	}
	if o.Limits == nil {
		o.Limits = func(string) Limits { return Limits{} }
	}
	if o.Rand == nil {
		o.Rand = mrand.Float64
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.NotifyTimeout <= 0 {
		o.NotifyTimeout = min(DefaultNotifyTimeout, o.ClaimAfter/2)
	}
	if o.ForgetConsumersAfter <= 0 {
		o.ForgetConsumersAfter = DefaultForgetConsumersAfter
	}
	if o.Clock == nil {
		o.Clock = lifecycle.RealClock
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Deliverer{rdb: rdb, layout: redisx.NewLayout(prefix), prefix: prefix, o: o, log: log.With("consumer", o.Consumer)}
	d.targets = newTargets(o.Clock, o.BreakerFailures, o.BreakerOpenFor, o.PerTarget, o.Observer)
	for n := range redisx.Shards {
		d.streams[n] = d.layout.Shard(n).Key(redisx.Outbox)
		d.cursors[n] = "0-0"
	}
	return d
}

// Consumer is this Deliverer's name in the consumer group.
func (d *Deliverer) Consumer() string { return d.o.Consumer }

func defaultConsumer() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "alertgate"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}

// Check loads the scripts and makes the consumer group on every shard's
// stream, from its first entry, so pages written before the group existed
// are delivered too; a group that exists is left as it is. It then forgets
// the consumers of stopped replicas (ForgetConsumersAfter). It is the
// start-up check: run it once before the first Pass. (A Pass without it
// still works: it loads the script at first use and makes a missing
// group.)
func (d *Deliverer) Check(ctx context.Context) error {
	if d.o.Notifiers == nil {
		return errors.New("notify: deliverer has no notifier lookup")
	}
	for _, sc := range []*redisx.Script{recordScript, forgetScript, promoteScript, throttleScript} {
		if err := sc.Load(ctx, d.rdb); err != nil {
			return err
		}
	}
	all := make([]int, redisx.Shards)
	for n := range all {
		all[n] = n
	}
	if err := d.createGroups(ctx, all); err != nil {
		return err
	}
	// Housekeeping: a Redis that refuses it (XINFO denied by an ACL, say)
	// must not keep pages from going out.
	if err := d.forgetConsumers(ctx); err != nil {
		d.log.Warn("could not forget the outbox consumers of stopped replicas", "err", err.Error())
	}
	return nil
}

// forgetConsumers runs forget.lua on every shard's stream.
func (d *Deliverer) forgetConsumers(ctx context.Context) error {
	forgotten := 0
	for n := range redisx.Shards {
		shard := d.layout.Shard(n)
		h := redisx.NewHeader(shard, d.o.Clock.Now(), redisx.RequestID(), "").
			Str("group", Group).Int("idle_ms", d.o.ForgetConsumersAfter.Milliseconds())
		reply, err := forgetScript.Run(ctx, d.rdb, []string{d.streams[n]}, h)
		if err != nil {
			return err
		}
		r := forgetScript.ReadReply(reply, 1)
		forgotten += r.Int(0)
		if err := r.Err(); err != nil {
			return err
		}
	}
	if forgotten > 0 {
		d.log.Info("forgot the outbox consumers of stopped replicas", "consumers", forgotten)
	}
	return nil
}

// createGroups makes the consumer group on the streams of shards.
func (d *Deliverer) createGroups(ctx context.Context, shards []int) error {
	p := d.rdb.Pipeline()
	cmds := make([]*redis.StatusCmd, len(shards))
	for i, n := range shards {
		cmds[i] = p.XGroupCreateMkStream(ctx, d.streams[n], Group, "0")
	}
	_, _ = p.Exec(ctx) // each command's error is looked at below
	var errs errorSet
	for i, c := range cmds {
		if err := c.Err(); err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			errs.add(redisx.Wrap("notify: create consumer group on shard "+strconv.Itoa(shards[i]), err))
		}
	}
	return errs.err()
}

// entry is one outbox entry taken by a pass.
type entry struct {
	shard   int
	id      string
	claimed bool // re-claimed from a consumer that did not record it
	page    Page
	bad     string // why the entry is not a page; "" when it is one
	raw     string // the entry's page field, for the log of a bad one
	attempt int    // this is the attempt-th attempt to deliver the page to its contact
	state   deliveryState
}

// fetch reads every shard's stream: re-claimed entries first, then new
// ones. A shard whose group is missing (a flushed or restarted Redis) gets
// it made again, from 0: the stream holds only pages still to deliver.
func (d *Deliverer) fetch(ctx context.Context, errs *errorSet) (entries []*entry, full bool) {
	d.mu.Lock()
	cursors := d.cursors
	d.mu.Unlock()

	p := d.rdb.Pipeline()
	promotes := make([]*redis.Cmd, redisx.Shards)
	claims := make([]*redis.XAutoClaimCmd, redisx.Shards)
	reads := make([]*redis.XStreamSliceCmd, redisx.Shards)
	now := d.o.Clock.Now()
	for n := range redisx.Shards {
		// Pages whose wait is over go back into the stream first, so the
		// read below takes them in this pass.
		shard := d.layout.Shard(n)
		promotes[n] = promoteScript.Queue(ctx, p,
			[]string{shard.Key(redisx.Later), shard.Key(redisx.LaterPages), d.streams[n]},
			redisx.NewHeader(shard, now, "", "").Int("max", int64(d.o.Batch)))
		claims[n] = p.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: d.streams[n], Group: Group, Consumer: d.o.Consumer,
			MinIdle: d.o.ClaimAfter, Start: cursors[n], Count: int64(d.o.Batch),
		})
		reads[n] = p.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: Group, Consumer: d.o.Consumer, Streams: []string{d.streams[n], ">"},
			Count: int64(d.o.Batch), Block: -1, // never block: one pass, then return
		})
	}
	_, _ = p.Exec(ctx) // each command's error is looked at below

	var noGroup []int
	reload := false
	for n := range redisx.Shards {
		if moved, err := promotes[n].Slice(); err != nil {
			if redisx.IsNoScript(err) {
				reload = true
			} else {
				errs.add(redisx.Wrap("notify: return waiting pages of shard "+strconv.Itoa(n), err))
			}
		} else if len(moved) == 1 {
			// As many due as it moves at once: more may be due.
			c, _ := moved[0].(int64)
			full = full || c >= int64(d.o.Batch)
		}
		msgs, next, err := claims[n].Result()
		switch {
		case isNoGroup(err):
			noGroup = append(noGroup, n)
			continue // the read fails the same way
		case err != nil:
			errs.add(redisx.Wrap("notify: claim outbox entries of shard "+strconv.Itoa(n), err))
		default:
			// The scan goes on where it stopped ("0-0": from the start),
			// so entries deep in a long pending list are reached too.
			d.mu.Lock()
			d.cursors[n] = next
			d.mu.Unlock()
			for _, m := range msgs {
				entries = append(entries, newEntry(n, m, true))
			}
			full = full || len(msgs) >= d.o.Batch
		}
		streams, err := reads[n].Result()
		switch {
		case errors.Is(err, redis.Nil): // nothing new
		case isNoGroup(err):
			noGroup = append(noGroup, n)
		case err != nil:
			errs.add(redisx.Wrap("notify: read outbox of shard "+strconv.Itoa(n), err))
		default:
			for _, s := range streams {
				for _, m := range s.Messages {
					entries = append(entries, newEntry(n, m, false))
				}
				full = full || len(s.Messages) >= d.o.Batch
			}
		}
	}
	if reload {
		// Redis lost its script cache (a restart): load it for the next
		// pass; waiting pages wait one pass longer.
		errs.add(promoteScript.Load(ctx, d.rdb))
	}
	if len(noGroup) > 0 {
		d.log.Warn("outbox consumer group missing (Redis flushed or restarted empty?); making it again", "shards", fmt.Sprint(noGroup))
		errs.add(d.createGroups(ctx, noGroup))
	}
	return entries, full
}

func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }

// newEntry reads one stream entry. An entry that is not a page of an
// incident of this shard is marked bad, never dropped silently: recording
// it acknowledges it, so it cannot wedge the loop.
func newEntry(shard int, m redis.XMessage, claimed bool) *entry {
	e := &entry{shard: shard, id: m.ID, claimed: claimed, attempt: 1}
	raw, ok := m.Values["page"].(string)
	if !ok {
		e.bad = fmt.Sprintf("no page field (fields: %s)", fieldNames(m.Values))
		return e
	}
	e.raw = alertgate.Truncate(raw, 256)
	if err := decodePage(raw, &e.page); err != nil {
		e.bad = err.Error()
		return e
	}
	if at, ok := m.Values["at"].(string); ok {
		// A notice's time is the resolve's, given when it was queued.
		if ms, err := strconv.ParseInt(at, 10, 64); err == nil {
			e.page.At = time.UnixMilli(ms).UTC()
		}
	}
	if st, ok := m.Values["state"].(string); ok && st != "" {
		// A state that does not read starts the page's count afresh:
		// better one attempt too many than a page dropped.
		_ = json.Unmarshal([]byte(st), &e.state)
	}
	if n, _ := redisx.IncidentShard(e.page.Incident); n != shard {
		e.bad = fmt.Sprintf("incident %q belongs to shard %d, not %d", alertgate.Truncate(e.page.Incident, 64), n, shard)
	}
	return e
}

func fieldNames(values map[string]any) string {
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, alertgate.Truncate(k, 64))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// prepare learns what the pass needs before delivering, in one pipeline:
// the delivery count of each re-claimed entry (its attempt), whether each
// page's incident still exists, and whether its outcome is recorded
// already. It settles the entries that are not to be delivered and
// returns the rest.
func (d *Deliverer) prepare(ctx context.Context, entries []*entry, errs *errorSet) []*entry {
	type checks struct {
		pending  *redis.XPendingExtCmd
		exists   *redis.IntCmd
		recorded *redis.BoolCmd
	}
	cs := make([]checks, len(entries))
	p := d.rdb.Pipeline()
	for i, e := range entries {
		shard := d.layout.Shard(e.shard)
		if e.claimed {
			cs[i].pending = p.XPendingExt(ctx, &redis.XPendingExtArgs{
				Stream: d.streams[e.shard], Group: Group, Start: e.id, End: e.id, Count: 1,
			})
		}
		if e.bad == "" {
			cs[i].exists = p.Exists(ctx, shard.KeyOf(redisx.Incident, e.page.Incident))
			cs[i].recorded = p.HExists(ctx, shard.KeyOf(redisx.Pages, e.page.Incident), e.page.Key)
		}
	}
	_, _ = p.Exec(ctx) // each command's error is looked at below

	var todo []*entry
	for i, e := range entries {
		c := cs[i]
		if c.pending != nil {
			pend, err := c.pending.Result()
			if err != nil {
				errs.add(redisx.Wrap("notify: delivery count of outbox entry "+e.id, err))
				continue // still pending: the next pass claims it again
			}
			if len(pend) == 0 || pend[0].Consumer != d.o.Consumer {
				continue // recorded, or claimed by another replica, meanwhile
			}
			e.attempt = int(pend[0].RetryCount)
		}
		e.attempt += e.state.Attempts
		log := d.log.With("shard", e.shard, "entry", e.id)
		if e.bad != "" {
			log.Error("malformed outbox entry; dropped", "err", e.bad, "page", e.raw)
			errs.add(d.drop(ctx, e))
			continue
		}
		log = log.With("page_key", e.page.Key, "incident_id", e.page.Incident)
		exists, err1 := c.exists.Result()
		recorded, err2 := c.recorded.Result()
		if err := errors.Join(err1, err2); err != nil {
			errs.add(redisx.Wrap("notify: check page "+e.page.Key, err))
			continue
		}
		switch {
		case exists == 0:
			log.Warn("page for an incident that no longer exists; dropped")
			errs.add(d.drop(ctx, e))
		case recorded:
			log.Info("page already recorded; dropped its redelivery")
			errs.add(d.drop(ctx, e))
		default:
			todo = append(todo, e)
		}
	}
	return todo
}

// errorSet gathers a pass's errors, from many goroutines. Redis failing
// fails every command of a pass the same way, so it keeps the first error
// and a count rather than a line per shard.
type errorSet struct {
	mu    sync.Mutex
	first error
	more  int
}

func (s *errorSet) add(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first == nil {
		s.first = err
	} else {
		s.more++
	}
}

func (s *errorSet) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.more == 0 {
		return s.first
	}
	return fmt.Errorf("%w (and %d more errors)", s.first, s.more)
}
