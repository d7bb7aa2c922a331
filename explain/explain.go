// Package explain answers "why did this (not) page?" before it happens:
// for a payload an integration would receive, the alerts it parses into,
// the routes each takes, the incident each group would open or join,
// everything that would hold its pages back, and who each step of the
// escalation policy would page, and when. It changes nothing: it parses
// with the integration's receiver and reads Redis, never writes.
//
// It mirrors the pipeline's decisions (ingest.lua's open / join / reopen,
// mute.Gate's holds, escalation.Directory.Plan's steps); a test posts the
// same payloads to the real pipeline and checks that what explain said is
// what happened.
package explain

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/mute"
	"github.com/alertgate/alertgate/receivers"
	"github.com/alertgate/alertgate/routing"
	"github.com/alertgate/alertgate/schedule"
	"github.com/alertgate/alertgate/snapshot"
)

// Input is what to explain.
type Input struct {
	Integration string
	// Payload is the body the integration would receive.
	Payload []byte
	// At is the instant of the delivery; zero: now.
	At time.Time
}

// Deps are where explain reads. Only Snapshot is required; without the
// others, explain works from the config alone and its notes say so.
type Deps struct {
	Snapshot *snapshot.Snapshot
	// Store reads groups and incidents; nil: none is assumed open.
	Store *dedupe.Store
	// Gate reads silences and firing alerts (for inhibition); nil:
	// maintenance windows, urgency and the delivery's own alerts only.
	Gate *mute.Gate
	// Overrides supplies on-call overrides; nil: none.
	Overrides escalation.Overrides
	// Now is the clock for a zero Input.At; time.Now if nil.
	Now func() time.Time
}

// Notes explain adds when it works offline.
const (
	NoteNoStore     = "offline: open incidents not read; every group is taken to open a new incident"
	NoteNoSilences  = "offline: silences not read; firing alerts of open incidents not read for inhibition (only this payload's)"
	NoteNoOverrides = "offline: on-call overrides not read; rotations as configured"
)

// maxHoldHops bounds the holds followed one after another (a window
// ending into a silence ending into support hours …).
const maxHoldHops = 8

// Explain explains one delivery. A payload the receiver refuses is its
// error, unchanged (a 4xx naming the field); an unknown integration is
// ENOTFOUND.
func Explain(ctx context.Context, in Input, d Deps) (Report, error) {
	snap := d.Snapshot
	at := in.At
	if at.IsZero() {
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		at = now()
	}
	at = at.UTC()
	batch, integ, err := parse(ctx, snap, in, at)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Integration: in.Integration, At: at, Alerts: []Alert{}, Notes: []string{}}
	gate := d.Gate
	if d.Store == nil {
		rep.Notes = append(rep.Notes, NoteNoStore)
	}
	if gate == nil {
		rep.Notes = append(rep.Notes, NoteNoSilences)
		gate = mute.New(mute.Options{Snapshot: func() *snapshot.Snapshot { return snap }})
	}
	overrides := map[string][]schedule.Override{}
	if d.Overrides == nil {
		rep.Notes = append(rep.Notes, NoteNoOverrides)
	} else if overrides, err = d.Overrides.ByRotation(ctx); err != nil {
		return Report{}, err
	}
	reading, err := gate.Read(ctx, snap, at)
	if err != nil {
		return Report{}, err
	}
	e := &explainer{snap: snap, store: d.Store, reading: reading, overrides: overrides, at: at, notes: map[string]bool{}}
	for _, n := range rep.Notes {
		e.notes[n] = true
	}

	if batch.Truncated > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the sender dropped %d alerts of this group (truncatedAlerts): they are not explained", batch.Truncated))
	}
	for _, fp := range batch.Acknowledge {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the event acknowledges the open incident holding alert %s/%s, if there is one", in.Integration, fp))
	}
	inputs := receivers.FingerprintInputs(integ, in.Payload, batch)
	// The delivery's firing alerts are firing alerts of open incidents
	// by the time any step falls due: sources for inhibition.
	for i := range batch.Alerts {
		if batch.Alerts[i].Status == alertgate.Firing {
			e.payloadFiring = append(e.payloadFiring, batch.Alerts[i].Labels)
		}
	}
	groups, err := e.groups(ctx, batch)
	if err != nil {
		return Report{}, err
	}
	for i := range batch.Alerts {
		a := &batch.Alerts[i]
		out := Alert{Fingerprint: a.Fingerprint, Key: a.Key(), FingerprintInputs: inputs[i], Status: a.Status,
			Labels: a.Labels, Severity: a.Severity, Summary: a.Summary, Routes: []Route{}}
		for _, r := range snap.Routes.Routes(a) {
			g := groups[r.Name+"\x00"+r.GroupKey(a)]
			rt, err := e.route(a, r, g)
			if err != nil {
				return Report{}, err
			}
			out.Routes = append(out.Routes, rt)
		}
		rep.Alerts = append(rep.Alerts, out)
	}
	rep.Notes = append(rep.Notes, e.extra...)
	return rep, nil
}

// parse reads the payload with the integration's receiver, as ingest
// would. Body signatures are not checked: explain is behind the API's
// token, and the payload is never committed.
func parse(ctx context.Context, snap *snapshot.Snapshot, in Input, at time.Time) (alertgate.Batch, config.Integration, error) {
	_, integ, ok := snap.Receivers.Get(in.Integration)
	if !ok {
		e := alertgate.Errorf(alertgate.ENOTFOUND, "no integration named %q", alertgate.Truncate(in.Integration, 64))
		e.Field = "integration"
		return alertgate.Batch{}, integ, e
	}
	if integ.Type == config.TypeHeartbeat {
		return alertgate.Batch{}, integ, alertgate.FieldErrorf("integration", "integration %q is a heartbeat: any request to it is a ping, not alerts", in.Integration)
	}
	unsigned := integ
	unsigned.Signature = nil
	recv, err := receivers.New(unsigned)
	if err != nil {
		return alertgate.Batch{}, integ, err
	}
	b, err := recv.Parse(ctx, receivers.Request{Body: in.Payload, Header: map[string][]string{}, Now: at})
	return b, integ, err
}

// explainer is one Explain call's state.
type explainer struct {
	snap          *snapshot.Snapshot
	store         *dedupe.Store
	reading       mute.Reading
	overrides     map[string][]schedule.Override
	at            time.Time
	payloadFiring []map[string]string
	notes         map[string]bool
	extra         []string
}

func (e *explainer) note(s string) {
	if !e.notes[s] {
		e.notes[s] = true
		e.extra = append(e.extra, s)
	}
}

// group is one group of the delivery, as ingest would commit it.
type group struct {
	route  *routing.Route
	key    string
	alerts []*alertgate.Alert
	state  dedupe.GroupState
	// decided once per group, like ingest's one script call:
	incident Incident
	flapping bool
	flapTill time.Time
}

// groups splits the batch by route and group key, as incident.Accept
// does, and reads each group's state.
func (e *explainer) groups(ctx context.Context, b alertgate.Batch) (map[string]*group, error) {
	out := map[string]*group{}
	var order []*group
	for i := range b.Alerts {
		a := &b.Alerts[i]
		for _, r := range e.snap.Routes.Routes(a) {
			key := r.GroupKey(a)
			id := r.Name + "\x00" + key
			g := out[id]
			if g == nil {
				g = &group{route: r, key: key}
				out[id] = g
				order = append(order, g)
			}
			g.alerts = append(g.alerts, a)
		}
	}
	for _, g := range order {
		if e.store != nil {
			keys := make([]string, len(g.alerts))
			for i, a := range g.alerts {
				keys[i] = a.Key()
			}
			st, err := e.store.ExplainGroup(ctx, dedupe.Group{Route: g.route.Name, Key: g.key}, keys)
			if err != nil {
				return nil, err
			}
			g.state = st
		}
		e.decide(g)
	}
	return out, nil
}

// decide works out what ingest.lua would do with the group's alerts: the
// same rules, in the same order.
func (e *explainer) decide(g *group) {
	anyFiring := slices.ContainsFunc(g.alerts, func(a *alertgate.Alert) bool { return a.Status == alertgate.Firing })
	inc := g.state.Incident
	switch {
	case g.state.Open != "":
		g.incident = Incident{Action: ActionJoin, ID: g.state.Open, Status: inc.Status}
	case !anyFiring:
		g.incident = Incident{Action: ActionNone}
	case g.state.Last != "" && inc.ID != "" && g.route.ReopenWindow > 0 && !inc.ResolvedAt.IsZero() &&
		e.at.Sub(inc.ResolvedAt) <= g.route.ReopenWindow:
		g.incident = Incident{Action: ActionReopen, ID: inc.ID, Status: inc.Status}
	default:
		g.incident = Incident{Action: ActionOpen}
	}
	if g.incident.Action == ActionOpen || g.incident.Action == ActionNone {
		return
	}
	// Flapping: an alert the incident holds that changes state now counts
	// one more change in the route's flap window.
	g.flapping = inc.Flapping && g.incident.Action == ActionJoin
	g.flapTill = inc.FlapUntil
	changed := false
	for _, a := range g.alerts {
		st := g.state.Status[a.Key()]
		if st == "" || st == a.Status {
			continue
		}
		changed = true
		if g.route.FlapTransitions <= 0 {
			continue
		}
		n := 1
		for _, t := range g.state.Changes[a.Key()] {
			if t.After(e.at.Add(-g.route.FlapWindow)) {
				n++
			}
		}
		if n > g.route.FlapTransitions {
			g.flapping = true
		}
	}
	if g.flapping && changed {
		g.flapTill = e.at.Add(g.route.FlapWindow)
	}
	if g.incident.Action == ActionJoin && !g.flapping && g.route.AutoResolve && inc.Status != alertgate.IncidentResolved {
		g.incident.Resolves = e.firingAfter(g) == 0 && slices.ContainsFunc(g.alerts, func(a *alertgate.Alert) bool {
			return a.Status == alertgate.Resolved && g.state.Status[a.Key()] != alertgate.Resolved
		})
	}
}

// firingAfter counts the incident's firing alerts once the delivery is in.
func (e *explainer) firingAfter(g *group) int {
	return len(e.firing(g))
}

// firing is the labels of the group incident's firing alerts once the
// delivery is in: the delivery's alerts as they are now, and the
// incident's others.
func (e *explainer) firing(g *group) []map[string]string {
	var out []map[string]string
	for _, a := range g.alerts {
		if a.Status == alertgate.Firing {
			out = append(out, a.Labels)
		}
	}
	if g.incident.Action == ActionJoin || g.incident.Action == ActionReopen {
		for _, key := range slices.Sorted(maps.Keys(g.state.Incident.Firing)) {
			if !slices.ContainsFunc(g.alerts, func(a *alertgate.Alert) bool { return a.Key() == key }) {
				out = append(out, g.state.Incident.Firing[key])
			}
		}
	}
	return out
}

// route explains one alert on one of its routes.
func (e *explainer) route(a *alertgate.Alert, r *routing.Route, g *group) (Route, error) {
	out := Route{Path: r.Path(), Route: r.Name, GroupKey: g.key, Incident: g.incident,
		EscalationPolicy: e.policyOf(g), GroupWait: r.GroupWait.String(), Steps: []Step{}}
	if p := e.snap.Escalation.Policies[out.EscalationPolicy]; p != nil {
		out.Repeat = p.Repeat
	}

	// When the step that pages next falls due, and from where the policy
	// goes on.
	due, pos, running := e.nextStep(g)
	if !running {
		due = e.at.Add(r.GroupWait) // for the holds; nothing pages
	}
	holds, held, until, err := e.holds(a, r, g, due)
	if err != nil {
		return out, err
	}
	out.Holds = holds
	switch {
	case !running:
		out.Held = e.notRunning(g, r)
		return out, nil
	case held != "":
		out.Held = held
		if until.IsZero() {
			return out, nil // until the inhibiting alert resolves: not known
		}
		due = until
	}
	out.FirstPageAt = &due
	out.Steps = e.steps(g, r, pos, due)
	return out, nil
}

// policyOf is the policy the group's incident escalates by: a joined
// incident keeps the one it started with (a reload may have changed the
// route's); a new or reopened one takes the route's.
func (e *explainer) policyOf(g *group) string {
	if g.incident.Action == ActionJoin {
		return g.state.Incident.Policy
	}
	return g.route.Policy
}

// nextStep is when the group's incident next runs a step of its policy,
// and which; running is false when no step will run.
func (e *explainer) nextStep(g *group) (due time.Time, pos escalation.Position, running bool) {
	r := g.route
	switch g.incident.Action {
	case ActionOpen, ActionReopen:
		if r.Policy == "" {
			return time.Time{}, pos, false
		}
		return e.at.Add(r.GroupWait), escalation.Start, true
	case ActionJoin:
		inc := g.state.Incident
		p, ok := escalation.ParsePosition(inc.Next)
		if !ok || inc.Status != alertgate.Triggered || inc.Policy == "" || g.incident.Resolves {
			return time.Time{}, pos, false
		}
		return later(inc.NextAt, e.at), p, true
	}
	return time.Time{}, pos, false
}

// notRunning says why a route pages nobody.
func (e *explainer) notRunning(g *group, r *routing.Route) string {
	inc := g.state.Incident
	switch {
	case g.incident.Action == ActionNone:
		return "a resolution, and no incident open: nothing opens, nobody is paged"
	case g.incident.Resolves:
		return "the delivery resolves the incident: nobody is paged"
	case g.incident.Action == ActionJoin && inc.Status == alertgate.Acknowledged:
		return "the incident is acknowledged: it pages nobody until it is escalated"
	case g.incident.Action == ActionJoin && inc.Policy == "":
		return "the incident has no escalation policy: it pages nobody"
	case g.incident.Action == ActionJoin:
		return "the incident's escalation policy ran out: it pages nobody until it is escalated"
	case r.Policy == "":
		return "the route has no escalation policy: the incident is recorded, nobody is paged"
	}
	return "nobody is paged"
}

// holds lists what holds the route's pages at t, per alert, and decides,
// as mute.Gate.Hold does for the whole incident, whether the step is held
// and until when (zero: until something resolves). It follows holds that
// end into the next ones, as the engine does when it looks again.
func (e *explainer) holds(a *alertgate.Alert, r *routing.Route, g *group, t time.Time) (Holds, string, time.Time, error) {
	h := Holds{At: t, Silences: []Silence{}, MaintenanceWindows: []string{}, InhibitedBy: []Inhibition{}, Flapping: g.flapping}
	h.Urgency = urgency(r, t)
	firing := e.firing(g)
	ex, err := e.reading.Explain(e.snap, t, append([]map[string]string{a.Labels}, firing...), e.payloadFiring)
	if err != nil {
		return h, "", time.Time{}, err
	}
	mine := ex.Alerts[0]
	for _, s := range mine.Silences {
		h.Silences = append(h.Silences, Silence{ID: s.ID, Comment: s.Comment, CreatedBy: s.CreatedBy, EndsAt: s.EndsAt})
	}
	h.MaintenanceWindows = append(h.MaintenanceWindows, mine.Windows...)
	for _, in := range mine.Inhibited {
		h.InhibitedBy = append(h.InhibitedBy, Inhibition{Rule: in.Rule, SourceLabels: in.Source})
		if r.GroupWait < mute.DefaultSourcesFor && slices.ContainsFunc(e.payloadFiring, func(l map[string]string) bool { return maps.Equal(l, in.Source) }) {
			e.note(fmt.Sprintf("route %s: the gate reads firing alerts for inhibition at most every %s, and its group_wait is %s: "+
				"an inhibiting alert that arrives with its target may not be seen in time, and the target pages", r.Name, mute.DefaultSourcesFor, r.GroupWait))
		}
	}

	var why []string
	for hop := 0; hop < maxHoldHops; hop++ {
		reason, until := e.holdAt(g, r, t, ex, len(firing))
		if reason == "" {
			return h, joinReasons(why), t, nil
		}
		why = append(why, reason)
		if until.IsZero() || !until.After(t) {
			return h, joinReasons(why), time.Time{}, nil
		}
		t = until
		if ex, err = e.reading.Explain(e.snap, t, append([]map[string]string{a.Labels}, firing...), e.payloadFiring); err != nil {
			return h, "", time.Time{}, err
		}
	}
	// Holds that keep ending into new ones (a window open every day and
	// all day): no page in sight.
	return h, joinReasons(why), time.Time{}, nil
}

// holdAt is mute.Gate.Hold's decision at t: flapping, then low urgency
// outside support hours, then every firing alert muted.
func (e *explainer) holdAt(g *group, r *routing.Route, t time.Time, ex mute.Explanation, nFiring int) (string, time.Time) {
	if g.flapping && t.Before(g.flapTill) {
		if !g.state.Incident.FlapPaged {
			e.note("a flapping incident sends its step's people one page saying so, then holds its pages until it is stable")
		}
		return mute.FlappingReason, g.flapTill
	}
	if r.Urgency == config.UrgencyLow && r.SupportHours != nil && !r.SupportHours.Active(t) {
		return mute.LowUrgencyReason, r.SupportHours.NextChange(t)
	}
	if nFiring == 0 {
		return "", time.Time{}
	}
	var silenced, windows []string
	inhibited := false
	for _, rs := range ex.Alerts[1:] {
		switch {
		case len(rs.Silences) > 0:
			silenced = appendNew(silenced, rs.Silences[0].ID)
		case len(rs.Windows) > 0:
			windows = appendNew(windows, rs.Windows[0])
		case len(rs.Inhibited) > 0:
			inhibited = true
		default:
			return "", time.Time{} // an alert not muted: it pages
		}
	}
	var why []string
	if len(silenced) > 0 {
		why = append(why, "silenced by "+joinList(silenced))
	}
	if len(windows) > 0 {
		why = append(why, "in maintenance window "+joinList(windows))
	}
	if inhibited {
		why = append(why, "inhibited by a firing alert")
		return joinReasons(why), time.Time{}
	}
	return joinReasons(why), ex.NextChange
}

// urgency reports the route's urgency at t.
func urgency(r *routing.Route, t time.Time) Urgency {
	u := Urgency{Urgency: r.Urgency, InSupportHours: true}
	if u.Urgency == "" {
		u.Urgency = config.UrgencyHigh
	}
	if u.Urgency == config.UrgencyLow && r.SupportHours != nil {
		u.InSupportHours = r.SupportHours.Active(t)
		pages := t
		if !u.InSupportHours {
			pages = r.SupportHours.NextChange(t)
		}
		u.PagesAt = &pages
	}
	return u
}

// steps walks the policy from pos at t, as the engine's passes would with
// nobody acknowledging: each step at the time the one before it set, who
// is on call then. It lists the first pass (and a fallback), not the
// repeats: Route.Repeat counts those.
func (e *explainer) steps(g *group, r *routing.Route, pos escalation.Position, t time.Time) []Step {
	dir := e.snap.Escalation
	policy := e.policyOf(g)
	p := dir.Policies[policy]
	out := []Step{}
	if p == nil {
		e.note(fmt.Sprintf("escalation policy %q is not in the config: nobody is paged", policy))
		return out
	}
	subject := escalation.Subject{ID: g.incident.ID, Policy: policy}
	if id, err := strconv.Atoi(g.incident.ID); err == nil {
		subject.Seq = id / redisx.Shards
	} else if slices.ContainsFunc(p.Steps, func(s escalation.Step) bool { return s.RoundRobin }) {
		e.note("round-robin steps: which target a new incident's turn starts at depends on the incident's number, not known before it opens; the first target is shown")
	}
	bound := 2
	for _, st := range p.Steps {
		bound += max(1, len(st.Targets)) * (p.Repeat + 1)
	}
	for range bound {
		if pos.Step > len(p.Steps) || (pos.Step == len(p.Steps) && p.Fallback == nil) {
			break
		}
		plan := dir.Plan(subject, pos, t, e.overrides)
		step := Step{Step: pos.Step + 1, At: t, Pages: []Page{}}
		if pos.Step < len(p.Steps) && p.Steps[pos.Step].RoundRobin {
			step.Turn = pos.Turn + 1
		}
		if pos.Step == len(p.Steps) {
			step.Fallback, step.Repeat = true, pos.Repeat
		}
		show := pos.Repeat == 0 || step.Fallback
		if len(plan.Recipients) > 0 && plan.Paged == pos {
			for _, rc := range plan.Recipients {
				step.Pages = append(step.Pages, Page{User: rc.User, Notifier: rc.Notifier, Address: rc.Address, Reason: rc.Reason})
			}
			if show {
				out = append(out, step)
			}
			if plan.Done {
				break
			}
			pos, t = plan.Next, plan.NextAt
			continue
		}
		// Nobody to page at pos: the plan's first entry says why, and the
		// policy moves on at once.
		if len(plan.Entries) > 0 {
			step.SkippedReason = plan.Entries[0].Message
		}
		if show {
			out = append(out, step)
		}
		pos = advance(p, pos)
	}
	return out
}

// advance is the position after pos (escalation's rule; the engine moves
// on the same way past a step with nobody to page).
func advance(p *escalation.Policy, pos escalation.Position) escalation.Position {
	if pos.Step >= len(p.Steps) {
		return escalation.Position{Repeat: pos.Repeat, Step: len(p.Steps) + 1}
	}
	if st := p.Steps[pos.Step]; st.RoundRobin && pos.Turn+1 < len(st.Targets) {
		return escalation.Position{Repeat: pos.Repeat, Step: pos.Step, Turn: pos.Turn + 1}
	}
	next := escalation.Position{Repeat: pos.Repeat, Step: pos.Step + 1}
	if next.Step == len(p.Steps) {
		switch {
		case pos.Repeat < p.Repeat:
			return escalation.Position{Repeat: pos.Repeat + 1}
		case p.Fallback == nil:
			next.Step++
		}
	}
	return next
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func joinList(list []string) string { return strings.Join(list, ", ") }

func joinReasons(list []string) string { return strings.Join(list, "; then ") }
