package explain

import (
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/receivers"
)

// Report is the answer of POST /api/v1/explain and `alertgate explain
// --json`; docs/explain.md documents every field. Names are stable.
type Report struct {
	Integration string    `json:"integration"`
	At          time.Time `json:"at"`
	Alerts      []Alert   `json:"alerts"`
	// Notes say what the report could not know or assumed.
	Notes []string `json:"notes"`
}

// Alert is one parsed alert and what happens to it on each route.
type Alert struct {
	Fingerprint       string                     `json:"fingerprint"`
	Key               string                     `json:"key"`
	FingerprintInputs receivers.FingerprintInput `json:"fingerprint_inputs"`
	Status            alertgate.AlertStatus      `json:"status"`
	Labels            map[string]string          `json:"labels"`
	Severity          alertgate.Severity         `json:"severity"`
	Summary           string                     `json:"summary"`
	Routes            []Route                    `json:"routes"`
}

// Route is one route the alert takes (several with continue).
type Route struct {
	Path     []string `json:"path"`
	Route    string   `json:"route"`
	GroupKey string   `json:"group_key"`
	Incident Incident `json:"incident"`
	Holds    Holds    `json:"holds"`
	// Held says why the first page waits (or never comes), as the
	// incident's timeline would; "" when nothing holds it.
	Held             string     `json:"held,omitempty"`
	EscalationPolicy string     `json:"escalation_policy"`
	Repeat           int        `json:"repeat"`
	GroupWait        string     `json:"group_wait"`
	FirstPageAt      *time.Time `json:"first_page_at"`
	Steps            []Step     `json:"steps"`
}

// Incident actions.
const (
	ActionOpen   = "open"
	ActionJoin   = "join"
	ActionReopen = "reopen"
	ActionNone   = "none"
)

// Incident is what the alert does to its group's incident.
type Incident struct {
	Action string `json:"action"`
	ID     string `json:"id,omitempty"`
	// Status of the incident joined or reopened, before the delivery.
	Status alertgate.IncidentStatus `json:"status,omitempty"`
	// Resolves: the delivery resolves the incident's last firing alert,
	// and the route auto-resolves, so the incident resolves.
	Resolves bool `json:"resolves,omitempty"`
}

// Holds is everything that would hold the route's pages back.
type Holds struct {
	// At is the instant the holds are looked at: when the first (or, for
	// an incident joined, the next) step falls due.
	At                 time.Time    `json:"at"`
	Silences           []Silence    `json:"silences"`
	MaintenanceWindows []string     `json:"maintenance_windows"`
	InhibitedBy        []Inhibition `json:"inhibited_by"`
	Flapping           bool         `json:"flapping"`
	Urgency            Urgency      `json:"urgency"`
}

// Silence is a silence that matches the alert.
type Silence struct {
	ID        string    `json:"id"`
	Comment   string    `json:"comment"`
	CreatedBy string    `json:"created_by"`
	EndsAt    time.Time `json:"ends_at"`
}

// Inhibition is a firing alert that inhibits this one, by a rule.
type Inhibition struct {
	Rule         int               `json:"rule"`
	SourceLabels map[string]string `json:"source_labels"`
}

// Urgency is the route's urgency and, for a low one, its support hours.
type Urgency struct {
	Urgency        string     `json:"urgency"`
	InSupportHours bool       `json:"in_support_hours"`
	PagesAt        *time.Time `json:"pages_at,omitempty"`
}

// Step is one step of the escalation policy as it would run.
type Step struct {
	Step int `json:"step"`
	// Turn is a round-robin step's turn (1-based); Repeat the policy's
	// pass (0 first; only a fallback after repeats has another);
	// Fallback marks the policy's fallback target.
	Turn          int       `json:"turn,omitempty"`
	Repeat        int       `json:"repeat,omitempty"`
	Fallback      bool      `json:"fallback,omitempty"`
	At            time.Time `json:"at"`
	Pages         []Page    `json:"pages"`
	SkippedReason string    `json:"skipped_reason,omitempty"`
}

// Page is one person (or channel) a step pages, and why.
type Page struct {
	User     string `json:"user,omitempty"`
	Notifier string `json:"notifier"`
	Address  string `json:"address"`
	Reason   string `json:"reason"`
}
