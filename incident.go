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

	// Alerts and Timeline are filled only when one incident is fetched.
	Alerts   []IncidentAlert `json:"alerts,omitempty"`
	Timeline []TimelineEntry `json:"timeline,omitempty"`
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
)

// TimelineEvents lists every timeline event type.
var TimelineEvents = []string{
	EventTriggered, EventAlertAdded, EventAlertResolved, EventAlertRefired,
	EventAcknowledged, EventResolved, EventReopened, EventNote, EventTruncated,
}

// TimelineEntry is one thing that happened to an incident.
type TimelineEntry struct {
	At      time.Time `json:"at"`
	Type    string    `json:"type"`
	Actor   string    `json:"actor"`
	Alert   string    `json:"alert,omitempty"`
	Message string    `json:"message,omitempty"`
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
