// Package reports computes the measures of docs/measures.md (time to
// acknowledge and to resolve, customer impact, postmortems, follow-ups,
// on-call load, escalations, notification failures) from incidents'
// append-only timelines. It is pure: the caller reads the incidents and
// passes the clock, so a report is a function of its input, whatever its
// order.
package reports

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/schedule"
)

// GroupBy is what a report's groups are: service, route, team or severity.
type GroupBy string

const (
	ByService  GroupBy = "service"
	ByRoute    GroupBy = "route"
	ByTeam     GroupBy = "team"
	BySeverity GroupBy = "severity"
)

// GroupBys lists every GroupBy, in the order the docs give them.
var GroupBys = []GroupBy{ByService, ByRoute, ByTeam, BySeverity}

// ParseGroupBy reads a group_by value; "" is ByService.
func ParseGroupBy(s string) (GroupBy, error) {
	if s == "" {
		return ByService, nil
	}
	if g := GroupBy(s); slices.Contains(GroupBys, g) {
		return g, nil
	}
	return "", fmt.Errorf("%q is not one of service, route, team, severity", s)
}

// Options say which incidents a report covers and how it reads them.
type Options struct {
	// From and To bound triggered_at: an incident is in the report when
	// From ≤ triggered_at < To.
	From, To time.Time
	GroupBy  GroupBy
	// WorkingHours are when paging each user is in hours, by user id. A
	// user missing here has no working hours: their pages count as
	// unknown, neither in nor out of hours.
	WorkingHours map[string]schedule.Weekly
	// TeamOf names the team owning a route's incidents (for ByTeam); nil
	// or "" puts them in the group "".
	TeamOf func(route string) string
	// AckBySender counts a sender's acknowledge (actor "integration:…",
	// such as a PagerDuty acknowledge event) as an acknowledgement, which
	// by default it is not (config reports.count_sender_acks).
	AckBySender bool
	// PostmortemRule, when set, says whether the config requires a
	// postmortem of an incident (config.Postmortems.Rule) and how long
	// after the resolve it is due: such an incident with no postmortem
	// entry counts as pending.
	PostmortemRule func(severity alertgate.Severity, service string) (due time.Duration, ok bool)
	// Now is when the report is made: open follow-ups' age and overdue
	// postmortems and follow-ups are as of Now.
	Now time.Time
}

// Report is the measures of the incidents in a window, in total and by
// group.
type Report struct {
	From            time.Time `json:"from"`
	To              time.Time `json:"to"`
	GroupBy         GroupBy   `json:"group_by"`
	GeneratedAt     time.Time `json:"generated_at"`
	CountSenderAcks bool      `json:"count_sender_acks"`
	// Total is every incident of the window (the group "all").
	Total Group `json:"total"`
	// Groups are the incidents by GroupBy, sorted by key.
	Groups []Group `json:"groups"`
}

// Group is the measures of one group of incidents.
type Group struct {
	// Key is the group's service, route, team or severity ("" when the
	// incidents have none); "all" for the total.
	Key       string `json:"key"`
	Incidents int    `json:"incidents"`
	// Open counts incidents not resolved at the end of their timeline.
	Open     int `json:"open"`
	Declared int `json:"declared"`
	// Reopened counts incidents that reopened at least once, Reopens
	// the reopens.
	Reopened int `json:"reopened"`
	Reopens  int `json:"reopens"`
	// AutoResolved counts incidents whose last resolve was a sender's.
	AutoResolved int `json:"auto_resolved"`
	// Held counts incidents whose pages were held back at some time
	// (silence, maintenance, inhibition, flapping, urgency).
	Held     int `json:"held"`
	Flapping int `json:"flapping"`
	// Unacknowledged counts alert incidents no person acknowledged;
	// SenderAcknowledged those among them that only a sender did.
	Unacknowledged     int `json:"unacknowledged"`
	SenderAcknowledged int `json:"sender_acknowledged"`

	TimeToAcknowledge Stats       `json:"time_to_acknowledge"`
	TimeToResolve     Stats       `json:"time_to_resolve"`
	CustomerImpact    Impact      `json:"customer_impact"`
	Postmortems       Postmortems `json:"postmortems"`
	FollowUps         FollowUps   `json:"follow_ups"`
	Pages             Pages       `json:"pages"`
	// EscalatedPastFirstStep counts incidents that paged a step after the
	// first, or that someone escalated by hand.
	EscalatedPastFirstStep int `json:"escalated_past_first_step"`
	// NotificationFailures counts page_failed entries, and
	// IncidentsWithFailures the incidents that have one.
	NotificationFailures  int `json:"notification_failures"`
	IncidentsWithFailures int `json:"incidents_with_failures"`
}

// Impact is the customer-impact time: its distribution and its sum.
type Impact struct {
	Stats
	TotalSeconds float64 `json:"total_seconds"`
}

// Postmortems counts postmortems by their last state and measures the
// time from the resolve to done.
type Postmortems struct {
	// Required counts incidents with any postmortem entry.
	Required int `json:"required"`
	Done     int `json:"done"`
	Pending  int `json:"pending"`
	// Overdue counts pending postmortems past their due time at Now.
	Overdue       int   `json:"overdue"`
	ResolveToDone Stats `json:"resolve_to_done"`
}

// FollowUps counts follow-ups by their last state, and the age of the
// open ones at Now.
type FollowUps struct {
	Open    int   `json:"open"`
	Overdue int   `json:"overdue"`
	Done    int   `json:"done"`
	OpenAge Stats `json:"open_age"`
}

// Pages is the on-call load: pages sent, and when, per person.
type Pages struct {
	Total int `json:"total"`
	// ToChannels counts pages to a notifier rather than a person.
	ToChannels   int `json:"to_channels"`
	InHours      int `json:"in_hours"`
	OutOfHours   int `json:"out_of_hours"`
	UnknownHours int `json:"unknown_hours"`
	// People is the load of each person paged, sorted by user id.
	People []PersonLoad `json:"people"`
}

// PersonLoad is how often one person was paged, and how often outside
// their working hours.
type PersonLoad struct {
	User       string `json:"user"`
	Pages      int    `json:"pages"`
	OutOfHours int    `json:"out_of_hours"`
	// UnknownHours counts pages to a user with no working hours.
	UnknownHours int `json:"unknown_hours"`
}

// Compute makes the report of incidents (each with its timeline) over
// o's window.
func Compute(incidents []alertgate.Incident, o Options) Report {
	rep := Report{From: o.From.UTC(), To: o.To.UTC(), GroupBy: o.GroupBy, GeneratedAt: o.Now.UTC(), CountSenderAcks: o.AckBySender}
	total := newAcc("all")
	groups := map[string]*acc{}
	for i := range incidents {
		inc := &incidents[i]
		if inc.TriggeredAt.Before(o.From) || !inc.TriggeredAt.Before(o.To) {
			continue
		}
		m := measure(inc, &o)
		key := groupKey(inc, &o)
		g := groups[key]
		if g == nil {
			g = newAcc(key)
			groups[key] = g
		}
		g.add(&m)
		total.add(&m)
	}
	rep.Total = total.group()
	rep.Groups = make([]Group, 0, len(groups))
	for _, g := range groups {
		rep.Groups = append(rep.Groups, g.group())
	}
	slices.SortFunc(rep.Groups, func(x, y Group) int { return strings.Compare(x.Key, y.Key) })
	return rep
}

func groupKey(inc *alertgate.Incident, o *Options) string {
	switch o.GroupBy {
	case ByRoute:
		return inc.Route
	case ByTeam:
		if o.TeamOf == nil {
			return ""
		}
		return o.TeamOf(inc.Route)
	case BySeverity:
		return string(inc.Severity)
	default:
		return inc.Service
	}
}

// acc accumulates the measures of one group.
type acc struct {
	g                                   Group
	tta, ttr, impact, pmDone, followAge []time.Duration
	people                              map[string]*PersonLoad
}

func newAcc(key string) *acc { return &acc{g: Group{Key: key}, people: map[string]*PersonLoad{}} }

func (a *acc) add(m *measures) {
	g := &a.g
	g.Incidents++
	count := func(n *int, yes bool) {
		if yes {
			*n++
		}
	}
	count(&g.Open, !m.resolved)
	count(&g.Declared, m.declared)
	count(&g.Reopened, m.reopens > 0)
	g.Reopens += m.reopens
	count(&g.AutoResolved, m.resolved && m.autoResolved)
	count(&g.Held, m.held)
	count(&g.Flapping, m.flapping)
	if !m.declared && !m.acked {
		g.Unacknowledged++
		count(&g.SenderAcknowledged, m.senderAcked)
	}
	if m.acked {
		a.tta = append(a.tta, m.tta)
	}
	if m.resolved {
		a.ttr = append(a.ttr, m.ttr)
	}
	if m.hasImpact {
		a.impact = append(a.impact, m.impact)
	}
	if pm := m.postmortem; pm != nil {
		g.Postmortems.Required++
		switch {
		case pm.done:
			g.Postmortems.Done++
			if m.resolved {
				a.pmDone = append(a.pmDone, pm.resolveToDone)
			}
		default:
			g.Postmortems.Pending++
			count(&g.Postmortems.Overdue, pm.overdue)
		}
	}
	for _, f := range m.followUps {
		switch {
		case f.done:
			g.FollowUps.Done++
		default:
			g.FollowUps.Open++
			count(&g.FollowUps.Overdue, f.overdue)
			a.followAge = append(a.followAge, f.age)
		}
	}
	for _, p := range m.pages {
		g.Pages.Total++
		if p.user == "" {
			g.Pages.ToChannels++
			continue
		}
		pl := a.people[p.user]
		if pl == nil {
			pl = &PersonLoad{User: p.user}
			a.people[p.user] = pl
		}
		pl.Pages++
		switch p.hours {
		case inHours:
			g.Pages.InHours++
		case outOfHours:
			g.Pages.OutOfHours++
			pl.OutOfHours++
		default:
			g.Pages.UnknownHours++
			pl.UnknownHours++
		}
	}
	count(&g.EscalatedPastFirstStep, m.escalated)
	g.NotificationFailures += m.failures
	count(&g.IncidentsWithFailures, m.failures > 0)
}

func (a *acc) group() Group {
	g := a.g
	g.TimeToAcknowledge = statsOf(a.tta)
	g.TimeToResolve = statsOf(a.ttr)
	g.CustomerImpact = Impact{Stats: statsOf(a.impact), TotalSeconds: seconds(sum(a.impact))}
	g.Postmortems.ResolveToDone = statsOf(a.pmDone)
	g.FollowUps.OpenAge = statsOf(a.followAge)
	g.Pages.People = make([]PersonLoad, 0, len(a.people))
	for _, p := range a.people {
		g.Pages.People = append(g.Pages.People, *p)
	}
	slices.SortFunc(g.Pages.People, func(x, y PersonLoad) int { return cmp.Compare(x.User, y.User) })
	return g
}

func sum(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s
}
