package mute

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

// Inhibition is one firing alert that inhibits another, by a rule.
type Inhibition struct {
	// Rule is the rule's place in the config's inhibit_rules, 1-based.
	Rule   int
	Source map[string]string
}

// Reasons is everything that mutes one alert's labels at an instant:
// every silence, window and inhibiting alert, not only the first (Hold
// stops at the first).
type Reasons struct {
	Silences  []silence.Silence
	Windows   []string
	Inhibited []Inhibition
}

// Muted reports whether anything mutes the alert.
func (r Reasons) Muted() bool {
	return len(r.Silences) > 0 || len(r.Windows) > 0 || len(r.Inhibited) > 0
}

// Explanation answers Explain.
type Explanation struct {
	// Alerts has the reasons of each labels asked about, in order.
	Alerts []Reasons
	// NextChange is when silences or windows may next change what they
	// mute after the instant asked about (zero: never, as far as known).
	NextChange time.Time
}

// Reading is what a Gate reads for Explain, read once: the silences that
// had not ended at an instant and the firing alerts of open incidents.
// Ask it about that instant or later ones.
type Reading struct {
	set     silence.Set
	sources []map[string]string
}

// Read reads the silences not ended at `at` and, when snap has
// inhibition rules, the firing alerts of open incidents, afresh (not the
// Gate's cached reads, which it leaves alone). It changes nothing.
func (g *Gate) Read(ctx context.Context, snap *snapshot.Snapshot, at time.Time) (Reading, error) {
	r := Reading{set: silence.NewSet(at, nil)}
	if g.o.Silences != nil {
		set, err := g.o.Silences(ctx, at)
		if err != nil {
			return Reading{}, err
		}
		r.set = set.Later(at)
	}
	if len(snap.Config.InhibitRules) > 0 && g.o.Sources != nil {
		if err := g.o.Sources(ctx, func(l map[string]string) { r.sources = append(r.sources, l) }); err != nil {
			return Reading{}, err
		}
	}
	return r, nil
}

// Explain says what mutes each of labels at `at` (not before the
// reading's instant) under snap's windows and inhibition rules.
// extraSources are firing alerts that will be there by then (those of the
// delivery explained), besides those read.
func (r Reading) Explain(snap *snapshot.Snapshot, at time.Time,
	labels []map[string]string, extraSources []map[string]string) (Explanation, error) {
	ws, err := silence.Windows(snap.Config.MaintenanceWindows)
	if err != nil {
		return Explanation{}, fmt.Errorf("mute: maintenance windows: %w", err)
	}
	set := r.set.Later(at).WithWindows(ws)
	rules := compileRules(snap.Config.InhibitRules)
	var sources [][]source
	if len(rules) > 0 {
		sources = index(rules, append(slices.Clone(extraSources), r.sources...))
	}
	out := Explanation{Alerts: make([]Reasons, len(labels)), NextChange: set.NextChange()}
	for i, l := range labels {
		rs := &out.Alerts[i]
		rs.Silences = set.Silencing(l)
		rs.Windows = set.InWindows(l)
		for j, rule := range rules {
			if !rule.target.Matches(l) {
				continue
			}
			key := equalKey(rule.equal, l)
			for _, s := range sources[j] {
				if s.equal == key && !maps.Equal(s.labels, l) && !inhibitedAlready(rs.Inhibited, rule.n, s.labels) {
					rs.Inhibited = append(rs.Inhibited, Inhibition{Rule: rule.n, Source: s.labels})
				}
			}
		}
	}
	return out, nil
}

// inhibitedAlready: the same source may be read twice (in the delivery
// and, from an earlier one, in Redis).
func inhibitedAlready(list []Inhibition, rule int, labels map[string]string) bool {
	for _, in := range list {
		if in.Rule == rule && maps.Equal(in.Source, labels) {
			return true
		}
	}
	return false
}
