package schedule

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// naiveWho is a second, deliberately simple answer to "who is on call at
// t": it walks the handoffs one by one from the start and rebuilds every
// window around t, so that it shares none of the shortcuts (the estimated
// shift index, the span merging) of the code under test. Only Civil.In,
// tested on its own against hand-written instants, is shared.
func naiveWho(r *Rotation, t time.Time, ovs []Override) (user, override string) {
	base := ""
	for i := len(r.Layers) - 1; i >= 0 && base == ""; i-- {
		base = naiveLayerAt(&r.Layers[i], r.Location, t)
	}
	best := -1
	for i, o := range ovs {
		switch {
		case o.User == "", !o.End.After(o.Start), o.Rotation != "" && o.Rotation != r.ID:
		case t.Before(o.Start), !t.Before(o.End):
		case o.Replaces != "" && o.Replaces != base:
		case best < 0, o.CreatedAt.After(ovs[best].CreatedAt), o.CreatedAt.Equal(ovs[best].CreatedAt):
			best = i
		}
	}
	if best >= 0 {
		return ovs[best].User, ovs[best].ID
	}
	return base, ""
}

func naiveLayerAt(l *Layer, loc *time.Location, t time.Time) string {
	st := l.Start
	h := func(k int) time.Time {
		switch l.Shift.Unit {
		case Hours:
			return st.In(loc).Add(time.Duration(k*l.Shift.N) * time.Hour)
		case Days:
			return Civil{st.Year, st.Month, st.Day + k*l.Shift.N, st.Hour, st.Minute}.In(loc)
		default:
			return Civil{st.Year, st.Month, st.Day + 7*k*l.Shift.N, st.Hour, st.Minute}.In(loc)
		}
	}
	if t.Before(h(0)) {
		return ""
	}
	k := 0
	for !h(k + 1).After(t) {
		k++
	}
	if len(l.Restrictions) > 0 {
		inside := false
		y, m, d := t.In(loc).Date()
		for dd := d - 3; dd <= d+2; dd++ {
			wd := time.Date(y, m, dd, 12, 0, 0, 0, time.UTC).Weekday()
			for _, rs := range l.Restrictions {
				if !slices.Contains(rs.Days, wd) {
					continue
				}
				endDay := dd
				if rs.To <= rs.From {
					endDay = dd + 1
				}
				s := Civil{y, m, dd, int(rs.From) / 60, int(rs.From) % 60}.In(loc)
				e := Civil{y, m, endDay, int(rs.To) / 60, int(rs.To) % 60}.In(loc)
				inside = inside || (!t.Before(s) && t.Before(e))
			}
		}
		if !inside {
			return ""
		}
	}
	return l.Participants[k%len(l.Participants)]
}

// Zones with something to test: both hemispheres' DST, 30-minute DST,
// 45-minute offsets, none at all.
var propertyZones = []string{
	"America/New_York", "Europe/London", "Australia/Lord_Howe", "Australia/Sydney",
	"Asia/Tokyo", "Pacific/Chatham", "America/Santiago", "UTC",
}

// Wall times near DST changes (02:30 is in New York's and Sydney's gaps)
// are overrepresented on purpose.
var propertyClocks = []Clock{0, 60, 90, 120, 150, 180, 480, 540, 1020, 1080, 1410, 1440}

func randomRotation(rng *rand.Rand, locs []*time.Location) (*Rotation, []Override) {
	r := &Rotation{ID: "r", Location: locs[rng.IntN(len(locs))]}
	for range 1 + rng.IntN(3) {
		var l Layer
		for i := range 1 + rng.IntN(5) {
			l.Participants = append(l.Participants, fmt.Sprintf("u%d", i+10*len(r.Layers)))
		}
		c := propertyClocks[rng.IntN(len(propertyClocks)-1)] // not 24:00
		l.Start = Civil{2026, time.Month(1 + rng.IntN(12)), 1 + rng.IntN(28), int(c) / 60, int(c) % 60}
		switch rng.IntN(3) {
		case 0:
			l.Shift = Shift{N: []int{1, 5, 8, 12, 24, 36}[rng.IntN(6)], Unit: Hours}
		case 1:
			l.Shift = Shift{N: 1 + rng.IntN(3), Unit: Days}
		default:
			l.Shift = Shift{N: 1 + rng.IntN(2), Unit: Weeks}
		}
		for range rng.IntN(3) {
			var rs Restriction
			for d := range 7 {
				if rng.IntN(2) == 0 {
					rs.Days = append(rs.Days, time.Weekday(d))
				}
			}
			rs.From = propertyClocks[rng.IntN(len(propertyClocks))]
			rs.To = propertyClocks[rng.IntN(len(propertyClocks))]
			l.Restrictions = append(l.Restrictions, rs)
		}
		r.Layers = append(r.Layers, l)
	}
	var ovs []Override
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rng.IntN(4) {
		start := base.Add(time.Duration(rng.IntN(2*366*24)) * time.Hour)
		o := Override{
			ID: fmt.Sprintf("o%d", i), Rotation: "r", User: fmt.Sprintf("v%d", i),
			Start: start, End: start.Add(time.Duration(1+rng.IntN(72*60)) * time.Minute),
			CreatedAt: base.Add(time.Duration(rng.IntN(3)) * time.Hour),
		}
		if rng.IntN(2) == 0 {
			o.Replaces = r.Layers[0].Participants[0]
		}
		ovs = append(ovs, o)
	}
	return r, ovs
}

// TestWhoAgreesWithEverything checks Who against the naive oracle, and
// OnCall and Shifts against Who, on random rotations and instants.
func TestWhoAgreesWithEverything(t *testing.T) {
	var locs []*time.Location
	for _, z := range propertyZones {
		locs = append(locs, zone(t, z))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rotations := 300
	if testing.Short() {
		rotations = 50
	}
	for i := range rotations {
		r, ovs := randomRotation(rng, locs)
		for j := range 15 {
			// From a month before 2026 to the end of 2027, to the minute,
			// sometimes to the nanosecond.
			at := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(25*31*24*60)) * time.Minute)
			if j%3 == 0 {
				at = at.Add(time.Duration(rng.Int64N(int64(time.Minute))))
			}
			where := fmt.Sprintf("rotation %d %+v overrides %+v at %v", i, r, ovs, at.In(r.Location))

			u, o := r.Who(at, ovs)
			if nu, no := naiveWho(r, at, ovs); u != nu || o != no {
				t.Fatalf("%s: Who = %q %q, naive = %q %q", where, u, o, nu, no)
			}

			ss := r.Shifts(at.Add(-50*time.Hour), at.Add(50*time.Hour), ovs)
			var in Span
			for _, s := range ss {
				if !at.Before(s.Start) && at.Before(s.End) {
					in = s
				}
			}
			if in.User != u || in.Override != o {
				t.Fatalf("%s: Who = %q %q, Shifts has %+v", where, u, o, in)
			}

			if j%5 != 0 {
				continue // OnCall is the costly one
			}
			now, next, ok := r.OnCall(at, ovs)
			if now.User != u || now.Override != o || at.Before(now.Start) || !at.Before(now.End) {
				t.Fatalf("%s: Who = %q %q, OnCall now = %+v", where, u, o, now)
			}
			if ok {
				if next.User == "" || next.Start.Before(now.End) || !next.Start.Before(next.End) {
					t.Fatalf("%s: now %+v, next %+v", where, now, next)
				}
				if nu, no := naiveWho(r, next.Start, ovs); nu != next.User || no != next.Override {
					t.Fatalf("%s: next %+v, naive at its start %q %q", where, next, nu, no)
				}
				if gap := midpoint(now.End, next.Start); now.User != "" && next.Start.After(now.End) {
					if nu, _ := naiveWho(r, gap, ovs); nu != "" {
						t.Fatalf("%s: between now %+v and next %+v, %q is on call at %v", where, now, next, nu, gap)
					}
				}
			}
		}
	}
}

// checkShiftInvariants is what FuzzShifts requires of every answer.
func checkShiftInvariants(t *testing.T, r *Rotation, ovs []Override, from, to time.Time) {
	t.Helper()
	got := r.Shifts(from, to, ovs)
	prev := from
	for i, s := range got {
		switch {
		case s.User == "":
			t.Fatalf("span %d has nobody: %s", i, formatSpans(got))
		case !s.Start.Before(s.End):
			t.Fatalf("span %d is empty: %s", i, formatSpans(got))
		case s.Start.Before(prev):
			t.Fatalf("span %d overlaps, is out of order or starts before from: %s", i, formatSpans(got))
		case s.End.After(to):
			t.Fatalf("span %d ends after to %v: %s", i, to, formatSpans(got))
		case i > 0 && s.Start.Equal(got[i-1].End) && s.User == got[i-1].User && s.Override == got[i-1].Override:
			t.Fatalf("spans %d and %d should have been joined: %s", i-1, i, formatSpans(got))
		}
		if s.Start.After(prev) {
			if u, o := r.Who(midpoint(prev, s.Start), ovs); u != "" {
				t.Fatalf("Who in the gap before span %d = %q %q: %s", i, u, o, formatSpans(got))
			}
		}
		for _, p := range []time.Time{s.Start, midpoint(s.Start, s.End)} {
			if u, o := r.Who(p, ovs); u != s.User || o != s.Override {
				t.Fatalf("Who(%v) = %q %q, span %d is %+v: %s", p, u, o, i, s, formatSpans(got))
			}
		}
		prev = s.End
	}
}

func FuzzShifts(f *testing.F) {
	f.Add(uint8(0), uint8(1), uint8(3), uint16(540), int32(0), uint8(0x1f), uint16(540), uint16(1020), int32(0), uint32(14*24*60), int32(600), uint16(600), false)
	f.Add(uint8(0), uint8(0), uint8(2), uint16(150), int32(-5000), uint8(0x7f), uint16(1080), uint16(120), int32(60), uint32(40*24*60), int32(-60), uint16(3000), true)
	f.Add(uint8(2), uint8(1), uint8(5), uint16(90), int32(200000), uint8(0x41), uint16(0), uint16(0), int32(100000), uint32(90*24*60), int32(0), uint16(0), false)
	f.Add(uint8(1), uint8(2), uint8(1), uint16(60), int32(300000), uint8(0), uint16(30), uint16(30), int32(-50000), uint32(400*24*60), int32(5), uint16(65535), true)
	var locs []*time.Location
	for _, z := range propertyZones {
		locs = append(locs, zone(f, z))
	}
	f.Fuzz(func(t *testing.T, zoneIdx, unit, n uint8, startClock uint16, startOff int32, days uint8,
		from, to uint16, rangeOff int32, rangeLen uint32, ovOff int32, ovLen uint16, ovReplaces bool) {
		loc := locs[int(zoneIdx)%len(locs)]
		origin := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
		// Start within about ±2 years of origin, at a wall time of the fuzzer's choosing.
		start := CivilOf(origin.Add(time.Duration(startOff%1_000_000) * time.Minute))
		start.Hour, start.Minute = int(startClock%1440)/60, int(startClock%60)
		participants := []string{"a", "b", "c", "d", "e", "f", "g"}[:1+int(n)%7]
		l := Layer{Participants: participants, Start: start, Shift: Shift{N: 1 + int(n)/7%12, Unit: Unit(unit % 3)}}
		if days != 0 {
			rs := Restriction{From: Clock(from % 1441), To: Clock(to % 1441)}
			for d := range 7 {
				if days&(1<<d) != 0 {
					rs.Days = append(rs.Days, time.Weekday(d))
				}
			}
			l.Restrictions = []Restriction{rs}
		}
		under := Layer{Participants: []string{"x", "y"}, Start: CivilOf(origin), Shift: Shift{N: 1, Unit: Weeks}}
		r := &Rotation{ID: "r", Location: loc, Layers: []Layer{under, l}}
		lo := origin.Add(time.Duration(rangeOff%1_000_000) * time.Minute)
		hi := lo.Add(time.Duration(rangeLen%(120*24*60)) * time.Minute) // at most 120 days
		o := Override{ID: "o", User: "z", Start: lo.Add(time.Duration(ovOff%100_000) * time.Minute)}
		o.End = o.Start.Add(time.Duration(ovLen) * time.Minute)
		if ovReplaces {
			o.Replaces = participants[0]
		}
		checkShiftInvariants(t, r, []Override{o}, lo, hi)
	})
}

// BenchmarkWho is the escalation engine's question: a three-layer
// rotation with restrictions and a few overrides, at instants spread over
// a year.
func BenchmarkWho(b *testing.B) {
	ny := zone(b, "America/New_York")
	r := &Rotation{ID: "r", Location: ny, Layers: []Layer{
		layer(b, "a,b,c,d", "2025-01-06T09:00", "1w"),
		layer(b, "e,f,g", "2025-01-06T09:00", "1d", "mon-fri 09:00-17:00"),
		layer(b, "h,i", "2025-01-06T08:00", "12h", "sat,sun 08:00-20:00"),
	}}
	var ovs []Override
	for i := range 5 {
		start := at(b, "2026-03-01T00:00Z").Add(time.Duration(i) * 30 * 24 * time.Hour)
		ovs = append(ovs, Override{ID: fmt.Sprint(i), User: "z", Replaces: []string{"", "a"}[i%2], Start: start, End: start.Add(48 * time.Hour), CreatedAt: start})
	}
	instants := make([]time.Time, 1024)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range instants {
		instants[i] = at(b, "2026-01-01T00:00Z").Add(time.Duration(rng.IntN(365*24*60)) * time.Minute)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r.Who(instants[i%len(instants)], ovs)
	}
}

func BenchmarkShiftsMonth(b *testing.B) {
	ny := zone(b, "America/New_York")
	r := &Rotation{ID: "r", Location: ny, Layers: []Layer{
		layer(b, "a,b,c,d", "2025-01-06T09:00", "1w"),
		layer(b, "e,f,g", "2025-01-06T09:00", "1d", "mon-fri 09:00-17:00"),
	}}
	from := at(b, "2026-03-01T00:00Z")
	for b.Loop() {
		r.Shifts(from, from.Add(31*24*time.Hour), nil)
	}
}
