package schedule

import "time"

// Shifts returns who is on call in r during [from, to), layers,
// restrictions and overrides merged: ordered, non-overlapping spans clipped
// to [from, to), adjacent spans of one user (and one override) joined.
// Stretches with nobody on call are left out.
func (r *Rotation) Shifts(from, to time.Time, overrides []Override) []Span {
	panic("schedule: Shifts not implemented yet")
}

// OnCall returns the span of r that contains t (User "" when nobody is on
// call then; Start and End bound that gap) and the next span with someone
// on call after it (ok false when there is none within Horizon). Spans are
// looked for no further than Horizon either side of t: a span that goes on
// beyond is cut there.
func (r *Rotation) OnCall(t time.Time, overrides []Override) (now, next Span, ok bool) {
	panic("schedule: OnCall not implemented yet")
}

// Unreachable lists the participants of l (in order) whom l's restrictions
// keep from ever being on call, in the rotation's zone loc: for example a
// daily layer of seven people restricted to Mondays only ever has its first
// participant on call. A layer without restrictions has none.
func (l *Layer) Unreachable(loc *time.Location) []string {
	panic("schedule: Unreachable not implemented yet")
}

// Who is who is on call in r at t ("" for nobody) and the override that
// put them there, if any. The escalation engine asks it at every step, so
// it looks only at the shifts around t: cheap enough for thousands of
// steps a second.
func (r *Rotation) Who(t time.Time, overrides []Override) (user, override string) {
	panic("schedule: Who not implemented yet")
}
