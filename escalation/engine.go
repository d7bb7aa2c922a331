package escalation

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/schedule"
)

var (
	//go:embed claim.lua
	claimSource string
	claimScript = redisx.NewScript("escalation: claim", claimSource)

	//go:embed commit.lua
	commitSource string
	commitScript = redisx.NewScript("escalation: commit", commitSource)

	//go:embed escalate.lua
	escalateSource string
	escalateScript = redisx.NewScript("escalation: escalate", escalateSource)

	//go:embed reassign.lua
	reassignSource string
	reassignScript = redisx.NewScript("escalation: reassign", reassignSource)
)

// claimWidth is how many values claim.lua returns per incident.
const claimWidth = 16

// Overrides gives every rotation's overrides (oncall.Store.ByRotation).
type Overrides interface {
	ByRotation(ctx context.Context) (map[string][]schedule.Override, error)
}

// Observer hears what the engine does, for metrics.
type Observer interface {
	// StepCommitted: a step (or a run of skipped steps) committed, lag
	// after it fell due, paging pages people.
	StepCommitted(lag time.Duration, pages int)
	// CommitRefused: the fencing check refused a commit (a lease ran out,
	// or the incident changed under the step). Expected now and then.
	CommitRefused()
}

type nopObserver struct{}

func (nopObserver) StepCommitted(time.Duration, int) {}
func (nopObserver) CommitRefused()                   {}

// Options configure an Engine.
type Options struct {
	// Directory returns the current config's directory (it changes on
	// reload; each pass reads it once).
	Directory func() *Directory
	// Overrides, when set, supplies schedule overrides.
	Overrides Overrides
	Clock     lifecycle.Clock
	// Lease is how long a claimed step is this replica's alone. A replica
	// that dies holding one delays that step by at most Lease. Default 30s.
	Lease time.Duration
	// Batch caps the steps claimed per shard per call. Default 200.
	Batch int
	// Workers is how many shards are worked on at once. Default 4.
	Workers  int
	Logger   *slog.Logger
	Observer Observer
	// Committed is called after a pass committed pages (to wake delivery).
	Committed func()
	// Gate, when set, may hold a due step's pages back (silences,
	// maintenance windows, …): see Gate.
	Gate Gate
	// HoldRecheck is how soon a held step is looked at again when its
	// hold names no end (or an earlier end is possible: a silence expired
	// early). Default 30s.
	HoldRecheck time.Duration
}

// Gate decides whether a due step may page now. Silences, maintenance
// windows, inhibition, flapping and urgency hold pages back, never state:
// a held step stays where it is (the incident keeps its alerts, resolves,
// and reopens as ever) and runs as soon as nothing holds it, not at the
// policy's next repeat.
type Gate interface {
	Hold(ctx context.Context, c Candidate) (Hold, error)
}

// Candidate is a due step's incident as a Gate sees it.
type Candidate struct {
	ID, Route, Policy string
	Severity          alertgate.Severity
	// Firing holds the labels of the incident's firing alerts, at most
	// MaxGateAlerts of them; FiringTotal counts them all.
	Firing      []map[string]string
	FiringTotal int
	// Position is the step that would run; At is now.
	Position Position
	At       time.Time
	// Flapping says the incident flaps until FlapUntil (when it will have
	// been stable long enough, if nothing changes); FlapPaged that its one
	// flapping page went out.
	Flapping  bool
	FlapUntil time.Time
	FlapPaged bool
}

// MaxGateAlerts bounds the alerts a Gate is shown of one incident.
const MaxGateAlerts = 500

// Hold is a Gate's answer.
type Hold struct {
	// Reason says what holds the pages, for the timeline and the incident
	// ("silenced by 7d1e… (db upgrade, alice) until 14:00 UTC"); "" lets
	// the step run.
	Reason string
	// Until is when the hold may end (a silence's end, a window's close);
	// zero: look again after HoldRecheck.
	Until time.Time
	// Notify sends the step's people one page of kind Kind about the
	// hold (a flapping incident's one page) without moving the policy on.
	Notify bool
	Kind   notify.Kind
}

// Engine runs due escalation steps. Any number of replicas run engines
// over one Redis; each step commits exactly once.
type Engine struct {
	rdb    redis.UniversalClient
	layout redisx.Layout
	o      Options
}

// Defaults of Options.
const (
	DefaultLease       = 30 * time.Second
	DefaultBatch       = 200
	DefaultWorkers     = 4
	DefaultHoldRecheck = 30 * time.Second
)

// New returns an engine over the keys under prefix.
func New(rdb redis.UniversalClient, prefix string, o Options) *Engine {
	if o.Clock == nil {
		o.Clock = lifecycle.RealClock
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.HoldRecheck <= 0 {
		o.HoldRecheck = DefaultHoldRecheck
	}
	return &Engine{rdb: rdb, layout: redisx.NewLayout(prefix), o: o}
}

// Check loads the engine's scripts.
func (e *Engine) Check(ctx context.Context) error {
	for _, sc := range []*redisx.Script{claimScript, commitScript, escalateScript, reassignScript} {
		if err := sc.Load(ctx, e.rdb); err != nil {
			return err
		}
	}
	return nil
}

// claimed is one step a claim took.
type claimed struct {
	id, token, epoch, next, policy string
	title, service, severity       string
	alertCount                     int
	triggeredAt                    time.Time
	dueAt                          time.Time
	route, held                    string
	flapping, flapPaged            bool
	flapUntil                      time.Time
}

// Pass runs every step that is due now, on every shard. It returns the
// first error met; the steps it could not run stay due (or, if claimed,
// fall due again when their lease runs out).
func (e *Engine) Pass(ctx context.Context) error {
	dir := e.o.Directory()
	if dir == nil {
		return nil // no config compiled yet: nothing can be planned
	}
	var (
		mu       sync.Mutex
		firstErr error
		paged    bool
		ovOnce   sync.Once
		ovs      map[string][]schedule.Override
		ovErr    error
	)
	overrides := func() (map[string][]schedule.Override, error) {
		ovOnce.Do(func() {
			if e.o.Overrides != nil {
				ovs, ovErr = e.o.Overrides.ByRotation(ctx)
			}
		})
		return ovs, ovErr
	}
	shards := make(chan int, redisx.Shards)
	for n := range redisx.Shards {
		shards <- n
	}
	close(shards)
	var wg sync.WaitGroup
	for range e.o.Workers {
		wg.Go(func() {
			for n := range shards {
				p, err := e.passShard(ctx, e.layout.Shard(n), dir, overrides)
				mu.Lock()
				paged = paged || p
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if paged && e.o.Committed != nil {
		e.o.Committed()
	}
	return firstErr
}

// passShard claims the due steps of one shard, batch by batch, and commits
// each batch. Every batch reads the clock afresh, so a claim late in a
// long pass still holds for a whole lease.
func (e *Engine) passShard(ctx context.Context, shard redisx.Shard, dir *Directory,
	overrides func() (map[string][]schedule.Override, error)) (paged bool, err error) {
	for {
		now := e.o.Clock.Now()
		steps, err := e.claim(ctx, shard, now)
		if err != nil || len(steps) == 0 {
			return paged, err
		}
		// Fault tests stop a replica on this line: it holds these claims
		// until its commit, or until the lease runs out at at + lease.
		e.o.Logger.Info("escalation steps claimed", "shard", shard.N(), "steps", len(steps), "at", now.UnixMilli())
		ovs, err := overrides()
		if err != nil {
			// Without overrides a rotation could page the wrong person;
			// the claims lapse and the steps run when Redis answers.
			return paged, err
		}
		p, err := e.commitAll(ctx, shard, steps, now, dir, ovs)
		paged = paged || p
		if err != nil {
			return paged, err
		}
		if len(steps) < e.o.Batch {
			return paged, nil
		}
	}
}

func (e *Engine) claim(ctx context.Context, shard redisx.Shard, now time.Time) ([]claimed, error) {
	h := redisx.NewHeader(shard, now, redisx.RequestID(), "escalation").
		Int("lease_ms", e.o.Lease.Milliseconds()).
		Int("limit", int64(e.o.Batch))
	reply, err := claimScript.Run(ctx, e.rdb, []string{shard.Key(redisx.Due), shard.Key(redisx.FlapDue)}, h)
	if err != nil {
		return nil, err
	}
	if len(reply)%claimWidth != 0 {
		return nil, internal(fmt.Errorf("escalation: claim returned %d values", len(reply)))
	}
	r := claimScript.ReadReply(reply, len(reply))
	steps := make([]claimed, 0, len(reply)/claimWidth)
	for i := 0; i < len(reply); i += claimWidth {
		c := claimed{
			id: r.Str(i), token: r.Str(i + 1), epoch: r.Str(i + 2), next: r.Str(i + 3), policy: r.Str(i + 4),
			title: r.Str(i + 5), service: r.Str(i + 6), severity: r.Str(i + 7),
		}
		c.alertCount, _ = strconv.Atoi(r.Str(i + 8))
		c.triggeredAt = msTime(r.Str(i + 9))
		c.dueAt = msTime(r.Str(i + 10))
		c.route, c.held = r.Str(i+11), r.Str(i+12)
		c.flapping, c.flapUntil, c.flapPaged = r.Str(i+13) == "1", msTime(r.Str(i+14)), r.Str(i+15) == "1"
		steps = append(steps, c)
	}
	return steps, r.Err()
}

// commit works out one claimed step and commits it (tests; passes
// commit whole batches).
func (e *Engine) commit(ctx context.Context, shard redisx.Shard, c *claimed, now time.Time, dir *Directory,
	ovs map[string][]schedule.Override) (paged bool, err error) {
	return e.commitAll(ctx, shard, []claimed{*c}, now, dir, ovs)
}

// commitWidth is how many values open each record of commit.lua.
const commitWidth = 10

// commitAll works out every claimed step of one shard and commits them in
// one script call, each behind its own fencing check. A refused step is
// not an error: someone else holds it now, or it has nothing to do.
func (e *Engine) commitAll(ctx context.Context, shard redisx.Shard, steps []claimed, now time.Time, dir *Directory,
	ovs map[string][]schedule.Override) (paged bool, err error) {
	args := make([]any, 0, len(steps)*(commitWidth+4))
	pages := make([][]notify.Page, len(steps))
	holds := e.holds(ctx, shard, steps, now)
	for i := range steps {
		c := &steps[i]
		pos, ok := ParsePosition(c.next)
		if !ok {
			e.o.Logger.Error("escalation: unreadable position; the incident stops escalating",
				"incident_id", c.id, "position", c.next)
			pos = Position{Step: 1 << 20}
		}
		if h := holds[i]; h.Reason != "" {
			var notices []notify.Page
			if h.Notify {
				seq, _ := strconv.Atoi(c.id)
				plan := dir.Plan(Subject{ID: c.id, Policy: c.policy, Seq: seq / redisx.Shards}, pos, now, ovs)
				epoch, _ := strconv.Atoi(c.epoch)
				notices = e.notices(c, epoch, plan, h.Kind, now)
			}
			pages[i] = notices
			rec, err := e.heldRecord(c, h, notices, now)
			if err != nil {
				return false, err
			}
			args = append(args, rec...)
			continue
		}
		var released []any
		if c.held != "" {
			released = append(released, entryJSON(now, Entry{Type: alertgate.EventReleased,
				Message: "no longer held (" + c.held + "): the step runs now"}))
		}
		seq, _ := strconv.Atoi(c.id)
		plan := dir.Plan(Subject{ID: c.id, Policy: c.policy, Seq: seq / redisx.Shards}, pos, now, ovs)
		epoch, _ := strconv.Atoi(c.epoch)
		pages[i] = e.pages(c, epoch, plan, now)

		tail := exhaustedTail(plan)
		entries := released
		for _, en := range plan.Entries[:len(plan.Entries)-tail] {
			entries = append(entries, entryJSON(now, en))
		}
		for _, pg := range pages[i] {
			entries = append(entries, entryJSON(now, pagedEntry(pg)))
		}
		for _, en := range plan.Entries[len(plan.Entries)-tail:] {
			entries = append(entries, entryJSON(now, en))
		}
		next, nextMs, pagedPos := "", int64(0), ""
		if !plan.Done {
			next, nextMs = plan.Next.String(), plan.NextAt.UnixMilli()
		}
		if len(pages[i]) > 0 {
			pagedPos = plan.Paged.String()
		}
		args = append(args, c.id, c.token, c.epoch, c.next, next, nextMs, pagedPos, "", len(entries), len(pages[i]))
		args = append(args, entries...)
		for _, pg := range pages[i] {
			b, err := json.Marshal(pg)
			if err != nil {
				return false, internal(err)
			}
			args = append(args, b)
		}
	}
	h := redisx.NewHeader(shard, now, redisx.RequestID(), "escalation")
	reply, err := commitScript.Run(ctx, e.rdb, []string{shard.Key(redisx.Due), shard.Key(redisx.Outbox)}, h, args...)
	if err != nil {
		return false, err
	}
	r := commitScript.ReadReply(reply, len(steps))
	committedAt := e.o.Clock.Now()
	for i := range steps {
		result := r.Str(i)
		if r.Err() != nil {
			break
		}
		c := &steps[i]
		if result != "committed" {
			e.o.Observer.CommitRefused()
			e.o.Logger.Debug("escalation: commit refused", "incident_id", c.id, "result", result)
			continue
		}
		if holds[i].Reason != "" {
			e.o.Logger.Debug("escalation: step held", "incident_id", c.id, "reason", holds[i].Reason, "notices", len(pages[i]))
			paged = paged || len(pages[i]) > 0
			continue
		}
		e.o.Observer.StepCommitted(committedAt.Sub(c.dueAt), len(pages[i]))
		for _, pg := range pages[i] {
			e.o.Logger.Info("paged", "incident_id", c.id, "user", pg.User, "notifier", pg.Notifier,
				"step", pg.Step, "repeat", pg.Repeat, "key", pg.Key)
		}
		paged = paged || len(pages[i]) > 0
	}
	return paged, r.Err()
}

// exhaustedTail is how many of the plan's entries (the exhausted one, if
// any) come after its pages on the timeline.
func exhaustedTail(p Plan) int {
	if n := len(p.Entries); n > 0 && p.Entries[n-1].Type == alertgate.EventExhausted {
		return 1
	}
	return 0
}

// pages turns a plan's recipients into outbox pages.
func (e *Engine) pages(c *claimed, epoch int, plan Plan, now time.Time) []notify.Page {
	out := make([]notify.Page, 0, len(plan.Recipients))
	for _, r := range plan.Recipients {
		who := r.User
		if who == "" {
			who = "#" + r.Notifier
		}
		step := plan.Paged.Step + 1
		stepKey := strconv.Itoa(step)
		if plan.Paged.Turn > 0 {
			stepKey += "-" + strconv.Itoa(plan.Paged.Turn)
		}
		out = append(out, notify.Page{
			Key:      fmt.Sprintf("%s.%d.%d.%s.%s", c.id, epoch, plan.Paged.Repeat, stepKey, who),
			Incident: c.id, Title: c.title, Service: c.service,
			Severity: alertgate.Severity(c.severity), AlertCount: c.alertCount, Since: c.triggeredAt,
			Policy: c.policy, Step: step, Repeat: plan.Paged.Repeat,
			User: r.User, Notifier: r.Notifier, Address: r.Address, Reason: r.Reason, At: now,
			Epoch: epoch, Contact: r.Contact, Next: r.Next,
		})
	}
	return out
}

func pagedEntry(p notify.Page) Entry {
	return Entry{
		Type:    alertgate.EventPaged,
		Message: fmt.Sprintf("paged %s through %s: %s", cmp.Or(p.User, p.Notifier), p.Notifier, p.Reason),
		Page: &alertgate.PageEntry{Key: p.Key, User: p.User, Notifier: p.Notifier, Step: p.Step,
			Repeat: p.Repeat, Reason: p.Reason},
	}
}

// entryJSON encodes a timeline entry as the timeline stores it ("at" in
// Unix ms; see the prelude's addEntry).
func entryJSON(now time.Time, en Entry) []byte {
	b, _ := json.Marshal(struct {
		At      int64                `json:"at"`
		Actor   string               `json:"actor"`
		Type    string               `json:"type"`
		Message string               `json:"message,omitempty"`
		Page    *alertgate.PageEntry `json:"page,omitempty"`
	}{now.UnixMilli(), "escalation", en.Type, en.Message, en.Page})
	return b
}

func msTime(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func internal(err error) error {
	return &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error", Err: err}
}
