// Package notify will deliver pages: one Notifier per channel (Slack,
// Teams, email, SMS, webhooks), each target behind its own circuit breaker,
// fed by a durable outbox in Redis that the dedupe step writes to in the
// same atomic step that opens an incident.
//
// This package holds only the contract for now; the ingest spine does not
// page anybody yet.
package notify

import (
	"context"

	"github.com/alertgate/alertgate"
)

// Notification is one page about one incident to one target.
type Notification struct {
	Incident alertgate.Incident
	// Target names the destination (a person's channel or a webhook).
	Target string
}

// Notifier delivers one notification. retry reports whether a failure is
// worth retrying (timeouts, 5xx, 429); permanent failures (4xx) are not.
type Notifier interface {
	Notify(ctx context.Context, n Notification) (retry bool, err error)
}
