package calendar

import (
	"fmt"
	"time"
)

// observance is one period of a zone with one offset: a STANDARD or
// DAYLIGHT sub-component of a VTIMEZONE.
type observance struct {
	daylight bool
	name     string
	// onset is when the period began; zero for a zone that never changed.
	onset    time.Time
	from, to int // UTC offsets in seconds before and during the period
}

// noOnset is the DTSTART of an observance that has no known beginning
// (the only one of a zone that never changes offset): any time before the
// events will do, and 1970 is what clients expect.
var noOnset = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// isUTC reports whether loc is UTC under any name: offset zero, never
// changed. Its times are written with a "Z" and it needs no VTIMEZONE.
func isUTC(loc *time.Location) bool {
	t := time.Unix(0, 0).In(loc)
	start, end := t.ZoneBounds()
	_, off := t.Zone()
	return off == 0 && start.IsZero() && end.IsZero()
}

// observances lists the periods of loc in force at some instant of
// [lo, hi], in order.
func observances(loc *time.Location, lo, hi time.Time) []observance {
	var out []observance
	for t := lo.In(loc); ; {
		start, end := t.ZoneBounds()
		name, off := t.Zone()
		o := observance{daylight: t.IsDST(), name: name, onset: start, from: off, to: off}
		if !start.IsZero() {
			_, o.from = start.Add(-time.Second).Zone()
		}
		out = append(out, o)
		if end.IsZero() || end.After(hi) {
			return out
		}
		t = end
	}
}

// writeZone writes the VTIMEZONE of loc covering [lo, hi].
func writeZone(out *lines, loc *time.Location, lo, hi time.Time) {
	out.prop("BEGIN", "VTIMEZONE")
	out.prop("TZID", loc.String())
	// libical-based clients (Evolution, Thunderbird) look the zone up by
	// this name when they know it.
	out.prop("X-LIC-LOCATION", loc.String())
	for _, o := range observances(loc, lo, hi) {
		kind := "STANDARD"
		if o.daylight {
			kind = "DAYLIGHT"
		}
		out.prop("BEGIN", kind)
		if o.onset.IsZero() {
			onset := noOnset
			if wall := wallDate(lo.In(loc)); wall.Before(onset) {
				onset = wall
			}
			out.prop("DTSTART", onset.Format(localLayout))
		} else {
			// An observance's onset is the wall time just before the
			// change, in the offset it changes from.
			out.prop("DTSTART", o.onset.In(time.FixedZone("", o.from)).Format(localLayout))
		}
		out.prop("TZOFFSETFROM", formatOffset(o.from))
		out.prop("TZOFFSETTO", formatOffset(o.to))
		if o.name != "" {
			out.prop("TZNAME", escapeText(o.name))
		}
		out.prop("END", kind)
	}
	out.prop("END", "VTIMEZONE")
}

// formatOffset writes a UTC offset as ±hhmm, or ±hhmmss for the odd
// historical offset with seconds. RFC 5545 forbids "-0000".
func formatOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	if s != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, h, m, s)
	}
	return fmt.Sprintf("%c%02d%02d", sign, h, m)
}

// wallDate is the midnight that starts t's wall date, as a zoneless time.
func wallDate(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
