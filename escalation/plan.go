package escalation

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/schedule"
)

// Position is where a policy stands: the pass (Repeat, 0 on the first),
// the step (0-based) and, in a round-robin step, the turn. Step equal to
// the number of steps is the fallback; one more is the end.
type Position struct {
	Repeat, Step, Turn int
}

// Start is where every (re)started policy begins; the prelude's
// startEscalation writes it as "0|0|0".
var Start = Position{}

// String is the position as the incident's hash keeps it: "repeat|step|turn".
func (p Position) String() string {
	return strconv.Itoa(p.Repeat) + "|" + strconv.Itoa(p.Step) + "|" + strconv.Itoa(p.Turn)
}

// ParsePosition reads a Position's String.
func ParsePosition(s string) (Position, bool) {
	parts := strings.Split(s, "|")
	if len(parts) != 3 {
		return Position{}, false
	}
	var p Position
	var err [3]error
	p.Repeat, err[0] = strconv.Atoi(parts[0])
	p.Step, err[1] = strconv.Atoi(parts[1])
	p.Turn, err[2] = strconv.Atoi(parts[2])
	if err[0] != nil || err[1] != nil || err[2] != nil || p.Repeat < 0 || p.Step < 0 || p.Turn < 0 {
		return Position{}, false
	}
	return p, true
}

// Recipient is one person (or channel) a step pages, and why.
type Recipient struct {
	User     string
	Notifier string
	Address  string
	Reason   string
	// Contact is the index of Notifier/Address among the user's contacts;
	// Next are the contacts to fail over to, in order.
	Contact int
	Next    []notify.Contact
}

// Entry is one timeline entry a step writes.
type Entry struct {
	Type    string
	Message string
	Page    *alertgate.PageEntry
}

// Plan is what running one position does: the entries to record, the
// recipients to page (at Paged), and where the policy goes next.
type Plan struct {
	Entries    []Entry
	Recipients []Recipient
	// Paged is the position that paged (when Recipients is not empty).
	Paged Position
	// Next is the position that runs at NextAt; Done means none does.
	Next   Position
	NextAt time.Time
	Done   bool
}

// Subject is what a plan needs to know about the incident.
type Subject struct {
	ID     string
	Policy string
	// Seq numbers the incident within alertgate; round-robin steps start
	// at a different target for successive incidents.
	Seq int
}

// Plan works out what running the policy at pos does at now. Steps whose
// targets resolve to nobody are skipped at once (and recorded), so the
// plan either pages someone, or reaches the end.
func (d *Directory) Plan(s Subject, pos Position, now time.Time, overrides map[string][]schedule.Override) Plan {
	p := d.Policies[s.Policy]
	if p == nil {
		return Plan{Done: true, Entries: []Entry{{
			Type:    alertgate.EventPolicyNotFound,
			Message: fmt.Sprintf("escalation policy %q is not in the config any more: nobody is paged", s.Policy),
		}}}
	}
	var plan Plan
	// Every position is visited at most once, so this bounds the loop even
	// when every step is empty.
	for range p.positions() + 2 {
		switch {
		case pos.Step < len(p.Steps):
			st := p.Steps[pos.Step]
			targets := st.Targets
			if st.RoundRobin {
				targets = []Target{st.Targets[(s.Seq+pos.Turn)%len(st.Targets)]}
			}
			who, why := d.resolve(targets, now, overrides, pos.Repeat)
			if len(who) == 0 {
				plan.Entries = append(plan.Entries, Entry{Type: alertgate.EventStepSkipped,
					Message: p.label(pos) + ": nobody to page (" + why + "), skipped"})
				pos = p.advance(pos)
				continue
			}
			plan.Recipients, plan.Paged = who, pos
			plan.Next, plan.NextAt = p.advance(pos), now.Add(st.Delay)
			return plan
		case pos.Step == len(p.Steps) && p.Fallback != nil:
			who, why := d.resolve([]Target{*p.Fallback}, now, overrides, pos.Repeat)
			if len(who) == 0 {
				plan.Entries = append(plan.Entries, Entry{Type: alertgate.EventStepSkipped,
					Message: "fallback: nobody to page (" + why + "), skipped"})
			} else {
				for i := range who {
					who[i].Reason = "fallback: " + who[i].Reason
				}
				plan.Recipients, plan.Paged = who, pos
			}
			plan.Entries = append(plan.Entries, p.exhausted(true))
			plan.Done = true
			return plan
		default:
			plan.Entries = append(plan.Entries, p.exhausted(false))
			plan.Done = true
			return plan
		}
	}
	plan.Entries = append(plan.Entries, p.exhausted(false))
	plan.Done = true
	return plan
}

// positions counts the positions of one run of the policy.
func (p *Policy) positions() int {
	n := 0
	for _, st := range p.Steps {
		if st.RoundRobin {
			n += len(st.Targets)
		} else {
			n++
		}
	}
	return n * (p.Repeat + 1)
}

// advance is the position after pos.
func (p *Policy) advance(pos Position) Position {
	if pos.Step >= len(p.Steps) {
		return Position{Repeat: pos.Repeat, Step: len(p.Steps) + 1}
	}
	if st := p.Steps[pos.Step]; st.RoundRobin && pos.Turn+1 < len(st.Targets) {
		return Position{Repeat: pos.Repeat, Step: pos.Step, Turn: pos.Turn + 1}
	}
	next := Position{Repeat: pos.Repeat, Step: pos.Step + 1}
	if next.Step == len(p.Steps) {
		switch {
		case pos.Repeat < p.Repeat:
			return Position{Repeat: pos.Repeat + 1}
		case p.Fallback == nil:
			next.Step++
		}
	}
	return next
}

// label names a position for people: "step 2", "step 1 (repeat 1)",
// "step 2, turn 2 of 3".
func (p *Policy) label(pos Position) string {
	l := "step " + strconv.Itoa(pos.Step+1)
	if pos.Step < len(p.Steps) && p.Steps[pos.Step].RoundRobin {
		l += fmt.Sprintf(", turn %d of %d", pos.Turn+1, len(p.Steps[pos.Step].Targets))
	}
	if pos.Repeat > 0 {
		l += " (repeat " + strconv.Itoa(pos.Repeat) + ")"
	}
	return l
}

func (p *Policy) exhausted(fallback bool) Entry {
	msg := fmt.Sprintf("escalation policy %s ran all %d steps", p.ID, len(p.Steps))
	if p.Repeat > 0 {
		msg += fmt.Sprintf(" %d times", p.Repeat+1)
	}
	if fallback {
		msg += " and paged its fallback"
	}
	return Entry{Type: alertgate.EventExhausted, Message: msg + "; nobody acknowledged"}
}

// resolve finds who targets page at now, each person once (the first
// reason wins). why says, when nobody is found, why not. Each person is
// paged through one contact, with the others to fail over to; turn (the
// policy's repeat) moves the first contact on, so a person who did not
// acknowledge is tried through the next contact the next time round.
func (d *Directory) resolve(targets []Target, now time.Time, overrides map[string][]schedule.Override, turn int) (who []Recipient, why string) {
	seen := map[string]bool{}
	var reasons []string
	add := func(r Recipient) {
		k := r.User
		if k == "" {
			k = "#" + r.Notifier
		}
		if !seen[k] {
			seen[k] = true
			who = append(who, r)
		}
	}
	addUser := func(id, reason string) bool {
		u := d.Users[id]
		if u == nil || len(u.Contacts) == 0 {
			return false
		}
		n := len(u.Contacts)
		first := turn % n
		r := Recipient{User: id, Notifier: u.Contacts[first].Notifier, Address: u.Contacts[first].Address,
			Reason: reason, Contact: first}
		for i := 1; i < n; i++ {
			c := u.Contacts[(first+i)%n]
			r.Next = append(r.Next, notify.Contact{Notifier: c.Notifier, Address: c.Address})
		}
		add(r)
		return true
	}
	for _, t := range targets {
		switch t.Kind {
		case User:
			if !addUser(t.ID, "named in the step") {
				reasons = append(reasons, "user "+t.ID+" has no contact")
			}
		case Team:
			found := false
			if team := d.Teams[t.ID]; team != nil {
				for _, m := range team.Members {
					found = addUser(m, "member of team "+t.ID) || found
				}
			}
			if !found {
				reasons = append(reasons, "team "+t.ID+" has nobody to page")
			}
		case Rotation:
			r := d.Rotations[t.ID]
			if r == nil {
				reasons = append(reasons, "rotation "+t.ID+" is not in the config")
				continue
			}
			user, ov := r.Who(now, overrides[t.ID])
			if user == "" {
				reasons = append(reasons, "nobody is on call in rotation "+t.ID)
				continue
			}
			reason := "on call in rotation " + t.ID
			if ov != "" {
				reason = overrideReason(t.ID, ov, overrides[t.ID])
			}
			if !addUser(user, reason) {
				reasons = append(reasons, "user "+user+" has no contact")
			}
		case Notifier:
			add(Recipient{Notifier: t.ID, Address: t.ID, Reason: "notifier " + t.ID + " named in the step"})
		}
	}
	return who, strings.Join(reasons, "; ")
}

// overrideReason says whom an override's user covers, so the timeline of
// an incident an override affects records it.
func overrideReason(rotation, id string, overrides []schedule.Override) string {
	for _, o := range overrides {
		if o.ID == id {
			if o.Replaces != "" {
				return fmt.Sprintf("covering %s in rotation %s (override %s)", o.Replaces, rotation, id)
			}
			return fmt.Sprintf("covering rotation %s (override %s)", rotation, id)
		}
	}
	return fmt.Sprintf("on call in rotation %s (override %s)", rotation, id)
}
