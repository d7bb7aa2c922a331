// Package escalation walks incidents through their escalation policies:
// who is paged at each step, and the engine that runs each step exactly
// once however many replicas run it and whichever of them crash or pause.
//
// # Exactly once
//
// A step waits in its shard's due set (scored by when it falls due); the
// ingest script that opens or reopens an incident puts it there, in the
// same atomic step. A replica claims due steps with one script that bumps
// their score to now + lease and writes a fresh claim token into the
// incident's hash. It then works out, in Go, who the step pages (rotations
// are pure functions of the config, the overrides and the time) and
// commits with one script that checks the claim token, the escalation
// epoch and the position are still what it claimed (a fencing check),
// appends one page per person to the shard's outbox stream, writes the
// timeline and schedules the next step. A replica that dies after claiming
// leaves the step in the due set; when the lease runs out, another claims
// it with a new token, and should the first wake up, its commit is refused.
// Acknowledge and resolve take the incident out of the due set and delete
// the claim, so a step in flight commits nothing.
package escalation

import (
	"fmt"
	"time"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/schedule"
)

// TargetKind is what a step target names.
type TargetKind string

const (
	User     TargetKind = "user"
	Team     TargetKind = "team"
	Rotation TargetKind = "rotation"
	Notifier TargetKind = "notifier"
)

// Target is one target of a step.
type Target struct {
	Kind TargetKind
	ID   string
}

func (t Target) String() string { return string(t.Kind) + " " + t.ID }

// TargetOf converts a config target.
func TargetOf(t config.Target) Target {
	switch {
	case t.User != "":
		return Target{User, t.User}
	case t.Team != "":
		return Target{Team, t.Team}
	case t.Rotation != "":
		return Target{Rotation, t.Rotation}
	default:
		return Target{Notifier, t.Notifier}
	}
}

// Step is one compiled step.
type Step struct {
	Targets    []Target
	RoundRobin bool
	Delay      time.Duration
}

// Policy is one compiled escalation policy.
type Policy struct {
	ID       string
	Repeat   int
	Steps    []Step
	Fallback *Target
}

// Directory is everything a step needs from the config to find people:
// policies, users, teams and rotations by id. It is built once per config
// snapshot and read-only.
type Directory struct {
	Policies  map[string]*Policy
	Users     map[string]*config.User
	Teams     map[string]*config.Team
	Rotations map[string]*schedule.Rotation
}

// NewDirectory compiles the on-call part of a validated config; rotations
// come compiled (snapshot builds them).
func NewDirectory(cfg *config.Config, rotations map[string]*schedule.Rotation) (*Directory, error) {
	d := &Directory{
		Policies:  make(map[string]*Policy, len(cfg.EscalationPolicies)),
		Users:     make(map[string]*config.User, len(cfg.Users)),
		Teams:     make(map[string]*config.Team, len(cfg.Teams)),
		Rotations: rotations,
	}
	for i := range cfg.Users {
		d.Users[cfg.Users[i].ID] = &cfg.Users[i]
	}
	for i := range cfg.Teams {
		d.Teams[cfg.Teams[i].ID] = &cfg.Teams[i]
	}
	for _, pc := range cfg.EscalationPolicies {
		p := &Policy{ID: pc.ID, Repeat: pc.Repeat}
		if len(pc.Steps) == 0 {
			return nil, fmt.Errorf("escalation: policy %q has no steps", pc.ID)
		}
		for _, sc := range pc.Steps {
			st := Step{RoundRobin: sc.RoundRobin, Delay: sc.Delay}
			for _, t := range sc.Targets {
				st.Targets = append(st.Targets, TargetOf(t))
			}
			p.Steps = append(p.Steps, st)
		}
		if pc.Fallback != nil {
			t := TargetOf(*pc.Fallback)
			p.Fallback = &t
		}
		d.Policies[p.ID] = p
	}
	return d, nil
}
