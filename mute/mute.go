// Package mute decides whether a due escalation step's pages are held
// back: silences, maintenance windows, inhibition rules, flapping and
// low urgency outside support hours, as escalation.Gate. Muting holds pages, never state: the incident still
// opens, gathers alerts, resolves and sends its resolution notices, and
// whatever still fires when the mute ends is paged at once (the engine
// keeps the held step due at the mute's end).
//
// An incident is held when every one of its firing alerts is muted — by a
// silence, a maintenance window, or a firing alert that inhibits it — as
// Alertmanager sends a group's notification when any alert in it is not.
// An incident with no firing alert (a flapping or manually kept one) is
// not muted by alerts.
package mute

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/matchers"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

// Defaults of Options.
const (
	// DefaultSilencesFor: silences are read at most this often. A silence
	// made or expired is seen this late at most.
	DefaultSilencesFor = time.Second
	// DefaultSourcesFor: the firing alerts that inhibition rules look for
	// are read at most this often (a scan of every open incident's
	// alerts).
	DefaultSourcesFor = 5 * time.Second
)

// Options configure a Gate.
type Options struct {
	// Silences reads the silences in force at an instant
	// (silence.Store.Active).
	Silences func(ctx context.Context, at time.Time) (silence.Set, error)
	// Snapshot is the serving config: maintenance windows and inhibition
	// rules.
	Snapshot func() *snapshot.Snapshot
	// Sources calls fn with the labels of every firing alert of every open
	// incident (dedupe.Store.FiringAlerts); read only when the config has
	// inhibition rules.
	Sources func(ctx context.Context, fn func(labels map[string]string)) error
	// SilencesFor and SourcesFor bound how long a read is reused.
	SilencesFor, SourcesFor time.Duration
}

// Gate is the escalation.Gate of silences, maintenance windows and
// inhibition. It is safe for concurrent use.
type Gate struct {
	o Options

	mu       sync.Mutex
	set      silence.Set
	setRead  time.Time
	snap     *snapshot.Snapshot // what windows and rules were compiled from
	windows  []silence.Window
	rules    []rule
	srcRead  time.Time
	srcIndex [][]source // per rule: the firing sources it inhibits with
}

// New returns a Gate.
func New(o Options) *Gate {
	if o.SilencesFor <= 0 {
		o.SilencesFor = DefaultSilencesFor
	}
	if o.SourcesFor <= 0 {
		o.SourcesFor = DefaultSourcesFor
	}
	return &Gate{o: o}
}

// rule is a compiled inhibition rule.
type rule struct {
	n              int // its place in the config, 1-based, for people
	source, target matchers.Matchers
	equal          []string
}

// source is one firing alert a rule's source matchers match.
type source struct {
	equal  string // its values of the rule's equal labels
	labels map[string]string
}

// LowUrgencyReason holds a low-urgency incident outside support hours.
const LowUrgencyReason = "low urgency, outside support hours"

// FlappingReason is what holds a flapping incident's pages.
const FlappingReason = "flapping: paged once, then quiet until its alerts are stable"

// Hold implements escalation.Gate.
func (g *Gate) Hold(ctx context.Context, c escalation.Candidate) (escalation.Hold, error) {
	if c.Flapping && c.At.Before(c.FlapUntil) {
		// One page says it flaps; then quiet until it has been stable for
		// the route's flap window (ingest moves FlapUntil on).
		return escalation.Hold{Reason: FlappingReason, Until: c.FlapUntil, Notify: !c.FlapPaged, Kind: notify.KindFlapping}, nil
	}
	if r := g.o.Snapshot().Routes.Route(c.Route); r != nil && r.Urgency == config.UrgencyLow &&
		r.SupportHours != nil && !r.SupportHours.Active(c.At) {
		// Recorded now, paged when support hours begin.
		return escalation.Hold{Reason: LowUrgencyReason, Until: r.SupportHours.NextChange(c.At)}, nil
	}
	if c.FiringTotal == 0 || c.FiringTotal > len(c.Firing) {
		// Nothing fires to be muted; or more than the engine showed: some
		// alert may be unmuted, and a pager that cannot tell pages.
		return escalation.Hold{}, nil
	}
	set, rules, err := g.state(ctx, c.At)
	if err != nil {
		return escalation.Hold{}, err
	}
	var silencedBy, windows []string
	inhibited := 0
	var inhibitRules []int
	for _, labels := range c.Firing {
		if s := set.Silencing(labels); len(s) > 0 {
			silencedBy = appendNew(silencedBy, describe(s[0]))
			continue
		}
		if w := set.InWindows(labels); len(w) > 0 {
			windows = appendNew(windows, w[0])
			continue
		}
		n := g.inhibitor(rules, labels)
		if n == 0 && g.targeted(rules, labels) {
			// About to page a possible target: a source may have arrived
			// since the last read (in the very delivery that opened this
			// incident, with group_wait 0). Look again, unless just read.
			if err := g.refreshSources(ctx, c.At, freshSources); err != nil {
				return escalation.Hold{}, err
			}
			n = g.inhibitor(rules, labels)
		}
		if n > 0 {
			inhibited++
			if !slices.Contains(inhibitRules, n) {
				inhibitRules = append(inhibitRules, n)
			}
			continue
		}
		return escalation.Hold{}, nil // this alert is not muted: page
	}
	var why []string
	if len(silencedBy) > 0 {
		why = append(why, "silenced by "+strings.Join(silencedBy, ", "))
	}
	if len(windows) > 0 {
		why = append(why, "in maintenance window "+strings.Join(windows, ", "))
	}
	if inhibited > 0 {
		nums := make([]string, len(inhibitRules))
		for i, n := range inhibitRules {
			nums[i] = fmt.Sprint(n)
		}
		why = append(why, "inhibited by a firing alert (inhibit_rules "+strings.Join(nums, ", ")+")")
	}
	h := escalation.Hold{Reason: strings.Join(why, "; ")}
	if inhibited == 0 {
		// Silences and windows know when they end; inhibition ends when its
		// source resolves, which the engine's recheck finds.
		h.Until = set.NextChange()
	}
	return h, nil
}

// describe names a silence for the timeline: its id, comment and author.
func describe(s silence.Silence) string {
	return fmt.Sprintf("silence %s (%q, %s)", s.ID, truncate(s.Comment, 80), s.CreatedBy)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// state returns the silences and windows in force at `at`, and the rules
// with their sources, reading what is stale.
func (g *Gate) state(ctx context.Context, at time.Time) (silence.Set, []rule, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	snap := g.o.Snapshot()
	if snap != g.snap {
		ws, err := silence.Windows(snap.Config.MaintenanceWindows)
		if err != nil {
			return silence.Set{}, nil, fmt.Errorf("mute: maintenance windows: %w", err)
		}
		g.snap, g.windows, g.rules = snap, ws, compileRules(snap.Config.InhibitRules)
		g.srcRead = time.Time{} // the rules changed: index again
	}
	if g.setRead.IsZero() || at.Sub(g.setRead) >= g.o.SilencesFor || at.Before(g.setRead) {
		set, err := g.o.Silences(ctx, at)
		if err != nil {
			return silence.Set{}, nil, err
		}
		g.set, g.setRead = set, at
	}
	if err := g.readSources(ctx, at, g.o.SourcesFor); err != nil {
		return silence.Set{}, nil, err
	}
	// The set was read at setRead (up to SilencesFor ago): it answers for
	// `at`, as do the windows.
	return g.set.Later(at).WithWindows(g.windows), g.rules, nil
}

// freshSources: a read of the sources this recent is fresh enough to
// page a target on.
const freshSources = 250 * time.Millisecond

// readSources reads the firing alerts that inhibition rules look for when
// the last read is older than maxAge. Call with g.mu held.
func (g *Gate) readSources(ctx context.Context, at time.Time, maxAge time.Duration) error {
	if len(g.rules) == 0 || g.o.Sources == nil ||
		(!g.srcRead.IsZero() && at.Sub(g.srcRead) < maxAge && !at.Before(g.srcRead)) {
		return nil
	}
	var all []map[string]string
	if err := g.o.Sources(ctx, func(l map[string]string) { all = append(all, l) }); err != nil {
		return err
	}
	g.srcRead, g.srcIndex = at, index(g.rules, all)
	return nil
}

func (g *Gate) refreshSources(ctx context.Context, at time.Time, maxAge time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.readSources(ctx, at, maxAge)
}

// targeted reports whether some rule's target matchers match labels.
func (g *Gate) targeted(rules []rule, labels map[string]string) bool {
	for _, r := range rules {
		if r.target.Matches(labels) {
			return true
		}
	}
	return false
}

func compileRules(cfg []config.InhibitRule) []rule {
	out := make([]rule, len(cfg))
	for i := range cfg {
		src, tgt := cfg[i].Compiled()
		out[i] = rule{n: i + 1, source: src, target: tgt, equal: cfg[i].Equal}
	}
	return out
}

// index finds, for each rule, the firing alerts its source matchers match.
func index(rules []rule, all []map[string]string) [][]source {
	out := make([][]source, len(rules))
	for i, r := range rules {
		for _, l := range all {
			if r.source.Matches(l) {
				out[i] = append(out[i], source{equal: equalKey(r.equal, l), labels: l})
			}
		}
	}
	return out
}

// equalKey joins an alert's values of the equal labels ("" for a missing
// one, as Alertmanager compares them).
func equalKey(equal []string, labels map[string]string) string {
	var b strings.Builder
	for _, l := range equal {
		b.WriteString(labels[l])
		b.WriteByte(0)
	}
	return b.String()
}

// inhibitor returns the number of the first rule that inhibits an alert
// with labels (0: none). An alert never inhibits itself.
func (g *Gate) inhibitor(rules []rule, labels map[string]string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, r := range rules {
		if i >= len(g.srcIndex) || !r.target.Matches(labels) {
			continue
		}
		key := equalKey(r.equal, labels)
		for _, s := range g.srcIndex[i] {
			if s.equal == key && !maps.Equal(s.labels, labels) {
				return r.n
			}
		}
	}
	return 0
}
