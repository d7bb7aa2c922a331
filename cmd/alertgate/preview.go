package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/alertgate/alertgate/schedule"
)

// runSchedule dispatches "alertgate schedule SUBCOMMAND".
func runSchedule(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"schedule: name a subcommand: preview"}
	}
	switch args[0] {
	case "preview":
		return runSchedulePreview(args[1:], getenv, stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("schedule: unknown subcommand %q (there is: preview)", args[0])}
	}
}

// runSchedulePreview prints, for every rotation of the config, what the
// next days hold: every handoff (local and UTC), the shifts that a DST
// change makes shorter or longer than the clock says, the stretches with
// nobody on call, and how the hours on call are shared out.
func runSchedulePreview(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("alertgate schedule preview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", getenv("ALERTGATE_CONFIG"), "configuration file (env ALERTGATE_CONFIG)")
	days := fs.Int("days", 90, "length of the window in days of 24 hours, 1 to 366")
	fromFlag := fs.String("from", "", "start of the window, RFC 3339 (default now)")
	margin := fs.Float64("margin", 20, "flag people whose hours on call are more than this many percent above or below the mean")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{"schedule preview: " + err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("schedule preview: unexpected argument %q", fs.Arg(0))}
	case *cfgPath == "":
		return usageError{"schedule preview: --config FILE is required (or ALERTGATE_CONFIG)"}
	case *days < 1 || *days > 366:
		return usageError{fmt.Sprintf("schedule preview: --days %d: give 1 to 366", *days)}
	case !(*margin >= 0) || math.IsInf(*margin, 0):
		return usageError{fmt.Sprintf("schedule preview: --margin %v: give a percentage ≥ 0", *margin)}
	}
	from := time.Now().Truncate(time.Minute)
	if *fromFlag != "" {
		var err error
		if from, err = parseInstant("--from", *fromFlag); err != nil {
			return err
		}
	}
	to := from.Add(time.Duration(*days) * 24 * time.Hour)

	rotations, err := loadRotations(*cfgPath, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rotations) == 0 {
		fmt.Fprintf(stdout, "%s defines no rotations\n", *cfgPath)
		return nil
	}
	for i, r := range rotations {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := writePreview(stdout, r, from, to, *days, *margin/100); err != nil {
			return err
		}
	}
	return nil
}

// gap is a stretch of [from, to) with nobody on call.
type gap struct {
	start, end time.Time
	// before and after: the gap began before the window, goes on after it.
	before, after bool
}

func writePreview(w io.Writer, r *schedule.Rotation, from, to time.Time, days int, margin float64) error {
	loc := r.Location
	fmt.Fprintf(w, "rotation %s (%s)\n", r.ID, loc)
	fmt.Fprintf(w, "window %s to %s, %d days\n", localTime(from, loc), localTime(to, loc), days)
	spans := r.Shifts(from, to, nil)

	fmt.Fprintln(w, "\nhandoffs:")
	first := 0
	if len(spans) > 0 && spans[0].Start.Equal(from) {
		if before := who(r, from.Add(-time.Nanosecond)); before == spans[0].User {
			// Already on call when the window opens: not a handoff in it.
			whole := wholeShift(r, spans[0])
			fmt.Fprintf(w, "  on call at the start: %s, since %s (shift %s)%s\n", spans[0].User, localTime(whole.Start, loc), hours(whole.End.Sub(whole.Start)), dstNote(whole, loc, "; "))
			first = 1
		}
	}
	if first == len(spans) {
		fmt.Fprintln(w, "  none in the window")
	} else {
		tw := newTable(w)
		fmt.Fprintln(tw, "  WHEN\tHANDOFF\tSHIFT\tNOTE")
		for i := first; i < len(spans); i++ {
			s := spans[i]
			prev := ""
			switch {
			case i > 0 && spans[i-1].End.Equal(s.Start):
				prev = spans[i-1].User
			case i == 0 && s.Start.Equal(from):
				prev = who(r, from.Add(-time.Nanosecond))
			}
			if prev == "" {
				prev = "nobody"
			}
			whole := wholeShift(r, s)
			var notes []string
			if n := dstNote(whole, loc, ""); n != "" {
				notes = append(notes, n)
			}
			if whole.End.After(to) {
				notes = append(notes, "ends after the window")
			}
			fmt.Fprintf(tw, "  %s\t%s → %s\t%s\t%s\n", localTime(s.Start, loc), prev, s.User, hours(whole.End.Sub(whole.Start)), strings.Join(notes, "; "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\ngaps (nobody on call):")
	gaps := findGaps(r, spans, from, to)
	if len(gaps) == 0 {
		fmt.Fprintln(w, "  none")
	} else {
		tw := newTable(w)
		fmt.Fprintln(tw, "  START\tEND\tLENGTH\tNOTE")
		for _, g := range gaps {
			var notes []string
			if g.before {
				notes = append(notes, "began before the window")
			}
			if g.after {
				notes = append(notes, "goes on after the window")
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", localTime(g.start, loc), localTime(g.end, loc), hours(g.end.Sub(g.start)), strings.Join(notes, "; "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	return writeLoad(w, r, spans, margin)
}

// wholeShift is s (a span of Shifts, clipped to the window) with its real
// start and end when it was clipped: OnCall sees past the window.
func wholeShift(r *schedule.Rotation, s schedule.Span) schedule.Span {
	now, _, _ := r.OnCall(s.Start, nil)
	if now.User != s.User {
		return s
	}
	return schedule.Span{User: s.User, Start: earlier(now.Start, s.Start), End: later(now.End, s.End)}
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// dstNote says which offset changes of loc fall inside s, with the
// shift's length by the clock on the wall, or "" when none does. A weekly
// 09:00 handoff in New York is 168 hours by the clock but 167 real hours
// across the spring-forward night.
func dstNote(s schedule.Span, loc *time.Location, prefix string) string {
	var changes []string
	for t := s.Start.In(loc); ; {
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(s.End) {
			break
		}
		beforeName, beforeOff := end.Add(-time.Second).In(loc).Zone()
		afterName, afterOff := end.In(loc).Zone()
		if beforeOff != afterOff {
			wall := end.In(time.FixedZone(beforeName, beforeOff))
			changes = append(changes, fmt.Sprintf("%s→%s at %s", beforeName, afterName, wall.Format("Mon 2006-01-02 15:04")))
		}
		t = end.In(loc)
	}
	if len(changes) == 0 {
		return ""
	}
	return fmt.Sprintf("%scrosses DST (%s): %s by the clock", prefix, strings.Join(changes, ", "), hours(wallLength(s, loc)))
}

// wallLength is how long s looks on a wall clock in loc.
func wallLength(s schedule.Span, loc *time.Location) time.Duration {
	naive := func(t time.Time) time.Time {
		t = t.In(loc)
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	}
	return naive(s.End).Sub(naive(s.Start))
}

// findGaps lists the stretches of [from, to) that spans leave uncovered.
func findGaps(r *schedule.Rotation, spans []schedule.Span, from, to time.Time) []gap {
	var gaps []gap
	at := from
	for _, s := range spans {
		if s.Start.After(at) {
			gaps = append(gaps, gap{start: at, end: s.Start})
		}
		at = s.End
	}
	if at.Before(to) {
		gaps = append(gaps, gap{start: at, end: to})
	}
	if len(gaps) > 0 {
		if g := &gaps[0]; g.start.Equal(from) {
			g.before = who(r, from.Add(-time.Nanosecond)) == ""
		}
		if g := &gaps[len(gaps)-1]; g.end.Equal(to) {
			g.after = who(r, to) == ""
		}
	}
	return gaps
}

// writeLoad prints each participant's hours on call in the window, and
// flags those more than margin (a fraction) above or below the mean. The
// mean is over every participant of the rotation, so someone with no
// shift at all counts, as the one most below it.
func writeLoad(w io.Writer, r *schedule.Rotation, spans []schedule.Span, margin float64) error {
	var people []string
	load := map[string]time.Duration{}
	add := func(u string) {
		if _, ok := load[u]; !ok {
			load[u] = 0
			people = append(people, u)
		}
	}
	for _, l := range r.Layers {
		for _, p := range l.Participants {
			add(p)
		}
	}
	var total time.Duration
	for _, s := range spans {
		add(s.User)
		load[s.User] += s.End.Sub(s.Start)
		total += s.End.Sub(s.Start)
	}
	if len(people) == 0 {
		return nil
	}
	mean := total / time.Duration(len(people))
	fmt.Fprintf(w, "\nload (hours on call in the window; mean %s, flagged beyond ±%s%% of it):\n", hours(mean), formatPercent(margin*100))
	tw := newTable(w)
	for _, p := range people {
		h := load[p]
		dev, flag := "", ""
		if mean > 0 {
			d := (float64(h) - float64(mean)) / float64(mean)
			dev = fmt.Sprintf("%+.1f%%", d*100)
			switch {
			case d > margin:
				flag = "ABOVE"
			case d < -margin:
				flag = "BELOW"
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t\n", p, hours(h), dev, flag)
	}
	return tw.Flush()
}

func formatPercent(p float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", p), "0"), ".")
}

// who is who is on call in r at t, "" for nobody (no overrides offline).
func who(r *schedule.Rotation, t time.Time) string {
	user, _ := r.Who(t, nil)
	return user
}
