package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/alertgate/alertgate"
)

// StatusUpdates says where the status updates people write on an incident
// go (docs/incidents-work.md): the notifiers of every incident, and more
// for some services. The same notifiers get the reminders of overdue
// postmortems and follow-ups.
type StatusUpdates struct {
	// Notifiers get every incident's status updates: a status channel.
	Notifiers []string `yaml:"notifiers"`
	// Services add notifiers for the incidents of one service.
	Services []ServiceNotifiers `yaml:"services"`
}

// ServiceNotifiers are the status notifiers of one service.
type ServiceNotifiers struct {
	Service   string   `yaml:"service"`
	Notifiers []string `yaml:"notifiers"`
}

// For returns the notifiers of a service's status updates: the general
// ones, then the service's own, each once.
func (s *StatusUpdates) For(service string) []string {
	var out []string
	add := func(ids []string) {
		for _, id := range ids {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	add(s.Notifiers)
	for _, sn := range s.Services {
		if service != "" && sn.Service == service {
			add(sn.Notifiers)
		}
	}
	return out
}

// Postmortems says which incidents need a postmortem, and by when.
type Postmortems struct {
	// Required: the first rule that matches an incident requires its
	// postmortem, due Due after the incident resolved.
	Required []PostmortemRule `yaml:"required"`
}

// PostmortemRule requires a postmortem for the incidents it matches: of
// Severity or worse, and of Service, whichever are set (at least one).
type PostmortemRule struct {
	Severity string        `yaml:"severity"`
	Service  string        `yaml:"service"`
	Due      time.Duration `yaml:"due"`
}

// Name describes the rule for people: "postmortems.required[0] (severity
// critical or worse)".
func (r *PostmortemRule) Name(i int) string {
	what := ""
	if r.Severity != "" {
		what = "severity " + r.Severity
		if alertgate.Severity(r.Severity) != alertgate.SeverityCritical {
			what += " or worse"
		}
	}
	if r.Service != "" {
		if what != "" {
			what += ", "
		}
		what += "service " + r.Service
	}
	return fmt.Sprintf("postmortems.required[%d] (%s)", i, what)
}

// Rule returns the first rule that requires a postmortem of an incident
// of severity and service, and its name; ok is false when none does.
func (p *Postmortems) Rule(severity alertgate.Severity, service string) (r PostmortemRule, name string, ok bool) {
	for i, r := range p.Required {
		if r.Severity != "" && severity.Rank() < alertgate.Severity(r.Severity).Rank() {
			continue
		}
		if r.Service != "" && r.Service != service {
			continue
		}
		return r, r.Name(i), true
	}
	return PostmortemRule{}, "", false
}

// MaxPostmortemDue bounds a rule's due time: a year catches a unit typed
// wrong ("72d" meant as hours is fine; "7200h" is not).
const MaxPostmortemDue = 366 * 24 * time.Hour

// validateWork checks status_updates and postmortems.
func (c *Config) validateWork(ps *problems) {
	known := map[string]bool{NotifierConsole: true}
	for i := range c.Notifiers {
		known[c.Notifiers[i].ID] = true
	}
	checkIDs := func(p string, ids []string) {
		for j, id := range ids {
			if !known[id] {
				ps.add(index(p, j), "%q is not a notifier (notifiers[].id, or console)", alertgate.Truncate(id, 64))
			}
		}
	}
	checkIDs("status_updates.notifiers", c.StatusUpdates.Notifiers)
	for i, sn := range c.StatusUpdates.Services {
		p := index("status_updates.services", i)
		if sn.Service == "" {
			ps.add(p+".service", "required: the service whose incidents these notifiers hear about")
		}
		if len(sn.Notifiers) == 0 {
			ps.add(p+".notifiers", "required: at least one notifier")
		}
		checkIDs(p+".notifiers", sn.Notifiers)
	}
	for i, r := range c.Postmortems.Required {
		p := index("postmortems.required", i)
		if r.Severity == "" && r.Service == "" {
			ps.add(p, "name a severity, a service or both: a rule without either would require a postmortem of every incident (use severity: info for that)")
		}
		if r.Severity != "" && alertgate.Severity(r.Severity).Rank() == 0 {
			ps.add(p+".severity", "%q is not one of critical, error, warning, info", alertgate.Truncate(r.Severity, 32))
		}
		switch {
		case r.Due <= 0:
			ps.add(p+".due", "required: how long after the resolve the postmortem is due, such as 72h")
		case r.Due > MaxPostmortemDue:
			ps.add(p+".due", "must be at most %v", MaxPostmortemDue)
		}
	}
}
