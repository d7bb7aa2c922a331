package schedule

import (
	"testing"
	"time"
)

// handoffCase is one single-layer rotation and the shifts it must have in
// [from, to), with their lengths (written separately, as a check on the
// hand-written instants).
type handoffCase struct {
	name     string
	zone     string
	layer    Layer
	from, to string
	want     []string
	lengths  string
}

func TestHandoffsAcrossDST(t *testing.T) {
	cases := []handoffCase{
		{
			name: "New York daily, spring forward: the shift over the change is 23h",
			zone: "America/New_York", layer: layer(t, "a,b,c", "2026-03-06T09:00", "1d"),
			from: "2026-03-06T00:00-05:00", to: "2026-03-10T00:00-04:00",
			want: []string{
				"a 2026-03-06T09:00-05:00 2026-03-07T09:00-05:00",
				"b 2026-03-07T09:00-05:00 2026-03-08T09:00-04:00",
				"c 2026-03-08T09:00-04:00 2026-03-09T09:00-04:00",
				"a 2026-03-09T09:00-04:00 2026-03-10T00:00-04:00",
			},
			lengths: "24h 23h 24h 15h",
		},
		{
			name: "New York daily, fall back: the shift over the change is 25h",
			zone: "America/New_York", layer: layer(t, "a,b", "2026-10-30T09:00", "1d"),
			from: "2026-10-31T00:00-04:00", to: "2026-11-02T12:00-05:00",
			want: []string{
				"a 2026-10-31T00:00-04:00 2026-10-31T09:00-04:00",
				"b 2026-10-31T09:00-04:00 2026-11-01T09:00-05:00",
				"a 2026-11-01T09:00-05:00 2026-11-02T09:00-05:00",
				"b 2026-11-02T09:00-05:00 2026-11-02T12:00-05:00",
			},
			lengths: "9h 25h 24h 3h",
		},
		{
			name: "New York weekly, spring forward: 167h",
			zone: "America/New_York", layer: layer(t, "a,b", "2026-03-02T09:00", "1w"),
			from: "2026-03-02T09:00-05:00", to: "2026-03-16T09:00-04:00",
			want: []string{
				"a 2026-03-02T09:00-05:00 2026-03-09T09:00-04:00",
				"b 2026-03-09T09:00-04:00 2026-03-16T09:00-04:00",
			},
			lengths: "167h 168h",
		},
		{
			name: "New York weekly, fall back: 169h",
			zone: "America/New_York", layer: layer(t, "a,b", "2026-10-26T09:00", "1w"),
			from: "2026-10-26T09:00-04:00", to: "2026-11-09T09:00-05:00",
			want: []string{
				"a 2026-10-26T09:00-04:00 2026-11-02T09:00-05:00",
				"b 2026-11-02T09:00-05:00 2026-11-09T09:00-05:00",
			},
			lengths: "169h 168h",
		},
		{
			name: "London daily, spring forward",
			zone: "Europe/London", layer: layer(t, "a,b,c", "2026-03-27T09:00", "1d"),
			from: "2026-03-27T09:00+00:00", to: "2026-03-30T09:00+01:00",
			want: []string{
				"a 2026-03-27T09:00+00:00 2026-03-28T09:00+00:00",
				"b 2026-03-28T09:00+00:00 2026-03-29T09:00+01:00",
				"c 2026-03-29T09:00+01:00 2026-03-30T09:00+01:00",
			},
			lengths: "24h 23h 24h",
		},
		{
			name: "London daily, fall back",
			zone: "Europe/London", layer: layer(t, "a,b", "2026-10-24T09:00", "1d"),
			from: "2026-10-24T09:00+01:00", to: "2026-10-26T09:00+00:00",
			want: []string{
				"a 2026-10-24T09:00+01:00 2026-10-25T09:00+00:00",
				"b 2026-10-25T09:00+00:00 2026-10-26T09:00+00:00",
			},
			lengths: "25h 24h",
		},
		{
			name: "London weekly, both changes",
			zone: "Europe/London", layer: layer(t, "a,b", "2026-03-23T09:00", "1w"),
			from: "2026-03-23T09:00+00:00", to: "2026-04-06T09:00+01:00",
			want: []string{
				"a 2026-03-23T09:00+00:00 2026-03-30T09:00+01:00",
				"b 2026-03-30T09:00+01:00 2026-04-06T09:00+01:00",
			},
			lengths: "167h 168h",
		},
		{
			name: "Tokyo daily over New York's change: no DST, 24h",
			zone: "Asia/Tokyo", layer: layer(t, "a,b", "2026-03-07T09:00", "1d"),
			from: "2026-03-07T09:00+09:00", to: "2026-03-10T09:00+09:00",
			want: []string{
				"a 2026-03-07T09:00+09:00 2026-03-08T09:00+09:00",
				"b 2026-03-08T09:00+09:00 2026-03-09T09:00+09:00",
				"a 2026-03-09T09:00+09:00 2026-03-10T09:00+09:00",
			},
			lengths: "24h 24h 24h",
		},
		{
			name: "Tokyo weekly over London's change: 168h",
			zone: "Asia/Tokyo", layer: layer(t, "a,b", "2026-10-19T09:00", "1w"),
			from: "2026-10-19T09:00+09:00", to: "2026-11-02T09:00+09:00",
			want: []string{
				"a 2026-10-19T09:00+09:00 2026-10-26T09:00+09:00",
				"b 2026-10-26T09:00+09:00 2026-11-02T09:00+09:00",
			},
			lengths: "168h 168h",
		},
		{
			name: "Lord Howe daily, April: the 30-minute fall back makes 24.5h",
			zone: "Australia/Lord_Howe", layer: layer(t, "a,b", "2026-04-04T09:00", "1d"),
			from: "2026-04-04T09:00+11:00", to: "2026-04-06T09:00+10:30",
			want: []string{
				"a 2026-04-04T09:00+11:00 2026-04-05T09:00+10:30",
				"b 2026-04-05T09:00+10:30 2026-04-06T09:00+10:30",
			},
			lengths: "24h30m 24h",
		},
		{
			name: "Lord Howe daily, October: the 30-minute spring forward makes 23.5h",
			zone: "Australia/Lord_Howe", layer: layer(t, "a,b", "2026-10-03T09:00", "1d"),
			from: "2026-10-03T09:00+10:30", to: "2026-10-05T09:00+11:00",
			want: []string{
				"a 2026-10-03T09:00+10:30 2026-10-04T09:00+11:00",
				"b 2026-10-04T09:00+11:00 2026-10-05T09:00+11:00",
			},
			lengths: "23h30m 24h",
		},
		{
			name: "12h elapsed over spring forward: 12h each, the handoff moves from 08:00/20:00 to 09:00/21:00",
			zone: "America/New_York", layer: layer(t, "a,b", "2026-03-07T08:00", "12h"),
			from: "2026-03-07T08:00-05:00", to: "2026-03-08T21:00-04:00",
			want: []string{
				"a 2026-03-07T08:00-05:00 2026-03-07T20:00-05:00",
				"b 2026-03-07T20:00-05:00 2026-03-08T09:00-04:00",
				"a 2026-03-08T09:00-04:00 2026-03-08T21:00-04:00",
			},
			lengths: "12h 12h 12h",
		},
		{
			name: "12h elapsed over fall back: 12h each, the handoff moves from 08:00/20:00 to 07:00/19:00",
			zone: "America/New_York", layer: layer(t, "a,b", "2026-10-31T08:00", "12h"),
			from: "2026-10-31T08:00-04:00", to: "2026-11-01T19:00-05:00",
			want: []string{
				"a 2026-10-31T08:00-04:00 2026-10-31T20:00-04:00",
				"b 2026-10-31T20:00-04:00 2026-11-01T07:00-05:00",
				"a 2026-11-01T07:00-05:00 2026-11-01T19:00-05:00",
			},
			lengths: "12h 12h 12h",
		},
		{
			name: "a daily handoff at 02:30 falls in the spring-forward gap: 03:30 EDT that day",
			zone: "America/New_York", layer: layer(t, "a,b,c", "2026-03-07T02:30", "1d"),
			from: "2026-03-07T02:30-05:00", to: "2026-03-10T02:30-04:00",
			want: []string{
				"a 2026-03-07T02:30-05:00 2026-03-08T03:30-04:00",
				"b 2026-03-08T03:30-04:00 2026-03-09T02:30-04:00",
				"c 2026-03-09T02:30-04:00 2026-03-10T02:30-04:00",
			},
			lengths: "24h 23h 24h",
		},
		{
			name: "a layer starting inside the gap starts at 03:30 EDT",
			zone: "America/New_York", layer: layer(t, "a,b", "2026-03-08T02:30", "1d"),
			from: "2026-03-08T00:00-05:00", to: "2026-03-09T12:00-04:00",
			want: []string{
				"a 2026-03-08T03:30-04:00 2026-03-09T02:30-04:00",
				"b 2026-03-09T02:30-04:00 2026-03-09T12:00-04:00",
			},
			lengths: "23h 9h30m",
		},
		{
			name: "a weekly handoff in the gap",
			zone: "America/New_York", layer: layer(t, "a,b", "2026-03-01T02:30", "1w"),
			from: "2026-03-01T02:30-05:00", to: "2026-03-15T02:30-04:00",
			want: []string{
				"a 2026-03-01T02:30-05:00 2026-03-08T03:30-04:00",
				"b 2026-03-08T03:30-04:00 2026-03-15T02:30-04:00",
			},
			lengths: "168h 167h",
		},
		{
			name: "a daily handoff at 01:30 falls in the fall-back overlap: its first occurrence, 01:30 EDT",
			zone: "America/New_York", layer: layer(t, "a,b,c", "2026-10-31T01:30", "1d"),
			from: "2026-10-31T01:30-04:00", to: "2026-11-03T01:30-05:00",
			want: []string{
				"a 2026-10-31T01:30-04:00 2026-11-01T01:30-04:00",
				"b 2026-11-01T01:30-04:00 2026-11-02T01:30-05:00",
				"c 2026-11-02T01:30-05:00 2026-11-03T01:30-05:00",
			},
			lengths: "24h 25h 24h",
		},
		{
			name: "London: a handoff at 01:30 on 25 October is 01:30 BST",
			zone: "Europe/London", layer: layer(t, "a,b", "2026-10-24T01:30", "1d"),
			from: "2026-10-24T01:30+01:00", to: "2026-10-26T01:30+00:00",
			want: []string{
				"a 2026-10-24T01:30+01:00 2026-10-25T01:30+01:00",
				"b 2026-10-25T01:30+01:00 2026-10-26T01:30+00:00",
			},
			lengths: "24h 25h",
		},
		{
			name: "leap day, daily",
			zone: "Europe/London", layer: layer(t, "a,b,c", "2028-02-27T09:00", "1d"),
			from: "2028-02-27T09:00+00:00", to: "2028-03-02T09:00+00:00",
			want: []string{
				"a 2028-02-27T09:00+00:00 2028-02-28T09:00+00:00",
				"b 2028-02-28T09:00+00:00 2028-02-29T09:00+00:00",
				"c 2028-02-29T09:00+00:00 2028-03-01T09:00+00:00",
				"a 2028-03-01T09:00+00:00 2028-03-02T09:00+00:00",
			},
			lengths: "24h 24h 24h 24h",
		},
		{
			name: "leap day, two-day shifts: 28 February to 1 March is two days",
			zone: "Europe/London", layer: layer(t, "a,b", "2028-02-28T09:00", "2d"),
			from: "2028-02-28T09:00+00:00", to: "2028-03-04T09:00+00:00",
			want: []string{
				"a 2028-02-28T09:00+00:00 2028-03-01T09:00+00:00",
				"b 2028-03-01T09:00+00:00 2028-03-03T09:00+00:00",
				"a 2028-03-03T09:00+00:00 2028-03-04T09:00+00:00",
			},
			lengths: "48h 48h 24h",
		},
		{
			name: "leap day, weekly from Tuesday 22 February",
			zone: "Europe/London", layer: layer(t, "a,b", "2028-02-22T09:00", "1w"),
			from: "2028-02-22T09:00+00:00", to: "2028-03-07T09:00+00:00",
			want: []string{
				"a 2028-02-22T09:00+00:00 2028-02-29T09:00+00:00",
				"b 2028-02-29T09:00+00:00 2028-03-07T09:00+00:00",
			},
			lengths: "168h 168h",
		},
		{
			name: "leap day, weekly from Saturday 26 February, in Tokyo",
			zone: "Asia/Tokyo", layer: layer(t, "a,b", "2028-02-26T18:00", "1w"),
			from: "2028-02-26T00:00+09:00", to: "2028-03-11T18:00+09:00",
			want: []string{
				"a 2028-02-26T18:00+09:00 2028-03-04T18:00+09:00",
				"b 2028-03-04T18:00+09:00 2028-03-11T18:00+09:00",
			},
			lengths: "168h 168h",
		},
		{
			name: "before the start the layer has nobody; the range starts mid-shift",
			zone: "America/New_York", layer: layer(t, "a,b", "2026-03-04T09:00", "1d"),
			from: "2026-03-01T00:00-05:00", to: "2026-03-05T12:00-05:00",
			want: []string{
				"a 2026-03-04T09:00-05:00 2026-03-05T09:00-05:00",
				"b 2026-03-05T09:00-05:00 2026-03-05T12:00-05:00",
			},
			lengths: "24h 3h",
		},
		{
			name: "one participant: one joined span",
			zone: "America/New_York", layer: layer(t, "a", "2026-03-02T09:00", "1d"),
			from: "2026-03-01T00:00-05:00", to: "2026-03-10T00:00-04:00",
			want:    []string{"a 2026-03-02T09:00-05:00 2026-03-10T00:00-04:00"},
			lengths: "182h",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Rotation{ID: "r", Location: zone(t, c.zone), Layers: []Layer{c.layer}}
			want := spans(t, c.want...)
			checkLengths(t, want, hours(t, c.lengths))
			got := r.Shifts(at(t, c.from), at(t, c.to), nil)
			checkSpans(t, got, want)
			for _, s := range got {
				if s.Start.Location() != r.Location {
					t.Errorf("span %v is in %v, not the rotation's zone", s.Start, s.Start.Location())
				}
			}
			// Who agrees at every handoff and just before it.
			for _, s := range want {
				if u, _ := r.Who(s.Start, nil); u != s.User {
					t.Errorf("Who(%v) = %q, want %q", s.Start, u, s.User)
				}
				if u, _ := r.Who(s.End.Add(-time.Nanosecond), nil); u != s.User {
					t.Errorf("Who(just before %v) = %q, want %q", s.End, u, s.User)
				}
			}
		})
	}
}

// checkLengths guards the hand-written expectations themselves: a slip in
// an offset shows up as a length that disagrees with the calendar.
func checkLengths(t *testing.T, want []Span, lengths []time.Duration) {
	t.Helper()
	if len(want) != len(lengths) {
		t.Fatalf("test has %d spans and %d lengths", len(want), len(lengths))
	}
	for i, s := range want {
		if got := s.End.Sub(s.Start); got != lengths[i] {
			t.Fatalf("test expectation %d lasts %v, its length says %v", i, got, lengths[i])
		}
	}
}

func TestCivilIn(t *testing.T) {
	cases := []struct {
		zone, wall, want string
	}{
		{"America/New_York", "2026-03-08T01:59", "2026-03-08T01:59-05:00"},
		{"America/New_York", "2026-03-08T02:00", "2026-03-08T03:00-04:00"}, // gap
		{"America/New_York", "2026-03-08T02:30", "2026-03-08T03:30-04:00"}, // gap
		{"America/New_York", "2026-03-08T03:00", "2026-03-08T03:00-04:00"},
		{"America/New_York", "2026-11-01T00:59", "2026-11-01T00:59-04:00"},
		{"America/New_York", "2026-11-01T01:00", "2026-11-01T01:00-04:00"}, // overlap: first
		{"America/New_York", "2026-11-01T01:30", "2026-11-01T01:30-04:00"}, // overlap: first
		{"America/New_York", "2026-11-01T02:00", "2026-11-01T02:00-05:00"},
		{"Europe/London", "2026-03-29T01:30", "2026-03-29T02:30+01:00"},       // gap
		{"Europe/London", "2026-10-25T01:30", "2026-10-25T01:30+01:00"},       // overlap
		{"Australia/Lord_Howe", "2026-10-04T02:15", "2026-10-04T02:45+11:00"}, // 30-minute gap
		{"Australia/Lord_Howe", "2026-04-05T01:45", "2026-04-05T01:45+11:00"}, // 30-minute overlap
		{"Asia/Tokyo", "2026-03-08T02:30", "2026-03-08T02:30+09:00"},
		{"America/New_York", "2026-03-07T24:00", "2026-03-08T00:00-05:00"}, // 24:00 is the next midnight
	}
	for _, c := range cases {
		wall := c.wall
		var cv Civil
		if wall[11:13] == "24" {
			cv = civil(t, wall[:11]+"00:00")
			cv.Hour = 24
		} else {
			cv = civil(t, wall)
		}
		if got, want := cv.In(zone(t, c.zone)), at(t, c.want); !got.Equal(want) {
			t.Errorf("%s in %s = %v, want %v", c.wall, c.zone, got, want)
		}
	}
}

func TestParseClock(t *testing.T) {
	for s, want := range map[string]Clock{"00:00": 0, "09:30": 570, "23:59": 1439, "24:00": 1440} {
		if got, err := ParseClock(s); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %v, %v, want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "9:30", "09:60", "24:01", "25:00", "+1:30", "-1:30", "0x:00", "09-30", "09:3 "} {
		if _, err := ParseClock(s); err == nil {
			t.Errorf("ParseClock(%q) accepted", s)
		}
	}
}

func TestParseShift(t *testing.T) {
	for s, want := range map[string]Shift{"12h": {12, Hours}, "1d": {1, Days}, "2w": {2, Weeks}} {
		if got, err := ParseShift(s); err != nil || got != want || got.String() != s {
			t.Errorf("ParseShift(%q) = %v, %v, want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "h", "0d", "-1w", "+1w", "1m", "1.5h", "99999w"} {
		if _, err := ParseShift(s); err == nil {
			t.Errorf("ParseShift(%q) accepted", s)
		}
	}
}
