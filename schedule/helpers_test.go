package schedule

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Expected instants in these tests are written by hand from a calendar, with
// the UTC offset in force spelled out ("2026-03-08T09:00-04:00"), so that a
// reader can check each one without running anything. The 2026 changes:
// New York springs forward on Sunday 8 March at 02:00 EST and falls back on
// Sunday 1 November at 02:00 EDT; London on Sunday 29 March at 01:00 GMT and
// Sunday 25 October at 02:00 BST; Lord Howe falls back from +11 to +10:30 on
// Sunday 5 April at 02:00 and springs from +10:30 to +11 on Sunday 4 October
// at 02:00. 2 March 2026 is a Monday; 29 February 2028 is a Tuesday.

const instantLayout = "2006-01-02T15:04Z07:00"

func zone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// at is an instant written with its offset: "2026-03-08T09:00-04:00".
func at(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(instantLayout, s)
	if err != nil {
		tb.Fatalf("bad instant in test: %v", err)
	}
	return t
}

func civil(tb testing.TB, s string) Civil {
	tb.Helper()
	c, err := ParseCivil(s)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func clock(tb testing.TB, s string) Clock {
	tb.Helper()
	c, err := ParseClock(s)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func shift(tb testing.TB, s string) Shift {
	tb.Helper()
	sh, err := ParseShift(s)
	if err != nil {
		tb.Fatal(err)
	}
	return sh
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// restrict is a restriction written "mon-fri 18:00-02:00" or "sat,sun 00:00-00:00".
func restrict(tb testing.TB, s string) Restriction {
	tb.Helper()
	days, hours, ok := strings.Cut(s, " ")
	from, to, ok2 := strings.Cut(hours, "-")
	if !ok || !ok2 {
		tb.Fatalf("bad restriction in test: %q", s)
	}
	var rs Restriction
	for _, part := range strings.Split(days, ",") {
		first, last, isRange := strings.Cut(part, "-")
		if !isRange {
			last = first
		}
		a, ok1 := weekdayNames[first]
		b, ok2 := weekdayNames[last]
		if !ok1 || !ok2 {
			tb.Fatalf("bad days in test: %q", s)
		}
		for d := a; ; d = (d + 1) % 7 {
			rs.Days = append(rs.Days, d)
			if d == b {
				break
			}
		}
	}
	rs.From, rs.To = clock(tb, from), clock(tb, to)
	return rs
}

// layer is a layer written compactly: participants "a,b,c", start, shift, restrictions.
func layer(tb testing.TB, participants, start, length string, restrictions ...string) Layer {
	tb.Helper()
	l := Layer{Participants: strings.Split(participants, ","), Start: civil(tb, start), Shift: shift(tb, length)}
	for _, r := range restrictions {
		l.Restrictions = append(l.Restrictions, restrict(tb, r))
	}
	return l
}

// span is "user start end" or "user start end override".
func span(tb testing.TB, s string) Span {
	tb.Helper()
	f := strings.Fields(s)
	if len(f) != 3 && len(f) != 4 {
		tb.Fatalf("bad span in test: %q", s)
	}
	sp := Span{User: f[0], Start: at(tb, f[1]), End: at(tb, f[2])}
	if len(f) == 4 {
		sp.Override = f[3]
	}
	return sp
}

func spans(tb testing.TB, ss ...string) []Span {
	tb.Helper()
	out := make([]Span, 0, len(ss))
	for _, s := range ss {
		out = append(out, span(tb, s))
	}
	return out
}

func formatSpans(ss []Span) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "\n\t%s %s %s (%v) %s", s.User, s.Start.Format(instantLayout), s.End.Format(instantLayout), s.End.Sub(s.Start), s.Override)
	}
	return b.String()
}

func sameSpans(got, want []Span) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !sameSpan(got[i], want[i]) {
			return false
		}
	}
	return true
}

func sameSpan(a, b Span) bool {
	return a.User == b.User && a.Override == b.Override && a.Start.Equal(b.Start) && a.End.Equal(b.End)
}

func checkSpans(tb testing.TB, got, want []Span) {
	tb.Helper()
	if !sameSpans(got, want) {
		tb.Errorf("got:%s\nwant:%s", formatSpans(got), formatSpans(want))
	}
}

// hours parses a list of hand-computed shift lengths: "24h 23h 24h".
func hours(tb testing.TB, s string) []time.Duration {
	tb.Helper()
	var out []time.Duration
	for _, f := range strings.Fields(s) {
		d, err := time.ParseDuration(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}
