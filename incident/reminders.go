package incident

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/notify"
)

// Reminders finds overdue postmortems and follow-ups and queues one
// reminder per overdue item per day (UTC) to the incident's status
// notifiers. Every replica may run it: remind.lua marks each reminder, so
// it is queued once however many run.
type Reminders struct {
	store *dedupe.Store
	o     ReminderOptions
}

// ReminderOptions configure Reminders.
type ReminderOptions struct {
	// Config returns the serving config (status_updates, postmortems).
	Config func() *config.Config
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Lookback bounds the incidents looked at: those triggered within it
	// (DefaultReminderLookback if zero).
	Lookback time.Duration
	Logger   *slog.Logger
}

// DefaultReminderLookback: work older than half a year is not chased.
const DefaultReminderLookback = 183 * 24 * time.Hour

// reminderMarkTTL keeps a day's mark past the day, whatever the clocks.
const reminderMarkTTL = 48 * time.Hour

// NewReminders returns the reminder pass over store.
func NewReminders(store *dedupe.Store, o ReminderOptions) *Reminders {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lookback <= 0 {
		o.Lookback = DefaultReminderLookback
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Reminders{store: store, o: o}
}

// Pass queues the reminders due now; it returns how many it queued.
func (r *Reminders) Pass(ctx context.Context) (int, error) {
	cfg := r.o.Config()
	now := r.o.Now().UTC()
	states, err := r.store.WorkStates(ctx, now.Add(-r.o.Lookback))
	if err != nil {
		return 0, err
	}
	day := now.Format("2006-01-02")
	queued := 0
	var errs []error
	for i := range states {
		ws := &states[i]
		notifiers := cfg.StatusUpdates.For(ws.Service)
		if len(notifiers) == 0 {
			continue
		}
		if due, ok := postmortemOverdue(ws, &cfg.Postmortems, now); ok {
			n, err := r.send(ctx, ws, "pm."+day, "postmortem due "+mdTime(due), notifiers, now)
			queued += n
			errs = append(errs, err)
		}
		for _, fu := range ws.FollowUps {
			if fu.Done || fu.Due.IsZero() || !now.After(fu.Due) {
				continue
			}
			what := "follow-up " + fu.ID + " “" + fu.Title + "” due " + mdTime(fu.Due)
			if fu.Owner != "" {
				what += ", owner " + fu.Owner
			}
			n, err := r.send(ctx, ws, "fu."+fu.ID+"."+day, what, notifiers, now)
			queued += n
			errs = append(errs, err)
		}
	}
	return queued, errors.Join(errs...)
}

// Work is Pass for a lifecycle.Loop.
func (r *Reminders) Work(ctx context.Context) error {
	_, err := r.Pass(ctx)
	return err
}

// send queues the reminder of one item ("pm.<day>", "fu.<id>.<day>") of
// an incident, unless it was queued already.
func (r *Reminders) send(ctx context.Context, ws *dedupe.WorkState, item, what string, notifiers []string, now time.Time) (int, error) {
	inc := &alertgate.Incident{ID: ws.ID, Title: ws.Title, Service: ws.Service, Severity: ws.Severity, TriggeredAt: ws.TriggeredAt}
	pages := make([][]byte, 0, len(notifiers))
	for _, n := range notifiers {
		p := workPage(inc, notify.KindReminder, n, now)
		p.Key = ws.ID + ".remind." + item + "." + n
		p.Reason = what
		b, err := json.Marshal(p)
		if err != nil {
			return 0, internalError(err)
		}
		pages = append(pages, b)
	}
	ok, err := r.store.Remind(ctx, ws.ID, ws.ID+"."+item, reminderMarkTTL, now, pages)
	if err != nil || !ok {
		return 0, err
	}
	r.o.Logger.Info("reminder queued", "incident_id", ws.ID, "item", item, "notifiers", len(notifiers))
	return 1, nil
}

// postmortemOverdue reports when a resolved incident's postmortem was due,
// if it is overdue: the due time set on it, or the rule's after the resolve.
func postmortemOverdue(ws *dedupe.WorkState, rules *config.Postmortems, now time.Time) (time.Time, bool) {
	if ws.Status != alertgate.IncidentResolved {
		return time.Time{}, false
	}
	inc := &alertgate.Incident{Severity: ws.Severity, Service: ws.Service, ResolvedAt: ws.ResolvedAt}
	if ws.Postmortem != nil {
		inc.Postmortem = &alertgate.PostmortemState{PostmortemEntry: *ws.Postmortem}
	}
	ApplyPostmortemRule(inc, rules, now)
	if inc.Postmortem == nil || !inc.Postmortem.Overdue {
		return time.Time{}, false
	}
	return inc.Postmortem.Due, true
}
