package dedupe_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
)

// A repeated request (same request id) changes nothing and answers as the
// first did: a note appears once, an alert is received once.
func TestRepeatedRequestChangesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		d := dedupe.Delivery{Alerts: []alertgate.Alert{alert("a", alertgate.Firing)}, Actor: "integration:am", RequestID: "req-1", Now: t0}
		first, err := s.Ingest(t.Context(), group, d)
		if err != nil {
			t.Fatal(err)
		}
		d.Now = t0.Add(time.Second)
		again, err := s.Ingest(t.Context(), group, d)
		if err != nil {
			t.Fatal(err)
		}
		if want := (dedupe.Result{IncidentID: first.IncidentID, Outcome: dedupe.Updated, Status: alertgate.Triggered}); again != want {
			t.Fatalf("repeated ingest answered %+v, want %+v: nothing new, nothing duplicated", again, want)
		}
		note := dedupe.Change{Action: dedupe.Note, Actor: "user:alice", Message: "looking", RequestID: "req-2", Now: t0.Add(2 * time.Second)}
		for range 3 {
			if changed, err := s.Transition(t.Context(), first.IncidentID, note); err != nil || !changed {
				t.Fatalf("note: changed %v, err %v; want done every time", changed, err)
			}
		}
		// A different request with the same text is a second note.
		note.RequestID = "req-3"
		if _, err := s.Transition(t.Context(), first.IncidentID, note); err != nil {
			t.Fatal(err)
		}
		inc := mustGet(t, s, first.IncidentID)
		if got, want := inc.Alerts[0].Received, 1; got != want {
			t.Errorf("received = %d, want %d", got, want)
		}
		if got, want := count(inc.Timeline, alertgate.EventNote), 2; got != want {
			t.Errorf("%d notes on the timeline, want %d", got, want)
		}
		// A repeat of the request that auto-resolved the incident changes
		// nothing either: it neither reopens it nor opens another.
		g2 := group
		g2.Key = "resolving"
		opened := mustIngest(t, s, g2, t0, alert("a", alertgate.Firing), alert("b", alertgate.Firing))
		resolve := dedupe.Delivery{Alerts: []alertgate.Alert{alert("a", alertgate.Resolved), alert("b", alertgate.Firing), alert("b", alertgate.Resolved)},
			Actor: "integration:am", RequestID: "resolve-1", Now: t0.Add(time.Minute)}
		for i := range 2 {
			r, err := s.Ingest(t.Context(), g2, resolve)
			if err != nil || r.IncidentID != opened.IncidentID || r.Status != alertgate.IncidentResolved {
				t.Fatalf("resolving delivery, copy %d: %+v, %v; want incident %s resolved", i+1, r, err, opened.IncidentID)
			}
		}
		inc = mustGet(t, s, opened.IncidentID)
		if inc.Reopened != 0 || count(inc.Timeline, alertgate.EventResolved) != 1 {
			t.Errorf("after the repeat: reopened %d, %d resolved entries; want 0 and 1", inc.Reopened, count(inc.Timeline, alertgate.EventResolved))
		}
		// Another delivery later carries on as usual.
		if r := mustIngest(t, s, g2, t0.Add(2*time.Minute), alert("a", alertgate.Firing)); r.Outcome != dedupe.Reopened {
			t.Errorf("a new firing delivery: %+v, want the incident reopened", r)
		}
	})
}

func count(timeline []alertgate.TimelineEntry, typ string) int {
	n := 0
	for _, e := range timeline {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// Redis stalls (SIGSTOP) longer than the client's timeout; the client
// resends its script calls, as go-redis does by default; Redis runs every
// copy once it resumes. Each request must still take effect once: the
// note appears once, the alert is received once.
func TestStalledRedisRunsEachRequestOnce(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb := redis.NewClient(&redis.Options{
		Addr: srv.Addr, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
		MaxRetries: 3, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	sent := redistest.CountSent(rdb, "evalsha")
	s := dedupe.NewStore(rdb, "stall")
	ctx := t.Context()
	// The scripts must be cached: a resent EVALSHA of an unknown script
	// would only answer NOSCRIPT, proving nothing.
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	id := mustIngest(t, s, group, t0, alert("a", alertgate.Firing)).IncidentID
	srv.WarmPool(t, rdb, 6)
	ranBefore, sentBefore := srv.Calls(t, "evalsha"), sent.Load()

	srv.Pause(t)
	_, noteErr := s.Transition(ctx, id, dedupe.Change{Action: dedupe.Note, Actor: "user:alice", Message: "during the stall", RequestID: "note-1", Now: t0.Add(time.Second)})
	_, ingestErr := s.Ingest(ctx, group, dedupe.Delivery{Alerts: []alertgate.Alert{alert("b", alertgate.Firing)}, Actor: "integration:am", RequestID: "delivery-1", Now: t0.Add(time.Second)})
	srv.Resume(t)
	for _, err := range []error{noteErr, ingestErr} {
		if got := errCode(err); got != alertgate.EUNAVAILABLE {
			t.Fatalf("call during the stall: %v (code %q), want unavailable", err, got)
		}
	}
	resent := sent.Load() - sentBefore
	if resent < 4 {
		t.Fatalf("the client sent %d script calls during the stall; the test needs it to resend", resent)
	}
	srv.WaitCalls(t, "evalsha", ranBefore+resent)
	inc := mustGet(t, s, id)
	if got, want := count(inc.Timeline, alertgate.EventNote), 1; got != want {
		t.Errorf("%d notes on the timeline after %d sends, want %d", got, resent, want)
	}
	for _, a := range inc.Alerts {
		if a.Received != 1 {
			t.Errorf("alert %s received %d times, want 1", a.Fingerprint, a.Received)
		}
	}
}

// Only a Redis that cannot answer is "unavailable" (503, the sender
// retries); a script error or a wrong type is our bug (500, ERROR), which
// a retry would only repeat forever.
func TestErrorClasses(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		rdb := redis.NewClient(&redis.Options{Addr: redistest.ClosedAddr(t), MaxRetries: -1, DialTimeout: time.Second})
		t.Cleanup(func() { _ = rdb.Close() })
		s := dedupe.NewStore(rdb, "closed")
		_, err := s.Ingest(t.Context(), group, dedupe.Delivery{Alerts: []alertgate.Alert{alert("a", alertgate.Firing)}, Now: t0})
		if got := errCode(err); got != alertgate.EUNAVAILABLE {
			t.Fatalf("ingest into a closed port: %v (code %q), want unavailable", err, got)
		}
	})
	forEachRedis(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		s := dedupe.NewStore(rdb, prefix)
		id := mustIngest(t, s, group, t0, alert("a", alertgate.Firing)).IncidentID
		// Break the incident's timeline: a string now, not a list.
		n, _ := redisx.IncidentShard(id)
		if err := rdb.Set(t.Context(), redisx.NewLayout(prefix).Shard(n).KeyOf(redisx.Timeline, id), "garbage", 0).Err(); err != nil {
			t.Fatal(err)
		}
		_, err := s.Transition(t.Context(), id, change(dedupe.Note, "x", t0))
		if got := errCode(err); got != alertgate.EINTERNAL {
			t.Fatalf("script on a key of the wrong type: %v (code %q), want internal", err, got)
		}
		if msg := alertgate.ErrorMessage(err); msg != "internal error" {
			t.Errorf("client-facing message %q leaks the cause", msg)
		}
	})
}
