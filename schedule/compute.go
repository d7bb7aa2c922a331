package schedule

import (
	"slices"
	"time"
)

// Shifts returns who is on call in r during [from, to), layers,
// restrictions and overrides merged: ordered, non-overlapping spans clipped
// to [from, to), adjacent spans of one user (and one override) joined.
// Stretches with nobody on call are left out. Times are in r's zone.
//
// The cost grows with the number of shifts and days in [from, to); callers
// bound the range (OnCall never asks for more than twice Horizon).
func (r *Rotation) Shifts(from, to time.Time, overrides []Override) []Span {
	if !from.Before(to) {
		return nil
	}
	loc := r.zone()
	var base []Span
	for i := range r.Layers {
		if s := r.Layers[i].spans(from, to, loc); len(s) > 0 {
			base = overlay(base, s)
		}
	}
	var ovs []Override
	for i := range overrides {
		if o := &overrides[i]; r.applies(o) && o.Start.Before(to) && o.End.After(from) {
			ovs = append(ovs, *o)
		}
	}
	spans := base
	if len(ovs) > 0 {
		spans = applyOverrides(base, ovs, from, to)
	}
	return join(spans, loc)
}

// OnCall returns the span of r that contains t (User "" when nobody is on
// call then; Start and End bound that gap) and the next span with someone
// on call after it (ok false when there is none within Horizon). Spans are
// looked for no further than Horizon either side of t: a span that goes on
// beyond is cut there.
func (r *Rotation) OnCall(t time.Time, overrides []Override) (now, next Span, ok bool) {
	// Most answers are settled within days; widen the look only when the
	// current span or the next one reaches the edge of what was looked at.
	for _, reach := range []time.Duration{8 * 24 * time.Hour, 64 * 24 * time.Hour, Horizon} {
		lo, hi := t.Add(-reach), t.Add(reach)
		now, next, ok = around(r.Shifts(lo, hi, overrides), t, lo, hi, r.zone())
		if now.Start.After(lo) && ok && next.End.Before(hi) {
			break
		}
	}
	return now, next, ok
}

// around finds the span containing t among spans (as Shifts returns them
// for [lo, hi)), a gap of nobody if none does, and the next span after it.
func around(spans []Span, t, lo, hi time.Time, loc *time.Location) (now, next Span, ok bool) {
	i, _ := slices.BinarySearchFunc(spans, t, func(s Span, t time.Time) int {
		if !s.End.After(t) {
			return -1
		}
		return 1
	})
	// spans[i] is the first span ending after t.
	if i < len(spans) && !spans[i].Start.After(t) {
		now = spans[i]
		i++
	} else {
		now = Span{Start: lo.In(loc), End: hi.In(loc)}
		if i > 0 {
			now.Start = spans[i-1].End
		}
		if i < len(spans) {
			now.End = spans[i].Start
		}
	}
	if i < len(spans) {
		return now, spans[i], true
	}
	return now, Span{}, false
}

// Unreachable lists the participants of l (in order) whom l's restrictions
// keep from ever being on call, in the rotation's zone loc: for example a
// daily layer of seven people restricted to Mondays only ever has its first
// participant on call. A layer without restrictions has none.
//
// It simulates the shifts from l's start until both the rota and the week
// repeat: lcm(n × shift, 1 week), n shifts for Nw, at most 7n for Nd. For
// Nh it looks at least a year ahead too, because DST moves elapsed-hour
// handoffs against the wall-clock windows and a participant may be
// reachable in one half of the year only. The period is at most 168n
// shifts (Nh), 7n (Nd) or n (Nw). The simulation is capped at 100000
// shifts (tens of milliseconds), which only an Nh layer of more than 595
// participants can reach; a participant reachable only beyond the cap
// would then be reported. It stops early once everyone has been on call.
func (l *Layer) Unreachable(loc *time.Location) []string {
	if len(l.Restrictions) == 0 || !l.computable() {
		return nil
	}
	if loc == nil {
		loc = time.UTC
	}
	n := len(l.Participants)
	reached := make([]bool, n)
	left := n
	s0 := l.Start.In(loc)
	h := s0
	for k := 0; k < l.repeatShifts() && left > 0; k++ {
		next := l.handoff(k+1, s0, loc)
		if i := k % n; !reached[i] && l.anyWindow(h, next, loc) {
			reached[i] = true
			left--
		}
		h = next
	}
	// A name listed twice is reachable if either of its places is.
	ok := make(map[string]bool, n)
	for i, p := range l.Participants {
		ok[p] = ok[p] || reached[i]
	}
	var out []string
	for _, p := range l.Participants {
		if !ok[p] {
			out = append(out, p)
			ok[p] = true // list each name once
		}
	}
	return out
}

// maxUnreachableShifts caps Unreachable's simulation (see its doc).
const maxUnreachableShifts = 100000

// repeatShifts is how many shifts Unreachable simulates.
func (l *Layer) repeatShifts() int {
	n := len(l.Participants)
	var k int
	switch l.Shift.Unit {
	case Hours:
		const week, year = 7 * 24, 366 * 24
		k = lcm(n*l.Shift.N, week) / l.Shift.N
		k = max(k, (year+l.Shift.N-1)/l.Shift.N)
	case Days:
		k = lcm(n*l.Shift.N, 7) / l.Shift.N
	default:
		k = n // every weekly shift starts on the same weekday and time
	}
	return min(k, max(n, maxUnreachableShifts))
}

// anyWindow reports whether a restriction window of l overlaps [a, b).
func (l *Layer) anyWindow(a, b time.Time, loc *time.Location) bool {
	// Any 9 consecutive days hold a whole occurrence of every weekly window
	// (each lasts at most 25 hours), so a longer shift need not be walked to
	// its end.
	b = earlier(b, a.Add(9*24*time.Hour))
	return len(l.windows(a, b, loc)) > 0
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / gcd(a, b) * b }

// Who is who is on call in r at t ("" for nobody) and the override that
// put them there, if any. The escalation engine asks it at every step, so
// it looks only at the shifts around t: cheap enough for thousands of
// steps a second.
func (r *Rotation) Who(t time.Time, overrides []Override) (user, override string) {
	loc := r.zone()
	base := r.layersAt(t, loc)
	best := -1
	for i := range overrides {
		if o := &overrides[i]; r.applies(o) && covers(o, t, base) && (best < 0 || !o.CreatedAt.Before(overrides[best].CreatedAt)) {
			best = i
		}
	}
	if best >= 0 {
		return overrides[best].User, overrides[best].ID
	}
	return base, ""
}

// zone is r's location; a Rotation built without one is in UTC rather than
// a panic in the escalation engine.
func (r *Rotation) zone() *time.Location {
	if r.Location == nil {
		return time.UTC
	}
	return r.Location
}

// layersAt is who r's layers have on call at t, before overrides.
func (r *Rotation) layersAt(t time.Time, loc *time.Location) string {
	for i := len(r.Layers) - 1; i >= 0; i-- {
		if u := r.Layers[i].at(t, loc); u != "" {
			return u
		}
	}
	return ""
}

// applies reports whether o can take part in r at all: it names a user, it
// lasts, and it is r's (an override without a rotation is taken to be r's).
func (r *Rotation) applies(o *Override) bool {
	return o.User != "" && o.End.After(o.Start) && (o.Rotation == "" || o.Rotation == r.ID)
}

// covers reports whether o would put its user on call at t, where the
// layers have base on call.
func covers(o *Override, t time.Time, base string) bool {
	return !t.Before(o.Start) && t.Before(o.End) && (o.Replaces == "" || o.Replaces == base)
}

// overlay puts over on top of under: both are ordered, non-overlapping span
// lists; the result has under only where over has nothing.
func overlay(under, over []Span) []Span {
	out := make([]Span, 0, len(under)+len(over))
	j := 0
	for _, u := range under {
		for j < len(over) && !over[j].End.After(u.Start) {
			j++
		}
		cur := u.Start
		for k := j; k < len(over) && over[k].Start.Before(u.End); k++ {
			if over[k].Start.After(cur) {
				out = append(out, Span{User: u.User, Start: cur, End: over[k].Start})
			}
			cur = over[k].End // over is ordered and non-overlapping
		}
		if cur.Before(u.End) {
			out = append(out, Span{User: u.User, Start: cur, End: u.End})
		}
	}
	out = append(out, over...)
	slices.SortFunc(out, func(a, b Span) int { return a.Start.Compare(b.Start) })
	return out
}

// applyOverrides lays ovs (those of r overlapping [from, to), in their
// original order) over base. Between two consecutive edges of base spans
// and overrides nothing changes, so each such piece is decided once.
func applyOverrides(base []Span, ovs []Override, from, to time.Time) []Span {
	edges := []time.Time{from, to}
	for _, s := range base {
		edges = append(edges, s.Start, s.End)
	}
	for _, o := range ovs {
		edges = append(edges, later(o.Start, from), earlier(o.End, to))
	}
	slices.SortFunc(edges, time.Time.Compare)
	edges = slices.CompactFunc(edges, time.Time.Equal)

	var out []Span
	b := 0
	for i := 0; i+1 < len(edges); i++ {
		a, z := edges[i], edges[i+1]
		for b < len(base) && !base[b].End.After(a) {
			b++
		}
		user := ""
		if b < len(base) && !base[b].Start.After(a) {
			user = base[b].User
		}
		best := -1
		for k := range ovs {
			if covers(&ovs[k], a, user) && (best < 0 || !ovs[k].CreatedAt.Before(ovs[best].CreatedAt)) {
				best = k
			}
		}
		if best >= 0 {
			out = append(out, Span{User: ovs[best].User, Start: a, End: z, Override: ovs[best].ID})
		} else if user != "" {
			out = append(out, Span{User: user, Start: a, End: z})
		}
	}
	return out
}

// join drops spans of nobody, joins touching spans of one user and one
// override, and puts the times in loc.
func join(spans []Span, loc *time.Location) []Span {
	var out []Span
	for _, s := range spans {
		if s.User == "" || !s.Start.Before(s.End) {
			continue
		}
		s.Start, s.End = s.Start.In(loc), s.End.In(loc)
		if n := len(out); n > 0 && out[n-1].End.Equal(s.Start) && out[n-1].User == s.User && out[n-1].Override == s.Override {
			out[n-1].End = s.End
			continue
		}
		out = append(out, s)
	}
	return out
}
