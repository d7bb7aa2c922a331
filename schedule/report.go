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

// Now reports who is on call in each rotation at t, in the order given;
// overrides maps a rotation id to its overrides.
func Now(rotations []*Rotation, t time.Time, overrides map[string][]Override) OnCallReport {
	panic("schedule: Now not implemented yet")
}

// List reports the shifts of r in [from, to), in UTC.
func List(r *Rotation, from, to time.Time, overrides []Override) ShiftReport {
	panic("schedule: List not implemented yet")
}
