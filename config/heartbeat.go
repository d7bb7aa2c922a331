package config

import (
	"time"

	"github.com/alertgate/alertgate"
)

// Bounds of a heartbeat (docs/heartbeats.md). A checker looks for missed
// heartbeats about once a second, so a shorter interval could not be
// watched; the upper bound keeps "last ping + interval + grace" far from
// overflowing and catches a unit typed wrong ("1000h" for "1000s").
const (
	MinHeartbeatInterval = time.Second
	MaxHeartbeatTimeout  = 366 * 24 * time.Hour
)

// DefaultHeartbeatSeverity is the severity of a missed heartbeat's alert
// when the integration names none.
const DefaultHeartbeatSeverity = alertgate.SeverityCritical

// validateHeartbeat checks the heartbeat fields: required and bounded for
// type heartbeat, refused on every other type (they would do nothing).
func (in *Integration) validateHeartbeat(ps *problems, p string) {
	if in.Type != TypeHeartbeat {
		for _, f := range []struct {
			name string
			set  bool
		}{{"interval", in.Interval != 0}, {"grace", in.Grace != 0}, {"severity", in.Severity != ""}} {
			if f.set {
				ps.add(p+"."+f.name, "only for type heartbeat")
			}
		}
		return
	}
	switch {
	case in.Interval == 0:
		ps.add(p+".interval", "required for type heartbeat: how often the sender pings (at least %v)", MinHeartbeatInterval)
	case in.Interval < MinHeartbeatInterval:
		ps.add(p+".interval", "must be at least %v", MinHeartbeatInterval)
	case in.Interval > MaxHeartbeatTimeout:
		ps.add(p+".interval", "must be at most %v", MaxHeartbeatTimeout)
	}
	switch {
	case in.Grace < 0:
		ps.add(p+".grace", "must not be negative (0: a ping missing once the interval is over opens an incident)")
	case in.Grace > MaxHeartbeatTimeout:
		ps.add(p+".grace", "must be at most %v", MaxHeartbeatTimeout)
	case in.Interval > 0 && in.Interval <= MaxHeartbeatTimeout && in.Interval+in.Grace > MaxHeartbeatTimeout:
		ps.add(p+".grace", "interval + grace must be at most %v", MaxHeartbeatTimeout)
	}
	if in.Severity != "" && alertgate.Severity(in.Severity).Rank() == 0 {
		ps.add(p+".severity", "%q is not one of critical, error, warning, info", alertgate.Truncate(in.Severity, 32))
	}
}

// HeartbeatTimeout is how long after a ping a heartbeat is missed:
// interval + grace.
func (in *Integration) HeartbeatTimeout() time.Duration { return in.Interval + in.Grace }

// HeartbeatSeverity is the severity of a missed heartbeat's alert.
func (in *Integration) HeartbeatSeverity() alertgate.Severity {
	if in.Severity == "" {
		return DefaultHeartbeatSeverity
	}
	return alertgate.Severity(in.Severity)
}
