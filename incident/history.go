package incident

import (
	"context"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/reports"
)

// History returns the incidents triggered in [from, to] for reports: each
// with the timeline entries reports read (reports.EventTypes) and its
// alerts' start times; more than limit is an EINVALID error
// (dedupe.Store.History).
func (s *Service) History(ctx context.Context, from, to time.Time, limit int) ([]alertgate.Incident, error) {
	return s.store.History(ctx, from, to, limit, reports.EventTypes)
}
