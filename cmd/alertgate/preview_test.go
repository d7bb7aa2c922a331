package main

import (
	"strings"
	"testing"
)

// TestSchedulePreview: two weeks of testdata/oncall.yml from Monday
// 2026-03-02 00:00Z, worked out by hand (see the file's comment).
//
// payments-primary: nobody until the layer starts at 09:00 EST (14:00Z),
// 14 hours; alice's shift crosses the spring-forward night, 167 real
// hours for 168 on the clock; bob takes over at 09:00 EDT (13:00Z) and
// is still on call when the window closes. In the window alice has 167h,
// bob 13:00Z 03-09 to 00:00Z 03-16 = 155h; the mean is 161h and neither is
// 20% off it.
//
// sre: carol Mon–Sat of week 1 (144h), nobody on Sunday, dave Mon–Fri of
// week 2 (120h), carol on Saturday (24h), nobody on Sunday (up to the
// window's end, where erin starts: the gap does not go on). Load: carol
// 168h, dave 120h, erin 0h, mean 96h: carol +75% and dave +25% are above
// the 20% margin, erin −100% below.
func TestSchedulePreview(t *testing.T) {
	out, errs, err := runCmd(t, "schedule", "preview", "--config", oncallConfig, "--from", "2026-03-02T00:00:00Z", "--days", "14")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	want := `rotation payments-primary (America/New_York)
window Sun 2026-03-01 19:00 EST (Mar 2 00:00Z) to Sun 2026-03-15 20:00 EDT (Mar 16 00:00Z), 14 days

handoffs:
  WHEN                               HANDOFF         SHIFT  NOTE
  Mon 2026-03-02 09:00 EST (14:00Z)  nobody → alice  167h   crosses DST (EST→EDT at Sun 2026-03-08 02:00): 168h by the clock
  Mon 2026-03-09 09:00 EDT (13:00Z)  alice → bob     168h   ends after the window

gaps (nobody on call):
  START                                    END                                LENGTH  NOTE
  Sun 2026-03-01 19:00 EST (Mar 2 00:00Z)  Mon 2026-03-02 09:00 EST (14:00Z)  14h     began before the window

load (hours on call in the window; mean 161h, flagged beyond ±20% of it):
  alice  167h  +3.7%
  bob    155h  -3.7%

rotation sre (UTC)
window Mon 2026-03-02 00:00Z to Mon 2026-03-16 00:00Z, 14 days

handoffs:
  WHEN                   HANDOFF         SHIFT  NOTE
  Mon 2026-03-02 00:00Z  nobody → carol  144h
  Mon 2026-03-09 00:00Z  nobody → dave   120h
  Sat 2026-03-14 00:00Z  dave → carol    24h

gaps (nobody on call):
  START                  END                    LENGTH  NOTE
  Sun 2026-03-08 00:00Z  Mon 2026-03-09 00:00Z  24h
  Sun 2026-03-15 00:00Z  Mon 2026-03-16 00:00Z  24h

load (hours on call in the window; mean 96h, flagged beyond ±20% of it):
  carol  168h  +75.0%   ABOVE
  dave   120h  +25.0%   ABOVE
  erin   0h    -100.0%  BELOW
`
	if out != want {
		t.Errorf("preview\n%s\nwant\n%s", out, want)
	}
}

// TestSchedulePreviewFallBack: a window opening inside alice's shift
// across the fall-back night of 2026-11-01 (week 34 from 03-02, even, so
// alice's): she has been on call since Mon 10-26 09:00 EDT, a 169-hour
// shift for 168 on the clock, and hands over at 09:00 EST (14:00Z). A
// wider margin flags nobody: 7 days from Tue 00:00Z give alice 14:00Z
// Mon 11-02 less 00:00Z Tue 10-27 = 158h and bob the 10h after.
func TestSchedulePreviewFallBack(t *testing.T) {
	out, errs, err := runCmd(t, "schedule", "preview", "--config", oncallConfig, "--from", "2026-10-27T00:00:00Z", "--days", "7", "--margin", "100")
	if err != nil {
		t.Fatalf("%v\n%s", err, errs)
	}
	for _, want := range []string{
		"  on call at the start: alice, since Mon 2026-10-26 09:00 EDT (13:00Z) (shift 169h); crosses DST (EDT→EST at Sun 2026-11-01 02:00): 168h by the clock\n",
		"  Mon 2026-11-02 09:00 EST (14:00Z)  alice → bob  168h   ends after the window\n",
		"load (hours on call in the window; mean 84h, flagged beyond ±100% of it):\n  alice  158h  +88.1%\n  bob    10h   -88.1%\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("preview\n%s\nhas no\n%s", out, want)
		}
	}
	if strings.Contains(out, "ABOVE") || strings.Contains(out, "BELOW") {
		t.Errorf("a 100%% margin flagged someone:\n%s", out)
	}
}

func TestSchedulePreviewUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"schedule"}, "name a subcommand: preview"},
		{[]string{"schedule", "review"}, `unknown subcommand "review"`},
		{[]string{"schedule", "preview"}, "--config FILE is required"},
		{[]string{"schedule", "preview", "--config", oncallConfig, "--days", "0"}, "--days 0: give 1 to 366"},
		{[]string{"schedule", "preview", "--config", oncallConfig, "--days", "367"}, "--days 367: give 1 to 366"},
		{[]string{"schedule", "preview", "--config", oncallConfig, "--days", "two"}, "invalid value"},
		{[]string{"schedule", "preview", "--config", oncallConfig, "--margin", "-5"}, "--margin -5"},
		{[]string{"schedule", "preview", "--config", oncallConfig, "--margin", "NaN"}, "--margin NaN"},
		{[]string{"schedule", "preview", "--config", oncallConfig, "--from", "2026-03-02"}, `--from "2026-03-02" is not an RFC 3339 time`},
		{[]string{"schedule", "preview", "--config", oncallConfig, "now"}, `unexpected argument "now"`},
	} {
		_, _, err := runCmd(t, tt.args...)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err %v (exit %d), want exit 2 saying %q", tt.args, err, exitCode(err), tt.want)
		}
	}
}
