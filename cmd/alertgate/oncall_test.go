package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// oncallConfig is the config whose answers these tests know by hand; its
// comment works them out.
var oncallConfig = filepath.Join("testdata", "oncall.yml")

// runCmd runs alertgate in-process with args after the program name.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(t.Context(), append([]string{"alertgate"}, args...), noEnv, &out, &errb)
	return out.String(), errb.String(), err
}

// sameJSON fails unless got and want are the same JSON value: the same
// keys (a null included), the same values, whatever the layout.
func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON\n%s\nwant\n%s", got, want)
	}
}

// TestOnCallAtJSON: who is on call in every rotation, as the API answers.
func TestOnCallAtJSON(t *testing.T) {
	for _, tt := range []struct {
		name, at, want string
	}{
		{
			// Monday 12:00Z is 08:00 EDT: alice's first week (from
			// 09:00 EST = 14:00Z on 03-02) ends at 09:00 EDT = 13:00Z.
			// sre: dave's weekdays of week 2.
			name: "monday morning after spring forward",
			at:   "2026-03-09T12:00:00Z",
			want: `{"at": "2026-03-09T12:00:00Z", "rotations": [
				{"id": "payments-primary", "on_call": "alice", "since": "2026-03-02T14:00:00Z", "until": "2026-03-09T13:00:00Z",
				 "next": {"user": "bob", "start": "2026-03-09T13:00:00Z", "end": "2026-03-16T13:00:00Z"}},
				{"id": "sre", "on_call": "dave", "since": "2026-03-09T00:00:00Z", "until": "2026-03-14T00:00:00Z",
				 "next": {"user": "carol", "start": "2026-03-14T00:00:00Z", "end": "2026-03-15T00:00:00Z"}}]}`,
		},
		{
			// Sunday 03-08: nobody in sre; an offset in --at is the
			// same instant (07:00-05:00 = 12:00Z).
			name: "sunday, nobody in sre",
			at:   "2026-03-08T07:00:00-05:00",
			want: `{"at": "2026-03-08T12:00:00Z", "rotations": [
				{"id": "payments-primary", "on_call": "alice", "since": "2026-03-02T14:00:00Z", "until": "2026-03-09T13:00:00Z",
				 "next": {"user": "bob", "start": "2026-03-09T13:00:00Z", "end": "2026-03-16T13:00:00Z"}},
				{"id": "sre", "on_call": null, "since": "2026-03-08T00:00:00Z", "until": "2026-03-09T00:00:00Z",
				 "next": {"user": "dave", "start": "2026-03-09T00:00:00Z", "end": "2026-03-14T00:00:00Z"}}]}`,
		},
		{
			// At a handoff the new shift has begun: [start, end).
			name: "at the handoff instant",
			at:   "2026-03-09T13:00:00Z",
			want: `{"at": "2026-03-09T13:00:00Z", "rotations": [
				{"id": "payments-primary", "on_call": "bob", "since": "2026-03-09T13:00:00Z", "until": "2026-03-16T13:00:00Z",
				 "next": {"user": "alice", "start": "2026-03-16T13:00:00Z", "end": "2026-03-23T13:00:00Z"}},
				{"id": "sre", "on_call": "dave", "since": "2026-03-09T00:00:00Z", "until": "2026-03-14T00:00:00Z",
				 "next": {"user": "carol", "start": "2026-03-14T00:00:00Z", "end": "2026-03-15T00:00:00Z"}}]}`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, err := runCmd(t, "oncall", "--config", oncallConfig, "--at", tt.at, "--json")
			if err != nil {
				t.Fatalf("%v\n%s", err, errs)
			}
			sameJSON(t, out, tt.want)
		})
	}
}

// TestOnCallAtTable: the same answer for people, times in each rotation's
// zone with UTC beside them.
func TestOnCallAtTable(t *testing.T) {
	out, errs, err := runCmd(t, "oncall", "--config", oncallConfig, "--at", "2026-03-09T12:00:00Z")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	want := `on call at 2026-03-09T12:00:00Z

ROTATION          ON CALL  SINCE                              UNTIL                              NEXT
payments-primary  alice    Mon 2026-03-02 09:00 EST (14:00Z)  Mon 2026-03-09 09:00 EDT (13:00Z)  bob from Mon 2026-03-09 09:00 EDT (13:00Z)
sre               dave     Mon 2026-03-09 00:00Z              Sat 2026-03-14 00:00Z              carol from Sat 2026-03-14 00:00Z
`
	if out != want {
		t.Errorf("table\n%s\nwant\n%s", out, want)
	}

	// Before the layers start nobody has ever been on call: the span of
	// nobody reaches back further than OnCall looks.
	out, _, err = runCmd(t, "oncall", "--config", oncallConfig, "--at", "2026-03-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"payments-primary  (nobody)  over a year before  Mon 2026-03-02 09:00 EST (14:00Z)  alice from Mon 2026-03-02 09:00 EST (14:00Z)\n",
		"sre               (nobody)  over a year before  Mon 2026-03-02 00:00Z              carol from Mon 2026-03-02 00:00Z\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("table\n%s\nhas no line\n%s", out, line)
		}
	}
}

// TestOnCallShiftsAcrossSpringForward: the weekly 09:00 handoff stays at
// 09:00 local across 2026-03-08, so alice's first shift is 167 hours;
// shifts are clipped to [from, to).
func TestOnCallShiftsAcrossSpringForward(t *testing.T) {
	out, errs, err := runCmd(t, "oncall", "--config", oncallConfig, "--rotation", "payments-primary",
		"--from", "2026-03-01T00:00:00Z", "--to", "2026-03-23T00:00:00Z", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	sameJSON(t, out, `{"rotation": "payments-primary", "shifts": [
		{"user": "alice", "start": "2026-03-02T14:00:00Z", "end": "2026-03-09T13:00:00Z"},
		{"user": "bob", "start": "2026-03-09T13:00:00Z", "end": "2026-03-16T13:00:00Z"},
		{"user": "alice", "start": "2026-03-16T13:00:00Z", "end": "2026-03-23T00:00:00Z"}]}`)

	var rep struct {
		Shifts []struct{ Start, End time.Time }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Shifts) == 0 {
		t.Fatalf("%v: %s", err, out)
	}
	if got, want := rep.Shifts[0].End.Sub(rep.Shifts[0].Start), 167*time.Hour; got != want {
		t.Errorf("first shift %v, want %v", got, want)
	}

	out, errs, err = runCmd(t, "oncall", "--config", oncallConfig, "--rotation", "payments-primary",
		"--from", "2026-03-01T00:00:00Z", "--to", "2026-03-23T00:00:00Z")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	want := `shifts of payments-primary (America/New_York) from Sat 2026-02-28 19:00 EST (Mar 1 00:00Z) to Sun 2026-03-22 20:00 EDT (Mar 23 00:00Z)

USER   START                              END                                       LENGTH
alice  Mon 2026-03-02 09:00 EST (14:00Z)  Mon 2026-03-09 09:00 EDT (13:00Z)         167h
bob    Mon 2026-03-09 09:00 EDT (13:00Z)  Mon 2026-03-16 09:00 EDT (13:00Z)         168h
alice  Mon 2026-03-16 09:00 EDT (13:00Z)  Sun 2026-03-22 20:00 EDT (Mar 23 00:00Z)  155h
`
	if out != want {
		t.Errorf("table\n%s\nwant\n%s", out, want)
	}
}

// TestOnCallShiftsLayersJoined: carol's weekdays and her Saturday make one
// shift; Sundays are left out; an empty range is [] (not null).
func TestOnCallShiftsLayersJoined(t *testing.T) {
	out, errs, err := runCmd(t, "oncall", "--config", oncallConfig, "--rotation", "sre",
		"--from", "2026-03-02T00:00:00Z", "--to", "2026-03-16T00:00:00Z", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	sameJSON(t, out, `{"rotation": "sre", "shifts": [
		{"user": "carol", "start": "2026-03-02T00:00:00Z", "end": "2026-03-08T00:00:00Z"},
		{"user": "dave", "start": "2026-03-09T00:00:00Z", "end": "2026-03-14T00:00:00Z"},
		{"user": "carol", "start": "2026-03-14T00:00:00Z", "end": "2026-03-15T00:00:00Z"}]}`)

	out, _, err = runCmd(t, "oncall", "--config", oncallConfig, "--rotation", "sre",
		"--from", "2026-03-08T00:00:00Z", "--to", "2026-03-09T00:00:00Z", "--json")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, out, `{"rotation": "sre", "shifts": []}`)
}

// TestOnCallUsage: command lines that make no sense exit 2 and say what
// is wrong, before the config is even read.
func TestOnCallUsage(t *testing.T) {
	rot := []string{"oncall", "--config", oncallConfig, "--rotation", "sre"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"oncall"}, "--config FILE is required"},
		{[]string{"oncall", "--config", oncallConfig, "--at", "2026-03-09"}, `--at "2026-03-09" is not an RFC 3339 time`},
		{[]string{"oncall", "--config", oncallConfig, "--at", "2026-03-09T09:00"}, "is not an RFC 3339 time"},
		{[]string{"oncall", "--config", oncallConfig, "--at", "yesterday"}, "is not an RFC 3339 time"},
		{[]string{"oncall", "--config", oncallConfig, "--at", "2026-03-09T12:00:00Z", "--rotation", "sre"}, "give one or the other"},
		{[]string{"oncall", "--config", oncallConfig, "--from", "2026-03-09T12:00:00Z"}, "add --rotation ID"},
		{append(rot, "--from", "2026-03-09T12:00:00Z"), "--rotation needs --from and --to"},
		{append(rot, "--from", "2026-03-09T12:00:00Z", "--to", "2026-03-09T12:00:00Z"), "is not after --from"},
		{append(rot, "--from", "2026-01-01T00:00:00Z", "--to", "2027-01-03T00:00:00Z"), "more than the limit of 366 days"},
		{append(rot, "--from", "2026-03-09T12:00:00Z", "--to", "13:00"), `--to "13:00" is not an RFC 3339 time`},
		{[]string{"oncall", "--config", oncallConfig, "--rotation", "nope", "--from", "2026-03-09T12:00:00Z", "--to", "2026-03-10T12:00:00Z"}, `no such rotation in testdata/oncall.yml (it has payments-primary, sre)`},
		{[]string{"oncall", "--config", oncallConfig, "extra"}, `unexpected argument "extra"`},
		{[]string{"oncall", "--colour"}, "flag provided but not defined"},
	} {
		_, _, err := runCmd(t, tt.args...)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err %v (exit %d), want exit 2 saying %q", tt.args, err, exitCode(err), tt.want)
		}
	}
}

// TestOnCallBrokenConfig: a broken config gets check-config's problems,
// file:line and all, and exit 1.
func TestOnCallBrokenConfig(t *testing.T) {
	path := filepath.Join("..", "..", "config", "testdata", "route_bad_regexp.yml")
	_, checkErrs, _ := runCmd(t, "check-config", path)
	for _, args := range [][]string{
		{"oncall", "--config", path, "--at", "2026-03-09T12:00:00Z"},
		{"oncall", "--config", path, "--rotation", "x", "--from", "2026-03-09T12:00:00Z", "--to", "2026-03-10T12:00:00Z"},
		{"schedule", "preview", "--config", path},
	} {
		out, errs, err := runCmd(t, args...)
		if err == nil || exitCode(err) != 1 {
			t.Fatalf("%v: err %v (exit %d), want exit 1", args, err, exitCode(err))
		}
		if !strings.Contains(errs, path+":8: routes[0].match_re.env: invalid regular expression") || errs != checkErrs {
			t.Errorf("%v: stderr\n%s\nwant check-config's\n%s", args, errs, checkErrs)
		}
		if out != "" {
			t.Errorf("%v: stdout %q, want nothing", args, out)
		}
	}
}
