package config

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/alertgate/alertgate/schedule"
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
	// PasswordHash, a bcrypt hash (alertgate hash-password), lets the user
	// log in (access.go); Admin gives their sessions the admin scope.
	PasswordHash     Secret `yaml:"password_hash"`
	PasswordHashFile string `yaml:"password_hash_file"`
	Admin            bool   `yaml:"admin"`
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

// Limits of an escalation policy.
const (
	// MaxRepeat bounds repeat: a policy of one 5-minute step repeated 100
	// times already pages for over eight hours.
	MaxRepeat = 100
)

// DisplayName is how pages and the console name the user: Name, or the id
// when Name is empty.
func (u User) DisplayName() string {
	if u.Name == "" {
		return u.ID
	}
	return u.Name
}

// DisplayName is how pages and the console name the team: Name, or the id
// when Name is empty.
func (t Team) DisplayName() string {
	if t.Name == "" {
		return t.ID
	}
	return t.Name
}

// Schedule converts the rotation into the form package schedule computes
// with: its zone loaded, each layer's start, shift and restrictions parsed.
// A rotation that passed Validate always converts; the error is for a
// Rotation built in code.
func (r *Rotation) Schedule() (*schedule.Rotation, error) {
	loc, err := LoadZone(r.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("rotation %s: time_zone: %w", r.ID, err)
	}
	out := &schedule.Rotation{ID: r.ID, Location: loc, Layers: make([]schedule.Layer, 0, len(r.Layers))}
	for i := range r.Layers {
		l, err := r.Layers[i].schedule()
		if err != nil {
			return nil, fmt.Errorf("rotation %s: layers[%d]: %w", r.ID, i, err)
		}
		out.Layers = append(out.Layers, l)
	}
	return out, nil
}

// schedule converts one layer; errors name the field at fault.
func (l *Layer) schedule() (schedule.Layer, error) {
	if len(l.Participants) == 0 {
		// The layer hands shift k to participant k mod n.
		return schedule.Layer{}, errors.New("participants: none")
	}
	start, err := parseStart(l.Start)
	if err != nil {
		return schedule.Layer{}, fmt.Errorf("start: %w", err)
	}
	shift, err := parseShift(l.Shift)
	if err != nil {
		return schedule.Layer{}, fmt.Errorf("shift: %w", err)
	}
	out := schedule.Layer{
		Name:         l.Name,
		Participants: slices.Clone(l.Participants),
		Start:        start,
		Shift:        shift,
	}
	for i := range l.Restrictions {
		r, err := l.Restrictions[i].Restriction()
		if err != nil {
			return schedule.Layer{}, fmt.Errorf("restrictions[%d]: %w", i, err)
		}
		out.Restrictions = append(out.Restrictions, r)
	}
	return out, nil
}

// Restriction converts the window into package schedule's form, for layer
// restrictions and a user's working hours alike. A window that passed
// Validate always converts.
func (w *Window) Restriction() (schedule.Restriction, error) {
	if len(w.Days) == 0 {
		return schedule.Restriction{}, errors.New("days: " + msgNoDays)
	}
	days := make([]time.Weekday, 0, len(w.Days))
	for i, name := range w.Days {
		d, err := parseDay(name)
		if err != nil {
			return schedule.Restriction{}, fmt.Errorf("days[%d]: %w", i, err)
		}
		if slices.Contains(days, d) {
			return schedule.Restriction{}, fmt.Errorf("days[%d]: %q is listed twice", i, name)
		}
		days = append(days, d)
	}
	from, err := parseFrom(w.From)
	if err != nil {
		return schedule.Restriction{}, fmt.Errorf("from: %w", err)
	}
	to, err := parseClock(w.To)
	if err != nil {
		return schedule.Restriction{}, fmt.Errorf("to: %w", err)
	}
	return schedule.Restriction{Days: days, From: from, To: to}, nil
}

// LoadZone loads the IANA time zone name. Unlike time.LoadLocation it
// refuses "" and "Local": both mean the server's own zone, so handoffs
// would move whenever alertgate moved to a server set up differently (most
// containers run in UTC).
func LoadZone(name string) (*time.Location, error) {
	switch name {
	case "":
		return nil, errors.New(`no time zone: name an IANA zone such as "Europe/London" or "UTC"`)
	case "Local":
		return nil, errors.New(`"Local" is the server's own zone: name an IANA zone such as "Europe/London" or "UTC"`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf(`%q is not an IANA time zone (names are case-sensitive, such as "Europe/London", "America/New_York" or "UTC")`, name)
	}
	return loc, nil
}

// days maps the day names of the config to weekdays.
var days = map[string]time.Weekday{
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
	"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
}

const (
	dayList   = "mon, tue, wed, thu, fri, sat, sun"
	msgNoDays = "at least one day is required, such as [mon, tue, wed, thu, fri]"
)

func parseDay(name string) (time.Weekday, error) {
	d, ok := days[name]
	if !ok {
		return 0, fmt.Errorf("%q is not a day: use %s", name, dayList)
	}
	return d, nil
}

// parseClock is schedule.ParseClock with a clearer word for a missing time.
func parseClock(s string) (schedule.Clock, error) {
	if s == "" {
		return 0, errors.New(`required: a time of day HH:MM, such as "09:00"`)
	}
	return schedule.ParseClock(s)
}

// parseFrom parses the start of a window, which must be a time within the
// day: a window from "24:00" on Monday would really start on Tuesday.
func parseFrom(s string) (schedule.Clock, error) {
	c, err := parseClock(s)
	if err != nil {
		return 0, err
	}
	if c == 24*60 {
		return 0, errors.New(`"24:00" is the end of a day: start the window at "00:00" on the next day instead`)
	}
	return c, nil
}

func parseStart(s string) (schedule.Civil, error) {
	if s == "" {
		return schedule.Civil{}, errors.New(`required: when the first shift begins, a local time in the rotation's zone such as "2026-03-02T09:00"`)
	}
	return schedule.ParseCivil(s)
}

func parseShift(s string) (schedule.Shift, error) {
	if s == "" {
		return schedule.Shift{}, errors.New("required: the length of one shift, such as 12h, 1d or 1w")
	}
	return schedule.ParseShift(s)
}
