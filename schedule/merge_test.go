package schedule

import (
	"testing"
	"time"
)

// mergeCase is a rotation (layers bottom first), overrides, and the merged
// shifts it must have in [from, to).
type mergeCase struct {
	name      string
	zone      string
	layers    []Layer
	overrides []Override
	from, to  string
	want      []string
}

func runMergeCases(t *testing.T, cases []mergeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Rotation{ID: "r", Location: zone(t, c.zone), Layers: c.layers}
			want := spans(t, c.want...)
			got := r.Shifts(at(t, c.from), at(t, c.to), c.overrides)
			checkSpans(t, got, want)
			checkAgainstWho(t, r, c.overrides, at(t, c.from), at(t, c.to), got)
		})
	}
}

// checkAgainstWho asks Who at the edges and middle of every span, and in
// every gap between them.
func checkAgainstWho(t *testing.T, r *Rotation, ovs []Override, from, to time.Time, got []Span) {
	t.Helper()
	prev := from
	for _, s := range got {
		if s.Start.After(prev) {
			if u, o := r.Who(midpoint(prev, s.Start), ovs); u != "" {
				t.Errorf("Who in the gap before %v = %q %q, want nobody", s.Start, u, o)
			}
		}
		for _, p := range []time.Time{s.Start, midpoint(s.Start, s.End), s.End.Add(-time.Nanosecond)} {
			if u, o := r.Who(p, ovs); u != s.User || o != s.Override {
				t.Errorf("Who(%v) = %q %q, want %q %q", p, u, o, s.User, s.Override)
			}
		}
		prev = s.End
	}
}

func midpoint(a, b time.Time) time.Time { return a.Add(b.Sub(a) / 2) }

func TestRestrictions(t *testing.T) {
	runMergeCases(t, []mergeCase{
		{
			name: "evenings past midnight, weekdays: Friday's evening ends Saturday 02:00, the weekend has none",
			zone: "America/New_York",
			layers: []Layer{
				layer(t, "a,b", "2026-03-02T09:00", "1d", "mon-fri 18:00-02:00"),
			},
			from: "2026-03-02T00:00-05:00", to: "2026-03-10T12:00-04:00",
			want: []string{
				"a 2026-03-02T18:00-05:00 2026-03-03T02:00-05:00",
				"b 2026-03-03T18:00-05:00 2026-03-04T02:00-05:00",
				"a 2026-03-04T18:00-05:00 2026-03-05T02:00-05:00",
				"b 2026-03-05T18:00-05:00 2026-03-06T02:00-05:00",
				"a 2026-03-06T18:00-05:00 2026-03-07T02:00-05:00",
				"b 2026-03-09T18:00-04:00 2026-03-10T02:00-04:00",
			},
		},
		{
			name: "weekends, whole days, weekly handoff Sunday noon inside the window; over spring forward",
			zone: "America/New_York",
			layers: []Layer{
				layer(t, "a,b", "2026-03-01T12:00", "1w", "sat,sun 00:00-00:00"),
			},
			from: "2026-03-01T00:00-05:00", to: "2026-03-16T00:00-04:00",
			want: []string{
				"a 2026-03-01T12:00-05:00 2026-03-02T00:00-05:00", // the layer starts at noon
				"a 2026-03-07T00:00-05:00 2026-03-08T12:00-04:00",
				"b 2026-03-08T12:00-04:00 2026-03-09T00:00-04:00",
				"b 2026-03-14T00:00-04:00 2026-03-15T12:00-04:00",
				"a 2026-03-15T12:00-04:00 2026-03-16T00:00-04:00",
			},
		},
		{
			name: "a window straddling the daily handoff splits between the two people",
			zone: "UTC",
			layers: []Layer{
				layer(t, "a,b", "2026-03-02T09:00", "1d", "mon-sun 08:00-10:00"),
			},
			from: "2026-03-02T00:00Z", to: "2026-03-04T00:00Z",
			want: []string{
				"a 2026-03-02T09:00Z 2026-03-02T10:00Z", // 08:00-09:00 is before the start
				"a 2026-03-03T08:00Z 2026-03-03T09:00Z",
				"b 2026-03-03T09:00Z 2026-03-03T10:00Z",
			},
		},
		{
			name: "a straddling window with one participant is one span",
			zone: "UTC",
			layers: []Layer{
				layer(t, "a", "2026-03-02T09:00", "1d", "tue 08:00-10:00"),
			},
			from: "2026-03-02T00:00Z", to: "2026-03-04T00:00Z",
			want: []string{"a 2026-03-03T08:00Z 2026-03-03T10:00Z"},
		},
		{
			name: "overlapping and touching windows are one",
			zone: "UTC",
			layers: []Layer{
				layer(t, "a", "2026-03-02T00:00", "1w", "mon 09:00-12:00", "mon 11:00-13:00", "mon 13:00-14:00"),
			},
			from: "2026-03-02T00:00Z", to: "2026-03-03T00:00Z",
			want: []string{"a 2026-03-02T09:00Z 2026-03-02T14:00Z"},
		},
		{
			name: "a window starting in the spring-forward gap starts at its end; the same window a week earlier is whole",
			zone: "America/New_York",
			layers: []Layer{
				layer(t, "a", "2026-03-01T00:00", "1d", "sun 02:30-05:00"),
			},
			from: "2026-03-01T00:00-05:00", to: "2026-03-09T00:00-04:00",
			want: []string{
				"a 2026-03-01T02:30-05:00 2026-03-01T05:00-05:00",
				"a 2026-03-08T03:30-04:00 2026-03-08T05:00-04:00",
			},
		},
		{
			name: "a window wholly inside the gap (02:15 to 03:00) is empty that night",
			zone: "America/New_York",
			layers: []Layer{
				layer(t, "a", "2026-03-01T00:00", "1d", "sun 02:15-03:00"),
			},
			from: "2026-03-01T00:00-05:00", to: "2026-03-16T00:00-04:00",
			want: []string{
				"a 2026-03-01T02:15-05:00 2026-03-01T03:00-05:00",
				"a 2026-03-15T02:15-04:00 2026-03-15T03:00-04:00",
			},
		},
		{
			name: "a window from 01:30 to 02:00 on the fall-back night lasts 1h30: from the first 01:30 to the one 02:00",
			zone: "America/New_York",
			layers: []Layer{
				layer(t, "a", "2026-10-01T00:00", "1d", "sun 01:30-02:00"),
			},
			from: "2026-10-31T00:00-04:00", to: "2026-11-02T00:00-05:00",
			want: []string{"a 2026-11-01T01:30-04:00 2026-11-01T02:00-05:00"},
		},
		{
			name: "a 24:00 end is midnight",
			zone: "Europe/London",
			layers: []Layer{
				layer(t, "a", "2026-03-02T00:00", "1w", "fri 20:00-24:00"),
			},
			from: "2026-03-02T00:00+00:00", to: "2026-03-09T00:00+00:00",
			want: []string{"a 2026-03-06T20:00+00:00 2026-03-07T00:00+00:00"},
		},
		{
			name: "a whole-day window on the spring-forward Sunday is 23h",
			zone: "Europe/London",
			layers: []Layer{
				layer(t, "a", "2026-03-02T00:00", "1w", "sun 00:00-00:00"),
			},
			from: "2026-03-28T00:00+00:00", to: "2026-03-31T00:00+01:00",
			want: []string{"a 2026-03-29T00:00+00:00 2026-03-30T00:00+01:00"},
		},
		{
			name: "a restriction with no days keeps the layer off call",
			zone: "UTC",
			layers: []Layer{
				{Participants: []string{"a"}, Start: civil(t, "2026-03-02T00:00"), Shift: shift(t, "1d"), Restrictions: []Restriction{{From: 0, To: 0}}},
			},
			from: "2026-03-01T00:00Z", to: "2026-03-20T00:00Z",
			want: nil,
		},
	})
}

func TestLayerPrecedence(t *testing.T) {
	runMergeCases(t, []mergeCase{
		{
			name: "a daytime layer on top of a weekly one; before its start the weekly one shows through",
			zone: "America/New_York",
			layers: []Layer{
				layer(t, "a,b", "2026-03-02T09:00", "1w"),
				layer(t, "x,y", "2026-03-04T09:00", "1d", "mon-fri 09:00-17:00"),
			},
			from: "2026-03-02T09:00-05:00", to: "2026-03-06T09:00-05:00",
			want: []string{
				"a 2026-03-02T09:00-05:00 2026-03-04T09:00-05:00",
				"x 2026-03-04T09:00-05:00 2026-03-04T17:00-05:00",
				"a 2026-03-04T17:00-05:00 2026-03-05T09:00-05:00",
				"y 2026-03-05T09:00-05:00 2026-03-05T17:00-05:00",
				"a 2026-03-05T17:00-05:00 2026-03-06T09:00-05:00",
			},
		},
		{
			name: "the same person in two layers is one span",
			zone: "UTC",
			layers: []Layer{
				layer(t, "a,b", "2026-03-02T00:00", "1w"),
				layer(t, "a,c", "2026-03-02T00:00", "1d", "mon-sun 09:00-17:00"),
			},
			from: "2026-03-02T00:00Z", to: "2026-03-04T00:00Z",
			want: []string{
				"a 2026-03-02T00:00Z 2026-03-03T09:00Z",
				"c 2026-03-03T09:00Z 2026-03-03T17:00Z",
				"a 2026-03-03T17:00Z 2026-03-04T00:00Z",
			},
		},
		{
			name: "an earlier layer never wins where a later one has someone: three layers",
			zone: "UTC",
			layers: []Layer{
				layer(t, "a", "2026-03-02T00:00", "1w"),
				layer(t, "b", "2026-03-02T00:00", "1w", "mon 08:00-20:00"),
				layer(t, "c", "2026-03-02T00:00", "1w", "mon 12:00-14:00"),
			},
			from: "2026-03-02T00:00Z", to: "2026-03-03T00:00Z",
			want: []string{
				"a 2026-03-02T00:00Z 2026-03-02T08:00Z",
				"b 2026-03-02T08:00Z 2026-03-02T12:00Z",
				"c 2026-03-02T12:00Z 2026-03-02T14:00Z",
				"b 2026-03-02T14:00Z 2026-03-02T20:00Z",
				"a 2026-03-02T20:00Z 2026-03-03T00:00Z",
			},
		},
		{
			// London springs forward on Sunday 29 March; the weekend cover
			// from Saturday 00:00 GMT to Monday 00:00 BST is 47 hours. The
			// weekly handoffs are Mondays 00:00: 23 March is shift 3 (the
			// second participant), 30 March shift 4 (the first).
			name: "follow the sun: three weekday windows over a 24/7 weekend layer, across London's change",
			zone: "Europe/London",
			layers: []Layer{
				layer(t, "w1,w2", "2026-03-02T00:00", "1w"),
				layer(t, "p1,p2", "2026-03-02T00:00", "1w", "mon-fri 00:00-08:00"),
				layer(t, "e1,e2", "2026-03-02T00:00", "1w", "mon-fri 08:00-16:00"),
				layer(t, "m1,m2", "2026-03-02T00:00", "1w", "mon-fri 16:00-24:00"),
			},
			from: "2026-03-27T00:00+00:00", to: "2026-03-31T00:00+01:00",
			want: []string{
				"p2 2026-03-27T00:00+00:00 2026-03-27T08:00+00:00",
				"e2 2026-03-27T08:00+00:00 2026-03-27T16:00+00:00",
				"m2 2026-03-27T16:00+00:00 2026-03-28T00:00+00:00",
				"w2 2026-03-28T00:00+00:00 2026-03-30T00:00+01:00",
				"p1 2026-03-30T00:00+01:00 2026-03-30T08:00+01:00",
				"e1 2026-03-30T08:00+01:00 2026-03-30T16:00+01:00",
				"m1 2026-03-30T16:00+01:00 2026-03-31T00:00+01:00",
			},
		},
		{
			name: "follow the sun with gaps: three zone-style layers, nobody at the weekend",
			zone: "UTC",
			layers: []Layer{
				layer(t, "p1,p2", "2026-03-02T00:00", "1w", "mon-fri 22:00-06:00"),
				layer(t, "e1,e2", "2026-03-02T00:00", "1w", "mon-fri 06:00-14:00"),
				layer(t, "m1,m2", "2026-03-02T00:00", "1w", "mon-fri 14:00-22:00"),
			},
			from: "2026-03-06T00:00Z", to: "2026-03-09T12:00Z",
			want: []string{
				"p1 2026-03-06T00:00Z 2026-03-06T06:00Z", // Thursday's night window
				"e1 2026-03-06T06:00Z 2026-03-06T14:00Z",
				"m1 2026-03-06T14:00Z 2026-03-06T22:00Z",
				"p1 2026-03-06T22:00Z 2026-03-07T06:00Z", // Friday's night runs into Saturday
				"e2 2026-03-09T06:00Z 2026-03-09T12:00Z",
			},
		},
	})
}

func TestOverrides(t *testing.T) {
	// Daily a/b from Monday 2 March 09:00 New York: Tuesday 3 March is b's,
	// Wednesday 4 March a's.
	daily := []Layer{layer(t, "a,b", "2026-03-02T09:00", "1d")}
	office := []Layer{layer(t, "a", "2026-03-02T09:00", "1d", "mon-fri 09:00-17:00")}
	ov := func(id, user, replaces, start, end, created string) Override {
		return Override{ID: id, Rotation: "r", User: user, Replaces: replaces, Start: at(t, start), End: at(t, end), CreatedAt: at(t, created)}
	}
	o1 := ov("o1", "z", "", "2026-03-03T12:00-05:00", "2026-03-04T12:00-05:00", "2026-03-01T10:00Z")
	o2 := ov("o2", "w", "", "2026-03-04T00:00-05:00", "2026-03-04T18:00-05:00", "2026-03-01T11:00Z")
	o2older := o2
	o2older.CreatedAt = at(t, "2026-03-01T09:00Z")
	o2tie := o2
	o2tie.CreatedAt = o1.CreatedAt
	const from, to = "2026-03-03T09:00-05:00", "2026-03-05T09:00-05:00"
	runMergeCases(t, []mergeCase{
		{
			name: "a whole-rotation override spanning a handoff", zone: "America/New_York", layers: daily,
			overrides: []Override{o1}, from: from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
				"z 2026-03-03T12:00-05:00 2026-03-04T12:00-05:00 o1",
				"a 2026-03-04T12:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "an override replacing b spanning the handoff ends at the handoff", zone: "America/New_York", layers: daily,
			overrides: []Override{ov("o1", "z", "b", "2026-03-03T12:00-05:00", "2026-03-04T12:00-05:00", "2026-03-01T10:00Z")},
			from:      from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
				"z 2026-03-03T12:00-05:00 2026-03-04T09:00-05:00 o1",
				"a 2026-03-04T09:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "an override replacing someone not on call has no effect", zone: "America/New_York", layers: daily,
			overrides: []Override{ov("o1", "z", "x", "2026-03-03T12:00-05:00", "2026-03-04T12:00-05:00", "2026-03-01T10:00Z")},
			from:      from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-04T09:00-05:00",
				"a 2026-03-04T09:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "overlapping overrides: the one created last wins the overlap", zone: "America/New_York", layers: daily,
			overrides: []Override{o1, o2}, from: from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
				"z 2026-03-03T12:00-05:00 2026-03-04T00:00-05:00 o1",
				"w 2026-03-04T00:00-05:00 2026-03-04T18:00-05:00 o2",
				"a 2026-03-04T18:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "overlapping overrides: creation time decides, not the order given", zone: "America/New_York", layers: daily,
			overrides: []Override{o2older, o1}, from: from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
				"z 2026-03-03T12:00-05:00 2026-03-04T12:00-05:00 o1",
				"w 2026-03-04T12:00-05:00 2026-03-04T18:00-05:00 o2",
				"a 2026-03-04T18:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "overlapping overrides created at the same time: the later in the list wins", zone: "America/New_York", layers: daily,
			overrides: []Override{o2tie, o1}, from: from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
				"z 2026-03-03T12:00-05:00 2026-03-04T12:00-05:00 o1",
				"w 2026-03-04T12:00-05:00 2026-03-04T18:00-05:00 o2",
				"a 2026-03-04T18:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "a newer override replacing someone not on call lets the older one show", zone: "America/New_York", layers: daily,
			overrides: []Override{o1, ov("o3", "q", "nobody-here", "2026-03-03T00:00-05:00", "2026-03-06T00:00-05:00", "2026-03-02T00:00Z")},
			from:      from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
				"z 2026-03-03T12:00-05:00 2026-03-04T12:00-05:00 o1",
				"a 2026-03-04T12:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "Replaces looks at the layers, not at other overrides", zone: "America/New_York", layers: daily,
			overrides: []Override{
				ov("o1", "z", "b", "2026-03-03T12:00-05:00", "2026-03-03T18:00-05:00", "2026-03-01T10:00Z"),
				ov("o2", "w", "z", "2026-03-03T12:00-05:00", "2026-03-03T18:00-05:00", "2026-03-01T11:00Z"),
			},
			from: from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
				"z 2026-03-03T12:00-05:00 2026-03-03T18:00-05:00 o1",
				"b 2026-03-03T18:00-05:00 2026-03-04T09:00-05:00",
				"a 2026-03-04T09:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "a whole-rotation override covers where nobody was on call", zone: "America/New_York", layers: office,
			overrides: []Override{ov("o1", "z", "", "2026-03-06T12:00-05:00", "2026-03-09T12:00-04:00", "2026-03-01T10:00Z")},
			from:      "2026-03-06T00:00-05:00", to: "2026-03-10T00:00-04:00",
			want: []string{
				"a 2026-03-06T09:00-05:00 2026-03-06T12:00-05:00",
				"z 2026-03-06T12:00-05:00 2026-03-09T12:00-04:00 o1",
				"a 2026-03-09T12:00-04:00 2026-03-09T17:00-04:00",
			},
		},
		{
			name: "an override replacing a covers only a's hours, gaps stay gaps", zone: "America/New_York", layers: office,
			overrides: []Override{ov("o1", "z", "a", "2026-03-06T12:00-05:00", "2026-03-09T12:00-04:00", "2026-03-01T10:00Z")},
			from:      "2026-03-06T00:00-05:00", to: "2026-03-10T00:00-04:00",
			want: []string{
				"a 2026-03-06T09:00-05:00 2026-03-06T12:00-05:00",
				"z 2026-03-06T12:00-05:00 2026-03-06T17:00-05:00 o1",
				"z 2026-03-09T09:00-04:00 2026-03-09T12:00-04:00 o1",
				"a 2026-03-09T12:00-04:00 2026-03-09T17:00-04:00",
			},
		},
		{
			name: "an override putting on call who already was is still named", zone: "America/New_York", layers: daily,
			overrides: []Override{ov("o1", "b", "", "2026-03-03T12:00-05:00", "2026-03-03T15:00-05:00", "2026-03-01T10:00Z")},
			from:      from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
				"b 2026-03-03T12:00-05:00 2026-03-03T15:00-05:00 o1",
				"b 2026-03-03T15:00-05:00 2026-03-04T09:00-05:00",
				"a 2026-03-04T09:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "two touching overrides of one user stay two spans", zone: "America/New_York", layers: daily,
			overrides: []Override{
				ov("o1", "z", "", "2026-03-03T12:00-05:00", "2026-03-03T15:00-05:00", "2026-03-01T10:00Z"),
				ov("o2", "z", "", "2026-03-03T15:00-05:00", "2026-03-03T18:00-05:00", "2026-03-01T10:00Z"),
			},
			from: from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
				"z 2026-03-03T12:00-05:00 2026-03-03T15:00-05:00 o1",
				"z 2026-03-03T15:00-05:00 2026-03-03T18:00-05:00 o2",
				"b 2026-03-03T18:00-05:00 2026-03-04T09:00-05:00",
				"a 2026-03-04T09:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "an override reaching past the range is clipped", zone: "America/New_York", layers: daily,
			overrides: []Override{ov("o1", "z", "", "2026-03-01T00:00-05:00", "2026-03-03T12:00-05:00", "2026-03-01T10:00Z")},
			from:      from, to: to,
			want: []string{
				"z 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00 o1",
				"b 2026-03-03T12:00-05:00 2026-03-04T09:00-05:00",
				"a 2026-03-04T09:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "overrides of another rotation, without a user, or ending before they start are ignored", zone: "America/New_York", layers: daily,
			overrides: []Override{
				{ID: "other", Rotation: "not-r", User: "z", Start: at(t, "2026-03-03T12:00-05:00"), End: at(t, "2026-03-03T15:00-05:00")},
				{ID: "nouser", Rotation: "r", Start: at(t, "2026-03-03T12:00-05:00"), End: at(t, "2026-03-03T15:00-05:00")},
				{ID: "backwards", Rotation: "r", User: "z", Start: at(t, "2026-03-03T15:00-05:00"), End: at(t, "2026-03-03T12:00-05:00")},
			},
			from: from, to: to,
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-04T09:00-05:00",
				"a 2026-03-04T09:00-05:00 2026-03-05T09:00-05:00",
			},
		},
		{
			name: "an override with no rotation named is taken as this rotation's", zone: "America/New_York", layers: daily,
			overrides: []Override{{ID: "o1", User: "z", Start: at(t, "2026-03-03T12:00-05:00"), End: at(t, "2026-03-03T15:00-05:00")}},
			from:      from, to: "2026-03-04T00:00-05:00",
			want: []string{
				"b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
				"z 2026-03-03T12:00-05:00 2026-03-03T15:00-05:00 o1",
				"b 2026-03-03T15:00-05:00 2026-03-04T00:00-05:00",
			},
		},
		{
			name: "an override on a rotation with no layers", zone: "UTC", layers: nil,
			overrides: []Override{ov("o1", "z", "", "2026-03-03T12:00Z", "2026-03-03T15:00Z", "2026-03-01T10:00Z")},
			from:      "2026-03-03T00:00Z", to: "2026-03-04T00:00Z",
			want: []string{"z 2026-03-03T12:00Z 2026-03-03T15:00Z o1"},
		},
	})
}

func TestShiftsEmptyRange(t *testing.T) {
	r := &Rotation{ID: "r", Location: time.UTC, Layers: []Layer{layer(t, "a", "2026-03-02T00:00", "1d")}}
	x := at(t, "2026-03-05T00:00Z")
	if got := r.Shifts(x, x, nil); len(got) != 0 {
		t.Errorf("Shifts(x, x) = %v, want none", got)
	}
	if got := r.Shifts(x, x.Add(-time.Hour), nil); len(got) != 0 {
		t.Errorf("Shifts backwards = %v, want none", got)
	}
}

func TestMalformedLayersHaveNobody(t *testing.T) {
	// Config validation refuses these; the maths must still not panic.
	r := &Rotation{ID: "r", Layers: []Layer{
		{Participants: nil, Start: civil(t, "2026-03-02T00:00"), Shift: shift(t, "1d")},
		{Participants: []string{"a"}, Start: civil(t, "2026-03-02T00:00"), Shift: Shift{}},
		{Participants: []string{"a"}, Start: civil(t, "2026-03-02T00:00"), Shift: Shift{N: 1, Unit: 7}},
	}}
	x := at(t, "2026-03-05T00:00Z")
	if u, _ := r.Who(x, nil); u != "" {
		t.Errorf("Who = %q, want nobody", u)
	}
	if got := r.Shifts(x, x.Add(48*time.Hour), nil); len(got) != 0 {
		t.Errorf("Shifts = %v, want none", got)
	}
	for i := range r.Layers {
		if got := r.Layers[i].Unreachable(nil); got != nil {
			t.Errorf("Unreachable = %v", got)
		}
	}
}

// Until 2006 Moncton fell back at 00:01 ADT to 23:01 AST the day before:
// on Sunday 29 October 2006, 03:01 UTC. A window starting Sunday 00:00 opens
// at the first 00:00 (ADT, 03:00 UTC), and half an hour later the wall clock
// reads Saturday 23:30 AST: still inside Sunday's window.
func TestWindowAcrossFallBackOverMidnight(t *testing.T) {
	r := &Rotation{ID: "r", Location: zone(t, "America/Moncton"), Layers: []Layer{
		layer(t, "a", "2006-10-01T00:00", "1d", "sun 00:00-06:00"),
	}}
	got := r.Shifts(at(t, "2006-10-28T00:00-03:00"), at(t, "2006-10-30T00:00-04:00"), nil)
	want := spans(t, "a 2006-10-29T00:00-03:00 2006-10-29T06:00-04:00")
	checkLengths(t, want, hours(t, "7h"))
	checkSpans(t, got, want)
	for s, want := range map[string]string{
		"2006-10-28T23:59-03:00": "",
		"2006-10-29T00:00-03:00": "a",
		"2006-10-28T23:30-04:00": "a", // wall date Saturday, in Sunday's window
		"2006-10-29T05:59-04:00": "a",
		"2006-10-29T06:00-04:00": "",
	} {
		if u, _ := r.Who(at(t, s), nil); u != want {
			t.Errorf("Who(%s) = %q, want %q", s, u, want)
		}
	}
}
