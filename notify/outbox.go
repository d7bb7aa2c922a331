package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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
	DefaultNotifyTimeout = 10 * time.Second
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
	// any replica re-claims it: the delivering replica died or stalled, or
	// a retryable failure left it pending. It is also the pause between
	// attempts. Keep it at least twice NotifyTimeout (the default
	// NotifyTimeout does): an entry whose delivery is still running when
	// it is re-claimed is delivered twice. Redis counts it in whole
	// milliseconds.
	ClaimAfter time.Duration
	// MaxAttempts caps deliveries of one page; a retryable failure at the
	// last attempt is recorded as failed.
	MaxAttempts int
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
	PageFailed(notifier string, lag time.Duration)
	// PageDuplicate counts a page delivered again after its outcome was
	// recorded: a replica stalled past ClaimAfter, or died between
	// delivering and recording.
	PageDuplicate(notifier string)
}

type nopObserver struct{}

func (nopObserver) PageDelivered(string, time.Duration) {}
func (nopObserver) PageFailed(string, time.Duration)    {}
func (nopObserver) PageDuplicate(string)                {}

// Deliverer delivers the pages of the outbox streams. Any number of
// replicas run one each over the same Redis; the consumer group hands each
// page to one of them, and a page whose replica died is re-claimed by
// another. Delivery is at least once: the record script tells a
// redelivery from a first delivery by the page's key.
type Deliverer struct {
	rdb     redis.UniversalClient
	layout  redisx.Layout
	streams [redisx.Shards]string
	o       DelivererOptions
	log     *slog.Logger

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
	d := &Deliverer{rdb: rdb, layout: redisx.NewLayout(prefix), o: o, log: log.With("consumer", o.Consumer)}
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
	for _, sc := range []*redisx.Script{recordScript, forgetScript} {
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
	attempt int    // the delivery count: this is the attempt-th delivery
}

// Pass takes what the outbox holds for this replica and delivers it: on
// every shard, entries left unrecorded for ClaimAfter (XAUTOCLAIM), then
// new ones (XREADGROUP), Batch of each; then it delivers them, Concurrency
// at once, and records each outcome. All shards' reads go in one pipeline
// (one round trip per Redis node, one command per key: each shard is its
// own Cluster slot), so a pass over empty streams is cheap.
//
// ctx bounds the reads and when deliveries may start. A pass starts up to
// Concurrency deliveries at once and the rest as those end, but none later
// than ClaimAfter/2 after its reads: an entry that waited longer may be
// re-claimed by another replica while it is out, so it is left for that
// (or a later pass of this one). A delivery that has started runs to its
// end (NotifyTimeout) and is recorded even after ctx ends: a page sent and
// not recorded would be sent again. So a pass takes at most PassTimeout; a
// Loop running Pass should give it that long, since a shorter timeout only
// defers, by ClaimAfter, the pages that had to wait for a slot.
//
// Pass is safe to call concurrently, in one process or many. Its error
// reports Redis failures; the pages' own failures are recorded and logged.
func (d *Deliverer) Pass(ctx context.Context) error {
	var errs errorSet
	entries := d.fetch(ctx, &errs)
	if len(entries) == 0 {
		return errs.err()
	}
	// Redis counts an entry's idle time from the read, in real time.
	window, cancel := context.WithTimeout(ctx, d.o.ClaimAfter/2)
	defer cancel()
	todo := d.prepare(ctx, entries, &errs)

	sem := make(chan struct{}, d.o.Concurrency)
	var wg sync.WaitGroup
	for _, e := range todo {
		if !acquire(ctx, window, sem) {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			errs.add(d.deliver(ctx, e))
		})
	}
	wg.Wait()
	return errs.err()
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
// most NotifyTimeout and a record.
func (d *Deliverer) PassTimeout() time.Duration {
	return d.o.ClaimAfter/2 + d.o.NotifyTimeout + recordTimeout
}

// fetch reads every shard's stream: re-claimed entries first, then new
// ones. A shard whose group is missing (a flushed or restarted Redis) gets
// it made again, from 0: the stream holds only pages still to deliver.
func (d *Deliverer) fetch(ctx context.Context, errs *errorSet) []*entry {
	d.mu.Lock()
	cursors := d.cursors
	d.mu.Unlock()

	p := d.rdb.Pipeline()
	claims := make([]*redis.XAutoClaimCmd, redisx.Shards)
	reads := make([]*redis.XStreamSliceCmd, redisx.Shards)
	for n := range redisx.Shards {
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

	var entries []*entry
	var noGroup []int
	for n := range redisx.Shards {
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
			}
		}
	}
	if len(noGroup) > 0 {
		d.log.Warn("outbox consumer group missing (Redis flushed or restarted empty?); making it again", "shards", fmt.Sprint(noGroup))
		errs.add(d.createGroups(ctx, noGroup))
	}
	return entries
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
