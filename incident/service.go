// Package incident is the pipeline between receivers and Redis: it routes
// each alert, groups a delivery by incident, commits each group with one
// atomic dedupe step, and carries out what people do to incidents.
//
// Later stages (escalation, the notification outbox) hook in here, so that
// a page is enqueued in the same atomic step that opens an incident.
package incident

import (
	"context"
	"log/slog"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/routing"
)

// Observer hears what the pipeline did; metrics implement it. Every method
// must be cheap and safe for concurrent use.
type Observer interface {
	// IncidentEvent hears that ingest opened, reopened or auto-resolved an
	// incident ("opened", "reopened", "resolved"), and, besides, that one
	// opened or reopened with no escalation policy (EventNoPolicy).
	IncidentEvent(event string)
	// Duplicates hears that n alerts of a delivery from integration were
	// seen before, unchanged.
	Duplicates(integration string, n int)
}

// EventNoPolicy is the IncidentEvent of an incident that opened or
// reopened with no escalation policy to page anybody.
const EventNoPolicy = "no_policy"

type nopObserver struct{}

func (nopObserver) IncidentEvent(string)   {}
func (nopObserver) Duplicates(string, int) {}

// Escalator runs escalation actions (escalation.Engine).
type Escalator interface {
	Escalate(ctx context.Context, id string, a escalation.Action) error
	Reassign(ctx context.Context, id string, t escalation.Target, a escalation.Action) error
}

// Service accepts alerts and changes incidents.
type Service struct {
	store     *dedupe.Store
	now       func() time.Time
	logger    *slog.Logger
	observer  Observer
	escalator Escalator
	scheduled func()
}

// Options configure a Service. Zero values take defaults.
type Options struct {
	// Now is the clock; time.Now by default. Tests inject their own.
	Now      func() time.Time
	Logger   *slog.Logger
	Observer Observer
	// Escalator carries out escalate and reassign; without one they
	// answer EUNAVAILABLE.
	Escalator Escalator
	// Scheduled, if set, is called once by an Accept that opened or
	// reopened an incident whose first escalation step is due at once
	// (group_wait 0), after the commit: it pokes the escalation loop, so
	// the first page goes out now rather than at the loop's next poll.
	// It must not block.
	Scheduled func()
}

// NewService returns a service over store.
func NewService(store *dedupe.Store, o Options) *Service {
	s := &Service{store: store, now: o.Now, logger: o.Logger, observer: o.Observer, escalator: o.Escalator, scheduled: o.Scheduled}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.observer == nil {
		s.observer = nopObserver{}
	}
	return s
}

// Accepted summarises what one delivery did.
type Accepted struct {
	Alerts     int      `json:"alerts"`
	Incidents  []string `json:"incidents"`
	Duplicates int      `json:"duplicates"`
}

// groupBatch is the alerts of one delivery that go to one group.
type groupBatch struct {
	route  *routing.Route
	key    string
	alerts []alertgate.Alert
}

// Accept commits a delivery from one integration, routed by tree: the
// route tree of the snapshot the request started with. It returns only after
// every alert is committed; on error some groups may have been committed
// already, which is harmless: the sender retries the whole delivery and
// dedupe turns the repeated part into no-ops.
func (s *Service) Accept(ctx context.Context, tree *routing.Tree, integration string, b alertgate.Batch, indexAlerts bool) (Accepted, error) {
	now := s.now()
	groups := make([]*groupBatch, 0, 1)
	byKey := make(map[string]*groupBatch, 1)
	for i := range b.Alerts {
		a := &b.Alerts[i]
		// Each route the alert takes (several with continue) groups it
		// on its own, so it may open an incident on each.
		for _, r := range tree.Routes(a) {
			key := r.GroupKey(a)
			id := r.Name + "\x00" + key
			g := byKey[id]
			if g == nil {
				g = &groupBatch{route: r, key: key}
				byKey[id] = g
				groups = append(groups, g)
			}
			g.alerts = append(g.alerts, *a)
		}
	}

	actor := "integration:" + integration
	// One request id for the delivery: each group's script remembers it,
	// so a repeated script call (a resend after a timeout) is a no-op.
	req := redisx.RequestID()
	acc := Accepted{Alerts: len(b.Alerts), Incidents: []string{}}
	truncated := b.Truncated
	// Once per delivery, after its last commit, and on an error too: the
	// groups committed before it have steps due all the same.
	dueNow := false
	defer func() {
		if dueNow && s.scheduled != nil {
			s.scheduled()
		}
	}()
	for _, g := range groups {
		res, err := s.store.Ingest(ctx, dedupe.Group{
			Route:   g.route.Name,
			Key:     g.key,
			Service: g.route.Service,
			Settings: dedupe.Settings{
				AutoResolve:  g.route.AutoResolve,
				ReopenWindow: g.route.ReopenWindow,
				Policy:       g.route.Policy,
				GroupWait:    g.route.GroupWait,
				// Flap detection counts state changes in the group.
				FlapTransitions: g.route.FlapTransitions,
				FlapWindow:      g.route.FlapWindow,
			},
		}, dedupe.Delivery{Alerts: g.alerts, Truncated: truncated, Actor: actor, RequestID: req, Now: now})
		if err != nil {
			return acc, err
		}
		truncated = 0 // reported once, on the first group
		if res.Duplicates > 0 {
			s.observer.Duplicates(integration, res.Duplicates)
		}
		acc.Duplicates += res.Duplicates
		if res.IncidentID != "" {
			acc.Incidents = append(acc.Incidents, res.IncidentID)
		}
		s.observe(integration, g, res)
		if res.Outcome == dedupe.Resolved {
			s.observeAutoResolve(ctx, res.IncidentID) // measures.go
		}
		if firstStepDueNow(g.route, res.Outcome) {
			dueNow = true
		}
		if indexAlerts && res.IncidentID != "" {
			keys := make([]string, len(g.alerts))
			for i := range g.alerts {
				keys[i] = g.alerts[i].Key()
			}
			if err := s.store.IndexAlerts(ctx, g.route.Name, res.IncidentID, keys); err != nil {
				return acc, err
			}
		}
	}
	for _, fp := range b.Acknowledge {
		if err := s.acknowledgeAlert(ctx, integration, fp, By{Actor: actor, RequestID: req}, now); err != nil {
			return acc, err
		}
	}
	return acc, nil
}

// firstStepDueNow reports whether a commit with outcome started the
// route's policy with step 1 due at once: ingest.lua schedules it at the
// commit's now + group_wait.
func firstStepDueNow(r *routing.Route, o dedupe.Outcome) bool {
	return (o == dedupe.Opened || o == dedupe.Reopened) && r.Policy != "" && r.GroupWait <= 0
}

// observe tells the observer and the log what a group's commit did to its
// incident.
func (s *Service) observe(integration string, g *groupBatch, r dedupe.Result) {
	switch r.Outcome {
	case dedupe.Opened, dedupe.Reopened, dedupe.Resolved:
		s.observer.IncidentEvent(string(r.Outcome))
		if r.Outcome != dedupe.Resolved && g.route.Policy == "" {
			// Recorded on its timeline too: nobody is paged.
			s.observer.IncidentEvent(EventNoPolicy)
		}
		s.logger.Info("incident "+string(r.Outcome),
			"incident_id", r.IncidentID, "route", g.route.Name, "integration", integration, "alerts", len(g.alerts))
	}
}

// acknowledgeAlert acknowledges the incidents holding one alert: one per
// route it took (continue). An alert that no incident holds, or whose
// incident is resolved, is ignored, as PagerDuty ignores an acknowledge
// for an alert that is not open.
func (s *Service) acknowledgeAlert(ctx context.Context, integration, fingerprint string, by By, now time.Time) error {
	a := alertgate.Alert{Source: integration, Fingerprint: fingerprint}
	ids, err := s.store.IncidentsForAlert(ctx, a.Key())
	if err != nil {
		return err
	}
	for _, id := range ids {
		_, err = s.store.Transition(ctx, id, dedupe.Change{Action: dedupe.Acknowledge, Actor: by.Actor, RequestID: by.RequestID, Now: now})
		if alertgate.ErrorCode(err) == alertgate.ECONFLICT || alertgate.ErrorCode(err) == alertgate.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// By says who makes a change and names the request: a repeat of the same
// request (an API client's retry with the same Idempotency-Key, or a
// command resent after a timeout) changes nothing.
type By struct {
	Actor string
	// RequestID names the request; "" gets a fresh one.
	RequestID string
}

// Acknowledge marks an incident acknowledged. Repeating it is a no-op; a
// resolved incident cannot be acknowledged (ECONFLICT).
func (s *Service) Acknowledge(ctx context.Context, id string, by By) (*alertgate.Incident, error) {
	return s.transition(ctx, id, dedupe.Acknowledge, by, "")
}

// Resolve marks an incident resolved. Repeating it is a no-op.
func (s *Service) Resolve(ctx context.Context, id string, by By) (*alertgate.Incident, error) {
	return s.transition(ctx, id, dedupe.Resolve, by, "")
}

// AddNote appends a note to the incident's timeline. A repeat of the same
// request adds it once.
func (s *Service) AddNote(ctx context.Context, id string, by By, text string) (*alertgate.Incident, error) {
	return s.transition(ctx, id, dedupe.Note, by, text)
}

// Act acknowledges or resolves an incident on a condition: what a signed
// link or an SMS reply does (the link's epoch, its one-time nonce). msg
// goes on the timeline entry ("acknowledged by alice via link").
func (s *Service) Act(ctx context.Context, id string, action dedupe.Action, by By, msg string, only dedupe.Condition) (*alertgate.Incident, error) {
	return s.change(ctx, id, action, by, msg, &only)
}

func (s *Service) transition(ctx context.Context, id string, action dedupe.Action, by By, msg string) (*alertgate.Incident, error) {
	return s.change(ctx, id, action, by, msg, nil)
}

func (s *Service) change(ctx context.Context, id string, action dedupe.Action, by By, msg string, only *dedupe.Condition) (*alertgate.Incident, error) {
	changed, err := s.store.Transition(ctx, id, dedupe.Change{
		Action: action, Actor: by.Actor, Message: msg, RequestID: by.RequestID, Now: s.now(), Only: only,
	})
	if err != nil {
		return nil, err
	}
	if changed && action != dedupe.Note {
		s.logger.Info("incident "+string(action)+"d", "incident_id", id, "actor", by.Actor)
	}
	inc, err := s.store.Get(ctx, id)
	if err == nil && changed {
		s.observeMeasures(inc, action) // measures.go
	}
	return inc, err
}

// Escalate runs the incident's next escalation step now; note, optional,
// goes on the timeline.
func (s *Service) Escalate(ctx context.Context, id string, by By, note string) (*alertgate.Incident, error) {
	if s.escalator == nil {
		return nil, alertgate.Errorf(alertgate.EUNAVAILABLE, "escalation is not running")
	}
	if err := s.escalator.Escalate(ctx, id, escalation.Action{Actor: by.Actor, RequestID: by.RequestID, Message: note}); err != nil {
		return nil, err
	}
	s.logger.Info("incident escalated", "incident_id", id, "actor", by.Actor)
	return s.store.Get(ctx, id)
}

// Reassign pages a user or a rotation's on-call person about the incident
// now; the policy goes on.
func (s *Service) Reassign(ctx context.Context, id string, t escalation.Target, by By, note string) (*alertgate.Incident, error) {
	if s.escalator == nil {
		return nil, alertgate.Errorf(alertgate.EUNAVAILABLE, "escalation is not running")
	}
	if err := s.escalator.Reassign(ctx, id, t, escalation.Action{Actor: by.Actor, RequestID: by.RequestID, Message: note}); err != nil {
		return nil, err
	}
	s.logger.Info("incident reassigned", "incident_id", id, "actor", by.Actor, "to", t.String())
	return s.store.Get(ctx, id)
}

// Get returns one incident with alerts and timeline.
func (s *Service) Get(ctx context.Context, id string) (*alertgate.Incident, error) {
	return s.store.Get(ctx, id)
}

// List returns a page of incidents, newest first.
func (s *Service) List(ctx context.Context, f alertgate.IncidentFilter) (alertgate.IncidentPage, error) {
	return s.store.List(ctx, f)
}
