// Package heartbeat watches heartbeat integrations (docs/heartbeats.md):
// a sender pings POST /hooks/{name} at least every interval; a ping
// missing for interval + grace opens an incident through the ordinary
// pipeline (incident.Service.Accept, with the alert
// receivers.HeartbeatAlert builds), and the next ping resolves it.
//
// # Redis layout
//
// Every heartbeat key is under one hash tag of its own:
//
//	HB = <prefix>:v1:{hb}:             (KeyBase)
//
//	HB due          zset  heartbeat name by when a checker must look at it (ms)
//	HB beat:<name>  hash  last_ping, deadline (ms), open (the missed deadline
//	                      whose alert may be open), fired (the same, once its
//	                      alert committed), claim, claim_until
//
// One tag for all heartbeats, not one each: a deployment has a handful of
// heartbeats, each pinged at most about once a second, so one slot carries
// them easily, and one due set lets a checker claim every overdue
// heartbeat in one script, as the escalation engine does per shard. Names
// are integration names (config.isName: [a-z0-9_-]), safe in a key.
//
// # Exactly once, with many replicas
//
// Every replica runs a Checker; they share the work by claim and lease,
// the escalation engine's pattern (docs/architecture.md):
//
//   - ping.lua records a ping: deadline := now + interval + grace, and the
//     heartbeat's score in due becomes the deadline. It never calls the
//     pipeline, so a ping is one cheap script and a repeat is harmless.
//   - claim.lua takes the heartbeats whose score passed, with a lease: the
//     score becomes now + lease and the hash gets a fresh token. A missed
//     heartbeat gets open := its deadline before anything is sent, so a
//     ping that comes while the alert is in flight knows to resolve it.
//   - The checker sends the firing (or resolved) alert through
//     incident.Service.Accept, then commit.lua records it, fenced by the
//     token: a claim that ran out and was taken again has a new token, so
//     a late commit is refused.
//   - A checker that dies between claim and commit leaves the heartbeat in
//     due with the lease's end as its score; any checker claims it again
//     then and sends the same alert (same fingerprint, same fields). If the
//     first had sent it, ingest takes the second as a repeat: one alert,
//     one incident. The fence keeps the state right; dedupe makes the
//     double send harmless.
//   - Fires and resolves of one heartbeat are all made by the holder of
//     its claim, so they cannot overtake each other: a ping never claims
//     and never moves a live claim's score earlier. A ping answered while
//     an alert is open settles the resolve itself when it can take the
//     claim (Checker.Ping); otherwise the holder or the next pass does.
//
// A heartbeat that never pinged has no state and is not watched: it is
// armed by its first ping (a new integration does not page before the
// sender is pointed at it). Times are the replicas' clocks (injectable),
// as for escalation.
package heartbeat

import (
	"time"

	"github.com/alertgate/alertgate/internal/redisx"
)

// KeyBase is the start of every heartbeat key under prefix
// (redis.key_prefix), hash tag included: "<prefix>:v1:{hb}:".
func KeyBase(prefix string) string { return prefix + ":" + redisx.Version + ":{hb}:" }

// keys are the keys of one deployment's heartbeats.
type keys struct {
	due  string // zset: name by when it is due
	beat string // a heartbeat's hash, less the name
}

func newKeys(prefix string) keys {
	base := KeyBase(prefix)
	return keys{due: base + "due", beat: base + "beat:"}
}

func (k keys) of(name string) string { return k.beat + name }

// Ping statuses: what a ping's answer says about the heartbeat.
const (
	// StatusOK: the heartbeat is healthy; the ping moved its deadline.
	StatusOK = "ok"
	// StatusResolved: the ping came after a miss and resolved its alert.
	StatusResolved = "resolved"
	// StatusRecovering: the ping came after a miss and is recorded; the
	// resolve is under way on another replica, or will be made by the
	// next check (Redis failed while this one tried).
	StatusRecovering = "recovering"
)

// PingResult is what one ping did.
type PingResult struct {
	Status string
	// NextDeadline is when the next ping is due at the latest: a miss
	// after it opens an incident.
	NextDeadline time.Time
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
