package notify

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
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
)

// The outcomes record.lua keeps in an incident's pages hash.
const (
	resultDelivered = "delivered"
	resultFailed    = "failed"
)

// maxErrorLen bounds the error a page_failed entry keeps: a notifier may
// quote a whole response body.
const maxErrorLen = 1024

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

// deliver hands one page to its notifier and records the outcome, or,
// after a retryable failure short of MaxAttempts, leaves the entry pending
// for a later re-claim. Its error is a failure to record.
func (d *Deliverer) deliver(ctx context.Context, e *entry) error {
	p := &e.page
	log := d.log.With("shard", e.shard, "entry", e.id, "page_key", p.Key, "incident_id", p.Incident,
		"notifier", p.Notifier, "attempt", e.attempt)
	var retry bool
	var err error
	if n, ok := d.o.Notifiers(p.Notifier); ok {
		retry, err = d.notify(ctx, n, *p, log)
	} else {
		err = fmt.Errorf("unknown notifier %q", alertgate.Truncate(p.Notifier, 64))
	}
	if err != nil && retry && e.attempt < d.o.MaxAttempts {
		log.Warn("page delivery failed; will retry", "err", err.Error(),
			"max_attempts", d.o.MaxAttempts, "retry_after", d.o.ClaimAfter)
		return nil
	}
	result := resultDelivered
	if err != nil {
		result = resultFailed
	}
	now := d.o.Clock.Now()
	answer, rerr := d.record(ctx, e, now, result, err)
	if rerr != nil {
		return fmt.Errorf("notify: record page %s as %s: %w", p.Key, result, rerr)
	}
	lag := max(now.Sub(p.At), 0)
	if p.At.IsZero() {
		lag = 0
	}
	switch {
	case answer == answerRecorded && err == nil:
		log.Info("page delivered", "lag", lag)
		d.o.Observer.PageDelivered(p.Notifier, lag)
	case answer == answerRecorded:
		log.Error("page failed", "err", err.Error(), "retryable", retry, "max_attempts", d.o.MaxAttempts)
		d.o.Observer.PageFailed(p.Notifier, lag)
	case answer == answerDuplicate && err == nil:
		log.Warn("page delivered again after its outcome was recorded (a replica stalled or died); the timeline keeps the first")
		d.o.Observer.PageDuplicate(p.Notifier)
	case answer == answerDuplicate:
		log.Info("page failed after its outcome was recorded; the timeline keeps the first", "err", err.Error())
	case answer == answerGone:
		log.Warn("page for an incident that no longer exists; dropped")
	}
	return nil
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
		if err := d.o.Prepare(ctx, &p); err != nil {
			return true, fmt.Errorf("prepare page: %w", err)
		}
	}
	return n.Notify(ctx, p)
}

// What record.lua answers.
const (
	answerRecorded  = "recorded"
	answerDuplicate = "duplicate"
	answerGone      = "gone"
	answerDropped   = "dropped"
)

// record runs record.lua for a page: acknowledge and delete its entry, and
// keep the outcome unless one is kept already.
func (d *Deliverer) record(ctx context.Context, e *entry, now time.Time, result string, cause error) (string, error) {
	p := &e.page
	pe := alertgate.PageEntry{
		Key: p.Key, User: p.User, Notifier: p.Notifier, Step: p.Step, Repeat: p.Repeat, Attempts: e.attempt,
	}
	if cause != nil {
		pe.Error = alertgate.Truncate(cause.Error(), maxErrorLen)
	}
	body, err := json.Marshal(pe)
	if err != nil {
		return "", fmt.Errorf("notify: encode page entry: %w", err)
	}
	shard := d.layout.Shard(e.shard)
	keys := []string{
		d.streams[e.shard],
		shard.KeyOf(redisx.Incident, p.Incident),
		shard.KeyOf(redisx.Timeline, p.Incident),
		shard.KeyOf(redisx.Pages, p.Incident),
	}
	h := redisx.NewHeader(shard, now, e.id, "notifier:"+p.Notifier).
		Str("group", Group).Str("entry", e.id).Str("key", p.Key).Str("result", result)
	// On a context of its own: an outcome is recorded even when the pass's
	// context has ended.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	return d.runRecord(ctx, keys, h, body)
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
	case answerRecorded, answerDuplicate, answerGone, answerDropped:
		return answer, nil
	}
	return "", &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
		Err: fmt.Errorf("%s answered %q", recordScript.Name(), answer)}
}
