package escalation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/schedule"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// harness is one Redis prefix with a dedupe store, an engine on a fake
// clock, and the directory the engine reads.
type harness struct {
	t      *testing.T
	rdb    redis.UniversalClient
	prefix string
	store  *dedupe.Store
	clock  *fakeclock.Clock
	dir    *Directory
	engine *Engine
}

func user(id string) *config.User {
	return &config.User{ID: id, Contacts: []config.Contact{{Notifier: "console", Address: id}}}
}

func newHarness(t *testing.T, policies ...*Policy) *harness {
	t.Helper()
	rdb, prefix := redistest.New(t)
	return newHarnessOn(t, rdb, prefix, policies...)
}

func newHarnessOn(t *testing.T, rdb redis.UniversalClient, prefix string, policies ...*Policy) *harness {
	t.Helper()
	h := &harness{t: t, rdb: rdb, prefix: prefix, store: dedupe.NewStore(rdb, prefix), clock: fakeclock.New(t0)}
	h.dir = &Directory{Policies: map[string]*Policy{}, Users: map[string]*config.User{}, Teams: map[string]*config.Team{}}
	for _, id := range []string{"alice", "bob", "carol", "dave"} {
		h.dir.Users[id] = user(id)
	}
	h.dir.Users["nocontact"] = &config.User{ID: "nocontact"}
	h.dir.Teams["payments"] = &config.Team{ID: "payments", Members: []string{"alice", "bob"}}
	h.dir.Teams["ghosts"] = &config.Team{ID: "ghosts", Members: []string{"nocontact"}}
	for _, p := range policies {
		h.dir.Policies[p.ID] = p
	}
	h.engine = h.newEngine()
	if err := h.engine.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) newEngine() *Engine {
	return New(h.rdb, h.prefix, Options{Directory: func() *Directory { return h.dir }, Clock: h.clock, Lease: time.Minute})
}

// open ingests one firing alert into its own group, under policy, and
// returns the incident id.
func (h *harness) open(policy, fp string, wait time.Duration) string {
	h.t.Helper()
	res, err := h.store.Ingest(context.Background(), dedupe.Group{Route: "r", Key: fp,
		Settings: dedupe.Settings{AutoResolve: true, ReopenWindow: time.Hour, Policy: policy, GroupWait: wait}},
		dedupe.Delivery{Alerts: []alertgate.Alert{firing(fp, alertgate.Firing)}, Actor: "test", Now: h.clock.Now()})
	if err != nil {
		h.t.Fatal(err)
	}
	return res.IncidentID
}

func firing(fp string, st alertgate.AlertStatus) alertgate.Alert {
	return alertgate.Alert{Fingerprint: fp, Status: st, Source: "am", Summary: "Down " + fp,
		Severity: alertgate.SeverityCritical, Labels: map[string]string{"instance": fp}}
}

func (h *harness) ingest(fp string, st alertgate.AlertStatus, policy string) {
	h.t.Helper()
	_, err := h.store.Ingest(context.Background(), dedupe.Group{Route: "r", Key: fp,
		Settings: dedupe.Settings{AutoResolve: true, ReopenWindow: time.Hour, Policy: policy}},
		dedupe.Delivery{Alerts: []alertgate.Alert{firing(fp, st)}, Actor: "test", Now: h.clock.Now()})
	if err != nil {
		h.t.Fatal(err)
	}
}

// at moves the clock to t0+d and runs one pass.
func (h *harness) at(d time.Duration) {
	h.t.Helper()
	if by := t0.Add(d).Sub(h.clock.Now()); by > 0 {
		h.clock.Advance(by)
	}
	if err := h.engine.Pass(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// pages returns every page in every outbox, in commit order per incident.
func (h *harness) pages() []notify.Page {
	h.t.Helper()
	var out []notify.Page
	l := redisx.NewLayout(h.prefix)
	for n := range redisx.Shards {
		msgs, err := h.rdb.XRange(context.Background(), l.Shard(n).Key(redisx.Outbox), "-", "+").Result()
		if err != nil {
			h.t.Fatal(err)
		}
		for _, m := range msgs {
			var p notify.Page
			if err := json.Unmarshal([]byte(m.Values["page"].(string)), &p); err != nil {
				h.t.Fatal(err)
			}
			out = append(out, p)
		}
	}
	return out
}

// paged lists "user@step" of every page so far, in order.
func (h *harness) paged() []string {
	var out []string
	for _, p := range h.pages() {
		who := p.User
		if who == "" {
			who = "#" + p.Notifier
		}
		out = append(out, fmt.Sprintf("%s@%d.%d", who, p.Step, p.Repeat))
	}
	return out
}

func (h *harness) expectPaged(want ...string) {
	h.t.Helper()
	if got := h.paged(); !slices.Equal(got, want) {
		h.t.Fatalf("paged %v, want %v", got, want)
	}
}

func (h *harness) incident(id string) *alertgate.Incident {
	h.t.Helper()
	inc, err := h.store.Get(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return inc
}

func (h *harness) timelineTypes(id string) []string {
	var out []string
	for _, e := range h.incident(id).Timeline {
		out = append(out, e.Type)
	}
	return out
}

func twoSteps() *Policy {
	return &Policy{ID: "p", Steps: []Step{
		{Targets: []Target{{User, "alice"}}, Delay: 5 * time.Minute},
		{Targets: []Target{{User, "bob"}}, Delay: 10 * time.Minute},
	}}
}

func TestStepsRunAtTheirTimes(t *testing.T) {
	h := newHarness(t, twoSteps())
	id := h.open("p", "a", 30*time.Second)

	h.at(29 * time.Second)
	h.expectPaged()
	h.at(30 * time.Second)
	h.expectPaged("alice@1.0")
	inc := h.incident(id)
	if inc.EscalationPolicy != "p" || inc.Escalation == nil || inc.Escalation.Step != 1 || inc.Escalation.NextStep != 2 ||
		!inc.Escalation.NextAt.Equal(t0.Add(30*time.Second+5*time.Minute)) {
		t.Fatalf("after step 1: policy %q, escalation %+v", inc.EscalationPolicy, inc.Escalation)
	}
	h.at(30*time.Second + 5*time.Minute - time.Millisecond)
	h.expectPaged("alice@1.0")
	h.at(30*time.Second + 5*time.Minute)
	h.expectPaged("alice@1.0", "bob@2.0")
	h.at(30*time.Second + 15*time.Minute)
	h.expectPaged("alice@1.0", "bob@2.0")
	h.at(24 * time.Hour)
	h.expectPaged("alice@1.0", "bob@2.0")

	want := []string{"triggered", "alert_added", "paged", "paged", "escalation_exhausted"}
	if got := h.timelineTypes(id); !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	if n, _ := h.rdb.ZCard(context.Background(), redisx.NewLayout(h.prefix).Shard(shardOf(id)).Key(redisx.Due)).Result(); n != 0 {
		t.Errorf("due set holds %d entries after the policy ended", n)
	}
	p := h.pages()[0]
	if p.Key != id+".1.0.1.alice" || p.Title != "Down a" || p.Severity != alertgate.SeverityCritical ||
		p.Notifier != "console" || p.Address != "alice" || p.Reason != "named in the step" || !p.At.Equal(t0.Add(30*time.Second)) {
		t.Errorf("page %+v", p)
	}
}

// Dev mode runs on the embedded Redis: the scripts must work there too.
func TestStepsRunOnEmbeddedRedis(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	p := twoSteps()
	p.Fallback = &Target{Team, "payments"}
	h := newHarnessOn(t, rdb, "dev", p)
	id := h.open("p", "a", 0)
	for _, d := range []time.Duration{0, 5, 15} {
		h.at(d * time.Minute)
	}
	h.expectPaged("alice@1.0", "bob@2.0", "alice@3.0", "bob@3.0")
	if err := h.engine.Escalate(context.Background(), id, Action{Actor: "x"}); alertgate.ErrorCode(err) != alertgate.ECONFLICT {
		t.Errorf("escalate after the end: %v", err)
	}
}

func shardOf(id string) int { n, _ := redisx.IncidentShard(id); return n }

func TestAcknowledgeStops(t *testing.T) {
	h := newHarness(t, twoSteps())
	id := h.open("p", "a", 0)
	h.at(0)
	h.expectPaged("alice@1.0")
	if _, err := h.store.Transition(context.Background(), id, dedupe.Change{Action: dedupe.Acknowledge, Actor: "alice", Now: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	h.at(time.Hour)
	h.expectPaged("alice@1.0")
	if inc := h.incident(id); inc.Escalation.NextStep != 0 {
		t.Errorf("acknowledged incident still has a next step: %+v", inc.Escalation)
	}
}

// An acknowledgement that lands between a claim and its commit stops the
// step: the commit pages nobody.
func TestAcknowledgeBetweenClaimAndCommit(t *testing.T) {
	h := newHarness(t, twoSteps())
	id := h.open("p", "a", 0)
	ctx := context.Background()
	shard := redisx.NewLayout(h.prefix).Shard(shardOf(id))
	steps, err := h.engine.claim(ctx, shard, h.clock.Now())
	if err != nil || len(steps) != 1 {
		t.Fatalf("claim: %v, %d steps", err, len(steps))
	}
	if _, err := h.store.Transition(ctx, id, dedupe.Change{Action: dedupe.Acknowledge, Actor: "alice", Now: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.commit(ctx, shard, &steps[0], h.clock.Now(), h.dir, nil); err != nil {
		t.Fatal(err)
	}
	h.expectPaged()
}

func TestRepeatAndFallback(t *testing.T) {
	p := twoSteps()
	p.Repeat = 1
	p.Fallback = &Target{User, "dave"}
	h := newHarness(t, p)
	id := h.open("p", "a", 0)
	for _, d := range []time.Duration{0, 5, 15, 20, 30, 31, 60, 600} {
		h.at(d * time.Minute)
	}
	h.expectPaged("alice@1.0", "bob@2.0", "alice@1.1", "bob@2.1", "dave@3.1")
	keys := map[string]bool{}
	for _, pg := range h.pages() {
		keys[pg.Key] = true
	}
	if len(keys) != 5 {
		t.Errorf("%d distinct idempotency keys for 5 pages", len(keys))
	}
	tl := h.timelineTypes(id)
	if tl[len(tl)-1] != "escalation_exhausted" {
		t.Errorf("timeline ends %v", tl)
	}
}

func TestTeamPagesEveryMember(t *testing.T) {
	h := newHarness(t, &Policy{ID: "p", Steps: []Step{
		{Targets: []Target{{User, "alice"}, {Team, "payments"}, {User, "carol"}}, Delay: time.Minute},
	}})
	h.open("p", "a", 0)
	h.at(0)
	// alice is named and a member: paged once.
	h.expectPaged("alice@1.0", "bob@1.0", "carol@1.0")
}

func TestRoundRobin(t *testing.T) {
	h := newHarness(t, &Policy{ID: "p", Steps: []Step{
		{Targets: []Target{{User, "alice"}, {User, "bob"}, {User, "carol"}}, RoundRobin: true, Delay: time.Minute},
	}})
	id := h.open("p", "a", 0)
	for m := range 5 {
		h.at(time.Duration(m) * time.Minute)
	}
	// One target a turn, each turn a delay long, starting where the
	// incident's number says; three turns, then the policy ends.
	seq, _ := redisx.IncidentShard(id)
	_ = seq
	got := h.paged()
	if len(got) != 3 {
		t.Fatalf("paged %v, want three turns", got)
	}
	names := []string{"alice", "bob", "carol"}
	n := mustAtoi(t, id) / redisx.Shards
	for turn, g := range got {
		if want := names[(n+turn)%3] + "@1.0"; g != want {
			t.Errorf("turn %d paged %s, want %s (incident %s)", turn+1, g, want, id)
		}
	}

	// The next incident starts one target later.
	id2 := h.open("p", "b", 0)
	h.at(10 * time.Minute)
	first := h.paged()[3]
	if want := names[(mustAtoi(t, id2)/redisx.Shards)%3] + "@1.0"; first != want {
		t.Errorf("incident %s paged %s first, want %s", id2, first, want)
	}
}

func mustAtoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEmptyStepsAreSkippedAtOnce(t *testing.T) {
	h := newHarness(t, &Policy{ID: "p", Steps: []Step{
		{Targets: []Target{{Team, "ghosts"}}, Delay: time.Hour},
		{Targets: []Target{{User, "nocontact"}}, Delay: time.Hour},
		{Targets: []Target{{User, "bob"}}, Delay: time.Minute},
	}})
	id := h.open("p", "a", 0)
	h.at(0)
	// Not waited out: bob is paged in the same pass.
	h.expectPaged("bob@3.0")
	want := []string{"triggered", "alert_added", "step_skipped", "step_skipped", "paged"}
	if got := h.timelineTypes(id); !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
}

func TestReopenedIncidentStartsOver(t *testing.T) {
	h := newHarness(t, twoSteps())
	id := h.open("p", "a", 0)
	h.at(0)
	h.at(5 * time.Minute)
	h.expectPaged("alice@1.0", "bob@2.0")
	h.ingest("a", alertgate.Resolved, "p")
	h.at(6 * time.Minute)
	h.ingest("a", alertgate.Firing, "p") // within the reopen window
	h.at(6 * time.Minute)
	h.expectPaged("alice@1.0", "bob@2.0", "alice@1.0")
	if k := h.pages()[2].Key; k != id+".2.0.1.alice" {
		t.Errorf("the restarted policy's page has key %s, want epoch 2", k)
	}
}

func TestGroupWaitGivesOnePage(t *testing.T) {
	h := newHarness(t, twoSteps())
	ctx := context.Background()
	g := dedupe.Group{Route: "r", Key: "grp", Settings: dedupe.Settings{AutoResolve: true, Policy: "p", GroupWait: 30 * time.Second}}
	for i := range 5 {
		_, err := h.store.Ingest(ctx, g, dedupe.Delivery{Alerts: []alertgate.Alert{firing(fmt.Sprint("x", i), alertgate.Firing)},
			Now: t0.Add(time.Duration(i) * 5 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		h.at(time.Duration(i) * 5 * time.Second)
	}
	h.expectPaged()
	h.at(30 * time.Second)
	h.expectPaged("alice@1.0")
	if p := h.pages()[0]; p.AlertCount != 5 {
		t.Errorf("the page counts %d alerts, want 5", p.AlertCount)
	}
}

func TestNoPolicyIsRecorded(t *testing.T) {
	h := newHarness(t)
	id := h.open("", "a", 0)
	h.at(time.Hour)
	h.expectPaged()
	inc := h.incident(id)
	if inc.Escalation != nil || !slices.Contains(h.timelineTypes(id), alertgate.EventNoPolicy) {
		t.Errorf("escalation %+v, timeline %v", inc.Escalation, h.timelineTypes(id))
	}
}

func TestPolicyRemovedByReload(t *testing.T) {
	h := newHarness(t, twoSteps())
	id := h.open("p", "a", 0)
	delete(h.dir.Policies, "p")
	h.at(0)
	h.expectPaged()
	if !slices.Contains(h.timelineTypes(id), alertgate.EventPolicyNotFound) {
		t.Errorf("timeline %v", h.timelineTypes(id))
	}
}

// A replica that claimed a step and paused past its lease cannot commit
// it once another replica has: the fencing check refuses the late commit.
func TestLateCommitIsFenced(t *testing.T) {
	h := newHarness(t, twoSteps())
	id := h.open("p", "a", 0)
	ctx := context.Background()
	shard := redisx.NewLayout(h.prefix).Shard(shardOf(id))
	stale, err := h.engine.claim(ctx, shard, h.clock.Now())
	if err != nil || len(stale) != 1 {
		t.Fatalf("claim: %v, %d", err, len(stale))
	}
	// Within the lease nobody else takes it.
	other := h.newEngine()
	h.at(30 * time.Second)
	if err := other.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	h.expectPaged()
	// After the lease another replica does.
	h.at(61 * time.Second)
	h.expectPaged("alice@1.0")
	// The first wakes and commits: refused.
	if paged, err := h.engine.commit(ctx, shard, &stale[0], h.clock.Now(), h.dir, nil); err != nil || paged {
		t.Fatalf("late commit: paged %v, err %v", paged, err)
	}
	h.expectPaged("alice@1.0")
}

// Engines racing over the same due steps commit each step once.
func TestConcurrentEnginesCommitOnce(t *testing.T) {
	h := newHarness(t, twoSteps())
	const n = 300
	for i := range n {
		h.open("p", fmt.Sprint("i", i), 0)
	}
	engines := []*Engine{h.engine, h.newEngine(), h.newEngine()}
	var wg sync.WaitGroup
	for _, e := range engines {
		wg.Go(func() {
			if err := e.Pass(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	pages := h.pages()
	keys := map[string]int{}
	for _, p := range pages {
		keys[p.Key]++
	}
	if len(pages) != n || len(keys) != n {
		t.Fatalf("%d pages with %d distinct keys, want %d once each", len(pages), len(keys), n)
	}
}

func TestEscalateRunsTheNextStepNow(t *testing.T) {
	h := newHarness(t, twoSteps())
	id := h.open("p", "a", 0)
	h.at(0)
	ctx := context.Background()
	if err := h.engine.Escalate(ctx, id, Action{Actor: "user:carol", Message: "need help"}); err != nil {
		t.Fatal(err)
	}
	h.at(time.Second)
	h.expectPaged("alice@1.0", "bob@2.0")
	// Nothing is left: a third escalate has nothing to run.
	h.at(11 * time.Minute)
	if err := h.engine.Escalate(ctx, id, Action{Actor: "user:carol"}); alertgate.ErrorCode(err) != alertgate.ECONFLICT {
		t.Errorf("escalate after the last step: %v, want a conflict", err)
	}
	if err := h.engine.Escalate(ctx, "999999", Action{}); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
		t.Errorf("escalate of an unknown incident: %v", err)
	}
	if !slices.Contains(h.timelineTypes(id), alertgate.EventEscalated) {
		t.Errorf("timeline %v", h.timelineTypes(id))
	}
}

func TestEscalateAcknowledgedConflicts(t *testing.T) {
	h := newHarness(t, twoSteps())
	id := h.open("p", "a", 0)
	ctx := context.Background()
	if _, err := h.store.Transition(ctx, id, dedupe.Change{Action: dedupe.Acknowledge, Actor: "alice", Now: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := h.engine.Escalate(ctx, id, Action{Actor: "x"}); alertgate.ErrorCode(err) != alertgate.ECONFLICT {
		t.Errorf("escalate an acknowledged incident: %v, want a conflict", err)
	}
}

func TestReassign(t *testing.T) {
	h := newHarness(t, twoSteps())
	id := h.open("p", "a", time.Hour)
	ctx := context.Background()
	a := Action{Actor: "user:bob", RequestID: "req-1"}
	if err := h.engine.Reassign(ctx, id, Target{User, "carol"}, a); err != nil {
		t.Fatal(err)
	}
	// The same request again pages nobody new.
	if err := h.engine.Reassign(ctx, id, Target{User, "carol"}, a); err != nil {
		t.Fatal(err)
	}
	h.expectPaged("carol@0.0")
	if p := h.pages()[0]; p.Title != "Down a" {
		t.Errorf("reassign page %+v", p)
	}
	if err := h.engine.Reassign(ctx, id, Target{User, "nobody"}, Action{Actor: "x"}); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
		t.Errorf("reassign to an unknown user: %v", err)
	}
	// The policy goes on as it was.
	h.at(time.Hour)
	h.expectPaged("carol@0.0", "alice@1.0")
}

// While another replica holds the claim (it re-claimed after the lease),
// the replica whose lease ran out cannot commit, even before the new
// holder has: the claim token fences it.
func TestExpiredClaimCannotCommitWhileAnotherHoldsIt(t *testing.T) {
	h := newHarness(t, twoSteps())
	id := h.open("p", "a", 0)
	ctx := context.Background()
	shard := redisx.NewLayout(h.prefix).Shard(shardOf(id))
	stale, err := h.engine.claim(ctx, shard, h.clock.Now())
	if err != nil || len(stale) != 1 {
		t.Fatalf("claim: %v, %d", err, len(stale))
	}
	h.clock.Advance(61 * time.Second)
	other := h.newEngine()
	fresh, err := other.claim(ctx, shard, h.clock.Now())
	if err != nil || len(fresh) != 1 {
		t.Fatalf("re-claim: %v, %d", err, len(fresh))
	}
	if paged, err := h.engine.commit(ctx, shard, &stale[0], h.clock.Now(), h.dir, nil); err != nil || paged {
		t.Fatalf("expired claim's commit: paged %v, err %v", paged, err)
	}
	if paged, err := other.commit(ctx, shard, &fresh[0], h.clock.Now(), h.dir, nil); err != nil || !paged {
		t.Fatalf("holder's commit: paged %v, err %v", paged, err)
	}
	h.expectPaged("alice@1.0")
}

type fixedOverrides map[string][]schedule.Override

func (f fixedOverrides) ByRotation(context.Context) (map[string][]schedule.Override, error) {
	return f, nil
}

// A rotation target pages whoever is on call when the step runs; an
// override that puts someone else there is named on the timeline.
func TestRotationTargetAndOverride(t *testing.T) {
	h := newHarness(t, &Policy{ID: "p", Steps: []Step{
		{Targets: []Target{{Rotation, "daily"}}, Delay: 2 * time.Hour},
	}, Repeat: 1})
	h.dir.Rotations = map[string]*schedule.Rotation{"daily": {
		ID: "daily", Location: time.UTC,
		Layers: []schedule.Layer{{Name: "l", Participants: []string{"alice", "bob"},
			Start: schedule.Civil{Year: 2026, Month: 11, Day: 23}, Shift: schedule.Shift{N: 1, Unit: schedule.Days}}},
	}}
	// 2026-11-25 is shift 2 of the layer: alice's. carol covers her
	// until 13:00.
	ov := schedule.Override{ID: "ov-1", Rotation: "daily", User: "carol", Replaces: "alice",
		Start: t0.Add(-time.Hour), End: t0.Add(time.Hour), CreatedAt: t0.Add(-2 * time.Hour)}
	h.engine = New(h.rdb, h.prefix, Options{Directory: func() *Directory { return h.dir }, Clock: h.clock,
		Overrides: fixedOverrides{"daily": {ov}}})
	id := h.open("p", "a", 0)
	h.at(0)
	h.at(2 * time.Hour) // the override is over: alice again
	h.expectPaged("carol@1.0", "alice@1.1")
	pages := h.pages()
	if want := "covering alice in rotation daily (override ov-1)"; pages[0].Reason != want {
		t.Errorf("override page reason %q, want %q", pages[0].Reason, want)
	}
	if want := "on call in rotation daily"; pages[1].Reason != want {
		t.Errorf("page reason %q, want %q", pages[1].Reason, want)
	}
	var msgs []string
	for _, e := range h.incident(id).Timeline {
		msgs = append(msgs, e.Message)
	}
	if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, "override ov-1") }) {
		t.Errorf("the timeline does not name the override: %q", msgs)
	}
}

// A page carries the user's other contacts to fail over to, and each
// repeat of the policy starts one contact further on: someone who did not
// acknowledge a text is tried by e-mail first the next time round. The
// page also carries the incident's epoch, which links are bound to.
func TestContactsRotateOnRepeats(t *testing.T) {
	p := &Policy{ID: "p", Repeat: 2, Steps: []Step{{Targets: []Target{{User, "erin"}}, Delay: 10 * time.Minute}}}
	h := newHarness(t, p)
	h.dir.Users["erin"] = &config.User{ID: "erin", Contacts: []config.Contact{
		{Notifier: "sms", Address: "+447700900123"}, {Notifier: "email", Address: "erin@example.com"}}}
	h.open("p", "a", 0)
	for _, d := range []time.Duration{0, 10, 20} {
		h.at(d * time.Minute)
	}
	pages := h.pages()
	if len(pages) != 3 {
		t.Fatalf("%d pages, want 3 (the step and two repeats)", len(pages))
	}
	sms := notify.Contact{Notifier: "sms", Address: "+447700900123"}
	email := notify.Contact{Notifier: "email", Address: "erin@example.com"}
	for i, want := range []struct {
		first   notify.Contact
		contact int
		next    notify.Contact
	}{{sms, 0, email}, {email, 1, sms}, {sms, 0, email}} {
		pg := pages[i]
		got := notify.Contact{Notifier: pg.Notifier, Address: pg.Address}
		if got != want.first || pg.Contact != want.contact || len(pg.Next) != 1 || pg.Next[0] != want.next || pg.Epoch != 1 {
			t.Errorf("repeat %d: page to %+v (contact %d, next %+v, epoch %d), want %+v (contact %d, next %+v, epoch 1)",
				i, got, pg.Contact, pg.Next, pg.Epoch, want.first, want.contact, want.next)
		}
	}
}
