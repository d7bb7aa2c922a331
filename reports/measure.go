package reports

import (
	"slices"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
)

// measures are one incident's measures, read from its timeline.
type measures struct {
	declared     bool
	resolved     bool // at the end of the timeline
	autoResolved bool // the last resolve was a sender's
	reopens      int
	held         bool
	flapping     bool

	acked       bool // a person (or, with AckBySender, a sender) acknowledged
	senderAcked bool // a sender acknowledged and that did not count
	tta         time.Duration
	ackAt       time.Time // the acknowledge tta runs to
	ttr         time.Duration

	hasImpact bool
	impact    time.Duration

	postmortem *postmortemMeasure
	followUps  []followUpMeasure
	pages      []pageMeasure
	escalated  bool
	failures   int
}

type postmortemMeasure struct {
	done          bool
	resolveToDone time.Duration
	overdue       bool
}

type followUpMeasure struct {
	done, overdue bool
	age           time.Duration
}

type hours int

const (
	unknownHours hours = iota
	inHours
	outOfHours
)

type pageMeasure struct {
	user  string
	hours hours
}

// lifecycle states, as the timeline moves the incident between them.
type state int

const (
	triggered state = iota
	acknowledged
	resolved
)

// EventTypes are the timeline entry types a report reads: a reader may
// leave the others out (dedupe.Store.History does).
var EventTypes = []string{
	alertgate.EventTriggered, alertgate.EventDeclared, alertgate.EventReopened,
	alertgate.EventAcknowledged, alertgate.EventResolved, alertgate.EventHeld, alertgate.EventReleased,
	alertgate.EventFlapping, alertgate.EventImpactSet, alertgate.EventPostmortem, alertgate.EventFollowUp,
	alertgate.EventPaged, alertgate.EventPageDelivered, alertgate.EventPageFailed, alertgate.EventEscalated,
}

// measure walks one incident's timeline once (docs/measures.md has the
// rules this implements, in the same order).
func measure(inc *alertgate.Incident, o *Options) measures {
	var m measures
	tl := slices.Clone(inc.Timeline)
	// The list is append-only and in commit order already; a stable sort
	// by time only guards against replicas whose clocks disagree.
	slices.SortStableFunc(tl, func(x, y alertgate.TimelineEntry) int { return x.At.Compare(y.At) })

	start := inc.TriggeredAt
	st := triggered
	heldNow := false
	last := start
	var clock time.Duration // triggered, unheld time so far: the TTA clock
	var lastResolve time.Time
	var resolveActor string
	// advance runs the TTA clock up to t.
	advance := func(t time.Time) {
		if t.After(last) {
			if st == triggered && !heldNow && !m.acked {
				clock += t.Sub(last)
			}
			last = t
		}
	}

	var impact *alertgate.ImpactEntry
	var pm *alertgate.TimelineEntry
	type followUp struct {
		added time.Time
		last  alertgate.FollowUpEntry
	}
	follow := map[string]*followUp{}
	var followOrder []string
	delivered := map[string]time.Time{}
	var paged []alertgate.TimelineEntry

	for _, e := range tl {
		switch e.Type {
		case alertgate.EventDeclared:
			m.declared = true
		case alertgate.EventReopened:
			advance(e.At)
			st, heldNow = triggered, false
			m.reopens++
		case alertgate.EventAcknowledged:
			advance(e.At)
			if st != triggered {
				break
			}
			st = acknowledged
			switch {
			case m.acked:
			case countsAsAck(e.Actor, o.AckBySender):
				m.acked, m.tta, m.ackAt = true, clock, e.At
			default:
				m.senderAcked = true
			}
		case alertgate.EventResolved:
			advance(e.At)
			st, heldNow = resolved, false
			lastResolve, resolveActor = e.At, e.Actor
		case alertgate.EventHeld:
			advance(e.At)
			if st != resolved {
				heldNow, m.held = true, true
			}
		case alertgate.EventReleased:
			advance(e.At)
			heldNow = false
		case alertgate.EventFlapping:
			m.flapping = true
		case alertgate.EventImpactSet:
			if e.Impact != nil {
				impact = e.Impact
			}
		case alertgate.EventPostmortem:
			if e.Postmortem != nil {
				pm = &e
			}
		case alertgate.EventFollowUp:
			if f := e.FollowUp; f != nil && f.ID != "" {
				fu := follow[f.ID]
				if fu == nil {
					fu = &followUp{added: e.At}
					follow[f.ID] = fu
					followOrder = append(followOrder, f.ID)
				}
				fu.last = *f
			}
		case alertgate.EventPaged:
			if e.Page != nil && e.Page.Kind != "resolved" {
				paged = append(paged, e)
				if e.Page.Step >= 2 {
					m.escalated = true
				}
			}
		case alertgate.EventPageDelivered:
			if e.Page != nil {
				if _, seen := delivered[e.Page.Key]; !seen {
					delivered[e.Page.Key] = e.At
				}
			}
		case alertgate.EventPageFailed:
			m.failures++
		case alertgate.EventEscalated:
			m.escalated = true
		}
	}

	m.resolved = st == resolved
	if m.resolved {
		m.ttr = lastResolve.Sub(start)
		m.autoResolved = isSender(resolveActor)
	}
	if m.declared {
		// The person who declared it was on it from the start: nobody
		// was paged to wake up, so there is no response to time.
		m.acked, m.senderAcked, m.tta, m.ackAt = false, false, 0, time.Time{}
	}

	// Customer impact: the last window a person set, else the first
	// alert's start to the last resolve.
	from, to := firstAlertStart(inc), lastResolve
	if impact != nil {
		if !impact.Start.IsZero() {
			from = impact.Start
		}
		if !impact.End.IsZero() {
			to = impact.End
		}
	}
	if !to.IsZero() && (m.resolved || impact != nil && !impact.End.IsZero()) {
		m.hasImpact, m.impact = true, max(to.Sub(from), 0)
	}

	var ruleDue time.Duration
	ruled := false
	if o.PostmortemRule != nil {
		ruleDue, ruled = o.PostmortemRule(inc.Severity, inc.Service)
	}
	// overdueBy says whether a pending postmortem due by due (zero: by the
	// rule, counted from the resolve) is overdue at Now.
	overdueBy := func(due time.Time) bool {
		if due.IsZero() && ruled && m.resolved {
			due = lastResolve.Add(ruleDue)
		}
		return !due.IsZero() && due.Before(o.Now)
	}
	switch {
	case pm == nil && ruled:
		m.postmortem = &postmortemMeasure{overdue: overdueBy(time.Time{})}
	case pm != nil:
		p := pm.Postmortem
		pmm := &postmortemMeasure{done: p.Status == alertgate.PostmortemDone}
		if pmm.done {
			doneAt := p.DoneAt
			if doneAt.IsZero() {
				doneAt = pm.At
			}
			if m.resolved {
				pmm.resolveToDone = max(doneAt.Sub(lastResolve), 0)
			}
		} else {
			pmm.overdue = overdueBy(p.Due)
		}
		m.postmortem = pmm
	}

	for _, id := range followOrder {
		fu := follow[id]
		f := followUpMeasure{done: fu.last.Done}
		if !f.done {
			f.overdue = !fu.last.Due.IsZero() && fu.last.Due.Before(o.Now)
			f.age = max(o.Now.Sub(fu.added), 0)
		}
		m.followUps = append(m.followUps, f)
	}

	for _, e := range paged {
		at := e.At
		if d, ok := delivered[e.Page.Key]; ok {
			at = d
		}
		p := pageMeasure{user: e.Page.User}
		if wh, ok := o.WorkingHours[p.user]; ok && p.user != "" {
			p.hours = outOfHours
			if wh.Active(at) {
				p.hours = inHours
			}
		}
		m.pages = append(m.pages, p)
	}
	return m
}

// firstAlertStart is when the incident's first alert started: by the
// sender's clock when it says (starts_at), else when it arrived; for an
// incident without alerts (a declared one), when it opened. The incident
// API's default impact window starts there too.
func firstAlertStart(inc *alertgate.Incident) time.Time {
	var first time.Time
	for i := range inc.Alerts {
		a := &inc.Alerts[i]
		t := a.StartsAt
		if t.IsZero() {
			t = a.FirstSeen
		}
		if !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	if first.IsZero() {
		return inc.TriggeredAt
	}
	return first
}

// isSender reports whether actor is a sender (an integration), as ingest
// and PagerDuty-style acknowledge events record it.
func isSender(actor string) bool { return strings.HasPrefix(actor, "integration:") }

// countsAsAck reports whether an acknowledge by actor is a person's: via
// the API ("api", "user:…", or a token's owner), a link ("… via link") or
// an SMS reply ("… via SMS"). A sender's counts only with ackBySender;
// alertgate's own machinery never acknowledges.
func countsAsAck(actor string, ackBySender bool) bool {
	switch {
	case isSender(actor):
		return ackBySender
	case actor == "escalation", strings.HasPrefix(actor, "notifier:"):
		return false
	}
	return true
}

// Times are one incident's time to acknowledge and to resolve, by the
// rules of a report (docs/measures.md).
type Times struct {
	// Acknowledged says the incident has a time to acknowledge: a
	// person's acknowledge at AcknowledgedAt, TimeToAcknowledge after it
	// triggered (held and resolved time left out).
	Acknowledged      bool
	AcknowledgedAt    time.Time
	TimeToAcknowledge time.Duration
	// Resolved says the incident is resolved, TimeToResolve after it
	// triggered.
	Resolved      bool
	TimeToResolve time.Duration
}

// TimesOf measures one incident (with its timeline) as a report would:
// what the Prometheus histograms observe as an incident is acknowledged
// or resolved.
func TimesOf(inc *alertgate.Incident, ackBySender bool) Times {
	m := measure(inc, &Options{AckBySender: ackBySender})
	return Times{
		Acknowledged: m.acked, AcknowledgedAt: m.ackAt, TimeToAcknowledge: m.tta,
		Resolved: m.resolved, TimeToResolve: m.ttr,
	}
}
