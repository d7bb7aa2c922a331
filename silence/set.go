package silence

import (
	"fmt"
	"slices"
	"time"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/matchers"
	"github.com/alertgate/alertgate/schedule"
)

// Set is what mutes alerts at one instant: the silences that had not
// ended by then (Store.Active) and, with WithWindows, the maintenance
// windows of the config. It is a value, read-only, safe to share between
// goroutines.
type Set struct {
	at       time.Time
	silences []Silence // ends after at, ordered by start
	windows  []windowAt
	// Invalid lists the ids of stored silences that could not be read
	// (which alertgate never writes): they mute nothing. The engine may
	// log them.
	Invalid []string
}

type windowAt struct {
	w      *Window
	active bool
	next   time.Time
}

// At is the instant the set answers for.
func (s Set) At() time.Time { return s.at }

// Silences returns every silence in the set, pending and active, ordered
// by start. The slice is shared: do not change it.
func (s Set) Silences() []Silence { return s.silences }

// Silencing returns the silences active at At whose matchers match labels,
// ordered by start; nil when none does.
func (s Set) Silencing(labels map[string]string) []Silence {
	var out []Silence
	for i := range s.silences {
		sl := &s.silences[i]
		if sl.StateAt(s.at) == Active && sl.Matches(labels) {
			out = append(out, *sl)
		}
	}
	return out
}

// InWindows returns the names of the maintenance windows open at At whose
// matchers match labels, in the config's order; nil when none does.
func (s Set) InWindows(labels map[string]string) []string {
	var out []string
	for _, w := range s.windows {
		if w.active && w.w.Matchers.Matches(labels) {
			out = append(out, w.w.Name)
		}
	}
	return out
}

// Muted reports whether a silence or a maintenance window mutes labels at At.
func (s Set) Muted(labels map[string]string) bool {
	for i := range s.silences {
		if sl := &s.silences[i]; sl.StateAt(s.at) == Active && sl.Matches(labels) {
			return true
		}
	}
	for _, w := range s.windows {
		if w.active && w.w.Matchers.Matches(labels) {
			return true
		}
	}
	return false
}

// NextChange is the earliest instant after At when what the set mutes may
// change: a pending silence starts, an active one ends, a window opens or
// closes. The zero time means never, as far as the set knows: silences
// made or expired after it was read are the next Set's to tell.
func (s Set) NextChange() time.Time {
	var next time.Time
	earliest := func(t time.Time) {
		if t.After(s.at) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for i := range s.silences {
		if s.silences[i].StartsAt.After(s.at) {
			earliest(s.silences[i].StartsAt)
		} else {
			earliest(s.silences[i].EndsAt)
		}
	}
	for _, w := range s.windows {
		earliest(w.next)
	}
	return next
}

// Later is the set read once and asked about a later instant at: the same
// silences (made or expired since, the next read's to tell), those that
// ended by at left out, answering for at. A set reused for a while (read
// once a second, asked on every pass) stays exact about the silences it
// holds. Maintenance windows are dropped: add them again, for at, with
// WithWindows. An at before At cannot bring back the silences that had
// ended by At.
func (s Set) Later(at time.Time) Set {
	out := Set{at: at, silences: s.silences, Invalid: s.Invalid}
	ended := func(sl Silence) bool { return !sl.EndsAt.After(at) }
	if slices.ContainsFunc(s.silences, ended) {
		out.silences = slices.DeleteFunc(slices.Clone(s.silences), ended)
	}
	return out
}

// WithWindows returns the set with the maintenance windows ws, computed at
// At (which of them are open, when each next opens or closes).
func (s Set) WithWindows(ws []Window) Set {
	out := s
	out.windows = make([]windowAt, len(ws))
	for i := range ws {
		w := &ws[i]
		out.windows[i] = windowAt{w: w, active: w.Schedule.Active(s.at), next: w.Schedule.NextChange(s.at)}
	}
	return out
}

// NewSet is a set of silences at an instant, for tests and for callers
// with silences of their own (Store.Active is the usual way to one). The
// silences' matchers are parsed; one that does not parse mutes nothing and
// is listed in Invalid.
func NewSet(at time.Time, list []Silence) Set {
	s := Set{at: at}
	for _, sl := range list {
		if err := sl.parseMatchers(false); err != nil {
			s.Invalid = append(s.Invalid, sl.ID)
			continue
		}
		if sl.EndsAt.After(at) {
			s.silences = append(s.silences, sl)
		}
	}
	sortByStart(s.silences)
	return s
}

// Window is a maintenance window compiled from the config: while its
// weekly schedule is open, the alerts its matchers match are muted.
type Window struct {
	Name     string
	Matchers matchers.Matchers
	Schedule schedule.Weekly
}

// Windows compiles the config's maintenance windows. A config that passed
// validation always compiles; the error is for windows built in code.
func Windows(list []config.MaintenanceWindow) ([]Window, error) {
	out := make([]Window, 0, len(list))
	for i := range list {
		mw := &list[i]
		ms, err := ParseMatchers(mw.Matchers)
		if err != nil {
			return nil, fmt.Errorf("maintenance_windows[%d] (%s): %w", i, mw.Name, err)
		}
		weekly, err := mw.Weekly()
		if err != nil {
			return nil, fmt.Errorf("maintenance_windows[%d] (%s): %w", i, mw.Name, err)
		}
		out = append(out, Window{Name: mw.Name, Matchers: ms, Schedule: weekly})
	}
	return out, nil
}
