package calendar

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.ics from the output")

var stamp = time.Date(2026, 2, 20, 12, 0, 0, 0, time.UTC)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// weekly is a 09:00 weekly handoff, alternating alice and bob.
func weekly(loc *time.Location, first time.Time, n int) []Event {
	var out []Event
	for k := range n {
		start := first.AddDate(0, 0, 7*k)
		who := []string{"Alice", "Bob"}[k%2]
		out = append(out, Event{
			UID:         "payments/" + start.UTC().Format("20060102T150405Z") + "@alertgate.example",
			Summary:     "On call: " + who,
			Description: "Rotation payments, layer primary.\nHandoff at 09:00, local time.",
			Start:       start,
			End:         first.AddDate(0, 0, 7*(k+1)).In(loc),
		})
	}
	return out
}

func goldenCases(t *testing.T) map[string]Calendar {
	ny := mustLoad(t, "America/New_York")
	lh := mustLoad(t, "Australia/Lord_Howe")
	kolkata := mustLoad(t, "Asia/Kolkata")
	return map[string]Calendar{
		// Three weekly shifts; the second crosses the spring-forward night
		// of 2026-03-08 and is 167 hours long.
		"new_york_weekly": {
			Name: "payments on call", Location: ny, Stamp: stamp,
			Events: weekly(ny, time.Date(2026, 3, 2, 9, 0, 0, 0, ny), 3),
		},
		// Lord Howe moves its clocks by half an hour: back on 2026-04-05,
		// forward on 2026-10-04. The shifts span both changes.
		"lord_howe": {
			Name: "island on call", Location: lh, Stamp: stamp, Refresh: time.Hour,
			Events: []Event{
				{UID: "lh-1@x", Summary: "April", Start: time.Date(2026, 4, 4, 9, 0, 0, 0, lh), End: time.Date(2026, 4, 6, 9, 0, 0, 0, lh)},
				{UID: "lh-2@x", Summary: "October", Start: time.Date(2026, 10, 3, 9, 0, 0, 0, lh), End: time.Date(2026, 10, 5, 9, 0, 0, 0, lh), Busy: true},
			},
		},
		"kolkata_no_dst": {
			Name: "Bengaluru", Location: kolkata, Stamp: stamp,
			Events: []Event{{UID: "k@x", Summary: "Day", Start: time.Date(2026, 7, 1, 9, 0, 0, 0, kolkata), End: time.Date(2026, 7, 2, 9, 0, 0, 0, kolkata)}},
		},
		"utc": {
			Name: "UTC rota", Stamp: stamp, Refresh: 90 * time.Minute,
			Events: []Event{
				{UID: "u1@x", Summary: "Night", Start: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)},
				{UID: "u2@x", Summary: "Day", Start: time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)},
			},
		},
		// Escapes and folding: every special character of TEXT, a line
		// break of each kind, a control character to drop, invalid UTF-8,
		// and long values of multi-byte characters.
		"text": {
			Name: "Ops; the, \"real\" one\\", Stamp: stamp,
			Events: []Event{{
				UID:         "text@x",
				Summary:     strings.Repeat("Bereitschaft für Müller, Jürgen; ", 3) + "🚨🚨🚨",
				Description: "line one\r\nline two\nline three\rend\x07\xff " + strings.Repeat("日本語の当番", 12),
				Start:       time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC),
				End:         time.Date(2026, 5, 1, 20, 0, 0, 0, time.UTC),
			}},
		},
		// No events: still one component, the zone's VTIMEZONE (for UTC
		// too), as RFC 5545 requires.
		"empty":     {Name: "nobody yet", Location: ny, Stamp: stamp},
		"empty_utc": {Name: "nobody yet", Stamp: stamp},
	}
}

// TestGolden: each calendar's output is its golden file byte for byte
// (go test ./calendar -update rewrites them), passes the validator, and
// every event's DTSTART and DTEND, read back through the file's own
// VTIMEZONE, are the event's instants.
func TestGolden(t *testing.T) {
	for name, c := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, c); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".ics")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s:\n%s", path, buf.String())
			}
			cal, err := validateICS(buf.Bytes())
			if err != nil {
				t.Fatalf("invalid iCalendar: %v\n%s", err, buf.String())
			}
			events := cal.sub("VEVENT")
			if got, want := len(events), len(c.Events); got != want {
				t.Fatalf("%d VEVENTs, want %d", got, want)
			}
			for i, e := range events {
				for _, f := range []struct {
					prop string
					want time.Time
				}{{"DTSTART", c.Events[i].Start}, {"DTEND", c.Events[i].End}} {
					p, err := e.one(f.prop)
					if err != nil {
						t.Fatal(err)
					}
					got, err := instant(cal, p)
					if err != nil {
						t.Fatal(err)
					}
					if !got.Equal(f.want) {
						t.Errorf("event %d %s:%s reads as %s, want %s", i, f.prop, p.value, got.UTC(), f.want.UTC())
					}
				}
			}
		})
	}
}

// observanceLines is each STANDARD/DAYLIGHT of the zone as one string
// "KIND DTSTART FROM>TO NAME".
func observanceLines(t *testing.T, cal *component) []string {
	t.Helper()
	zones := cal.sub("VTIMEZONE")
	if len(zones) != 1 {
		t.Fatalf("%d VTIMEZONEs, want 1", len(zones))
	}
	var out []string
	for _, o := range zones[0].children {
		get := func(n string) string { p, _ := o.one(n); return p.value }
		out = append(out, o.name+" "+get("DTSTART")+" "+get("TZOFFSETFROM")+">"+get("TZOFFSETTO")+" "+get("TZNAME"))
	}
	return out
}

// TestDSTObservances pins the observances to the published rules, worked
// out by hand: New York springs forward at 02:00 EST on 2026-03-08 and
// falls back at 02:00 EDT on 2026-11-01; Lord Howe falls back half an
// hour at 02:00 on 2026-04-05 and springs forward at 02:00 on 2026-10-04.
// The period in force at the first event starts at its real onset.
func TestDSTObservances(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	lh := mustLoad(t, "Australia/Lord_Howe")
	for _, tt := range []struct {
		name   string
		loc    *time.Location
		events []Event
		want   []string
		starts []string // DTSTART values of the events
	}{
		{
			name:   "new york",
			loc:    ny,
			events: weekly(ny, time.Date(2026, 3, 2, 9, 0, 0, 0, ny), 36),
			want: []string{
				"STANDARD 20251102T020000 -0400>-0500 EST",
				"DAYLIGHT 20260308T020000 -0500>-0400 EDT",
				"STANDARD 20261101T020000 -0400>-0500 EST",
			},
			starts: []string{"20260302T090000", "20260309T090000"},
		},
		{
			name: "lord howe",
			loc:  lh,
			events: []Event{{
				UID: "a@x", Start: time.Date(2026, 4, 1, 9, 0, 0, 0, lh), End: time.Date(2026, 10, 10, 9, 0, 0, 0, lh),
			}},
			want: []string{
				"DAYLIGHT 20251005T020000 +1030>+1100 +11",
				"STANDARD 20260405T020000 +1100>+1030 +1030",
				"DAYLIGHT 20261004T020000 +1030>+1100 +11",
			},
			starts: []string{"20260401T090000"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, Calendar{Location: tt.loc, Stamp: stamp, Events: tt.events}); err != nil {
				t.Fatal(err)
			}
			cal, err := validateICS(buf.Bytes())
			if err != nil {
				t.Fatalf("invalid: %v", err)
			}
			if got := observanceLines(t, cal); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("observances\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for i, want := range tt.starts {
				p, _ := cal.sub("VEVENT")[i].one("DTSTART")
				if p.value != want || p.params["TZID"] != tt.loc.String() {
					t.Errorf("event %d DTSTART;TZID=%s:%s, want TZID=%s:%s", i, p.params["TZID"], p.value, tt.loc, want)
				}
			}
		})
	}
}

// TestSpringForwardShift: the New York shift from 2026-03-02 09:00 EST to
// 2026-03-09 09:00 EDT is written 09:00 to 09:00, and the file's own zone
// makes it 167 hours, not 168.
func TestSpringForwardShift(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	e := Event{UID: "x@y", Start: time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	if err := Write(&buf, Calendar{Location: ny, Stamp: stamp, Events: []Event{e}}); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"DTSTART;TZID=America/New_York:20260302T090000\r\n", "DTEND;TZID=America/New_York:20260309T090000\r\n"} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("no %q in\n%s", line, buf.String())
		}
	}
	cal, err := validateICS(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ev := cal.sub("VEVENT")[0]
	ps, _ := ev.one("DTSTART")
	pe, _ := ev.one("DTEND")
	s, err1 := instant(cal, ps)
	end, err2 := instant(cal, pe)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if got, want := end.Sub(s), 167*time.Hour; got != want {
		t.Errorf("shift reads as %v, want %v", got, want)
	}
}

// TestRepeatedHour: on 2026-11-01 New York shows 01:30 twice. The first
// (05:30Z, EDT) is written as a wall time; the second (06:30Z, EST) would
// read as the first, so it is written in UTC.
func TestRepeatedHour(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	first := time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)
	second := time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC)
	var buf bytes.Buffer
	err := Write(&buf, Calendar{Location: ny, Stamp: stamp, Events: []Event{
		{UID: "a@x", Start: first, End: second},
		{UID: "b@x", Start: second, End: second.Add(time.Hour)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"DTSTART;TZID=America/New_York:20261101T013000\r\n",
		"DTEND:20261101T063000Z\r\n",
		"DTSTART:20261101T063000Z\r\n",
		// 07:30Z is 02:30 EST, a wall time that occurs once.
		"DTEND;TZID=America/New_York:20261101T023000\r\n",
	} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("no %q in\n%s", line, buf.String())
		}
	}
	cal, err := validateICS(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Time{first, second} {
		p, _ := cal.sub("VEVENT")[i].one("DTSTART")
		if got, err := instant(cal, p); err != nil || !got.Equal(want) {
			t.Errorf("event %d starts %v (%v), want %v", i, got, err, want)
		}
	}
}

// TestUTCNames: UTC under any name writes Z times and no VTIMEZONE.
func TestUTCNames(t *testing.T) {
	for _, loc := range []*time.Location{nil, time.UTC, mustLoad(t, "Etc/UTC")} {
		var buf bytes.Buffer
		err := Write(&buf, Calendar{Location: loc, Stamp: stamp, Events: []Event{
			{UID: "a@x", Start: time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Contains(out, "VTIMEZONE") || strings.Contains(out, "TZID") || !strings.Contains(out, "DTSTART:20260308T070000Z\r\n") {
			t.Errorf("%v:\n%s", loc, out)
		}
	}
}

// TestFold: a value of every length, in characters of 1 to 4 octets,
// folds into lines of at most 75 octets that each hold whole characters,
// and unfolds to the original.
func TestFold(t *testing.T) {
	for _, ch := range []string{"a", "ü", "日", "🚨"} {
		for n := 0; n < 200; n++ {
			line := "SUMMARY:" + strings.Repeat(ch, n)
			folded := fold(line)
			if !strings.HasSuffix(folded, "\r\n") {
				t.Fatalf("%q: no CRLF", folded)
			}
			parts := strings.Split(strings.TrimSuffix(folded, "\r\n"), "\r\n")
			var unfolded strings.Builder
			for i, p := range parts {
				if len(p) > maxLine {
					t.Fatalf("%s×%d: line %d has %d octets", ch, n, i, len(p))
				}
				if i > 0 {
					if p[0] != ' ' {
						t.Fatalf("%s×%d: continuation %q without a space", ch, n, p)
					}
					p = p[1:]
				}
				if len(p) == 0 {
					t.Fatalf("%s×%d: empty fold", ch, n)
				}
				if !strings.HasPrefix(line[unfolded.Len():], p) || !utf8Valid(p) {
					t.Fatalf("%s×%d: bad piece %q", ch, n, p)
				}
				unfolded.WriteString(p)
			}
			if unfolded.String() != line {
				t.Fatalf("%s×%d: unfolds to %q", ch, n, unfolded.String())
			}
			// Folding is as late as possible: a line is only cut when
			// the next character would not fit.
			for i := 0; i+1 < len(parts); i++ {
				if len(parts[i])+len(ch) <= maxLine {
					t.Fatalf("%s×%d: line %d cut early at %d octets", ch, n, i, len(parts[i]))
				}
			}
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

func TestEscapeText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{`a\b`, `a\\b`},
		{"a;b,c", `a\;b\,c`},
		{"one\r\ntwo\nthree\rfour", `one\ntwo\nthree\nfour`},
		{"tab\tkept, bell\x07 and DEL\x7f dropped", `tab` + "\t" + `kept\, bell and DEL dropped`},
		{"bad \xff byte", "bad \uFFFD byte"},
		{`:colon "quote"`, `:colon "quote"`},
	} {
		if got := escapeText(tt.in); got != tt.want {
			t.Errorf("escapeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestWriteRefuses: calendars that cannot be written are refused before a
// single byte is written.
func TestWriteRefuses(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	ok := Event{UID: "a@x", Start: stamp, End: stamp.Add(time.Hour)}
	for _, tt := range []struct {
		name string
		c    Calendar
		want string
	}{
		{"no stamp", Calendar{Events: []Event{ok}}, "Stamp is not set"},
		{"no uid", Calendar{Stamp: stamp, Events: []Event{{Start: stamp, End: stamp.Add(time.Hour)}}}, "event 0 has no UID"},
		{"same uid", Calendar{Stamp: stamp, Events: []Event{ok, ok}}, `events 0 and 1 have the same UID "a@x"`},
		{"no start", Calendar{Stamp: stamp, Events: []Event{{UID: "a", End: stamp}}}, "has no Start"},
		{"end before start", Calendar{Stamp: stamp, Events: []Event{{UID: "a", Start: stamp, End: stamp.Add(-time.Hour)}}}, "not after its start"},
		{"empty event", Calendar{Stamp: stamp, Events: []Event{{UID: "a", Start: stamp, End: stamp}}}, "not after its start"},
		{"local", Calendar{Location: time.Local, Stamp: stamp, Events: []Event{ok}}, `zone "Local" has no IANA name`},
		{"unnamed fixed zone", Calendar{Location: time.FixedZone("", 3600), Stamp: stamp}, `zone "" has no IANA name`},
		{"odd zone name", Calendar{Location: time.FixedZone("a;b:c", 3600), Stamp: stamp}, "not an IANA zone name"},
		{"year 10000", Calendar{Location: ny, Stamp: stamp, Events: []Event{{UID: "a", Start: stamp, End: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}}, "year 10000"},
		{"negative refresh", Calendar{Stamp: stamp, Refresh: -time.Second}, "Refresh -1s is negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one saying %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before refusing", buf.Len())
			}
		})
	}
}

// TestValidatorCatches: the validator the other tests rely on rejects
// each kind of broken file, so their passing means something.
func TestValidatorCatches(t *testing.T) {
	var buf bytes.Buffer
	ny := mustLoad(t, "America/New_York")
	if err := Write(&buf, goldenCases(t)["new_york_weekly"]); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if _, err := validateICS([]byte(good)); err != nil {
		t.Fatalf("the good file is refused: %v", err)
	}
	longLine := "SUMMARY:" + strings.Repeat("x", 70) + "\r\n"
	for _, tt := range []struct {
		name, bad, want string
	}{
		{"LF line ends", strings.ReplaceAll(good, "\r\n", "\n"), "CRLF"},
		{"bare LF inside", strings.Replace(good, "METHOD:PUBLISH\r\n", "METHOD:PUBLISH\n", 1), "bare CR or LF"},
		{"long line", strings.Replace(good, "END:VEVENT\r\n", longLine+"END:VEVENT\r\n", 1), "more than 75"},
		{"split character", strings.Replace(good, "END:VEVENT\r\n", "SUMMARY:\xc3\r\n \xbc\r\nEND:VEVENT\r\n", 1), "not valid UTF-8"},
		{"unbalanced", strings.Replace(good, "END:VEVENT\r\n", "", 1), "does not close"},
		{"no version", strings.Replace(good, "VERSION:2.0\r\n", "", 1), "VERSION"},
		{"no uid", strings.Replace(good, "UID:payments/20260302T140000Z@alertgate.example\r\n", "", 1), "UID"},
		{"dup uid", strings.Replace(good, "UID:payments/20260309T130000Z@alertgate.example\r\n", "UID:payments/20260302T140000Z@alertgate.example\r\n", 1), "twice"},
		{"no dtstamp", strings.Replace(good, "DTSTAMP:20260220T120000Z\r\n", "", 1), "DTSTAMP"},
		{"unescaped comma", strings.Replace(good, "SUMMARY:On call: Alice", "SUMMARY:On call, Alice", 1), "unescaped"},
		{"tzid without vtimezone", strings.ReplaceAll(good, "TZID=America/New_York:", "TZID=Europe/Paris:"), "has no VTIMEZONE"},
		{"no observance", cut(good, "BEGIN:STANDARD\r\n", "END:DAYLIGHT\r\n"), "without STANDARD or DAYLIGHT"},
		{"minus zero offset", strings.Replace(good, "TZOFFSETFROM:-0400", "TZOFFSETFROM:-0000", 1), "bad UTC offset"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := validateICS([]byte(tt.bad))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want one saying %q", err, tt.want)
			}
		})
	}

	// The resolver reads a wrong offset as a wrong instant.
	wrong := strings.Replace(good, "TZOFFSETTO:-0400", "TZOFFSETTO:-0300", 1)
	cal, err := validateICS([]byte(wrong))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cal.sub("VEVENT")[1].one("DTSTART")
	got, err := instant(cal, p)
	if want := time.Date(2026, 3, 9, 9, 0, 0, 0, ny); err != nil || got.Equal(want) {
		t.Errorf("a VTIMEZONE with a wrong offset still reads %v (%v)", got, err)
	}
}

// cut removes s from the first from to the end of the last to.
func cut(s, from, to string) string {
	i := strings.Index(s, from)
	j := strings.LastIndex(s, to)
	if i < 0 || j < i {
		panic("cut: markers not found")
	}
	return s[:i] + s[j+len(to):]
}

// FuzzText: any summary and description give a valid file whose TEXT
// values unescape to the input, less what TEXT cannot carry.
func FuzzText(f *testing.F) {
	f.Add("On call: Alice", "a;b,c\\d\r\ne")
	f.Add(strings.Repeat("ü", 80), "\x00\x1f\x7f\xff"+strings.Repeat("🚨", 30))
	f.Fuzz(func(t *testing.T, summary, description string) {
		var buf bytes.Buffer
		err := Write(&buf, Calendar{Name: summary, Stamp: stamp, Events: []Event{{
			UID: "f@x", Summary: summary, Description: description, Start: stamp, End: stamp.Add(time.Hour),
		}}})
		if err != nil {
			t.Fatal(err)
		}
		cal, err := validateICS(buf.Bytes())
		if err != nil {
			t.Fatalf("invalid: %v\n%q", err, buf.String())
		}
		ev := cal.sub("VEVENT")[0]
		for _, f := range []struct{ prop, in string }{{"SUMMARY", summary}, {"DESCRIPTION", description}} {
			want := textOf(f.in)
			ps := ev.all(f.prop)
			got := ""
			if len(ps) == 1 {
				got = unescape(ps[0].value)
			}
			if want == "" && len(ps) != 0 || got != want {
				t.Errorf("%s %q reads back as %q, want %q", f.prop, f.in, got, want)
			}
		}
	})
}

// textOf is what a TEXT value can carry of s: valid UTF-8, line breaks as
// "\n", no control characters but tab and newline.
func textOf(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func unescape(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
