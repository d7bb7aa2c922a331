package receivers

import (
	"context"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// A heartbeat integration (type heartbeat, docs/heartbeats.md) is the
// opposite of the other types: a delivery is a ping that carries no alert,
// whatever its body, and the alert comes from alertgate itself when pings
// stop. The HTTP layer records pings (package heartbeat) without parsing;
// the checker raises and clears the alert HeartbeatAlert builds.

// HeartbeatAlertName is the alertname label of a missed heartbeat's alert.
const HeartbeatAlertName = "HeartbeatMissed"

type heartbeatReceiver struct{ common }

// Parse returns no alerts: any body is a ping, and a ping is no alert.
func (r *heartbeatReceiver) Parse(context.Context, Request) (alertgate.Batch, error) {
	return alertgate.Batch{}, nil
}

// HeartbeatAlert is the alert of heartbeat integration in that was
// missed at missedAt (its last ping + interval + grace): firing while
// pings are missing, resolved by the next one. Its fingerprint depends on
// the integration only, and every field on the integration and missedAt,
// so building it again for the same miss gives the same alert, which
// ingest takes as a repeat (one incident however many replicas send it).
// Like every receiver's alerts it carries the integration's service and
// labels; its own labels alertname and heartbeat take precedence.
func HeartbeatAlert(in config.Integration, status alertgate.AlertStatus, missedAt time.Time) (alertgate.Alert, error) {
	timeout := in.HeartbeatTimeout()
	a := alertgate.Alert{
		Fingerprint: "heartbeat:" + in.Name,
		Status:      status,
		Labels:      map[string]string{"alertname": HeartbeatAlertName, "heartbeat": in.Name},
		Summary:     "No heartbeat from " + in.Name + " for " + timeout.String(),
		Severity:    in.HeartbeatSeverity(),
		StartsAt:    missedAt.UTC(),
		Details: map[string]string{
			"interval":  in.Interval.String(),
			"grace":     in.Grace.String(),
			"last_ping": missedAt.Add(-timeout).UTC().Format(time.RFC3339Nano),
		},
	}
	b := alertgate.Batch{Alerts: []alertgate.Alert{a}}
	c := common{in: in}
	if err := c.finish(&b, func(int) string { return "heartbeat" }); err != nil {
		return alertgate.Alert{}, err
	}
	return b.Alerts[0], nil
}
