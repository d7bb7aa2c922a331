package schedule

import "time"

// Weekly is a set of recurring weekly windows in one zone, the same
// windows a layer's restrictions are (Restriction), standing alone: a
// maintenance window is one. A nil Location is UTC. Wall times that a DST
// change skips or repeats resolve by the package's rule, as restrictions
// do: a window from 02:30 on the night New York skips 02:00–03:00 opens at
// 03:30, and one that a fall-back repeats opens at the first occurrence.
type Weekly struct {
	Location *time.Location
	Windows  []Restriction
}

// weeklyHorizon bounds how far NextChange looks ahead. Unless its windows
// cover all time, a weekly set opens or closes at least once every week
// plus the longest window (25 hours); two weeks leave room for any DST
// change in between.
const weeklyHorizon = 15 * 24 * time.Hour

// Active reports whether t is inside one of w's windows (a window holds
// its start, not its end).
func (w Weekly) Active(t time.Time) bool {
	l := w.layer()
	return l.inWindow(t, w.zone())
}

// NextChange is the first instant after `after` at which Active changes:
// where the window after is in closes, or where the next one opens.
// Windows that touch or overlap count as one. The zero time means Active
// never changes: there are no windows, or they cover all time.
func (w Weekly) NextChange(after time.Time) time.Time {
	to := after.Add(weeklyHorizon)
	l := w.layer()
	for _, iv := range l.windows(after, to, w.zone()) {
		// windows clips to [after, to): a start at after is a window that
		// after is in (or that opens exactly then), an end at to is the
		// horizon, not a change.
		if iv.start.After(after) {
			return iv.start
		}
		if iv.end.Before(to) {
			return iv.end
		}
	}
	return time.Time{}
}

// layer carries the windows to the restriction arithmetic of layer.go.
func (w Weekly) layer() *Layer { return &Layer{Restrictions: w.Windows} }

func (w Weekly) zone() *time.Location {
	if w.Location == nil {
		return time.UTC
	}
	return w.Location
}
