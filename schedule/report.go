package schedule

import "time"

// The JSON answers of "who is on call" and "the shifts of a rotation",
// shared by GET /api/v1/oncall, GET /api/v1/rotations/{id}/shifts and
// `alertgate oncall --json`. Times are in UTC, so they encode as RFC 3339
// with a "Z".

// OnCallReport answers "who is on call in every rotation at At".
type OnCallReport struct {
	At        time.Time     `json:"at"`
	Rotations []RotationNow `json:"rotations"`
}

// RotationNow is one rotation at one instant.
type RotationNow struct {
	ID string `json:"id"`
	// OnCall is the user on call, nil when nobody is.
	OnCall *string `json:"on_call"`
	// Override names the override that put OnCall there, if any.
	Override string `json:"override,omitempty"`
	// Since and Until bound the current span (of OnCall, or of nobody),
	// cut at Horizon.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Next is the next span with someone on call, nil if none within Horizon.
	Next *Span `json:"next"`
}

// ShiftReport answers "the shifts of a rotation in [From, To)".
type ShiftReport struct {
	Rotation string `json:"rotation"`
	Shifts   []Span `json:"shifts"`
}

// Now reports who is on call in each rotation at t, in the order given
// (nil rotations are skipped); overrides maps a rotation id to its
// overrides.
func Now(rotations []*Rotation, t time.Time, overrides map[string][]Override) OnCallReport {
	rep := OnCallReport{At: t.UTC(), Rotations: make([]RotationNow, 0, len(rotations))}
	for _, r := range rotations {
		if r == nil {
			continue
		}
		now, next, ok := r.OnCall(t, overrides[r.ID])
		rn := RotationNow{ID: r.ID, Override: now.Override, Since: now.Start.UTC(), Until: now.End.UTC()}
		if now.User != "" {
			rn.OnCall = &now.User
		}
		if ok {
			next = inUTC(next)
			rn.Next = &next
		}
		rep.Rotations = append(rep.Rotations, rn)
	}
	return rep
}

// List reports the shifts of r in [from, to), in UTC.
// Shifts is never null in JSON: an empty range is [].
func List(r *Rotation, from, to time.Time, overrides []Override) ShiftReport {
	spans := r.Shifts(from, to, overrides)
	rep := ShiftReport{Rotation: r.ID, Shifts: make([]Span, len(spans))}
	for i, s := range spans {
		rep.Shifts[i] = inUTC(s)
	}
	return rep
}

func inUTC(s Span) Span {
	s.Start, s.End = s.Start.UTC(), s.End.UTC()
	return s
}
