package escalation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/notify"
)

// holds asks the Gate about every claimed step; without a Gate nothing is
// held. The incidents' firing alerts are read in one pipeline. A Gate
// that fails lets the step page: a pager that cannot tell whether a page
// is muted sends it.
func (e *Engine) holds(ctx context.Context, shard redisx.Shard, steps []claimed, now time.Time) []Hold {
	out := make([]Hold, len(steps))
	if e.o.Gate == nil || len(steps) == 0 {
		return out
	}
	p := e.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(steps))
	for i := range steps {
		cmds[i] = p.HVals(ctx, shard.KeyOf(redisx.IncidentAlerts, steps[i].id))
	}
	_, _ = p.Exec(ctx) // each command's error is looked at below
	// Failures are logged once per batch, as a warning: they come with
	// Redis trouble (a stalled replica's reads time out when it resumes),
	// the step pages anyway, and its commit is fenced like any other.
	var readFailed, gateFailed int
	var readErr, gateErr error
	defer func() {
		if readFailed > 0 {
			e.o.Logger.Warn("escalation: could not read the alerts of incidents for the gate; paging them", "incidents", readFailed, "err", readErr.Error())
		}
		if gateFailed > 0 {
			e.o.Logger.Warn("escalation: the gate failed; paging", "incidents", gateFailed, "err", gateErr.Error())
		}
	}()
	for i := range steps {
		c := &steps[i]
		pos, _ := ParsePosition(c.next)
		cand := Candidate{ID: c.id, Route: c.route, Policy: c.policy, Severity: alertgate.Severity(c.severity),
			Position: pos, At: now, Flapping: c.flapping, FlapUntil: c.flapUntil, FlapPaged: c.flapPaged}
		vals, err := cmds[i].Result()
		if err != nil {
			readFailed, readErr = readFailed+1, err
			continue
		}
		for _, v := range vals {
			var a alertgate.Alert
			if json.Unmarshal([]byte(v), &a) != nil || a.Status != alertgate.Firing {
				continue
			}
			cand.FiringTotal++
			if len(cand.Firing) < MaxGateAlerts {
				cand.Firing = append(cand.Firing, a.Labels)
			}
		}
		h, err := e.o.Gate.Hold(ctx, cand)
		if err != nil {
			gateFailed, gateErr = gateFailed+1, err
			continue
		}
		out[i] = h
	}
	return out
}

// notices are the pages a hold sends (Hold.Notify): the step's people,
// each once, with the hold's kind and a key of their own.
func (e *Engine) notices(c *claimed, epoch int, plan Plan, kind notify.Kind, now time.Time) []notify.Page {
	out := e.pages(c, epoch, plan, now)
	for i := range out {
		p := &out[i]
		p.Kind = kind
		who := p.User
		if who == "" {
			who = "#" + p.Notifier
		}
		p.Key = fmt.Sprintf("%s.%d.%s.%s", c.id, epoch, kind, who)
	}
	return out
}

// heldRecord is commit.lua's record of a held step: the same position,
// due again when the hold may end (at the latest after HoldRecheck), and
// the hold's notices if any; a timeline entry when the reason is new.
func (e *Engine) heldRecord(c *claimed, h Hold, notices []notify.Page, now time.Time) ([]any, error) {
	next := now.Add(e.o.HoldRecheck)
	if !h.Until.IsZero() && h.Until.Before(next) {
		next = h.Until
	}
	// Never sooner than a second: a hold that ends "now" is looked at on
	// the next pass, not in a loop.
	next = maxTime(next, now.Add(time.Second))
	var entries []any
	if h.Reason != c.held {
		msg := "pages held back: " + h.Reason
		if !h.Until.IsZero() {
			msg += "; they go out at " + h.Until.UTC().Format("2006-01-02 15:04 UTC") + " if it still fires"
		}
		entries = append(entries, entryJSON(now, Entry{Type: alertgate.EventHeld, Message: msg}))
	}
	for _, pg := range notices {
		entries = append(entries, entryJSON(now, pagedEntry(pg)))
	}
	rec := []any{c.id, c.token, c.epoch, c.next, c.next, next.UnixMilli(), "", h.Reason, len(entries), len(notices)}
	rec = append(rec, entries...)
	for _, pg := range notices {
		b, err := json.Marshal(pg)
		if err != nil {
			return nil, internal(err)
		}
		rec = append(rec, b)
	}
	return rec, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
