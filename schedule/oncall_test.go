package schedule

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOnCall(t *testing.T) {
	ny := zone(t, "America/New_York")
	office := &Rotation{ID: "r", Location: ny, Layers: []Layer{layer(t, "a,b", "2026-03-02T09:00", "1d", "mon-fri 09:00-17:00")}}
	daily := &Rotation{ID: "r", Location: ny, Layers: []Layer{layer(t, "a,b", "2026-03-02T09:00", "1d")}}
	ever := &Rotation{ID: "r", Location: ny, Layers: []Layer{layer(t, "a", "2020-01-06T09:00", "1w")}}
	later := &Rotation{ID: "r", Location: ny, Layers: []Layer{layer(t, "a", "2026-03-12T09:00", "1w")}}
	override := []Override{{ID: "o1", User: "z", Start: at(t, "2026-03-03T12:00-05:00"), End: at(t, "2026-03-03T15:00-05:00")}}
	t0 := at(t, "2026-03-02T12:00-05:00")
	const year = "8784h" // Horizon, 366 days

	cases := []struct {
		name      string
		r         *Rotation
		overrides []Override
		t         string
		now, next string // next "" for none
	}{
		{
			name: "mid-shift, the next person at the handoff", r: daily, t: "2026-03-03T12:00-05:00",
			now:  "b 2026-03-03T09:00-05:00 2026-03-04T09:00-05:00",
			next: "a 2026-03-04T09:00-05:00 2026-03-05T09:00-05:00",
		},
		{
			name: "exactly at a handoff the new shift is current", r: daily, t: "2026-03-04T09:00-05:00",
			now:  "a 2026-03-04T09:00-05:00 2026-03-05T09:00-05:00",
			next: "b 2026-03-05T09:00-05:00 2026-03-06T09:00-05:00",
		},
		{
			name: "in the weekend gap: nobody from Friday 17:00 to Monday 09:00 (the clocks go forward on the way)", r: office, t: "2026-03-07T12:00-05:00",
			now:  "- 2026-03-06T17:00-05:00 2026-03-09T09:00-04:00",
			next: "b 2026-03-09T09:00-04:00 2026-03-09T17:00-04:00",
		},
		{
			name: "on call, the next span after a gap", r: office, t: "2026-03-06T16:00-05:00",
			now:  "a 2026-03-06T09:00-05:00 2026-03-06T17:00-05:00",
			next: "b 2026-03-09T09:00-04:00 2026-03-09T17:00-04:00",
		},
		{
			name: "inside an override", r: daily, overrides: override, t: "2026-03-03T13:00-05:00",
			now:  "z 2026-03-03T12:00-05:00 2026-03-03T15:00-05:00 o1",
			next: "b 2026-03-03T15:00-05:00 2026-03-04T09:00-05:00",
		},
		{
			name: "before an override", r: daily, overrides: override, t: "2026-03-03T10:00-05:00",
			now:  "b 2026-03-03T09:00-05:00 2026-03-03T12:00-05:00",
			next: "z 2026-03-03T12:00-05:00 2026-03-03T15:00-05:00 o1",
		},
		{
			name: "before the start", r: later, t: "2026-03-02T12:00-05:00",
			now:  "- 2025-03-01T12:00-05:00 2026-03-12T09:00-04:00", // cut at Horizon back
			next: "a 2026-03-12T09:00-04:00 2027-03-03T12:00-05:00", // cut at Horizon ahead
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now, next, ok := c.r.OnCall(at(t, c.t), c.overrides)
			want := span(t, c.now)
			if want.User == "-" { // nobody
				want.User = ""
			}
			if !sameSpan(now, want) {
				t.Errorf("now = %s, want %s", formatSpans([]Span{now}), formatSpans([]Span{want}))
			}
			if c.next == "" {
				if ok {
					t.Errorf("next = %s, want none", formatSpans([]Span{next}))
				}
				return
			}
			if wantNext := span(t, c.next); !ok || !sameSpan(next, wantNext) {
				t.Errorf("next = %s (ok %v), want %s", formatSpans([]Span{next}), ok, formatSpans([]Span{wantNext}))
			}
		})
	}

	t.Run("someone on call for years is cut at Horizon both ways, with no next", func(t *testing.T) {
		now, _, ok := ever.OnCall(t0, nil)
		h, _ := time.ParseDuration(year)
		if h != Horizon {
			t.Fatalf("Horizon is %v, this test says %v", Horizon, h)
		}
		want := Span{User: "a", Start: at(t, "2025-03-01T12:00-05:00"), End: at(t, "2027-03-03T12:00-05:00")}
		if !sameSpan(now, want) || ok {
			t.Errorf("now = %s ok %v, want %s and no next", formatSpans([]Span{now}), ok, formatSpans([]Span{want}))
		}
	})
	t.Run("nobody ever", func(t *testing.T) {
		empty := &Rotation{ID: "r", Location: ny}
		now, _, ok := empty.OnCall(t0, nil)
		want := Span{Start: at(t, "2025-03-01T12:00-05:00"), End: at(t, "2027-03-03T12:00-05:00")}
		if !sameSpan(now, want) || ok {
			t.Errorf("now = %s ok %v, want %s and no next", formatSpans([]Span{now}), ok, formatSpans([]Span{want}))
		}
	})
}

func TestUnreachable(t *testing.T) {
	ny := zone(t, "America/New_York")
	seven := "p1,p2,p3,p4,p5,p6,p7"
	cases := []struct {
		name  string
		layer Layer
		want  []string
	}{
		{
			name:  "7 daily from Monday midnight, Mondays only: only the first is ever on call",
			layer: layer(t, seven, "2026-03-02T00:00", "1d", "mon 00:00-00:00"),
			want:  []string{"p2", "p3", "p4", "p5", "p6", "p7"},
		},
		{
			name:  "7 daily handing over Monday 09:00, Monday office hours",
			layer: layer(t, seven, "2026-03-02T09:00", "1d", "mon 09:00-17:00"),
			want:  []string{"p2", "p3", "p4", "p5", "p6", "p7"},
		},
		{
			name:  "7 daily handing over Monday 09:00, all of Monday: Sunday's shift covers Monday morning",
			layer: layer(t, seven, "2026-03-02T09:00", "1d", "mon 00:00-24:00"),
			want:  []string{"p2", "p3", "p4", "p5", "p6"},
		},
		{
			name:  "2 weekly, weekdays: both",
			layer: layer(t, "a,b", "2026-03-02T09:00", "1w", "mon-fri 09:00-17:00"),
			want:  nil,
		},
		{
			name:  "8 daily, Mondays only: the 8-day cycle walks everyone over a Monday in 56 days",
			layer: layer(t, "p1,p2,p3,p4,p5,p6,p7,p8", "2026-03-02T00:00", "1d", "mon 00:00-00:00"),
			want:  nil,
		},
		{
			name:  "14 daily, Mondays only: two of them",
			layer: layer(t, "p1,p2,p3,p4,p5,p6,p7,p8,p9,p10,p11,p12,p13,p14", "2026-03-02T00:00", "1d", "mon 00:00-00:00"),
			want:  []string{"p2", "p3", "p4", "p5", "p6", "p7", "p9", "p10", "p11", "p12", "p13", "p14"},
		},
		{
			name:  "12h elapsed, 08:00/20:00 in UTC, office hours: the night shift never",
			layer: layer(t, "day,night", "2026-03-02T08:00", "12h", "mon-sun 09:00-17:00"),
			want:  []string{"night"},
		},
		{
			// Handoffs at 13:00 and 01:00 UTC: 08:00/20:00 EST in winter,
			// 09:00/21:00 EDT in summer, when the night shift (21:00 to
			// 09:00 EDT) covers the 08:00-09:00 window. A one-week
			// simulation from January would miss it.
			name:  "12h elapsed in New York: the night shift reaches 08:00-09:00 only in summer time",
			layer: layer(t, "day,night", "2026-01-05T08:00", "12h", "mon-sun 08:00-09:00"),
			want:  nil,
		},
		{
			name:  "a name listed twice is reported once",
			layer: layer(t, "p1,p2,p2,p4,p5,p6,p7", "2026-03-02T00:00", "1d", "mon 00:00-00:00"),
			want:  []string{"p2", "p4", "p5", "p6", "p7"},
		},
		{
			name:  "a name listed twice is reachable through its second place",
			layer: layer(t, "p1,p2,p3,p4,p5,p6,p1", "2026-03-02T00:00", "1d", "sun 00:00-00:00"),
			want:  []string{"p2", "p3", "p4", "p5", "p6"},
		},
		{
			name:  "a name listed twice is reachable through its first place",
			layer: layer(t, "p1,p2,p3,p4,p5,p6,p1", "2026-03-02T00:00", "1d", "mon 00:00-00:00"),
			want:  []string{"p2", "p3", "p4", "p5", "p6"},
		},
		{
			name:  "long shifts cover every window",
			layer: layer(t, "a,b,c", "2026-03-02T09:00", "4w", "sat 10:00-11:00"),
			want:  nil,
		},
		{
			name:  "no restrictions",
			layer: layer(t, seven, "2026-03-02T00:00", "1d"),
			want:  nil,
		},
		{
			name:  "a restriction with no days",
			layer: Layer{Participants: []string{"a", "b"}, Start: civil(t, "2026-03-02T00:00"), Shift: shift(t, "1d"), Restrictions: []Restriction{{From: 60, To: 120}}},
			want:  []string{"a", "b"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc := ny
			if strings.Contains(c.name, "UTC") {
				loc = time.UTC
			}
			if got := c.layer.Unreachable(loc); !slices.Equal(got, c.want) {
				t.Errorf("Unreachable = %v, want %v", got, c.want)
			}
		})
	}
}

func TestReports(t *testing.T) {
	ny := zone(t, "America/New_York")
	office := &Rotation{ID: "office", Location: ny, Layers: []Layer{layer(t, "a,b", "2026-03-02T09:00", "1d", "mon-fri 09:00-17:00")}}
	empty := &Rotation{ID: "empty", Location: ny}
	ovs := map[string][]Override{"office": {{ID: "o1", User: "z", Start: at(t, "2026-03-03T10:00-05:00"), End: at(t, "2026-03-03T11:00-05:00")}}}

	rep := Now([]*Rotation{office, nil, empty}, at(t, "2026-03-03T10:30-05:00"), ovs)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"at":"2026-03-03T15:30:00Z","rotations":[` +
		`{"id":"office","on_call":"z","override":"o1","since":"2026-03-03T15:00:00Z","until":"2026-03-03T16:00:00Z",` +
		`"next":{"user":"b","start":"2026-03-03T16:00:00Z","end":"2026-03-03T22:00:00Z"}},` +
		`{"id":"empty","on_call":null,"since":"2025-03-02T15:30:00Z","until":"2027-03-04T15:30:00Z","next":null}]}`
	if string(b) != want {
		t.Errorf("Now:\n got %s\nwant %s", b, want)
	}

	list := List(office, at(t, "2026-03-06T00:00-05:00"), at(t, "2026-03-10T00:00-04:00"), nil)
	b, err = json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	want = `{"rotation":"office","shifts":[` +
		`{"user":"a","start":"2026-03-06T14:00:00Z","end":"2026-03-06T22:00:00Z"},` +
		`{"user":"b","start":"2026-03-09T13:00:00Z","end":"2026-03-09T21:00:00Z"}]}`
	if string(b) != want {
		t.Errorf("List:\n got %s\nwant %s", b, want)
	}

	b, err = json.Marshal(List(empty, at(t, "2026-03-06T00:00Z"), at(t, "2026-03-07T00:00Z"), nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"rotation":"empty","shifts":[]}`; string(b) != want {
		t.Errorf("List of nobody = %s, want %s", b, want)
	}
}

// The number of shifts Unreachable simulates, worked out by hand:
// lcm(n × shift, 1 week) / shift, at least a year of Nh shifts, capped.
func TestUnreachablePeriod(t *testing.T) {
	cases := []struct {
		n     int
		shift string
		want  int
	}{
		{7, "1d", 7},       // lcm(7, 7) days
		{8, "1d", 56},      // lcm(8, 7) days
		{14, "1d", 14},     // lcm(14, 7) days
		{10, "3d", 70},     // lcm(30, 7) = 210 days of 3
		{3, "1w", 3},       // every weekly shift starts on the same weekday
		{3, "10000w", 3},   //
		{2, "12h", 732},    // lcm(24, 168)/12 = 14, but a year is 8784h / 12
		{167, "1h", 28056}, // lcm(167, 168) = 167 × 168 hours
		{1000, "1h", 21000},
		{599, "1h", 100000},    // 599 × 168 = 100632: capped
		{200000, "1d", 200000}, // the cap never leaves someone unsimulated
	}
	for _, c := range cases {
		l := Layer{Participants: make([]string, c.n), Shift: shift(t, c.shift)}
		if got := l.repeatShifts(); got != c.want {
			t.Errorf("%d × %s: %d shifts, want %d", c.n, c.shift, got, c.want)
		}
	}
}
