package dedupe_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/redistest"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func alert(fp string, status alertgate.AlertStatus) alertgate.Alert {
	return alertgate.Alert{
		Fingerprint: fp, Status: status, Source: "am",
		Labels:   map[string]string{"alertname": "Down", "instance": fp},
		Summary:  "Down " + fp,
		Severity: alertgate.SeverityWarning,
	}
}

// forEachStore runs a test against the real Redis and against the
// embedded one that --dev ships, so dev mode behaves as production does: a
// delivery that Redis accepts must not fail in dev mode.
func forEachStore(t *testing.T, test func(t *testing.T, s *dedupe.Store)) {
	forEachRedis(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		test(t, dedupe.NewStore(rdb, prefix))
	})
}

// forEachRedis runs a test against both Redis servers, with a client and
// a key prefix of the test's own.
func forEachRedis(t *testing.T, test func(t *testing.T, rdb redis.UniversalClient, prefix string)) {
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := redistest.New(t)
		test(t, rdb, prefix)
	})
	t.Run("embedded", func(t *testing.T) {
		mr := miniredis.RunT(t)
		// The embedded Redis interprets Lua in Go: under the race detector
		// a 12,000-alert script takes seconds, past go-redis's default 3 s.
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, ReadTimeout: time.Minute})
		t.Cleanup(func() { _ = rdb.Close() })
		test(t, rdb, "test")
	})
}

func change(action dedupe.Action, message string, now time.Time) dedupe.Change {
	return dedupe.Change{Action: action, Actor: "user:alice", Message: message, Now: now}
}

var group = dedupe.Group{Route: "default", Key: "{}:{alertname=\"Down\"}",
	Settings: dedupe.Settings{AutoResolve: true, ReopenWindow: 5 * time.Minute}}

func mustIngest(t *testing.T, s *dedupe.Store, g dedupe.Group, now time.Time, alerts ...alertgate.Alert) dedupe.Result {
	t.Helper()
	r, err := s.Ingest(t.Context(), g, dedupe.Delivery{Alerts: alerts, Actor: "integration:am", Now: now})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return r
}

func mustGet(t *testing.T, s *dedupe.Store, id string) *alertgate.Incident {
	t.Helper()
	inc, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return inc
}

func TestLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {

		r1 := mustIngest(t, s, group, t0, alert("a", alertgate.Firing))
		if r1.Outcome != dedupe.Opened || r1.New != 1 || r1.IncidentID == "" {
			t.Fatalf("first alert: got %+v, want opened with 1 new", r1)
		}
		id := r1.IncidentID

		r2 := mustIngest(t, s, group, t0.Add(time.Second), alert("a", alertgate.Firing))
		if got, want := r2, (dedupe.Result{IncidentID: id, Outcome: dedupe.Updated, Status: alertgate.Triggered, Duplicates: 1}); got != want {
			t.Fatalf("duplicate: got %+v, want %+v", got, want)
		}

		b := alert("b", alertgate.Firing)
		b.Severity = alertgate.SeverityCritical
		r3 := mustIngest(t, s, group, t0.Add(2*time.Second), b)
		if r3.IncidentID != id || r3.New != 1 {
			t.Fatalf("join: got %+v, want new alert in incident %s", r3, id)
		}

		inc := mustGet(t, s, id)
		if got, want := inc.AlertCount, 2; got != want {
			t.Errorf("alert_count = %d, want %d", got, want)
		}
		if got, want := inc.Firing, 2; got != want {
			t.Errorf("firing = %d, want %d", got, want)
		}
		if got, want := inc.Severity, alertgate.SeverityCritical; got != want {
			t.Errorf("severity = %s, want %s (raised by the joining alert)", got, want)
		}
		if got, want := inc.Title, "Down a"; got != want {
			t.Errorf("title = %q, want %q", got, want)
		}
		if got, want := inc.Alerts[0].Received, 2; got != want {
			t.Errorf("alert a received = %d, want %d", got, want)
		}
		if !inc.TriggeredAt.Equal(t0) {
			t.Errorf("triggered_at = %v, want %v", inc.TriggeredAt, t0)
		}

		r4 := mustIngest(t, s, group, t0.Add(3*time.Second), alert("a", alertgate.Resolved))
		if r4.Outcome != dedupe.Updated || r4.Status != alertgate.Triggered {
			t.Fatalf("one of two resolved: got %+v, want still triggered", r4)
		}
		r5 := mustIngest(t, s, group, t0.Add(4*time.Second), alert("a", alertgate.Resolved), alert("b", alertgate.Resolved))
		if r5.Outcome != dedupe.Resolved || r5.Status != alertgate.IncidentResolved {
			t.Fatalf("all resolved: got %+v, want auto-resolved", r5)
		}
		// The resolved message again (a sender's retry) changes nothing.
		r6 := mustIngest(t, s, group, t0.Add(5*time.Second), alert("a", alertgate.Resolved), alert("b", alertgate.Resolved))
		if r6.Outcome != dedupe.Stale || r6.Duplicates != 2 {
			t.Fatalf("resolved re-sent: got %+v, want stale with 2 duplicates", r6)
		}

		inc = mustGet(t, s, id)
		if !inc.ResolvedAt.Equal(t0.Add(4 * time.Second)) {
			t.Errorf("resolved_at = %v, want %v", inc.ResolvedAt, t0.Add(4*time.Second))
		}
		var types []string
		for _, e := range inc.Timeline {
			types = append(types, e.Type)
		}
		want := []string{"triggered", "no_escalation_policy", "alert_added", "alert_added", "alert_resolved", "alert_resolved", "resolved"}
		if fmt.Sprint(types) != fmt.Sprint(want) {
			t.Errorf("timeline = %v, want %v", types, want)
		}
	})
}

func TestReopenWindow(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		id := mustIngest(t, s, group, t0, alert("a", alertgate.Firing)).IncidentID
		mustIngest(t, s, group, t0.Add(time.Minute), alert("a", alertgate.Resolved))

		r := mustIngest(t, s, group, t0.Add(6*time.Minute), alert("a", alertgate.Firing))
		if r.Outcome != dedupe.Reopened || r.IncidentID != id {
			t.Fatalf("refire within window: got %+v, want incident %s reopened", r, id)
		}
		inc := mustGet(t, s, id)
		if inc.Status != alertgate.Triggered || !inc.ResolvedAt.IsZero() || inc.Reopened != 1 {
			t.Fatalf("reopened incident: got status %s resolved_at %v reopened %d", inc.Status, inc.ResolvedAt, inc.Reopened)
		}

		mustIngest(t, s, group, t0.Add(7*time.Minute), alert("a", alertgate.Resolved))
		r = mustIngest(t, s, group, t0.Add(7*time.Minute+5*time.Minute+time.Millisecond), alert("a", alertgate.Firing))
		if r.Outcome != dedupe.Opened || r.IncidentID == id {
			t.Fatalf("refire after window: got %+v, want a new incident", r)
		}
	})
}

func TestNoAutoResolve(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		g := group
		g.Settings.AutoResolve = false
		id := mustIngest(t, s, g, t0, alert("a", alertgate.Firing)).IncidentID
		r := mustIngest(t, s, g, t0.Add(time.Second), alert("a", alertgate.Resolved))
		if r.Status != alertgate.Triggered {
			t.Fatalf("auto_resolve off: got %+v, want still triggered", r)
		}
		// A new firing alert joins the same open incident.
		if got := mustIngest(t, s, g, t0.Add(2*time.Second), alert("b", alertgate.Firing)); got.IncidentID != id {
			t.Fatalf("joined incident %s, want %s", got.IncidentID, id)
		}
	})
}

func TestStaleResolution(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		r := mustIngest(t, s, group, t0, alert("never-seen", alertgate.Resolved))
		if r.Outcome != dedupe.Stale || r.IncidentID != "" || r.Stale != 1 {
			t.Fatalf("got %+v, want stale with no incident", r)
		}
	})
}

func TestTransitions(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		id := mustIngest(t, s, group, t0, alert("a", alertgate.Firing)).IncidentID
		ctx := t.Context()

		steps := []struct {
			action      dedupe.Action
			wantChanged bool
			wantCode    string
		}{
			{dedupe.Acknowledge, true, ""},
			{dedupe.Acknowledge, false, ""}, // idempotent
			{dedupe.Note, true, ""},
			{dedupe.Resolve, true, ""},
			{dedupe.Resolve, false, ""},                      // idempotent
			{dedupe.Acknowledge, false, alertgate.ECONFLICT}, // acknowledging a resolved incident
		}
		for i, st := range steps {
			changed, err := s.Transition(ctx, id, change(st.action, "looking", t0.Add(time.Duration(i+1)*time.Second)))
			if got := errCode(err); got != st.wantCode {
				t.Fatalf("step %d %s: error code %q (%v), want %q", i, st.action, got, err, st.wantCode)
			}
			if changed != st.wantChanged {
				t.Fatalf("step %d %s: changed = %v, want %v", i, st.action, changed, st.wantChanged)
			}
		}
		inc := mustGet(t, s, id)
		if !inc.AcknowledgedAt.Equal(t0.Add(time.Second)) || !inc.ResolvedAt.Equal(t0.Add(4*time.Second)) {
			t.Errorf("acknowledged_at %v resolved_at %v", inc.AcknowledgedAt, inc.ResolvedAt)
		}
		// After a manual resolve the group has no open incident: the still
		// firing alert re-sent within the window reopens it.
		r := mustIngest(t, s, group, t0.Add(time.Minute), alert("a", alertgate.Firing))
		if r.Outcome != dedupe.Reopened || r.IncidentID != id {
			t.Fatalf("re-sent after manual resolve: got %+v, want reopened %s", r, id)
		}

		for _, bad := range []string{"nope", "0", "-1", "007", "99999999"} {
			if _, err := s.Transition(ctx, bad, change(dedupe.Acknowledge, "", t0)); errCode(err) != alertgate.ENOTFOUND {
				t.Errorf("transition of %q: got %v, want not found", bad, err)
			}
			if _, err := s.Get(ctx, bad); errCode(err) != alertgate.ENOTFOUND {
				t.Errorf("get %q: got %v, want not found", bad, err)
			}
		}
	})
}

func errCode(err error) string {
	if err == nil {
		return ""
	}
	return alertgate.ErrorCode(err)
}

func TestListAndCounts(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		ctx := t.Context()
		var ids []string
		for i := range 25 {
			g := group
			g.Key = fmt.Sprintf("group-%d", i)
			g.Service = []string{"db", "web"}[i%2]
			ids = append(ids, mustIngest(t, s, g, t0.Add(time.Duration(i)*time.Second), alert("a", alertgate.Firing)).IncidentID)
		}
		if _, err := s.Transition(ctx, ids[4], change(dedupe.Acknowledge, "", t0.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}

		var seen []string
		cursor := ""
		for range 10 {
			page, err := s.List(ctx, alertgate.IncidentFilter{Limit: 7, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, inc := range page.Incidents {
				seen = append(seen, inc.ID)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if got, want := len(seen), 25; got != want {
			t.Fatalf("paged through %d incidents, want %d", got, want)
		}
		for i, id := range seen { // newest first
			if want := ids[24-i]; id != want {
				t.Fatalf("position %d: got %s, want %s", i, id, want)
			}
		}

		page, err := s.List(ctx, alertgate.IncidentFilter{Service: "db", Status: alertgate.Triggered})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(page.Incidents), 12; got != want { // 13 db incidents, one acknowledged
			t.Errorf("db triggered: got %d, want %d", got, want)
		}
		page, err = s.List(ctx, alertgate.IncidentFilter{Since: t0.Add(20 * time.Second), Until: t0.Add(22 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(page.Incidents), 3; got != want {
			t.Errorf("time window: got %d, want %d", got, want)
		}
		if _, err := s.List(ctx, alertgate.IncidentFilter{Cursor: "garbage"}); errCode(err) != alertgate.EINVALID {
			t.Errorf("bad cursor: got %v, want invalid", err)
		}

		counts, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[alertgate.Triggered] != 24 || counts[alertgate.Acknowledged] != 1 {
			t.Errorf("counts = %v, want 24 triggered and 1 acknowledged", counts)
		}
	})
}

// Many writers deliver the same alerts at once: one incident, each alert
// counted once.
func TestConcurrentIngest(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		const writers, alerts = 16, 20
		var wg sync.WaitGroup
		ids := make(chan string, writers*alerts)
		for w := range writers {
			wg.Go(func() {
				for i := range alerts {
					fp := fmt.Sprintf("a%d", (i+w)%alerts)
					r, err := s.Ingest(t.Context(), group, dedupe.Delivery{Alerts: []alertgate.Alert{alert(fp, alertgate.Firing)}, Actor: "integration:am", Now: t0})
					if err != nil {
						t.Error(err)
						return
					}
					ids <- r.IncidentID
				}
			})
		}
		wg.Wait()
		close(ids)
		distinct := map[string]bool{}
		for id := range ids {
			distinct[id] = true
		}
		if len(distinct) != 1 {
			t.Fatalf("got %d incidents, want 1", len(distinct))
		}
		for id := range distinct {
			inc := mustGet(t, s, id)
			if inc.AlertCount != alerts || inc.Firing != alerts {
				t.Fatalf("alert_count %d firing %d, want %d", inc.AlertCount, inc.Firing, alerts)
			}
			total := 0
			for _, a := range inc.Alerts {
				total += a.Received
			}
			if total != writers*alerts {
				t.Fatalf("received %d deliveries, want %d", total, writers*alerts)
			}
		}
	})
}

func TestAlertIndex(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		a := alert("pd-1", alertgate.Firing)
		id := mustIngest(t, s, group, t0, a).IncidentID
		if err := s.IndexAlerts(t.Context(), "default", id, []string{a.Key()}); err != nil {
			t.Fatal(err)
		}
		got, err := s.IncidentsForAlert(t.Context(), a.Key())
		if err != nil || !slices.Equal(got, []string{id}) {
			t.Fatalf("IncidentsForAlert = %q, %v; want [%q]", got, err, id)
		}
		// The same alert on a second route (continue): both incidents; a
		// later incident on the first route replaces its first.
		if err := s.IndexAlerts(t.Context(), "dba", "77", []string{a.Key()}); err != nil {
			t.Fatal(err)
		}
		if err := s.IndexAlerts(t.Context(), "default", "93", []string{a.Key()}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.IncidentsForAlert(t.Context(), a.Key()); !slices.Equal(got, []string{"77", "93"}) {
			t.Fatalf("after two routes: %q, want [77 93]", got)
		}
		if got, _ := s.IncidentsForAlert(t.Context(), "am/unknown"); len(got) != 0 {
			t.Fatalf("unknown alert: got %q, want none", got)
		}
	})
}

// A Redis that lost its script cache (restart, failover, SCRIPT FLUSH)
// still runs every transition: EVALSHA falls back to EVAL.
func TestScriptCacheFlushed(t *testing.T) {
	rdb, prefix := redistest.New(t)
	s := dedupe.NewStore(rdb, prefix)
	id := mustIngest(t, s, group, t0, alert("a", alertgate.Firing)).IncidentID
	if err := rdb.ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	if r := mustIngest(t, s, group, t0.Add(time.Second), alert("b", alertgate.Firing)); r.IncidentID != id || r.New != 1 {
		t.Fatalf("ingest after SCRIPT FLUSH: %+v", r)
	}
	if err := rdb.ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Transition(t.Context(), id, change(dedupe.Acknowledge, "", t0.Add(2*time.Second))); err != nil {
		t.Fatalf("transition after SCRIPT FLUSH: %v", err)
	}
}

// A delivery far larger than Lua can unpack at once (about 8000 values)
// still commits whole, and again as duplicates.
func TestHugeBatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		const n = 12000
		batch := make([]alertgate.Alert, n)
		for i := range batch {
			batch[i] = alert(fmt.Sprintf("h%d", i), alertgate.Firing)
		}
		r := mustIngest(t, s, group, t0, batch...)
		if r.New != n {
			t.Fatalf("first delivery: %+v, want %d new", r, n)
		}
		r = mustIngest(t, s, group, t0.Add(time.Second), batch...)
		if r.Duplicates != n {
			t.Fatalf("second delivery: %+v, want %d duplicates", r, n)
		}
		inc := mustGet(t, s, r.IncidentID)
		if inc.AlertCount != n || inc.Firing != n || len(inc.Alerts) != n || len(inc.Timeline) != n+2 { // triggered, no_escalation_policy, one per alert
			t.Fatalf("incident: %d alerts (%d listed), %d firing, %d timeline entries", inc.AlertCount, len(inc.Alerts), inc.Firing, len(inc.Timeline))
		}
	})
}
