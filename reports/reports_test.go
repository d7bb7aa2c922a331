package reports

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/alertgate/alertgate"
	"time"
)

// diff is "" when want and got are deeply equal, else both as JSON.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	w, _ := json.MarshalIndent(want, "", "  ")
	g, _ := json.MarshalIndent(got, "", "  ")
	return "-" + string(w) + "\n+" + string(g)
}

// st is the Stats the test expects, in seconds; mean is checked too.
func st(n int, median, p90, mean, maxS float64) Stats {
	f := func(v float64) *float64 { return &v }
	return Stats{Count: n, Median: f(median), P90: f(p90), Mean: f(mean), Max: f(maxS)}
}

func groupOf(t *testing.T, r Report, key string) Group {
	t.Helper()
	for _, g := range r.Groups {
		if g.Key == key {
			return g
		}
	}
	t.Fatalf("no group %q in %v", key, r.Groups)
	return Group{}
}

// TestFixtureTotals checks every measure of the hand-checked fixture's
// total against values worked out by hand (nearest rank: the q-quantile of
// n samples is the ⌈q·n⌉-th smallest).
func TestFixtureTotals(t *testing.T) {
	r := Compute(fixture(), fixtureOptions(ByService, false))
	got := r.Total
	// I13 and I14 are outside [from, to).
	if got.Incidents != 12 {
		t.Fatalf("incidents = %d, want 12", got.Incidents)
	}

	// TTA samples (s): I1 300, I2 720, I3 120 (the first ack; the second,
	// after the reopen, does not count), I4 630 (30 s before the silence
	// + 600 s after its release; the hour held is not counted), I8 600
	// (paged, then held for flapping from 08:10), I9 1200, I10 960,
	// I11 180, I12 720 (600 s in the first episode, the resolved gap
	// 09:10–09:15 not counted, 120 s in the second). Left out: I5 (only
	// PagerDuty acked), I6 (nobody acked), I7 (declared).
	// Sorted: 120 180 300 600 630 720 720 960 1200; n = 9.
	// Median: rank ⌈4.5⌉ = 5 → 630. P90: rank ⌈8.1⌉ = 9 → 1200.
	// Mean 5430/9 = 603.333.
	if diff := diff(st(9, 630, 1200, 603.333, 1200), got.TimeToAcknowledge); diff != "" {
		t.Errorf("time to acknowledge (-want +got):\n%s", diff)
	}

	// TTR samples (s), triggered_at to the last resolve: I1 2700, I2 3000,
	// I3 5400 (14:00 to the resolve after the reopen, 15:30), I4 7200 (the
	// silence counts: the problem lasted), I5 1860, I6 600, I7 3600,
	// I8 4800, I10 3600, I11 1200, I12 3600. I9 is open: left out.
	// Sorted: 600 1200 1860 2700 3000 3600 3600 3600 4800 5400 7200; n = 11.
	// Median: rank ⌈5.5⌉ = 6 → 3600. P90: rank ⌈9.9⌉ = 10 → 5400.
	// Mean 37560/11 = 3414.545.
	if diff := diff(st(11, 3600, 5400, 3414.545, 7200), got.TimeToResolve); diff != "" {
		t.Errorf("time to resolve (-want +got):\n%s", diff)
	}

	// Impact: the TTR samples, except I7's window set by hand, 15:40 to
	// 16:50 = 4200. Sorted: 600 1200 1860 2700 3000 3600 3600 4200 4800
	// 5400 7200. Median rank 6 → 3600, P90 rank 10 → 5400; total
	// 37560 − 3600 + 4200 = 38160; mean 38160/11 = 3469.090.
	if diff := diff(Impact{Stats: st(11, 3600, 5400, 3469.09, 7200), TotalSeconds: 38160}, got.CustomerImpact); diff != "" {
		t.Errorf("customer impact (-want +got):\n%s", diff)
	}

	// Postmortems: I7 done a day after its resolve (86400 s); I9 required,
	// due Nov 14, overdue at Nov 20.
	if diff := diff(Postmortems{Required: 2, Done: 1, Pending: 1, Overdue: 1,
		ResolveToDone: st(1, 86400, 86400, 86400, 86400)}, got.Postmortems); diff != "" {
		t.Errorf("postmortems (-want +got):\n%s", diff)
	}

	// Follow-ups: f1 open since Nov 6 17:00, due Nov 13: overdue, age
	// 13 d 7 h = 1148400 s; f2 done; f3 open since Nov 7 11:00, due
	// Nov 30, age 12 d 13 h = 1083600 s. Median rank ⌈1⌉ = 1 → 1083600,
	// P90 rank ⌈1.8⌉ = 2 → 1148400.
	if diff := diff(FollowUps{Open: 2, Overdue: 1, Done: 1,
		OpenAge: st(2, 1083600, 1148400, 1116000, 1148400)}, got.FollowUps); diff != "" {
		t.Errorf("follow-ups (-want +got):\n%s", diff)
	}

	// Pages: alice 10 (in hours: I1 — judged at its delivery, I3 ×3,
	// I6, I12 ×2; out: I2 at 23:00, I8 at 08:00, I9 on a Saturday), bob 4
	// (out: I2 18:10 and I5 07:00 New York time, I10 on a Sunday; in:
	// I11 10:00 New York time), carol 2 (no working hours: unknown), and
	// one page to a channel (I6).
	wantPages := Pages{Total: 17, ToChannels: 1, InHours: 8, OutOfHours: 6, UnknownHours: 2, People: []PersonLoad{
		{User: "alice", Pages: 10, OutOfHours: 3},
		{User: "bob", Pages: 4, OutOfHours: 3},
		{User: "carol", Pages: 2, UnknownHours: 2},
	}}
	if diff := diff(wantPages, got.Pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}

	counts := map[string][2]int{
		"open (I9)":                   {got.Open, 1},
		"declared (I7)":               {got.Declared, 1},
		"reopened (I3, I12)":          {got.Reopened, 2},
		"reopens":                     {got.Reopens, 2},
		"auto-resolved (I2 I3 I6 I8)": {got.AutoResolved, 4},
		"held (I4, I8)":               {got.Held, 2},
		"flapping (I8)":               {got.Flapping, 1},
		"unacknowledged (I5, I6)":     {got.Unacknowledged, 2},
		"sender acknowledged (I5)":    {got.SenderAcknowledged, 1},
		"escalated (I2, I10)":         {got.EscalatedPastFirstStep, 2},
		"failures (I3, I10)":          {got.NotificationFailures, 2},
		"incidents with failures":     {got.IncidentsWithFailures, 2},
	}
	for name, c := range counts {
		if c[0] != c[1] {
			t.Errorf("%s = %d, want %d", name, c[0], c[1])
		}
	}
}

// TestFixtureGroups checks the per-service groups.
func TestFixtureGroups(t *testing.T) {
	r := Compute(fixture(), fixtureOptions(ByService, false))
	if got, want := len(r.Groups), 3; got != want {
		t.Fatalf("groups = %d, want %d", got, want)
	}
	// api: I1 I2 I3 I10. TTA 120 300 720 960: median rank 2 → 300, P90
	// rank ⌈3.6⌉ = 4 → 960; mean 2100/4 = 525. TTR 2700 3000 3600 5400:
	// median 3000, P90 5400, mean 14700/4 = 3675.
	api := groupOf(t, r, "api")
	if diff := diff(st(4, 300, 960, 525, 960), api.TimeToAcknowledge); diff != "" {
		t.Errorf("api TTA (-want +got):\n%s", diff)
	}
	if diff := diff(st(4, 3000, 5400, 3675, 5400), api.TimeToResolve); diff != "" {
		t.Errorf("api TTR (-want +got):\n%s", diff)
	}
	// db: I4 I5 I6 I11. TTA 180 630 (I5 sender-only, I6 unacked): median
	// rank 1 → 180, P90 rank 2 → 630. TTR 600 1200 1860 7200: median
	// rank 2 → 1200, P90 rank 4 → 7200, mean 10860/4 = 2715.
	db := groupOf(t, r, "db")
	if diff := diff(st(2, 180, 630, 405, 630), db.TimeToAcknowledge); diff != "" {
		t.Errorf("db TTA (-want +got):\n%s", diff)
	}
	if diff := diff(st(4, 1200, 7200, 2715, 7200), db.TimeToResolve); diff != "" {
		t.Errorf("db TTR (-want +got):\n%s", diff)
	}
	// web: I7 I8 I9 I12. TTA 600 720 1200 (I7 declared): median 720,
	// P90 rank 3 → 1200, mean 840. TTR 3600 3600 4800 (I9 open): median
	// 3600, P90 4800, mean 4000.
	web := groupOf(t, r, "web")
	if diff := diff(st(3, 720, 1200, 840, 1200), web.TimeToAcknowledge); diff != "" {
		t.Errorf("web TTA (-want +got):\n%s", diff)
	}
	if diff := diff(st(3, 3600, 4800, 4000, 4800), web.TimeToResolve); diff != "" {
		t.Errorf("web TTR (-want +got):\n%s", diff)
	}
	if web.Open != 1 || web.Declared != 1 || web.Incidents != 4 {
		t.Errorf("web: %d incidents, %d open, %d declared; want 4, 1, 1", web.Incidents, web.Open, web.Declared)
	}

	// By team: payments owns r-api, platform r-db and r-web.
	byTeam := Compute(fixture(), fixtureOptions(ByTeam, false))
	if got, want := groupOf(t, byTeam, "platform").Incidents, 8; got != want {
		t.Errorf("platform incidents = %d, want %d", got, want)
	}
	if diff := diff(api.TimeToResolve, groupOf(t, byTeam, "payments").TimeToResolve); diff != "" {
		t.Errorf("payments TTR differs from api's (-api +payments):\n%s", diff)
	}
	bySev := Compute(fixture(), fixtureOptions(BySeverity, false))
	for sev, want := range map[string]int{"critical": 8, "warning": 3, "info": 1} {
		if got := groupOf(t, bySev, sev).Incidents; got != want {
			t.Errorf("%s incidents = %d, want %d", sev, got, want)
		}
	}
}

// TestSenderAckKnob: reports.count_sender_acks counts I5's PagerDuty
// acknowledge (60 s after the trigger).
func TestSenderAckKnob(t *testing.T) {
	r := Compute(fixture(), fixtureOptions(ByService, true))
	// Sorted: 60 120 180 300 600 630 720 720 960 1200; n = 10. Median rank
	// 5 → 600, P90 rank 9 → 960, mean 5490/10 = 549.
	if diff := diff(st(10, 600, 960, 549, 1200), r.Total.TimeToAcknowledge); diff != "" {
		t.Errorf("time to acknowledge with sender acks (-want +got):\n%s", diff)
	}
	if r.Total.Unacknowledged != 1 || r.Total.SenderAcknowledged != 0 {
		t.Errorf("unacknowledged %d, sender-acknowledged %d; want 1 (I6), 0", r.Total.Unacknowledged, r.Total.SenderAcknowledged)
	}
	// db: 60 180 630: median rank 2 → 180, P90 rank 3 → 630.
	if diff := diff(st(3, 180, 630, 290, 630), groupOf(t, r, "db").TimeToAcknowledge); diff != "" {
		t.Errorf("db TTA with sender acks (-want +got):\n%s", diff)
	}
}

// TestOrderDoesNotMatter: the report of a shuffled input, each timeline
// shuffled too, is the same (the fixture's entries of one instant commute,
// so sorting by time restores a valid history).
func TestOrderDoesNotMatter(t *testing.T) {
	want := Compute(fixture(), fixtureOptions(ByService, false))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		in := fixture()
		rng.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		for k := range in {
			tl := in[k].Timeline
			rng.Shuffle(len(tl), func(i, j int) { tl[i], tl[j] = tl[j], tl[i] })
		}
		got := Compute(in, fixtureOptions(ByService, false))
		if diff := diff(want, got); diff != "" {
			t.Fatalf("shuffled input gives another report (-want +got):\n%s", diff)
		}
	}
}

func TestNearestRank(t *testing.T) {
	s := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Second
		}
		return out
	}
	for _, c := range []struct {
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{s(1), 0.5, time.Second},
		{s(1, 2), 0.5, time.Second}, // the lower middle
		{s(1, 2, 3), 0.5, 2 * time.Second},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.9, 9 * time.Second}, // exactly rank 9
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 0.9, 10 * time.Second},
		{s(5, 6), 0.9, 6 * time.Second},
		{nil, 0.5, 0},
	} {
		if got := NearestRank(c.in, c.q); got != c.want {
			t.Errorf("NearestRank(%v, %v) = %v, want %v", c.in, c.q, got, c.want)
		}
	}
}

// TestEmptyStatsAreNull: a group with no samples says so, not 0 s.
func TestEmptyStatsAreNull(t *testing.T) {
	r := Compute(nil, fixtureOptions(ByService, false))
	b, err := json.Marshal(r.Total.TimeToAcknowledge)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"count":0,"median_seconds":null,"p90_seconds":null,"mean_seconds":null,"max_seconds":null}`; got != want {
		t.Errorf("empty stats = %s, want %s", got, want)
	}
	if r.Groups == nil || len(r.Groups) != 0 {
		t.Errorf("groups = %#v, want an empty list", r.Groups)
	}
}

// TestPostmortemRuleAndAlertStart: a postmortem the config requires counts
// as pending without any entry (overdue by the rule's due after the
// resolve), and the default impact starts at the first alert's starts_at.
func TestPostmortemRuleAndAlertStart(t *testing.T) {
	o := fixtureOptions(ByService, false)
	o.PostmortemRule = func(sev alertgate.Severity, _ string) (time.Duration, bool) {
		return 48 * time.Hour, sev == alertgate.SeverityCritical
	}
	a := inc("1", "api", alertgate.SeverityCritical,
		ev(at(2, 10, 0, 0), alertgate.EventTriggered, am),
		ev(at(2, 10, 30, 0), alertgate.EventResolved, am))
	a.Alerts = []alertgate.IncidentAlert{
		{Alert: alertgate.Alert{StartsAt: at(2, 9, 50, 0)}, FirstSeen: at(2, 10, 0, 0)},
		{FirstSeen: at(2, 9, 55, 0)}, // no starts_at: its arrival
	}
	b := inc("2", "api", alertgate.SeverityWarning, ev(at(3, 10, 0, 0), alertgate.EventTriggered, am))
	c := inc("3", "api", alertgate.SeverityCritical, ev(at(4, 10, 0, 0), alertgate.EventTriggered, am))
	r := Compute([]alertgate.Incident{a, b, c}, o)
	// a: resolved Nov 2 10:30, due 48 h later, overdue at Nov 20; c: open,
	// so not yet due; b: no rule.
	if diff := diff(Postmortems{Required: 2, Pending: 2, Overdue: 1}, r.Total.Postmortems); diff != "" {
		t.Errorf("postmortems (-want +got):\n%s", diff)
	}
	// 09:50 (a's earliest start) to 10:30.
	if diff := diff(Impact{Stats: st(1, 2400, 2400, 2400, 2400), TotalSeconds: 2400}, r.Total.CustomerImpact); diff != "" {
		t.Errorf("impact (-want +got):\n%s", diff)
	}
}
