package schedule

import (
	"slices"
	"time"
)

// The arithmetic of one layer: where its handoffs fall, whose shift an
// instant is in, and where its restriction windows are.

// computable reports whether l describes a rota at all. Config validation
// refuses the rest; here they simply have nobody on call, so that no input
// can make the escalation engine divide by zero or panic.
func (l *Layer) computable() bool {
	return len(l.Participants) > 0 && l.Shift.N >= 1 && l.Shift.Unit >= Hours && l.Shift.Unit <= Weeks
}

// nominal is the length of one shift in seconds, ignoring DST: exact for
// Nh, and within a DST change of the truth for Nd and Nw.
func (l *Layer) nominal() int64 {
	n := int64(l.Shift.N)
	switch l.Shift.Unit {
	case Hours:
		return n * 3600
	case Days:
		return n * 86400
	default:
		return n * 7 * 86400
	}
}

// handoff is the instant shift k begins; s0 is handoff 0 (l.Start.In(loc)).
func (l *Layer) handoff(k int, s0 time.Time, loc *time.Location) time.Time {
	switch l.Shift.Unit {
	case Hours:
		// Whole seconds from Unix, not Duration: a Duration overflows after
		// 292 years of handoffs and the engine must never see that.
		return time.Unix(s0.Unix()+int64(k)*l.nominal(), 0).In(loc)
	case Days:
		return l.Start.AddDays(k * l.Shift.N).In(loc)
	default:
		return l.Start.AddDays(k * 7 * l.Shift.N).In(loc)
	}
}

// index is the shift t is in: the largest k with handoff(k) ≤ t, for t ≥ s0.
// It is estimated from the elapsed time and then corrected, so it costs a
// few handoff computations however far t is from the start.
func (l *Layer) index(t, s0 time.Time, loc *time.Location) int {
	k := int((t.Unix() - s0.Unix()) / l.nominal())
	if l.Shift.Unit == Hours {
		// Exact: t.Unix() is t floored to the second and handoffs are on
		// whole seconds.
		return k
	}
	// A calendar shift differs from its nominal length by at most a DST
	// change, which is less than one shift, so the estimate is off by at
	// most one. The bounded loops keep an absurd input from spinning.
	for range 4 {
		if k > 0 && l.handoff(k, s0, loc).After(t) {
			k--
		} else if !l.handoff(k+1, s0, loc).After(t) {
			k++
		} else {
			break
		}
	}
	return k
}

// participant is whose shift k is.
func (l *Layer) participant(k int) string { return l.Participants[k%len(l.Participants)] }

// at is who l has on call at t, "" for nobody.
func (l *Layer) at(t time.Time, loc *time.Location) string {
	if !l.computable() {
		return ""
	}
	s0 := l.Start.In(loc)
	if t.Before(s0) {
		return ""
	}
	if len(l.Restrictions) > 0 && !l.inWindow(t, loc) {
		return ""
	}
	return l.participant(l.index(t, s0, loc))
}

// spans is l's on-call time in [from, to): one span per shift, cut by the
// restriction windows, not joined.
func (l *Layer) spans(from, to time.Time, loc *time.Location) []Span {
	if !l.computable() {
		return nil
	}
	s0 := l.Start.In(loc)
	lo := later(from, s0)
	if !lo.Before(to) {
		return nil
	}
	k := l.index(lo, s0, loc)
	var out []Span
	for h := l.handoff(k, s0, loc); h.Before(to); k++ {
		next := l.handoff(k+1, s0, loc)
		out = append(out, Span{User: l.participant(k), Start: later(h, lo), End: earlier(next, to)})
		h = next
	}
	if len(l.Restrictions) > 0 {
		out = mask(out, l.windows(lo, to, loc))
	}
	return out
}

// interval is [start, end).
type interval struct{ start, end time.Time }

// Which windows can hold an instant whose wall date is D: a window starting
// on date d covers wall times of d and d+1 only (it ends by d+2 00:00, the
// end of "24:00-24:00"), so d ≥ D-1; a gap cannot carry the wall clock
// past a window's end. But a fall-back across midnight takes the wall
// clock back a day after a window has begun: Moncton and Goose Bay went
// from 00:01 back to 23:01 every autumn until 2006 and 2010, so a window
// starting Sunday 00:00 then holds instants whose wall date is Saturday:
// d ≤ D+1.
const (
	windowDaysBefore = 1
	windowDaysAfter  = 1
)

// windowOn is restriction rs's window starting on the civil date y-m-d (in
// loc), ok false when that date is not one of rs's days or a DST gap leaves
// the window empty.
func windowOn(rs *Restriction, y int, m time.Month, d int, loc *time.Location) (w interval, ok bool) {
	if !rs.startsOn(y, m, d) {
		return interval{}, false
	}
	w = interval{rs.start(y, m, d, loc), rs.end(y, m, d, loc)}
	// From 02:30 to 03:00 on the night New York skips 02:00–03:00 resolves to
	// 03:30–03:00: nothing that night.
	return w, w.end.After(w.start)
}

// startsOn reports whether one of rs's windows starts on the civil date y-m-d.
func (rs *Restriction) startsOn(y int, m time.Month, d int) bool {
	return slices.Contains(rs.Days, time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday())
}

// start is the instant rs's window starting on y-m-d opens.
func (rs *Restriction) start(y int, m time.Month, d int, loc *time.Location) time.Time {
	return clockOn(y, m, d, rs.From).In(loc)
}

// end is the instant rs's window starting on y-m-d closes.
func (rs *Restriction) end(y int, m time.Month, d int, loc *time.Location) time.Time {
	if rs.To <= rs.From {
		d++
	}
	return clockOn(y, m, d, rs.To).In(loc)
}

// clockOn is the wall time c on the civil date y-m-d; 24:00 and day 32 are
// normalised by Civil.In (through time.Date).
func clockOn(y int, m time.Month, d int, c Clock) Civil {
	return Civil{Year: y, Month: m, Day: d, Hour: int(c) / 60, Minute: int(c) % 60}
}

// inWindow reports whether t is inside one of l's restriction windows.
func (l *Layer) inWindow(t time.Time, loc *time.Location) bool {
	y, m, d := t.In(loc).Date()
	for i := range l.Restrictions {
		rs := &l.Restrictions[i]
		for dd := d - windowDaysBefore; dd <= d+windowDaysAfter; dd++ {
			// The end only when the window has begun: each is a zone lookup
			// or three, and this is the escalation engine's hot path.
			if rs.startsOn(y, m, dd) && !t.Before(rs.start(y, m, dd, loc)) && t.Before(rs.end(y, m, dd, loc)) {
				return true
			}
		}
	}
	return false
}

// windows is the union of l's restriction windows in [from, to), ordered.
func (l *Layer) windows(from, to time.Time, loc *time.Location) []interval {
	y, m, d := from.In(loc).Date()
	first := time.Date(y, m, d-windowDaysBefore, 0, 0, 0, 0, time.UTC)
	ty, tm, td := to.In(loc).Date()
	last := time.Date(ty, tm, td+windowDaysAfter, 0, 0, 0, 0, time.UTC)
	var ws []interval
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		for i := range l.Restrictions {
			if w, ok := windowOn(&l.Restrictions[i], day.Year(), day.Month(), day.Day(), loc); ok {
				ws = append(ws, w)
			}
		}
	}
	slices.SortFunc(ws, func(a, b interval) int { return a.start.Compare(b.start) })
	var out []interval
	for _, w := range ws {
		w.start, w.end = later(w.start, from), earlier(w.end, to)
		if !w.start.Before(w.end) {
			continue
		}
		if n := len(out); n > 0 && !w.start.After(out[n-1].end) {
			out[n-1].end = later(out[n-1].end, w.end)
			continue
		}
		out = append(out, w)
	}
	return out
}

// mask keeps the parts of spans inside ws; both are ordered and
// non-overlapping.
func mask(spans []Span, ws []interval) []Span {
	var out []Span
	for i, j := 0, 0; i < len(spans) && j < len(ws); {
		s, e := later(spans[i].Start, ws[j].start), earlier(spans[i].End, ws[j].end)
		if s.Before(e) {
			out = append(out, Span{User: spans[i].User, Start: s, End: e})
		}
		if spans[i].End.Before(ws[j].end) {
			i++
		} else {
			j++
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
