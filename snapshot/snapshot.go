// Package snapshot compiles one loaded configuration into everything that
// serves it: the receiver of every integration, the route tree and the
// on-call rotations in package schedule's form (and, as they come,
// escalation policies and notifiers).
//
// Build is the one way from a config to what runs. check-config, start-up
// and a SIGHUP reload all go through it, so check-config accepts exactly
// what serve accepts. Every rule of a config lives in config.Validate,
// which reports each problem with its file and line; Build runs it first,
// and what it compiles afterwards trusts the config. An error after
// Validate passed is a bug in alertgate, and Build's error says so.
//
// A Snapshot is immutable once built. The server holds the current one in
// one atomic.Pointer; a reload builds a whole new Snapshot and swaps it in
// with one store. A request loads the pointer once, when it starts, and
// uses that snapshot to the end, passing down what it needs (the receiver,
// the route tree, the limits), so it never sees half of one config and
// half of another. Nothing may keep a second pointer to a part of the
// config that a reload would have to swap separately.
//
// Long-lived state that must survive a reload (circuit breakers around
// notifiers, the escalation engine's loops, rate limiters; none is built
// yet) must not live in a Snapshot, nor be keyed by one: a *Snapshot, and
// everything reached through it, is garbage after the next reload. Such
// state lives in the component that owns it, keyed by the stable ids the
// config gives (integration, route, policy, rotation and notifier names),
// and each new snapshot finds it again by those ids.
package snapshot

import (
	"fmt"

	"github.com/alertgate/alertgate/actionlink"
	"github.com/alertgate/alertgate/auth"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/receivers"
	"github.com/alertgate/alertgate/routing"
	"github.com/alertgate/alertgate/schedule"
)

// Snapshot is one config compiled, everything a request reads from the
// config. Treat it and everything in it as read-only.
type Snapshot struct {
	// Config is what the snapshot was built from.
	Config *config.Config
	// Receivers holds the receiver of every integration.
	Receivers *receivers.Registry
	// Routes is the route tree, the built-in route "default" included.
	Routes *routing.Tree
	// Rotations holds every rotation, by id, converted for schedule (zone
	// loaded, layers parsed), so no request parses a rotation again.
	Rotations map[string]*schedule.Rotation
	// RotationIDs lists the rotations' ids in the config's order, the
	// order in which people wrote them and the API lists them.
	RotationIDs []string
	// Escalation is what the escalation engine reads: policies, users,
	// teams and the rotations above, by id.
	Escalation *escalation.Directory
	// Notifiers holds the notifier of every configured channel, by id
	// (the built-in console is the server's own).
	Notifiers map[string]notify.Notifier
	// Links signs and verifies the links in pages; nil when pages carry
	// none (config.LinksEnabled).
	Links *actionlink.Signer
	// Access is who may call, and what they may do (package auth).
	Access *auth.Policy
}

// Build validates cfg (config.Validate) and compiles it. A config that
// fails validation comes back as its *config.LoadError, every problem in
// it; a loaded config has passed validation already, so then only changes
// made after loading (command-line overrides) can fail it.
func Build(cfg *config.Config) (_ *Snapshot, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Validate passed: from here on every failure, a panic included, is a
	// rule that config.Validate lacks.
	defer func() {
		if r := recover(); r != nil {
			err = notBuilt(cfg, fmt.Errorf("panic: %v", r))
		}
	}()
	reg, err := receivers.NewRegistry(cfg.Integrations)
	if err != nil {
		return nil, notBuilt(cfg, err)
	}
	tree, err := routing.New(cfg.Routes, cfg.DefaultEscalationPolicy)
	if err != nil {
		return nil, notBuilt(cfg, err)
	}
	rotations := make(map[string]*schedule.Rotation, len(cfg.Rotations))
	rotationIDs := make([]string, 0, len(cfg.Rotations))
	for i := range cfg.Rotations {
		rot, err := cfg.Rotations[i].Schedule()
		if err != nil {
			return nil, notBuilt(cfg, fmt.Errorf("rotations[%d]: %w", i, err))
		}
		rotations[rot.ID] = rot
		rotationIDs = append(rotationIDs, rot.ID)
	}
	dir, err := escalation.NewDirectory(cfg, rotations)
	if err != nil {
		return nil, notBuilt(cfg, err)
	}
	notifiers, err := buildNotifiers(cfg)
	if err != nil {
		return nil, err // the channels' own checks: problems with lines, not a bug
	}
	links, err := buildLinks(cfg)
	if err != nil {
		return nil, notBuilt(cfg, err)
	}
	return &Snapshot{Config: cfg, Receivers: reg, Routes: tree, Rotations: rotations, RotationIDs: rotationIDs,
		Escalation: dir, Notifiers: notifiers, Links: links, Access: auth.NewPolicy(cfg)}, nil
}

// RotationList returns the rotations in the config's order.
func (s *Snapshot) RotationList() []*schedule.Rotation {
	out := make([]*schedule.Rotation, len(s.RotationIDs))
	for i, id := range s.RotationIDs {
		out[i] = s.Rotations[id]
	}
	return out
}

// Load loads a config from data (config.LoadEnv: path names it in
// problems and anchors relative *_file paths; getenv reads ${NAME}) and
// builds it.
func Load(data []byte, path string, getenv func(string) string) (*Snapshot, error) {
	cfg, err := config.LoadEnv(data, path, getenv)
	if err != nil {
		return nil, err
	}
	return Build(cfg)
}

func notBuilt(cfg *config.Config, err error) error {
	name := cfg.Path
	if name == "" {
		name = "the config"
	}
	return fmt.Errorf("%s passed validation but could not be built, which is a bug in alertgate (please report it): %w", name, err)
}
