package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/notify"
)

// Delivery is what the delivery endpoints read: this replica's deliverer.
type Delivery interface {
	Outbox(ctx context.Context, limit int) (notify.OutboxReport, error)
	Targets() []notify.TargetStatus
}

// Bounds of GET /api/v1/outbox?limit=.
const (
	defaultOutboxLimit = 50
	maxOutboxLimit     = 500
)

// handleOutbox serves GET /api/v1/outbox?limit=N: what waits for
// delivery, and why; the latest dead letters.
func handleOutbox(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Delivery == nil {
			writeError(w, alertgate.Errorf(alertgate.EUNAVAILABLE, "delivery is not running"), 0)
			return
		}
		limit := defaultOutboxLimit
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxOutboxLimit {
				writeError(w, alertgate.Errorf(alertgate.EINVALID, "limit: want a number from 1 to %d, got %q", maxOutboxLimit, alertgate.Truncate(v, 32)), 0)
				return
			}
			limit = n
		}
		report, err := d.Delivery.Outbox(r.Context(), limit)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		encode(w, http.StatusOK, report)
	})
}

// notifierStatus is one notifier as GET /api/v1/notifiers shows it.
type notifierStatus struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Target string `json:"target"`
	// Breaker is the target's breaker on the replica that answered: each
	// replica keeps its own.
	Breaker notify.TargetStatus `json:"breaker"`
	// RateLimit is the target's limit, in messages per second and burst
	// (0: none); DigestAfter the digest threshold (0: none).
	RateLimit   rateLimit `json:"rate_limit"`
	DigestAfter int       `json:"digest_after"`
}

type rateLimit struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
}

// handleNotifiers serves GET /api/v1/notifiers: every notifier of the
// config (the console included), its target, its breaker's state on this
// replica and its limits.
func handleNotifiers(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := requestSnapshot(r)
		var targets []notify.TargetStatus
		if d.Delivery != nil {
			targets = d.Delivery.Targets()
		}
		breaker := func(target string) notify.TargetStatus {
			if i := slices.IndexFunc(targets, func(t notify.TargetStatus) bool { return t.Target == target }); i >= 0 {
				return targets[i]
			}
			return notify.TargetStatus{Target: target, State: "closed"} // not delivered to yet
		}
		out := []notifierStatus{{ID: config.NotifierConsole, Type: config.NotifierConsole,
			Target: "notifier:" + config.NotifierConsole, Breaker: breaker("notifier:" + config.NotifierConsole)}}
		for i := range snap.Config.Notifiers {
			c := &snap.Config.Notifiers[i]
			target := "notifier:" + c.ID
			if t, ok := snap.Notifiers[c.ID].(notify.Targeted); ok {
				target = t.Target()
			}
			l := c.Limits()
			out = append(out, notifierStatus{ID: c.ID, Type: c.Type, Target: target, Breaker: breaker(target),
				RateLimit: rateLimit{PerSecond: l.PerSecond, Burst: l.Burst}, DigestAfter: l.DigestAfter})
		}
		encode(w, http.StatusOK, map[string]any{"notifiers": out})
	})
}
