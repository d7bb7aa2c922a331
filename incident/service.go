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
	"sync/atomic"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/routing"
)

// Observer hears what the pipeline did; metrics implement it. Every method
// must be cheap and safe for concurrent use.
type Observer interface {
	Ingested(integration string, r dedupe.Result)
}

type nopObserver struct{}

func (nopObserver) Ingested(string, dedupe.Result) {}

// Service accepts alerts and changes incidents.
type Service struct {
	store    *dedupe.Store
	routes   atomic.Pointer[routing.Tree]
	now      func() time.Time
	logger   *slog.Logger
	observer Observer
}

// Options configure a Service. Zero values take defaults.
type Options struct {
	// Now is the clock; time.Now by default. Tests inject their own.
	Now      func() time.Time
	Logger   *slog.Logger
	Observer Observer
}

// NewService returns a service over store, routing by routes.
func NewService(store *dedupe.Store, routes *routing.Tree, o Options) *Service {
	s := &Service{store: store, now: o.Now, logger: o.Logger, observer: o.Observer}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.observer == nil {
		s.observer = nopObserver{}
	}
	s.routes.Store(routes)
	return s
}

// SetRoutes swaps the routing tree (config reload). Deliveries already
// routing keep the tree they started with.
func (s *Service) SetRoutes(t *routing.Tree) { s.routes.Store(t) }

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

// Accept commits a delivery from one integration. It returns only after
// every alert is committed; on error some groups may have been committed
// already, which is harmless: the sender retries the whole delivery and
// dedupe turns the repeated part into no-ops.
func (s *Service) Accept(ctx context.Context, integration string, b alertgate.Batch, indexAlerts bool) (Accepted, error) {
	now := s.now()
	tree := s.routes.Load()
	groups := make([]*groupBatch, 0, 1)
	byKey := make(map[string]*groupBatch, 1)
	for i := range b.Alerts {
		a := &b.Alerts[i]
		r := tree.Match(a)
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

	actor := "integration:" + integration
	acc := Accepted{Alerts: len(b.Alerts), Incidents: []string{}}
	truncated := b.Truncated
	for _, g := range groups {
		res, err := s.store.Ingest(ctx, dedupe.Group{
			Route:   g.route.Name,
			Key:     g.key,
			Service: g.route.Service,
			Settings: dedupe.Settings{
				AutoResolve:  g.route.AutoResolve,
				ReopenWindow: g.route.ReopenWindow,
			},
		}, g.alerts, truncated, actor, now)
		if err != nil {
			return acc, err
		}
		truncated = 0 // reported once, on the first group
		s.observer.Ingested(integration, res)
		acc.Duplicates += res.Duplicates
		if res.IncidentID != "" {
			acc.Incidents = append(acc.Incidents, res.IncidentID)
		}
		s.logOutcome(integration, g, res)
		if indexAlerts && res.IncidentID != "" {
			keys := make([]string, len(g.alerts))
			for i := range g.alerts {
				keys[i] = g.alerts[i].Key()
			}
			if err := s.store.IndexAlerts(ctx, res.IncidentID, keys); err != nil {
				return acc, err
			}
		}
	}
	for _, fp := range b.Acknowledge {
		if err := s.acknowledgeAlert(ctx, integration, fp, actor, now); err != nil {
			return acc, err
		}
	}
	return acc, nil
}

func (s *Service) logOutcome(integration string, g *groupBatch, r dedupe.Result) {
	switch r.Outcome {
	case dedupe.Opened, dedupe.Reopened, dedupe.Resolved:
		s.logger.Info("incident "+string(r.Outcome),
			"incident_id", r.IncidentID, "route", g.route.Name, "integration", integration, "alerts", len(g.alerts))
	}
}

// acknowledgeAlert acknowledges the incident holding one alert. An alert
// that no incident holds, or whose incident is resolved, is ignored, as
// PagerDuty ignores an acknowledge for an alert that is not open.
func (s *Service) acknowledgeAlert(ctx context.Context, integration, fingerprint, actor string, now time.Time) error {
	a := alertgate.Alert{Source: integration, Fingerprint: fingerprint}
	id, err := s.store.IncidentForAlert(ctx, a.Key())
	if err != nil || id == "" {
		return err
	}
	_, err = s.store.Transition(ctx, id, dedupe.Acknowledge, actor, "", now)
	if alertgate.ErrorCode(err) == alertgate.ECONFLICT || alertgate.ErrorCode(err) == alertgate.ENOTFOUND {
		return nil
	}
	return err
}

// Acknowledge marks an incident acknowledged. Repeating it is a no-op; a
// resolved incident cannot be acknowledged (ECONFLICT).
func (s *Service) Acknowledge(ctx context.Context, id, actor string) (*alertgate.Incident, error) {
	return s.transition(ctx, id, dedupe.Acknowledge, actor, "")
}

// Resolve marks an incident resolved. Repeating it is a no-op.
func (s *Service) Resolve(ctx context.Context, id, actor string) (*alertgate.Incident, error) {
	return s.transition(ctx, id, dedupe.Resolve, actor, "")
}

// AddNote appends a note to the incident's timeline.
func (s *Service) AddNote(ctx context.Context, id, actor, text string) (*alertgate.Incident, error) {
	return s.transition(ctx, id, dedupe.Note, actor, text)
}

func (s *Service) transition(ctx context.Context, id string, action dedupe.Action, actor, msg string) (*alertgate.Incident, error) {
	changed, err := s.store.Transition(ctx, id, action, actor, msg, s.now())
	if err != nil {
		return nil, err
	}
	if changed && action != dedupe.Note {
		s.logger.Info("incident "+string(action)+"d", "incident_id", id, "actor", actor)
	}
	return s.store.Get(ctx, id)
}

// Get returns one incident with alerts and timeline.
func (s *Service) Get(ctx context.Context, id string) (*alertgate.Incident, error) {
	return s.store.Get(ctx, id)
}

// List returns a page of incidents, newest first.
func (s *Service) List(ctx context.Context, f dedupe.Filter) (dedupe.Page, error) {
	return s.store.List(ctx, f)
}
