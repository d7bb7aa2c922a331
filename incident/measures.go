package incident

import (
	"context"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/reports"
)

// MeasureObserver, when the Service's Observer implements it
// (metrics.Metrics does), hears each incident's time to acknowledge and to
// resolve as they happen, measured by the reports' rules
// (docs/measures.md): the Prometheus histograms.
type MeasureObserver interface {
	TimeToAcknowledge(d time.Duration)
	TimeToResolve(d time.Duration)
}

// observeMeasures tells the observer about an acknowledge or resolve that
// just changed inc (read back after the change, timeline included).
//
// An acknowledge is observed when it is the one the report counts: the
// incident's first by a person (a repeat after a reopen is not, nor is a
// declared incident's). People act through the Service; a sender's
// acknowledge (acknowledgeAlert) is never observed, whatever
// reports.count_sender_acks says. Every resolve is observed, from
// triggered_at, so a reopened incident is observed at each resolve.
func (s *Service) observeMeasures(inc *alertgate.Incident, action dedupe.Action) {
	mo, ok := s.observer.(MeasureObserver)
	if !ok {
		return
	}
	t := reports.TimesOf(inc, false)
	switch action {
	case dedupe.Acknowledge:
		if t.Acknowledged && t.AcknowledgedAt.Equal(lastOf(inc, alertgate.EventAcknowledged)) {
			mo.TimeToAcknowledge(t.TimeToAcknowledge)
		}
	case dedupe.Resolve:
		if t.Resolved {
			mo.TimeToResolve(t.TimeToResolve)
		}
	}
}

// observeAutoResolve observes the resolve an ingest committed. Ingest does
// not return the incident, so this reads it back; a failed read loses one
// observation, never the sender's request.
func (s *Service) observeAutoResolve(ctx context.Context, id string) {
	if _, ok := s.observer.(MeasureObserver); !ok || id == "" {
		return
	}
	inc, err := s.store.Get(ctx, id)
	if err != nil {
		s.logger.Warn("time to resolve not observed", "incident_id", id, "err", err.Error())
		return
	}
	s.observeMeasures(inc, dedupe.Resolve)
}

// lastOf is the time of the incident's last entry of type typ.
func lastOf(inc *alertgate.Incident, typ string) time.Time {
	for i := len(inc.Timeline) - 1; i >= 0; i-- {
		if inc.Timeline[i].Type == typ {
			return inc.Timeline[i].At
		}
	}
	return time.Time{}
}
