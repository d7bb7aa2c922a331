package dedupe_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/redisx"
)

// paged is a group whose incidents run an escalation policy, so they have
// an escalation epoch (1 when opened, 2 after the first reopen).
var paged = dedupe.Group{Route: "default", Key: "paged",
	Settings: dedupe.Settings{AutoResolve: true, ReopenWindow: 5 * time.Minute, Policy: "ops"}}

func linkChange(action dedupe.Action, epoch int, nonce string, now time.Time) dedupe.Change {
	return dedupe.Change{Action: action, Actor: "alice via link", Message: "acknowledged by alice via link", Now: now,
		Only: &dedupe.Condition{Epoch: epoch, Nonce: nonce, NonceTTL: time.Hour}}
}

func wantConflict(t *testing.T, err error, cause error, what string) {
	t.Helper()
	if got := alertgate.ErrorCode(err); got != alertgate.ECONFLICT {
		t.Fatalf("%s: error %v (code %s), want ECONFLICT", what, err, got)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Fatalf("%s: error %v, want it to wrap %v", what, err, cause)
	}
}

func TestConditionNonceWorksOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		id := mustIngest(t, s, paged, t0, alert("a", alertgate.Firing)).IncidentID
		if _, used, err := s.LinkState(t.Context(), id, "n1"); err != nil || used {
			t.Fatalf("LinkState before use: used %v, %v", used, err)
		}
		changed, err := s.Transition(t.Context(), id, linkChange(dedupe.Acknowledge, 1, "n1", t0.Add(time.Minute)))
		if err != nil || !changed {
			t.Fatalf("first use: changed %v, %v", changed, err)
		}
		inc := mustGet(t, s, id)
		if inc.Status != alertgate.Acknowledged || inc.Escalation == nil || inc.Escalation.NextStep != 0 {
			t.Fatalf("after the link: status %s, escalation %+v; want acknowledged, stopped", inc.Status, inc.Escalation)
		}
		if last := inc.Timeline[len(inc.Timeline)-1]; last.Actor != "alice via link" || last.Message != "acknowledged by alice via link" {
			t.Errorf("timeline entry %+v", last)
		}
		if epoch, used, err := s.LinkState(t.Context(), id, "n1"); err != nil || !used || epoch != 1 {
			t.Fatalf("LinkState after use: epoch %d used %v, %v", epoch, used, err)
		}
		// Even a change that would be allowed (resolve) is refused with a
		// used nonce.
		_, err = s.Transition(t.Context(), id, linkChange(dedupe.Resolve, 1, "n1", t0.Add(2*time.Minute)))
		wantConflict(t, err, dedupe.ErrUsed, "second use")
		if got := mustGet(t, s, id).Status; got != alertgate.Acknowledged {
			t.Fatalf("a used nonce changed the incident to %s", got)
		}
	})
}

func TestConditionState(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		id := mustIngest(t, s, paged, t0, alert("a", alertgate.Firing)).IncidentID
		if _, err := s.Transition(t.Context(), id, change(dedupe.Acknowledge, "", t0)); err != nil {
			t.Fatal(err)
		}
		// An acknowledge link on an acknowledged incident is not a silent
		// no-op: the page says so, and the nonce stays unused.
		_, err := s.Transition(t.Context(), id, linkChange(dedupe.Acknowledge, 1, "ack", t0.Add(time.Minute)))
		wantConflict(t, err, nil, "acknowledge link on an acknowledged incident")
		if errors.Is(err, dedupe.ErrUsed) || errors.Is(err, dedupe.ErrSuperseded) {
			t.Fatalf("state conflict reported as %v", err)
		}
		if _, used, _ := s.LinkState(t.Context(), id, "ack"); used {
			t.Error("a refused change marked its nonce used")
		}
		// A resolve link works on an acknowledged incident...
		if changed, err := s.Transition(t.Context(), id, linkChange(dedupe.Resolve, 1, "res", t0.Add(time.Minute))); err != nil || !changed {
			t.Fatalf("resolve link on an acknowledged incident: %v %v", changed, err)
		}
		// ...and not on a resolved one.
		_, err = s.Transition(t.Context(), id, linkChange(dedupe.Resolve, 1, "res2", t0.Add(2*time.Minute)))
		wantConflict(t, err, nil, "resolve link on a resolved incident")
		_, err = s.Transition(t.Context(), id, linkChange(dedupe.Acknowledge, 1, "ack2", t0.Add(2*time.Minute)))
		wantConflict(t, err, nil, "acknowledge link on a resolved incident")
	})
}

func TestConditionSuperseded(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		id := mustIngest(t, s, paged, t0, alert("a", alertgate.Firing)).IncidentID
		mustIngest(t, s, paged, t0.Add(time.Minute), alert("a", alertgate.Resolved))
		if r := mustIngest(t, s, paged, t0.Add(2*time.Minute), alert("a", alertgate.Firing)); r.Outcome != dedupe.Reopened || r.IncidentID != id {
			t.Fatalf("refire: %+v, want %s reopened", r, id)
		}
		_, err := s.Transition(t.Context(), id, linkChange(dedupe.Acknowledge, 1, "old", t0.Add(3*time.Minute)))
		wantConflict(t, err, dedupe.ErrSuperseded, "a link of epoch 1 after the reopen")
		if got := mustGet(t, s, id).Status; got != alertgate.Triggered {
			t.Fatalf("a superseded link changed the incident to %s", got)
		}
		if epoch, _, _ := s.LinkState(t.Context(), id, ""); epoch != 2 {
			t.Fatalf("epoch after the reopen = %d, want 2", epoch)
		}
		if changed, err := s.Transition(t.Context(), id, linkChange(dedupe.Acknowledge, 2, "new", t0.Add(3*time.Minute))); err != nil || !changed {
			t.Fatalf("a link of the current epoch: %v %v", changed, err)
		}
	})
}

func TestConditionNonceExpires(t *testing.T) {
	forEachRedis(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		s := dedupe.NewStore(rdb, prefix)
		id := mustIngest(t, s, paged, t0, alert("a", alertgate.Firing)).IncidentID
		c := linkChange(dedupe.Acknowledge, 1, "ttl", t0)
		c.Only.NonceTTL = 90 * time.Second
		if _, err := s.Transition(t.Context(), id, c); err != nil {
			t.Fatal(err)
		}
		n, _ := redisx.IncidentShard(id)
		ttl, err := rdb.PTTL(t.Context(), redisx.NewLayout(prefix).Shard(n).KeyOf(redisx.Link, "ttl")).Result()
		if err != nil || ttl <= 80*time.Second || ttl > 90*time.Second {
			t.Fatalf("nonce key TTL %v, %v; want about 90s", ttl, err)
		}
	})
}

// Two uses of one link racing (a double click, two devices): exactly one
// acts, the other is refused as used.
func TestConditionNonceRace(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		id := mustIngest(t, s, paged, t0, alert("a", alertgate.Firing)).IncidentID
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = s.Transition(t.Context(), id, linkChange(dedupe.Resolve, 1, "race", t0))
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, dedupe.ErrUsed):
				t.Errorf("a racing use failed with %v, want ErrUsed", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d racing uses acted, want 1", ok)
		}
	})
}

func TestConditionNotFound(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *dedupe.Store) {
		_, err := s.Transition(t.Context(), "99999", linkChange(dedupe.Acknowledge, 1, "x", t0))
		if got := alertgate.ErrorCode(err); got != alertgate.ENOTFOUND {
			t.Fatalf("unknown incident: %v", err)
		}
		if _, _, err := s.LinkState(t.Context(), "not-an-id", "x"); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
			t.Fatalf("LinkState of a bad id: %v", err)
		}
	})
}
