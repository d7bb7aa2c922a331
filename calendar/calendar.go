// Package calendar writes iCalendar files (RFC 5545) of timed events, such
// as the shifts of an on-call rotation, for people to subscribe to from
// Google Calendar, Outlook or Apple Calendar.
//
// # What Write produces
//
// One VCALENDAR with METHOD:PUBLISH (a read-only feed, not a meeting
// invitation), VERSION:2.0, PRODID, CALSCALE:GREGORIAN, the calendar's name
// as X-WR-CALNAME and NAME (RFC 7986), and its zone as X-WR-TIMEZONE.
// Lines end in CRLF and are folded at 75 octets, never inside a UTF-8
// sequence. TEXT values escape backslash, semicolon, comma and newlines;
// other control characters, which TEXT does not allow, are dropped, and
// invalid UTF-8 becomes U+FFFD.
//
// Each event is a VEVENT with the caller's UID, a DTSTAMP (the Calendar's
// Stamp, in UTC; never the clock, so the same schedule gives the same
// bytes), DTSTART and DTEND, SUMMARY and DESCRIPTION when set, and TRANSP.
// Times are whole seconds: anything finer is truncated.
//
// # Time zones
//
// A calendar in UTC writes every time as UTC ("20260302T140000Z") and has
// no VTIMEZONE. A calendar in any other zone writes times as local wall
// times of that zone ("DTSTART;TZID=America/New_York:20260302T090000"), so
// a client shows a 09:00 handoff at 09:00 on both sides of a DST change,
// and adds one VTIMEZONE for the zone, generated from Go's time zone data.
// The VTIMEZONE lists, without RRULEs, one STANDARD or DAYLIGHT observance
// for every period of the zone's offset that the events touch, from the
// one in force at the earliest start to the one in force at the latest
// end, each with its onset (DTSTART, in the wall time before the change),
// TZOFFSETFROM, TZOFFSETTO and TZNAME. Explicit observances are always
// right, whatever the zone's rules were in a given year, which a recurrence
// rule is not. A zone that never changes offset gets one STANDARD
// observance starting 1970-01-01. The TZID is the zone's IANA name, which
// Google Calendar and Outlook recognise; clients that do not use the
// VTIMEZONE.
//
// RFC 5545 reads a wall time that occurs twice (the hour repeated when
// clocks go back) as its first occurrence. An instant in the second
// occurrence is therefore written in UTC instead, so it cannot be read an
// hour early. Wall times in a spring-forward gap never arise: every time
// written is an instant converted to the zone.
//
// A calendar with no events is still valid: RFC 5545 requires at least
// one component, so it carries the VTIMEZONE of its zone (UTC included)
// around Stamp.
package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ProdID names alertgate as the product that wrote the calendar.
const ProdID = "-//alertgate//alertgate calendar//EN"

// Event is one timed event.
type Event struct {
	// UID identifies the event across exports: clients update an event
	// whose UID they know and add one whose UID they do not, so it must be
	// stable (the same shift gets the same UID in every export) and unique
	// in the world, e.g. "<rotation>/<start in UTC>@<host>".
	UID         string
	Summary     string
	Description string
	// Start and End bound the event, End after Start.
	Start, End time.Time
	// Busy shows the event as busy time (TRANSP:OPAQUE) in free/busy
	// lookups. By default it is free time (TRANSP:TRANSPARENT), so a week
	// on call does not make its person look unavailable for meetings.
	Busy bool
}

// Calendar is what Write writes.
type Calendar struct {
	// Name is shown as the calendar's name by clients that subscribe to it.
	Name string
	// Location is the zone times are written in; nil is UTC. It needs an
	// IANA name (time.LoadLocation's), not time.Local.
	Location *time.Location
	// Stamp is when the calendar was made: every event's DTSTAMP.
	Stamp time.Time
	// Refresh, when set, suggests how often a subscribed client should
	// fetch the calendar again (REFRESH-INTERVAL and Outlook's
	// X-PUBLISHED-TTL). Clients are free to ignore it, and Google does.
	Refresh time.Duration
	Events  []Event
}

// Write writes c as an iCalendar file. It checks c first and writes
// nothing when c cannot be written (an event without UID, with two events
// of one UID, an End not after its Start, a zone without an IANA name, a
// zero Stamp, a year outside 0000–9999), so an HTTP handler can still
// answer with an error.
func Write(w io.Writer, c Calendar) error {
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	if err := c.check(loc); err != nil {
		return err
	}
	var out lines
	out.prop("BEGIN", "VCALENDAR")
	out.prop("VERSION", "2.0")
	out.prop("PRODID", escapeText(ProdID))
	out.prop("CALSCALE", "GREGORIAN")
	out.prop("METHOD", "PUBLISH")
	out.text("X-WR-CALNAME", c.Name)
	out.text("NAME", c.Name)
	out.prop("X-WR-TIMEZONE", loc.String())
	if c.Refresh > 0 {
		out.prop("REFRESH-INTERVAL;VALUE=DURATION", formatDuration(c.Refresh))
		out.prop("X-PUBLISHED-TTL", formatDuration(c.Refresh))
	}
	utc := isUTC(loc)
	switch {
	case len(c.Events) == 0:
		writeZone(&out, loc, c.Stamp, c.Stamp)
	case !utc:
		lo, hi := span(c.Events)
		writeZone(&out, loc, lo, hi)
	}
	for _, e := range c.Events {
		out.prop("BEGIN", "VEVENT")
		out.prop("UID", escapeText(e.UID))
		out.prop("DTSTAMP", formatUTC(c.Stamp))
		out.prop(dateTime("DTSTART", e.Start, loc, utc))
		out.prop(dateTime("DTEND", e.End, loc, utc))
		out.text("SUMMARY", e.Summary)
		out.text("DESCRIPTION", e.Description)
		if e.Busy {
			out.prop("TRANSP", "OPAQUE")
		} else {
			out.prop("TRANSP", "TRANSPARENT")
		}
		out.prop("END", "VEVENT")
	}
	out.prop("END", "VCALENDAR")
	_, err := w.Write(out.Bytes())
	return err
}

func (c Calendar) check(loc *time.Location) error {
	if err := checkZoneName(loc); err != nil {
		return err
	}
	if c.Stamp.IsZero() {
		return errors.New("calendar: Stamp is not set")
	}
	if err := checkYear("Stamp", c.Stamp.UTC()); err != nil {
		return err
	}
	if c.Refresh < 0 {
		return fmt.Errorf("calendar: Refresh %v is negative", c.Refresh)
	}
	seen := make(map[string]int, len(c.Events))
	for i, e := range c.Events {
		what := fmt.Sprintf("event %d (%q)", i, e.UID)
		if e.UID == "" {
			return fmt.Errorf("calendar: event %d has no UID", i)
		}
		if j, dup := seen[e.UID]; dup {
			return fmt.Errorf("calendar: events %d and %d have the same UID %q; clients would show only one", j, i, e.UID)
		}
		seen[e.UID] = i
		if e.Start.IsZero() {
			return fmt.Errorf("calendar: %s has no Start", what)
		}
		if !e.End.After(e.Start) {
			return fmt.Errorf("calendar: %s ends at %s, not after its start %s", what, e.End.Format(time.RFC3339), e.Start.Format(time.RFC3339))
		}
		for _, t := range []time.Time{e.Start, e.End} {
			for _, in := range []time.Time{t.UTC(), t.In(loc)} {
				if err := checkYear(what, in); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkYear(what string, t time.Time) error {
	if y := t.Year(); y < 0 || y > 9999 {
		return fmt.Errorf("calendar: %s is in the year %d; iCalendar has four-digit years", what, y)
	}
	return nil
}

// checkZoneName refuses zones a client could not name: time.Local (its
// name is "Local") and names that are not IANA-like, which could also
// break the TZID parameter's syntax.
func checkZoneName(loc *time.Location) error {
	name := loc.String()
	if name == "" || name == "Local" {
		return fmt.Errorf("calendar: zone %q has no IANA name; load it with time.LoadLocation", name)
	}
	for _, r := range name {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-.", r)) {
			return fmt.Errorf("calendar: zone %q is not an IANA zone name", name)
		}
	}
	return nil
}

// span is the earliest start and the latest end of events.
func span(events []Event) (lo, hi time.Time) {
	lo, hi = events[0].Start, events[0].End
	for _, e := range events[1:] {
		if e.Start.Before(lo) {
			lo = e.Start
		}
		if e.End.After(hi) {
			hi = e.End
		}
	}
	return lo, hi
}

const (
	localLayout = "20060102T150405"
	utcLayout   = "20060102T150405Z"
)

func formatUTC(t time.Time) string { return t.UTC().Format(utcLayout) }

// dateTime is the content line of a DATE-TIME property: a wall time of
// loc with its TZID, or UTC in a UTC calendar and for the second
// occurrence of a repeated wall time (see the package doc).
func dateTime(name string, t time.Time, loc *time.Location, utc bool) (string, string) {
	t = t.Truncate(time.Second)
	if utc || !firstOccurrence(t.In(loc)) {
		return name, formatUTC(t)
	}
	return name + ";TZID=" + loc.String(), t.In(loc).Format(localLayout)
}

// firstOccurrence reports whether t is the first instant that shows t's
// wall time in t's zone.
func firstOccurrence(t time.Time) bool {
	naive := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC).Unix()
	// Offset changes are days apart, so the offsets in force a day and a
	// half either side are all a wall time near t can have.
	for _, probe := range []time.Time{t.Add(-36 * time.Hour), t.Add(36 * time.Hour)} {
		_, off := probe.Zone()
		u := naive - int64(off)
		if _, o := time.Unix(u, 0).In(t.Location()).Zone(); o == off && u < t.Unix() {
			return false
		}
	}
	return true
}

// formatDuration writes d, in whole seconds, as an iCalendar DURATION.
func formatDuration(d time.Duration) string {
	s := int64(d / time.Second)
	if s < 1 {
		s = 1
	}
	var b strings.Builder
	b.WriteString("PT")
	if h := s / 3600; h > 0 {
		fmt.Fprintf(&b, "%dH", h)
	}
	if m := s / 60 % 60; m > 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if sec := s % 60; sec > 0 {
		fmt.Fprintf(&b, "%dS", sec)
	}
	return b.String()
}

// lines collects content lines, folded and CRLF-terminated.
type lines struct{ bytes.Buffer }

// text writes a TEXT property, unless nothing of s is left to write.
func (l *lines) text(name, s string) {
	if v := escapeText(s); v != "" {
		l.prop(name, v)
	}
}

// prop writes the content line "name:value"; name may carry parameters.
func (l *lines) prop(name, value string) {
	l.WriteString(fold(name + ":" + value))
}
