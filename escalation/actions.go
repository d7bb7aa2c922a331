package escalation

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/schedule"
)

// Action is who asks for an escalate or a reassign, and the request's id
// (a repeat with the same id changes nothing).
type Action struct {
	Actor     string
	RequestID string
	// Message is an optional note for the timeline.
	Message string
}

// Escalate makes the incident's next step fall due now. Only a triggered
// incident with steps left escalates (ECONFLICT otherwise: acknowledge
// means someone owns it; reassign pages more people).
func (e *Engine) Escalate(ctx context.Context, id string, a Action) error {
	n, ok := redisx.IncidentShard(id)
	if !ok {
		return notFound(id)
	}
	shard := e.layout.Shard(n)
	h := e.header(shard, a).Str("id", id).Str("message", a.Message)
	keys := []string{shard.KeyOf(redisx.Incident, id), shard.Key(redisx.Due), shard.KeyOf(redisx.Timeline, id)}
	result, status, err := e.runAction(ctx, escalateScript, keys, h)
	switch {
	case err != nil:
		return err
	case result == "done":
		return nil
	case result == "notfound":
		return notFound(id)
	case result == "conflict":
		return alertgate.Errorf(alertgate.ECONFLICT, "incident %s is %s: only a triggered incident escalates", id, status)
	case result == "nopolicy":
		return alertgate.Errorf(alertgate.ECONFLICT, "incident %s has no escalation policy; reassign it to page someone", id)
	case result == "exhausted":
		return alertgate.Errorf(alertgate.ECONFLICT, "incident %s has run every step of its policy; reassign it to page someone", id)
	}
	return internal(fmt.Errorf("escalation: escalate returned %q", result))
}

// Reassign pages target (a user or a rotation's on-call person) about the
// incident now, and records it; the policy goes on as it was.
func (e *Engine) Reassign(ctx context.Context, id string, target Target, a Action) error {
	n, ok := redisx.IncidentShard(id)
	if !ok {
		return notFound(id)
	}
	if target.Kind != User && target.Kind != Rotation {
		return alertgate.Errorf(alertgate.EINVALID, "reassign: name a user or a rotation")
	}
	dir := e.o.Directory()
	if (target.Kind == User && dir.Users[target.ID] == nil) || (target.Kind == Rotation && dir.Rotations[target.ID] == nil) {
		return alertgate.Errorf(alertgate.ENOTFOUND, "reassign: no %s %q in the config", target.Kind, alertgate.Truncate(target.ID, 64))
	}
	now := e.o.Clock.Now()
	var ovs map[string][]schedule.Override
	if e.o.Overrides != nil {
		var err error
		if ovs, err = e.o.Overrides.ByRotation(ctx); err != nil {
			return err
		}
	}
	who, why := dir.resolve([]Target{target}, now, ovs, 0)
	if len(who) == 0 {
		return alertgate.Errorf(alertgate.ECONFLICT, "reassign: nobody to page (%s)", why)
	}
	shard := e.layout.Shard(n)
	// What the page says about the incident; the script checks it still
	// exists and is not resolved.
	f, err := e.rdb.HMGet(ctx, shard.KeyOf(redisx.Incident, id), "title", "service", "severity", "alert_count", "triggered_at", "esc_epoch").Result()
	if err != nil {
		return redisx.Wrap("escalation: reassign", err)
	}
	str := func(i int) string { s, _ := f[i].(string); return s }
	count, _ := strconv.Atoi(str(3))
	epoch, _ := strconv.Atoi(str(5))
	req := a.RequestID
	if req == "" {
		req = redisx.RequestID()
	}
	entries := []any{entryJSON(now, Entry{Type: alertgate.EventReassigned,
		Message: fmt.Sprintf("reassigned to %s by %s", target, a.Actor) + note(a.Message)})}
	var pages [][]byte
	for _, r := range who {
		pg := notify.Page{
			Key:      fmt.Sprintf("%s.reassign.%s.%s", id, req, r.User),
			Incident: id, Title: str(0), Service: str(1), Severity: alertgate.Severity(str(2)),
			AlertCount: count, Since: msTime(str(4)), User: r.User, Notifier: r.Notifier, Address: r.Address,
			Reason: "reassigned by " + a.Actor + ": " + r.Reason, At: now,
			Epoch: epoch, Contact: r.Contact, Next: r.Next,
		}
		entries = append(entries, entryJSON(now, pagedEntry(pg)))
		b, err := json.Marshal(pg)
		if err != nil {
			return internal(err)
		}
		pages = append(pages, b)
	}
	h := e.header(shard, Action{Actor: a.Actor, RequestID: req}).Int("entries", int64(len(entries)))
	args := entries
	for _, b := range pages {
		args = append(args, b)
	}
	keys := []string{shard.KeyOf(redisx.Incident, id), shard.Key(redisx.Outbox), shard.KeyOf(redisx.Timeline, id)}
	result, status, err := e.runAction(ctx, reassignScript, keys, h, args...)
	switch {
	case err != nil:
		return err
	case result == "done":
		return nil
	case result == "notfound":
		return notFound(id)
	case result == "conflict":
		return alertgate.Errorf(alertgate.ECONFLICT, "incident %s is %s and cannot be reassigned", id, status)
	}
	return internal(fmt.Errorf("escalation: reassign returned %q", result))
}

// runAction runs an action script that answers {result, status}; "done"
// wakes the loops, since a step fell due or pages wait.
func (e *Engine) runAction(ctx context.Context, sc *redisx.Script, keys []string, h *redisx.Header, args ...any) (result, status string, err error) {
	reply, err := sc.Run(ctx, e.rdb, keys, h, args...)
	if err != nil {
		return "", "", err
	}
	r := sc.ReadReply(reply, 2)
	result, status = r.Str(0), r.Str(1)
	if err := r.Err(); err != nil {
		return "", "", err
	}
	if result == "done" && e.o.Committed != nil {
		e.o.Committed()
	}
	return result, status, nil
}

func (e *Engine) header(shard redisx.Shard, a Action) *redisx.Header {
	req := a.RequestID
	if req == "" {
		req = redisx.RequestID()
	}
	return redisx.NewHeader(shard, e.o.Clock.Now(), req, a.Actor)
}

func note(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

func notFound(id string) error {
	return alertgate.Errorf(alertgate.ENOTFOUND, "incident %q not found", alertgate.Truncate(id, 64))
}
