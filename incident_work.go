package alertgate

import (
	"slices"
	"time"
)

// Roles people hold on an incident (EventRoleAssigned).
const (
	RoleCommander      = "commander"
	RoleCommunications = "communications"
)

// Roles lists every role, in the order pages show them.
var Roles = []string{RoleCommander, RoleCommunications}

// Postmortem statuses (PostmortemEntry.Status).
const (
	PostmortemRequired = "required"
	PostmortemDraft    = "draft"
	PostmortemDone     = "done"
)

// IncidentWork is what people recorded on an incident besides its
// lifecycle: how it started, who holds which role, the customer-impact
// window, the postmortem and the follow-ups. It is computed from the
// timeline (FillWork), so it is only there when one incident is fetched,
// and it is embedded in Incident, so its fields are the incident's in JSON.
type IncidentWork struct {
	// Declared says a person opened the incident by hand (no alert).
	Declared bool `json:"declared,omitempty"`
	// Roles maps a role to whoever holds it now.
	Roles map[string]string `json:"roles,omitempty"`
	// Impact is the customer-impact window: as a person set it, or by
	// default from the first alert's start (the declare, for a declared
	// incident) to the resolve.
	Impact *Impact `json:"impact,omitempty"`
	// Postmortem is the postmortem's state: the last postmortem entry,
	// or "required" by a rule of the config (see the incident package);
	// nil when none is required and none was started.
	Postmortem *PostmortemState `json:"postmortem,omitempty"`
	// FollowUps are the follow-up actions, each as of its last entry, in
	// the order they were added.
	FollowUps []FollowUpEntry `json:"follow_ups,omitempty"`
}

// Impact is the customer-impact window of an incident.
type Impact struct {
	Start time.Time `json:"start,omitzero"`
	// End is zero while the impact lasts.
	End time.Time `json:"end,omitzero"`
	// Set says a person set the window (an impact_set entry); false: the
	// default, from the alerts and the resolve.
	Set bool `json:"set"`
}

// PostmortemState is the postmortem of an incident as the API shows it.
type PostmortemState struct {
	PostmortemEntry
	// Rule names the config rule that requires it ("" when none does).
	Rule string `json:"rule,omitempty"`
	// Overdue says it is not done and its due time has passed (as of the
	// request).
	Overdue bool `json:"overdue,omitempty"`
}

// FillWork computes inc.IncidentWork from its timeline and alerts. The
// postmortem is only what the timeline says; the rule that may require one
// is the incident package's to apply.
func (inc *Incident) FillWork() {
	w := IncidentWork{}
	var impact *ImpactEntry
	var pm *PostmortemEntry
	var order []string
	followUps := map[string]FollowUpEntry{}
	for i := range inc.Timeline {
		e := &inc.Timeline[i]
		switch e.Type {
		case EventDeclared:
			w.Declared = true
		case EventRoleAssigned:
			if e.Role == nil {
				continue
			}
			if w.Roles == nil {
				w.Roles = map[string]string{}
			}
			if e.Role.User == "" {
				delete(w.Roles, e.Role.Role)
			} else {
				w.Roles[e.Role.Role] = e.Role.User
			}
		case EventImpactSet:
			if e.Impact != nil {
				impact = e.Impact
			}
		case EventPostmortem:
			if e.Postmortem != nil {
				pm = e.Postmortem
			}
		case EventFollowUp:
			if f := e.FollowUp; f != nil && f.ID != "" {
				if _, seen := followUps[f.ID]; !seen {
					order = append(order, f.ID)
				}
				followUps[f.ID] = *f
			}
		}
	}
	if len(w.Roles) == 0 {
		w.Roles = nil
	}
	switch {
	case impact != nil:
		w.Impact = &Impact{Start: impact.Start, End: impact.End, Set: true}
	default:
		w.Impact = &Impact{Start: inc.firstAlertStart(), End: inc.ResolvedAt}
		if w.Impact.Start.IsZero() {
			w.Impact = nil
		}
	}
	if pm != nil {
		w.Postmortem = &PostmortemState{PostmortemEntry: *pm}
	}
	for _, id := range order {
		w.FollowUps = append(w.FollowUps, followUps[id])
	}
	inc.IncidentWork = w
}

// firstAlertStart is when the incident's first alert started, by the
// sender's clock when it says, else when it arrived; for an incident with
// no alert (a declared one), when it opened.
func (inc *Incident) firstAlertStart() time.Time {
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

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return slices.Contains(Roles, role) }
