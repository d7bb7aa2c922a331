package alertgate

import "time"

// IncidentStatus is where an incident is in its lifecycle:
// triggered → acknowledged → resolved, and resolved → triggered on reopen.
type IncidentStatus string

const (
	Triggered        IncidentStatus = "triggered"
	Acknowledged     IncidentStatus = "acknowledged"
	IncidentResolved IncidentStatus = "resolved"
)

// IncidentStatuses lists every status, in lifecycle order.
var IncidentStatuses = []IncidentStatus{Triggered, Acknowledged, IncidentResolved}

// Valid reports whether s is one of the three statuses.
func (s IncidentStatus) Valid() bool {
	return s == Triggered || s == Acknowledged || s == IncidentResolved
}

// Incident is one problem that people act on: a group of alerts.
type Incident struct {
	ID       string         `json:"id"`
	Title    string         `json:"title"`
	Service  string         `json:"service"`
	Severity Severity       `json:"severity"`
	Status   IncidentStatus `json:"status"`
	Route    string         `json:"route"`
	GroupKey string         `json:"group_key"`

	TriggeredAt    time.Time `json:"triggered_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at"`

	// AlertCount is how many distinct alerts joined; Firing how many of them
	// are firing now.
	AlertCount int `json:"alert_count"`
	Firing     int `json:"firing"`
	// Reopened counts how often the incident fired again after resolving.
	Reopened int `json:"reopened"`
	// ReducedAt is when retention reduced the incident to what reports
	// count (docs/retention.md): its alerts, timeline and delivery records
	// are then partial. Zero while it is whole.
	ReducedAt time.Time `json:"reduced_at,omitzero"`

	// EscalationPolicy is the policy walking the incident ("" when none).
	EscalationPolicy string `json:"escalation_policy,omitempty"`
	// Escalation is where the policy stands; nil when there is no policy.
	Escalation *Escalation `json:"escalation,omitempty"`

	// Alerts and Timeline are filled only when one incident is fetched.
	Alerts   []IncidentAlert `json:"alerts,omitempty"`
	Timeline []TimelineEntry `json:"timeline,omitempty"`

	// IncidentWork (roles, impact, postmortem, follow-ups) is filled only
	// when one incident is fetched, but Declared in listings too
	// (incident_work.go).
	IncidentWork
}

// Escalation is where an incident's escalation policy stands.
type Escalation struct {
	// Step is the last step that ran (1-based; 0 before the first) and
	// Repeat the pass it ran in (0 on the first pass).
	Step   int `json:"step"`
	Repeat int `json:"repeat"`
	// NextStep is the step that runs next (0: none, the policy is done or
	// stopped) and NextAt when it falls due.
	NextStep int       `json:"next_step"`
	NextAt   time.Time `json:"next_at,omitzero"`
	// Held says why the next step's pages are held back (a silence, a
	// maintenance window, …); "" when they are not. The step runs at
	// NextAt if nothing holds it then.
	Held string `json:"held,omitempty"`
}

// IncidentAlert is an alert as the incident remembers it.
type IncidentAlert struct {
	Alert
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Received counts deliveries of this alert, duplicates included.
	Received int `json:"received"`
}

// Timeline event types.
const (
	EventTriggered     = "triggered"      // incident opened
	EventAlertAdded    = "alert_added"    // a new alert joined
	EventAlertResolved = "alert_resolved" // one alert resolved
	EventAlertRefired  = "alert_refired"  // a resolved alert fired again
	EventAcknowledged  = "acknowledged"
	EventResolved      = "resolved"
	EventReopened      = "reopened"
	EventNote          = "note"
	EventTruncated     = "alerts_truncated" // the sender dropped alerts

	// Escalation: see the escalation package.
	EventNoPolicy       = "no_escalation_policy" // the incident's route has no policy: nobody is paged
	EventPaged          = "paged"                // a step paged one person (Page says whom)
	EventStepSkipped    = "step_skipped"         // a step's targets resolved to nobody
	EventExhausted      = "escalation_exhausted" // every step, repeat and the fallback ran
	EventEscalated      = "escalated"            // someone ran the next step now
	EventReassigned     = "reassigned"           // someone paged a named user or rotation
	EventPageDelivered  = "page_delivered"       // a notifier took the page
	EventPageFailed     = "page_failed"          // a notifier refused it for good, or delivery gave up (dead letter)
	EventPolicyNotFound = "escalation_policy_not_found"
	EventPageWaiting    = "page_waiting"        // a page waits: retry, throttled, circuit open (Message says until when)
	EventPageFailover   = "page_failover"       // a failed page goes to the person's next contact, or the next step runs now
	EventHeld           = "escalation_held"     // a due step's pages are held back (silence, maintenance, …); Message says why and until when
	EventReleased       = "escalation_released" // what held the pages ended: the step runs now
	EventFlapping       = "flapping"            // an alert changed state too often: one page, then quiet
	EventFlapEnded      = "flapping_ended"      // stable again: paging resumes, or the incident resolves

	// People's work on an incident (issue 9: declared incidents, roles,
	// postmortems, follow-ups).
	EventDeclared     = "declared"      // a person opened the incident by hand (no alert)
	EventRoleAssigned = "role_assigned" // Role: who holds a role now
	EventStatusUpdate = "status_update" // Message: a status update, also sent to stakeholders
	EventImpactSet    = "impact_set"    // Impact: the customer-impact window, as a person set it
	EventPostmortem   = "postmortem"    // Postmortem: required, draft, done
	EventFollowUp     = "follow_up"     // FollowUp: a follow-up added, changed or done
)

// TimelineEvents lists every timeline event type.
var TimelineEvents = []string{
	EventTriggered, EventAlertAdded, EventAlertResolved, EventAlertRefired,
	EventAcknowledged, EventResolved, EventReopened, EventNote, EventTruncated,
	EventNoPolicy, EventPaged, EventStepSkipped, EventExhausted, EventEscalated,
	EventReassigned, EventPageDelivered, EventPageFailed, EventPolicyNotFound,
	EventPageWaiting, EventPageFailover, EventHeld, EventReleased, EventFlapping, EventFlapEnded,
	EventDeclared, EventRoleAssigned, EventStatusUpdate, EventImpactSet, EventPostmortem, EventFollowUp,
}

// TimelineEntry is one thing that happened to an incident.
type TimelineEntry struct {
	At      time.Time `json:"at"`
	Type    string    `json:"type"`
	Actor   string    `json:"actor"`
	Alert   string    `json:"alert,omitempty"`
	Message string    `json:"message,omitempty"`
	// Page describes the page of a paged, page_delivered or page_failed entry.
	Page *PageEntry `json:"page,omitempty"`
	// Role, Impact, Postmortem and FollowUp carry what people record on a
	// declared or worked incident (the entries of those types).
	Role       *RoleEntry       `json:"role,omitempty"`
	Impact     *ImpactEntry     `json:"impact,omitempty"`
	Postmortem *PostmortemEntry `json:"postmortem,omitempty"`
	FollowUp   *FollowUpEntry   `json:"follow_up,omitempty"`
}

// RoleEntry is a role handed to a person: "commander", "communications".
// User "" takes the role from whoever held it.
type RoleEntry struct {
	Role string `json:"role"`
	User string `json:"user"`
}

// ImpactEntry is the customer-impact window a person set; a zero End
// means the impact has not ended (or ends with the resolve).
type ImpactEntry struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
}

// PostmortemEntry is the postmortem's state as of the entry: required (by
// a rule, due by Due), draft, or done at DoneAt; Link is the document.
type PostmortemEntry struct {
	Status string    `json:"status"`
	Link   string    `json:"link,omitempty"`
	Due    time.Time `json:"due,omitzero"`
	DoneAt time.Time `json:"done_at,omitzero"`
}

// FollowUpEntry is a follow-up action as of the entry: each entry of one
// ID replaces the previous (added, changed, done).
type FollowUpEntry struct {
	ID     string    `json:"id"`
	Title  string    `json:"title"`
	Owner  string    `json:"owner,omitempty"`
	Due    time.Time `json:"due,omitzero"`
	Link   string    `json:"link,omitempty"`
	Done   bool      `json:"done"`
	DoneAt time.Time `json:"done_at,omitzero"`
}

// PageEntry is one page as the timeline shows it: who, through what, at
// which step, and (on delivery entries) how delivery went.
type PageEntry struct {
	Key      string `json:"key"`
	User     string `json:"user,omitempty"`
	Notifier string `json:"notifier"`
	Step     int    `json:"step"`
	Repeat   int    `json:"repeat"`
	Reason   string `json:"reason,omitempty"`
	// Error is why delivery failed (page_failed only).
	Error string `json:"error,omitempty"`
	// Attempts counts delivery attempts (delivery entries only).
	Attempts int `json:"attempts,omitempty"`
	// Kind is "resolved" for a resolution notice; empty for a page.
	Kind string `json:"kind,omitempty"`
	// Digest, on a page_delivered entry, is how many pages the digest
	// message that carried this one stood for (0: it went alone).
	Digest int `json:"digest,omitempty"`
}

// IncidentFilter selects incidents to list. Zero fields select everything.
type IncidentFilter struct {
	Status  IncidentStatus
	Service string
	// Since and Until bound triggered_at (inclusive).
	Since, Until time.Time
	// Limit caps the page (default 50, at most MaxListLimit).
	Limit int
	// Cursor continues a previous listing (its NextCursor).
	Cursor string
}

// IncidentPage is one page of a listing, newest first.
type IncidentPage struct {
	Incidents  []Incident
	NextCursor string
}

// MaxListLimit caps a page of incidents.
const MaxListLimit = 500
