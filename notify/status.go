package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/internal/redisx"
)

// OutboxReport is what the outbox holds, and why it waits: GET
// /api/v1/outbox.
type OutboxReport struct {
	// Ready counts pages in the streams that no replica has taken yet;
	// InFlight those a replica took and has not recorded (being
	// delivered, or held by a replica that died: re-claimed after
	// claim_after).
	Ready    int `json:"ready"`
	InFlight int `json:"in_flight"`
	// WaitingTotal counts pages waiting for a later attempt; Waiting
	// lists the soonest due, up to the limit asked for.
	WaitingTotal int           `json:"waiting_total"`
	Waiting      []WaitingPage `json:"waiting"`
	// DeadLetters are the latest pages given up on, newest first, up to
	// the limit (the dead stream keeps about the last thousand per
	// shard).
	DeadLetters []DeadLetter `json:"dead_letters"`
}

// WaitingPage is one page waiting for its next attempt.
type WaitingPage struct {
	Key      string `json:"key"`
	Incident string `json:"incident_id"`
	User     string `json:"user,omitempty"`
	Notifier string `json:"notifier"`
	Kind     Kind   `json:"kind,omitempty"`
	// Why is "retry", "throttled" or "circuit_open"; Reason says it for
	// people; Due is when the next attempt may start.
	Why       string    `json:"why"`
	Reason    string    `json:"reason"`
	Due       time.Time `json:"due"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	// Since is when delivery of the page began: it gives up at
	// Since + delivery.give_up_after.
	Since time.Time `json:"since,omitzero"`
}

// DeadLetter is one page given up on.
type DeadLetter struct {
	Key      string    `json:"key"`
	Incident string    `json:"incident_id"`
	User     string    `json:"user,omitempty"`
	Notifier string    `json:"notifier"`
	Kind     Kind      `json:"kind,omitempty"`
	Error    string    `json:"error"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// Outbox reports what the outbox holds, with at most limit waiting pages
// and dead letters, read in one pipeline.
func (d *Deliverer) Outbox(ctx context.Context, limit int) (OutboxReport, error) {
	limit = max(limit, 1)
	type shardCmds struct {
		xlen    *redis.IntCmd
		pending *redis.XPendingCmd
		waiting *redis.IntCmd
		soonest *redis.ZSliceCmd
		dead    *redis.XMessageSliceCmd
	}
	cmds := make([]shardCmds, redisx.Shards)
	p := d.rdb.Pipeline()
	for n := range redisx.Shards {
		shard := d.layout.Shard(n)
		cmds[n] = shardCmds{
			xlen:    p.XLen(ctx, d.streams[n]),
			pending: p.XPending(ctx, d.streams[n], Group),
			waiting: p.ZCard(ctx, shard.Key(redisx.Later)),
			soonest: p.ZRangeWithScores(ctx, shard.Key(redisx.Later), 0, int64(limit-1)),
			dead:    p.XRevRangeN(ctx, shard.Key(redisx.Dead), "+", "-", int64(limit)),
		}
	}
	_, _ = p.Exec(ctx) // each command's error is looked at below

	var r OutboxReport
	type due struct {
		shard int
		key   string
		at    time.Time
	}
	var soonest []due
	for n, c := range cmds {
		xlen, err := c.xlen.Result()
		if err != nil {
			return OutboxReport{}, redisx.Wrap("notify: outbox report", err)
		}
		inFlight := 0
		if pend, err := c.pending.Result(); err == nil {
			inFlight = int(pend.Count)
		} else if !isNoGroup(err) {
			return OutboxReport{}, redisx.Wrap("notify: outbox report", err)
		}
		r.Ready += max(int(xlen)-inFlight, 0)
		r.InFlight += inFlight
		waiting, err := c.waiting.Result()
		if err != nil {
			return OutboxReport{}, redisx.Wrap("notify: outbox report", err)
		}
		r.WaitingTotal += int(waiting)
		zs, err := c.soonest.Result()
		if err != nil {
			return OutboxReport{}, redisx.Wrap("notify: outbox report", err)
		}
		for _, z := range zs {
			key, _ := z.Member.(string)
			soonest = append(soonest, due{n, key, time.UnixMilli(int64(z.Score)).UTC()})
		}
		msgs, err := c.dead.Result()
		if err != nil {
			return OutboxReport{}, redisx.Wrap("notify: outbox report", err)
		}
		for _, m := range msgs {
			raw, _ := m.Values["dead"].(string)
			var dl deadLetter
			if json.Unmarshal([]byte(raw), &dl) != nil {
				continue
			}
			r.DeadLetters = append(r.DeadLetters, DeadLetter{Key: dl.Page.Key, Incident: dl.Page.Incident, User: dl.Page.User,
				Notifier: dl.Page.Notifier, Kind: dl.Page.Kind, Error: dl.Error, Attempts: dl.Attempts, At: dl.At.UTC()})
		}
	}
	slices.SortFunc(soonest, func(a, b due) int { return cmp.Or(a.at.Compare(b.at), strings.Compare(a.key, b.key)) })
	soonest = soonest[:min(len(soonest), limit)]
	slices.SortFunc(r.DeadLetters, func(a, b DeadLetter) int { return b.At.Compare(a.At) })
	r.DeadLetters = r.DeadLetters[:min(len(r.DeadLetters), limit)]

	// The waiting pages' states, in a second round trip: only for those
	// listed.
	p = d.rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(soonest))
	for i, w := range soonest {
		gets[i] = p.HGet(ctx, d.layout.Shard(w.shard).Key(redisx.LaterPages), w.key)
	}
	if len(gets) > 0 {
		_, _ = p.Exec(ctx)
	}
	for i, w := range soonest {
		v, err := gets[i].Result()
		if err != nil {
			continue // promoted meanwhile
		}
		st, raw, _ := strings.Cut(v, "\n")
		var s deliveryState
		var pg Page
		_ = json.Unmarshal([]byte(st), &s)
		_ = json.Unmarshal([]byte(raw), &pg)
		wp := WaitingPage{Key: w.key, Incident: pg.Incident, User: pg.User, Notifier: pg.Notifier, Kind: pg.Kind,
			Why: s.Waiting, Reason: s.Reason, Due: w.at, Attempts: s.Attempts, LastError: s.LastError}
		if s.First > 0 {
			wp.Since = time.UnixMilli(s.First).UTC()
		}
		r.Waiting = append(r.Waiting, wp)
	}
	if r.Waiting == nil {
		r.Waiting = []WaitingPage{}
	}
	if r.DeadLetters == nil {
		r.DeadLetters = []DeadLetter{}
	}
	return r, nil
}
