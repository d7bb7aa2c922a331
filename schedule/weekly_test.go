package schedule

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestWeeklyActiveAndNextChange(t *testing.T) {
	ny := zone(t, "America/New_York")
	london := zone(t, "Europe/London")
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	every := []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
	type probe struct {
		at     string // instant asked about
		active bool
		next   string // NextChange(at); "" for none
	}
	tests := []struct {
		name   string
		w      Weekly
		probes []probe
	}{
		{
			name: "weeknights 01:00-03:00 London",
			w:    Weekly{Location: london, Windows: []Restriction{{Days: weekdays, From: clock(t, "01:00"), To: clock(t, "03:00")}}},
			probes: []probe{
				// Monday 2 March 2026, GMT.
				{"2026-03-02T00:59+00:00", false, "2026-03-02T01:00+00:00"},
				{"2026-03-02T01:00+00:00", true, "2026-03-02T03:00+00:00"}, // the start is in
				{"2026-03-02T02:59+00:00", true, "2026-03-02T03:00+00:00"},
				{"2026-03-02T03:00+00:00", false, "2026-03-03T01:00+00:00"}, // the end is out
				// Friday night to Monday: the weekend has none.
				{"2026-03-06T03:00+00:00", false, "2026-03-09T01:00+00:00"},
				// Across the spring change (Sunday 29 March, 01:00 GMT → 02:00
				// BST): Monday's window is in BST.
				{"2026-03-27T03:00+00:00", false, "2026-03-30T01:00+01:00"},
			},
		},
		{
			name: "to before from wraps past midnight",
			w:    Weekly{Location: time.UTC, Windows: []Restriction{{Days: []time.Weekday{time.Saturday}, From: clock(t, "22:00"), To: clock(t, "02:00")}}},
			probes: []probe{
				{"2026-03-07T21:00+00:00", false, "2026-03-07T22:00+00:00"},
				{"2026-03-08T01:00+00:00", true, "2026-03-08T02:00+00:00"}, // Sunday morning is Saturday's window
				{"2026-03-08T02:00+00:00", false, "2026-03-14T22:00+00:00"},
			},
		},
		{
			name: "a window in the spring-forward gap opens at the gap's end",
			w:    Weekly{Location: ny, Windows: []Restriction{{Days: []time.Weekday{time.Sunday}, From: clock(t, "02:30"), To: clock(t, "04:00")}}},
			probes: []probe{
				// Sunday 8 March 2026: 02:00 EST jumps to 03:00 EDT; 02:30
				// resolves to 03:30 EDT.
				{"2026-03-08T01:59-05:00", false, "2026-03-08T03:30-04:00"},
				{"2026-03-08T03:29-04:00", false, "2026-03-08T03:30-04:00"},
				{"2026-03-08T03:30-04:00", true, "2026-03-08T04:00-04:00"},
				// The next Sunday: 02:30 EDT as written.
				{"2026-03-08T04:00-04:00", false, "2026-03-15T02:30-04:00"},
			},
		},
		{
			name: "a window across the fall-back lasts the extra hour",
			w:    Weekly{Location: ny, Windows: []Restriction{{Days: []time.Weekday{time.Sunday}, From: clock(t, "00:00"), To: clock(t, "03:00")}}},
			probes: []probe{
				// Sunday 1 November 2026: 02:00 EDT falls back to 01:00 EST,
				// so 00:00 EDT to 03:00 EST is four hours.
				{"2026-11-01T00:00-04:00", true, "2026-11-01T03:00-05:00"},
				{"2026-11-01T01:30-05:00", true, "2026-11-01T03:00-05:00"},
				{"2026-11-01T03:00-05:00", false, "2026-11-08T00:00-05:00"},
			},
		},
		{
			name: "touching windows are one",
			w: Weekly{Location: time.UTC, Windows: []Restriction{
				{Days: []time.Weekday{time.Monday}, From: clock(t, "20:00"), To: clock(t, "00:00")},
				{Days: []time.Weekday{time.Tuesday}, From: clock(t, "00:00"), To: clock(t, "04:00")},
			}},
			probes: []probe{
				{"2026-03-02T21:00+00:00", true, "2026-03-03T04:00+00:00"},
				{"2026-03-03T04:00+00:00", false, "2026-03-09T20:00+00:00"},
			},
		},
		{
			name: "windows covering all time never change",
			w:    Weekly{Location: ny, Windows: []Restriction{{Days: every, From: clock(t, "09:00"), To: clock(t, "09:00")}}},
			probes: []probe{
				{"2026-03-08T12:00-04:00", true, ""},
				{"2026-11-01T01:30-05:00", true, ""},
			},
		},
		{
			name:   "no windows: never active",
			w:      Weekly{Location: london},
			probes: []probe{{"2026-03-02T12:00+00:00", false, ""}},
		},
		{
			name: "a nil zone is UTC",
			w:    Weekly{Windows: []Restriction{{Days: weekdays, From: clock(t, "09:00"), To: clock(t, "10:00")}}},
			probes: []probe{
				{"2026-03-02T09:30+00:00", true, "2026-03-02T10:00+00:00"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range tt.probes {
				when := at(t, p.at)
				if got := tt.w.Active(when); got != p.active {
					t.Errorf("Active(%s) = %v, want %v", p.at, got, p.active)
				}
				var want time.Time
				if p.next != "" {
					want = at(t, p.next)
				}
				if got := tt.w.NextChange(when); !got.Equal(want) {
					t.Errorf("NextChange(%s) = %s, want %s", p.at, got.Format(instantLayout), p.next)
				}
			}
		})
	}
}

// TestWeeklyNextChangeAgreesWithActive checks NextChange against Active by
// brute force: Active is constant from an instant up to its NextChange and
// differs there, for random windows in zones with DST changes.
func TestWeeklyNextChangeAgreesWithActive(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 3))
	zones := []*time.Location{zone(t, "America/New_York"), zone(t, "Europe/London"), zone(t, "Australia/Lord_Howe"), time.UTC}
	start := at(t, "2026-01-01T00:00+00:00")
	for i := range 300 {
		var w Weekly
		w.Location = zones[i%len(zones)]
		for range 1 + rng.IntN(3) {
			var r Restriction
			for d := range 7 {
				if rng.IntN(3) == 0 {
					r.Days = append(r.Days, time.Weekday(d))
				}
			}
			r.From = Clock(rng.IntN(48) * 30)
			r.To = Clock(rng.IntN(49) * 30)
			w.Windows = append(w.Windows, r)
		}
		from := start.Add(time.Duration(rng.IntN(365*24*4)) * 15 * time.Minute)
		next := w.NextChange(from)
		if next.IsZero() {
			// Never changes: the state holds for a fortnight at least.
			for m := time.Duration(0); m < 15*24*time.Hour; m += 15 * time.Minute {
				if w.Active(from.Add(m)) != w.Active(from) {
					t.Fatalf("case %d %+v: NextChange(%s) is none, but Active changes at %s", i, w, from, from.Add(m))
				}
			}
			continue
		}
		if !next.After(from) {
			t.Fatalf("case %d %+v: NextChange(%s) = %s, not after it", i, w, from, next)
		}
		for m := from; m.Before(next); m = m.Add(15 * time.Minute) {
			if w.Active(m) != w.Active(from) {
				t.Fatalf("case %d %+v: Active changes at %s, before NextChange(%s) = %s", i, w, m, from, next)
			}
		}
		if w.Active(next) == w.Active(next.Add(-time.Second)) {
			t.Fatalf("case %d %+v: Active does not change at NextChange(%s) = %s", i, w, from, next)
		}
	}
}
