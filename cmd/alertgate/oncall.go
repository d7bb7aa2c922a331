package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alertgate/alertgate/schedule"
)

// maxListRange bounds --from/--to of "oncall --rotation" and --days of
// "schedule preview": a year of shifts is what anyone reads at once, and
// the computation grows with the range.
const maxListRange = 366 * 24 * time.Hour

// runOnCall answers "who is on call" from the config alone: no Redis, so
// no overrides. With --at (default now) it reports every rotation at that
// instant; with --rotation it lists that rotation's shifts in [--from, --to).
func runOnCall(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("alertgate oncall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", getenv("ALERTGATE_CONFIG"), "configuration file (env ALERTGATE_CONFIG)")
	atFlag := fs.String("at", "", "the instant to answer for, RFC 3339 (default now)")
	rotation := fs.String("rotation", "", "list the shifts of this rotation instead (needs --from and --to)")
	fromFlag := fs.String("from", "", "start of the shift list, RFC 3339 (with --rotation)")
	toFlag := fs.String("to", "", "end of the shift list, RFC 3339, excluded (with --rotation)")
	asJSON := fs.Bool("json", false, "print the JSON answer of the API instead of a table")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{"oncall: " + err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("oncall: unexpected argument %q", fs.Arg(0))}
	case *cfgPath == "":
		return usageError{"oncall: --config FILE is required (or ALERTGATE_CONFIG)"}
	case *rotation != "" && *atFlag != "":
		return usageError{"oncall: --at is for every rotation at one instant; --rotation lists shifts in --from/--to: give one or the other"}
	case *rotation == "" && (*fromFlag != "" || *toFlag != ""):
		return usageError{"oncall: --from and --to list the shifts of one rotation: add --rotation ID"}
	case *rotation != "" && (*fromFlag == "" || *toFlag == ""):
		return usageError{"oncall: --rotation needs --from and --to, the range of shifts to list"}
	}

	var at, from, to time.Time
	var err error
	if *rotation == "" {
		at = time.Now()
		if *atFlag != "" {
			if at, err = parseInstant("--at", *atFlag); err != nil {
				return err
			}
		}
	} else {
		if from, err = parseInstant("--from", *fromFlag); err != nil {
			return err
		}
		if to, err = parseInstant("--to", *toFlag); err != nil {
			return err
		}
		if err := checkRange("oncall", from, to); err != nil {
			return err
		}
	}

	rotations, err := loadRotations(*cfgPath, getenv, stderr)
	if err != nil {
		return err
	}
	if *rotation == "" {
		rep := schedule.Now(rotations, at, nil)
		if *asJSON {
			return writeJSON(stdout, rep)
		}
		return writeOnCallTable(stdout, rep, rotations)
	}
	r, err := findRotation(rotations, *rotation, *cfgPath)
	if err != nil {
		return err
	}
	rep := schedule.List(r, from, to, nil)
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	return writeShiftTable(stdout, rep, r, from, to)
}

// parseInstant reads an RFC 3339 time given to the flag called name.
func parseInstant(name, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageError{fmt.Sprintf("%s %q is not an RFC 3339 time: write it like 2026-03-09T09:00:00-04:00 or 2026-03-09T13:00:00Z (date, 'T', time with seconds, then Z or the UTC offset)", name, s)}
	}
	return t, nil
}

// checkRange refuses an empty or reversed range and one too long to list.
func checkRange(cmd string, from, to time.Time) error {
	switch {
	case !to.After(from):
		return usageError{fmt.Sprintf("%s: --to %s is not after --from %s", cmd, to.Format(time.RFC3339), from.Format(time.RFC3339))}
	case to.Sub(from) > maxListRange:
		return usageError{fmt.Sprintf("%s: --from to --to spans %s, more than the limit of 366 days; ask for it in pieces", cmd, hours(to.Sub(from)))}
	}
	return nil
}

// loadRotations loads the config exactly as check-config does, so a
// broken file gets the same FILE:LINE problems, and converts its rotations
// for package schedule.
func loadRotations(path string, getenv func(string) string, stderr io.Writer) ([]*schedule.Rotation, error) {
	snap, err := loadSnapshot(serveFlags{configPath: path}, getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, fmt.Errorf("%s: invalid configuration", path)
	}
	out := make([]*schedule.Rotation, 0, len(snap.Config.Rotations))
	for i := range snap.Config.Rotations {
		r, err := snap.Config.Rotations[i].Schedule()
		if err != nil {
			// Validate accepted the rotation, so converting it cannot fail.
			return nil, fmt.Errorf("%s: %w (a bug in alertgate: check-config accepts this file)", path, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func findRotation(rotations []*schedule.Rotation, id, path string) (*schedule.Rotation, error) {
	ids := make([]string, 0, len(rotations))
	for _, r := range rotations {
		if r.ID == id {
			return r, nil
		}
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		return nil, usageError{fmt.Sprintf("oncall: --rotation %q: %s defines no rotations", id, path)}
	}
	return nil, usageError{fmt.Sprintf("oncall: --rotation %q: no such rotation in %s (it has %s)", id, path, strings.Join(ids, ", "))}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// nobody stands for "no one on call" in tables.
const nobody = "(nobody)"

// writeOnCallTable prints rep with times in each rotation's own zone.
func writeOnCallTable(w io.Writer, rep schedule.OnCallReport, rotations []*schedule.Rotation) error {
	fmt.Fprintf(w, "on call at %s\n\n", rep.At.Format(time.RFC3339))
	if len(rep.Rotations) == 0 {
		fmt.Fprintln(w, "no rotations in the config")
		return nil
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ROTATION\tON CALL\tSINCE\tUNTIL\tNEXT")
	for i, rn := range rep.Rotations {
		loc := rotationZone(rotations, rn.ID, i)
		who := nobody
		if rn.OnCall != nil {
			who = *rn.OnCall
		}
		if rn.Override != "" {
			who += " (override " + rn.Override + ")"
		}
		next := "nobody within a year"
		if rn.Next != nil {
			next = rn.Next.User + " from " + localTime(rn.Next.Start, loc)
		}
		since, until := localTime(rn.Since, loc), localTime(rn.Until, loc)
		// OnCall looks no further than Horizon either way: a bound there
		// only says "further than that".
		if !rn.Since.After(rep.At.Add(-schedule.Horizon)) {
			since = "over a year before"
		}
		if !rn.Until.Before(rep.At.Add(schedule.Horizon)) {
			until = "over a year after"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", rn.ID, who, since, until, next)
	}
	return tw.Flush()
}

// rotationZone is the zone of rotation id; Now keeps the order of the
// rotations, so index i is tried first.
func rotationZone(rotations []*schedule.Rotation, id string, i int) *time.Location {
	if i < len(rotations) && rotations[i].ID == id {
		return rotations[i].Location
	}
	if j := slices.IndexFunc(rotations, func(r *schedule.Rotation) bool { return r.ID == id }); j >= 0 {
		return rotations[j].Location
	}
	return time.UTC
}

func writeShiftTable(w io.Writer, rep schedule.ShiftReport, r *schedule.Rotation, from, to time.Time) error {
	fmt.Fprintf(w, "shifts of %s (%s) from %s to %s\n\n", rep.Rotation, r.Location, localTime(from, r.Location), localTime(to, r.Location))
	if len(rep.Shifts) == 0 {
		fmt.Fprintln(w, "nobody is on call in this range")
		return nil
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "USER\tSTART\tEND\tLENGTH")
	for _, s := range rep.Shifts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.User, localTime(s.Start, r.Location), localTime(s.End, r.Location), hours(s.End.Sub(s.Start)))
	}
	return tw.Flush()
}

// table aligns tab-separated columns, as tabwriter does, without the
// trailing blanks tabwriter leaves where the last columns are empty.
type table struct {
	out io.Writer
	buf bytes.Buffer
	*tabwriter.Writer
}

func newTable(w io.Writer) *table {
	t := &table{out: w}
	t.Writer = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

// Flush writes the aligned table.
func (t *table) Flush() error {
	if err := t.Writer.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(t.buf.String()) {
		if _, err := io.WriteString(t.out, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	t.buf.Reset()
	return nil
}

// localTime is t in loc, with its weekday and zone abbreviation, and in
// UTC: "Mon 2026-03-09 09:00 EDT (13:00Z)".
func localTime(t time.Time, loc *time.Location) string {
	l, u := t.In(loc), t.UTC()
	if loc.String() == "UTC" {
		return u.Format("Mon 2006-01-02 15:04Z")
	}
	utc := u.Format("15:04Z")
	if u.YearDay() != l.YearDay() || u.Year() != l.Year() {
		utc = u.Format("Jan 2 15:04Z")
	}
	return l.Format("Mon 2006-01-02 15:04 MST") + " (" + utc + ")"
}

// hours writes d as whole hours and minutes: "167h", "7h30m".
func hours(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := d/time.Hour, (d%time.Hour)/time.Minute
	if m == 0 {
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}
