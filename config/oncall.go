package config

import (
	"time"
)

// User is a person who can be paged.
type User struct {
	// ID follows the rules of integration names.
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// TimeZone is an IANA zone name; it places WorkingHours.
	TimeZone string `yaml:"time_zone"`
	// WorkingHours, optional, say when paging the user is not out of hours.
	WorkingHours *Window `yaml:"working_hours"`
	// Contacts are tried in order of preference.
	Contacts []Contact `yaml:"contacts"`
}

// Window is a weekly window: from From to To (past midnight when To is not
// after From) starting on each of Days ("mon" … "sun").
type Window struct {
	Days []string `yaml:"days"`
	From string   `yaml:"from"`
	To   string   `yaml:"to"`
}

// Contact is one way to reach a user: a notifier and the address it sends to.
type Contact struct {
	Notifier string `yaml:"notifier"`
	Address  string `yaml:"address"`
}

// NotifierConsole is the built-in notifier that prints pages to standard output.
const NotifierConsole = "console"

// Team is a named group of users; a policy step targeting it pages every member.
type Team struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`
	Members []string `yaml:"members"`
}

// Rotation is who is on call for a team: layers in the rotation's zone,
// a later layer winning wherever it has someone on call.
type Rotation struct {
	ID       string  `yaml:"id"`
	Team     string  `yaml:"team"`
	TimeZone string  `yaml:"time_zone"`
	Layers   []Layer `yaml:"layers"`
}

// Layer is one rota of participants handing over every shift.
type Layer struct {
	Name         string   `yaml:"name"`
	Participants []string `yaml:"participants"`
	// Start is a local wall time in the rotation's zone: "2026-03-02T09:00".
	Start string `yaml:"start"`
	// Shift is "Nh" (elapsed hours), "Nd" or "Nw" (calendar days or weeks).
	Shift string `yaml:"shift"`
	// Restrictions, optional, mask the layer: on call only inside them.
	Restrictions []Window `yaml:"restrictions"`
}

// EscalationPolicy is what happens to an incident until someone owns it.
type EscalationPolicy struct {
	ID string `yaml:"id"`
	// Repeat runs the whole policy this many more times after the last step.
	Repeat int    `yaml:"repeat"`
	Steps  []Step `yaml:"steps"`
	// Fallback is paged when the incident is still unacknowledged after the
	// last step of the last repeat.
	Fallback *Target `yaml:"fallback"`
}

// Step is one stage of a policy.
type Step struct {
	Targets []Target `yaml:"targets"`
	// RoundRobin pages one target at a time, in turn, instead of all at once.
	RoundRobin bool `yaml:"round_robin"`
	// Delay is how long the step waits for an acknowledgement before the next.
	Delay time.Duration `yaml:"delay"`
}

// Target is whom a step pages: exactly one of its fields is set.
type Target struct {
	User     string `yaml:"user"`
	Team     string `yaml:"team"`
	Rotation string `yaml:"rotation"`
	// Notifier pages a notifier directly (a team channel); the paging issue
	// brings notifiers that can take it.
	Notifier string `yaml:"notifier"`
}
