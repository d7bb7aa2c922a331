// Package schedule is the arithmetic of on-call: rotations made of layers
// (participants handing over every shift, masked by restrictions), with
// overrides on top. Everything here is a pure function of a Rotation, its
// overrides and an instant: no clock, no I/O, so every answer can be tested
// to the minute across DST changes.
//
// # Wall times that do not exist or exist twice
//
// A rotation's handoffs and restriction windows are wall times in its zone.
// When a DST change makes a wall time ambiguous, Civil.In resolves it by one
// rule (the one java.time uses):
//
//   - a time in a spring-forward gap (02:30 on the night New York skips from
//     02:00 to 03:00) moves forward by the length of the gap (03:30 EDT);
//   - a time that a fall-back change repeats (01:30 on the night New York
//     goes from 02:00 back to 01:00) is its first occurrence (01:30 EDT).
package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Clock is a wall-clock time of day in minutes since midnight, 0 to 1440
// (1440 is "24:00", the end of a day).
type Clock int

// ParseClock reads "HH:MM", 00:00 to 24:00.
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(s, ":")
	// Digits only: strconv.Atoi alone would take "+1:30" for 01:30.
	if !ok || len(h) != 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day between 00:00 and 24:00", s)
	}
	return Clock(hh*60 + mm), nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// String formats the clock as HH:MM.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Civil is a wall time without a zone: a date and a time of day.
type Civil struct {
	Year   int
	Month  time.Month
	Day    int
	Hour   int
	Minute int
}

// CivilLayout is how a Civil is written: "2026-03-02T09:00".
const CivilLayout = "2006-01-02T15:04"

// ParseCivil reads a wall time "2006-01-02T15:04".
func ParseCivil(s string) (Civil, error) {
	t, err := time.Parse(CivilLayout, s)
	if err != nil {
		return Civil{}, fmt.Errorf("%q is not a local time like 2026-03-02T09:00", s)
	}
	return CivilOf(t), nil
}

// CivilOf is the wall time of t in t's location.
func CivilOf(t time.Time) Civil {
	return Civil{t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute()}
}

// String formats the wall time as CivilLayout.
func (c Civil) String() string {
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d", c.Year, int(c.Month), c.Day, c.Hour, c.Minute)
}

// AddDays is the wall time n calendar days later (same time of day).
func (c Civil) AddDays(n int) Civil {
	t := time.Date(c.Year, c.Month, c.Day+n, c.Hour, c.Minute, 0, 0, time.UTC)
	return CivilOf(t)
}

// In is the instant of the wall time in loc, resolving gaps and overlaps by
// the package's rule (see the package doc). Go's time.Date leaves the
// choice unspecified, so the rule is applied here explicitly.
func (c Civil) In(loc *time.Location) time.Time {
	naive := time.Date(c.Year, c.Month, c.Day, c.Hour, c.Minute, 0, 0, time.UTC).Unix()
	// Transitions are never closer than a couple of days, so the offsets in
	// force 36 hours either side are the only candidates.
	_, before := time.Unix(naive-36*3600, 0).In(loc).Zone()
	_, after := time.Unix(naive+36*3600, 0).In(loc).Zone()
	best := int64(0)
	found := false
	for i, off := range []int{before, after} {
		if i == 1 && off == before {
			break // no change nearby: one candidate, already tried
		}
		u := naive - int64(off)
		if _, o := time.Unix(u, 0).In(loc).Zone(); o == off && (!found || u < best) {
			best, found = u, true
		}
	}
	if !found {
		// In a gap: keep the offset of before the gap, which lands as far
		// after the gap's start as the wall time is.
		best = naive - int64(before)
	}
	return time.Unix(best, 0).In(loc)
}

// Unit is what a shift length counts.
type Unit int

const (
	Hours Unit = iota // elapsed hours
	Days              // calendar days: handoffs keep the local time of day
	Weeks             // calendar weeks: handoffs keep the local time of day
)

// Shift is the length of one shift: N hours, days or weeks.
type Shift struct {
	N    int
	Unit Unit
}

// ParseShift reads "Nh", "Nd" or "Nw" with N ≥ 1.
func ParseShift(s string) (Shift, error) {
	if len(s) < 2 {
		return Shift{}, fmt.Errorf("%q is not a shift length like 12h, 1d or 1w", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || s[0] == '+' || s[0] == '-' {
		return Shift{}, fmt.Errorf("%q is not a shift length like 12h, 1d or 1w", s)
	}
	var u Unit
	switch s[len(s)-1] {
	case 'h':
		u = Hours
	case 'd':
		u = Days
	case 'w':
		u = Weeks
	default:
		return Shift{}, fmt.Errorf("%q is not a shift length like 12h, 1d or 1w", s)
	}
	if n < 1 {
		return Shift{}, errors.New("a shift must be at least 1" + s[len(s)-1:])
	}
	if n > 10000 {
		return Shift{}, fmt.Errorf("%q is longer than anyone's shift", s)
	}
	return Shift{N: n, Unit: u}, nil
}

// String formats the shift as it is written in the config.
func (s Shift) String() string {
	return strconv.Itoa(s.N) + [...]string{"h", "d", "w"}[s.Unit]
}

// Restriction is a set of windows the layer is on call in: one window
// starting at From on each of Days, ending at To (on the next day when To
// is not after From; From == To is a whole 24 hours).
type Restriction struct {
	Days     []time.Weekday
	From, To Clock
}

// Layer is one set of participants handing over every Shift from Start.
// Shift k (k = 0, 1, …) begins at Start + k × Shift and belongs to
// Participants[k mod n]; before Start the layer has nobody. Restrictions,
// when present, mask the layer: it is on call only inside their windows.
type Layer struct {
	Name         string
	Participants []string
	Start        Civil
	Shift        Shift
	Restrictions []Restriction
}

// Rotation is a stack of layers in one time zone: a later layer wins
// wherever it has someone on call, and an earlier one shows through where
// it has nobody. A nil Location is UTC.
type Rotation struct {
	ID       string
	Location *time.Location
	Layers   []Layer
}

// Override puts User on call in a rotation from Start to End: in place of
// Replaces only while the layers would have Replaces on call (other
// overrides do not count), or over the whole rotation, even where nobody
// was on call, when Replaces is "". Where several would apply, the one with
// the latest CreatedAt wins; on a tie, the later in the list. Overrides
// without a User, ending no later than they start, or naming another
// Rotation (an empty Rotation is taken as the one asked about) are
// ignored.
type Override struct {
	ID        string    `json:"id"`
	Rotation  string    `json:"rotation"`
	User      string    `json:"user"`
	Replaces  string    `json:"replaces,omitempty"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Comment   string    `json:"comment,omitempty"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Span is one stretch of time with one person on call (User "" is nobody).
// Override names the override that put User there, if any.
type Span struct {
	User     string    `json:"user"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Override string    `json:"override,omitempty"`
}

// Horizon bounds how far OnCall looks back for the start of the current
// span and ahead for its end and the next span: 366 days of elapsed time.
const Horizon = 366 * 24 * time.Hour
