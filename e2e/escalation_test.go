package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
)

// The escalation tests: three alertgate processes over one Redis prefix
// walk 1,000 incidents through a policy of two steps and a fallback, and
// every step is committed exactly once and every page delivered at least
// once, with and without a replica killed and another stopped for longer
// than the lease.
const (
	escIncidents  = 1000
	escPerWebhook = 100 // alerts per Alertmanager webhook; group_by makes each its own incident
	// escLease bounds a pass too (the loop's timeout): on a loaded 2-core
	// machine running race-enabled binaries a pass over a burst of steps
	// has taken 2 s, and a pass that times out logs an ERROR.
	escLease      = 4 * time.Second
	escDelay      = 2 * time.Second // every step's delay
	escClaimAfter = 2 * time.Second // delivery.claim_after
	// escWalkTimeout bounds the whole walk: the policy takes 2 × escDelay,
	// a lease more when a replica dies; the rest is room for a loaded
	// 2-core machine running race-enabled binaries.
	escWalkTimeout = 45 * time.Second
	// maxProblems caps the problems a failure lists one by one.
	maxProblems = 30
)

// escPolicyKeys are the pages one incident's policy makes, as idempotency
// key suffixes after "<incident>.": epoch 1, repeat 0, then step and user.
// Step 3 is the fallback.
var escPolicyKeys = []string{"1.0.1.alice", "1.0.2.alice", "1.0.2.bob", "1.0.3.carol"}

// escCommitsPerIncident: step 1, step 2 and the fallback.
const escCommitsPerIncident = 3

// escalationConfig is gateConfig plus the on-call part: step 1 pages
// alice, step 2 the team ops (alice and bob), then carol as the fallback;
// every alert its own incident, paged at once.
func escalationConfig(prefix, redisURL string) string {
	return gateConfig(prefix, redisURL) + fmt.Sprintf(`escalation:
  lease: %[1]s
  poll_interval: 50ms
delivery:
  claim_after: %[3]s
  poll_interval: 50ms
users:
  - {id: alice, contacts: [{notifier: console, address: alice}]}
  - {id: bob, contacts: [{notifier: console, address: bob}]}
  - {id: carol, contacts: [{notifier: console, address: carol}]}
teams:
  - {id: ops, members: [alice, bob]}
escalation_policies:
  - id: e2e
    steps:
      - targets: [{user: alice}]
        delay: %[2]s
      - targets: [{team: ops}]
        delay: %[2]s
    fallback: {user: carol}
routes:
  - name: paging
    group_by: [alertname, instance]
    escalation_policy: e2e
    group_wait: 0s
`, escLease, escDelay, escClaimAfter)
}

// escalationRun is three replicas over one prefix and the incidents they
// were given.
type escalationRun struct {
	rdb    redis.UniversalClient
	layout redisx.Layout
	gates  []*gate
	ids    []string          // every incident opened
	want   map[string]string // expected page key → its incident
}

func newEscalationRun(t *testing.T) *escalationRun {
	t.Helper()
	needBinary(t)
	rdb, prefix := redistest.New(t)
	path := filepath.Join(t.TempDir(), "alertgate.yaml")
	writeFile(t, path, escalationConfig(prefix, testRedisURL()))
	r := &escalationRun{rdb: rdb, layout: redisx.NewLayout(prefix), want: map[string]string{}}
	for range 3 {
		r.gates = append(r.gates, startGate(t, gateOptions{prefix: prefix, configPath: path}))
	}
	return r
}

// openIncidents delivers escIncidents alerts as Alertmanager webhooks of
// escPerWebhook alerts, spread over the replicas and sent to them at once.
func (r *escalationRun) openIncidents(t *testing.T) {
	t.Helper()
	n := escIncidents / escPerWebhook
	startsAt := time.Now().Add(-time.Minute)
	bodies := make([][]byte, n)
	for w := range bodies {
		name := fmt.Sprintf("E2EEscalation%02d", w)
		bodies[w] = amWebhook(t, name, firingAlerts(name, escPerWebhook, startsAt))
	}
	// All at once, so the steps fall due close together and passes claim
	// several at a time.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range n {
		gi := w % len(r.gates)
		wg.Go(func() {
			status, body := r.gates[gi].postHook(t, "am", amToken, bodies[w])
			var resp ingestResponse
			if status == http.StatusOK {
				_ = json.Unmarshal(body, &resp)
			}
			if status != http.StatusOK || len(resp.Incidents) != escPerWebhook {
				t.Errorf("webhook %d to replica %d: %d %s, want 200 with %d incidents", w, gi, status, truncate(body, 500), escPerWebhook)
				return
			}
			mu.Lock()
			r.ids = append(r.ids, resp.Incidents...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, id := range r.ids {
		for _, k := range escPolicyKeys {
			r.want[id+"."+k] = id
		}
	}
	if got := len(r.want); got != escIncidents*len(escPolicyKeys) {
		t.Fatalf("the webhooks opened %d distinct incidents (%d ids answered), want %d", got/len(escPolicyKeys), len(r.ids), escIncidents)
	}
}

// backlog counts what is left to do: incidents with a step still due (or
// claimed) and pages still in the outbox streams, on every shard.
func (r *escalationRun) backlog(ctx context.Context) (due, outbox int64, err error) {
	p := r.rdb.Pipeline()
	dues := make([]*redis.IntCmd, redisx.Shards)
	lens := make([]*redis.IntCmd, redisx.Shards)
	for n := range redisx.Shards {
		s := r.layout.Shard(n)
		dues[n] = p.ZCard(ctx, s.Key(redisx.Due))
		lens[n] = p.XLen(ctx, s.Key(redisx.Outbox))
	}
	if _, err := p.Exec(ctx); err != nil {
		return 0, 0, err
	}
	for n := range redisx.Shards {
		due += dues[n].Val()
		outbox += lens[n].Val()
	}
	return due, outbox, nil
}

// waitWalked waits until no incident has a step left (the due sets are
// empty: a claimed step stays in them until it commits) and every page
// has been delivered and recorded (record deletes its outbox entry).
func (r *escalationRun) waitWalked(t *testing.T, live []*gate) {
	t.Helper()
	eventually(t, escWalkTimeout, "every incident to walk its whole policy and every page to leave the outbox", func() (bool, string) {
		for _, g := range live {
			if g.proc.exited() {
				t.Fatalf("a replica exited: %v", g.proc.err)
			}
		}
		due, outbox, err := r.backlog(t.Context())
		if err != nil {
			return false, err.Error()
		}
		return due == 0 && outbox == 0, fmt.Sprintf("%d incidents with a step due, %d pages in the outboxes", due, outbox)
	})
}

// consoleKeys counts the key=… of every PAGE line the replicas printed.
func consoleKeys(gates []*gate) map[string]int {
	keys := map[string]int{}
	for _, g := range gates {
		for _, line := range g.proc.stdout.Lines() {
			if !strings.HasPrefix(line, "PAGE ") {
				continue
			}
			if i := strings.LastIndex(line, " | key="); i >= 0 {
				keys[line[i+len(" | key="):]]++
			}
		}
	}
	return keys
}

// waitPrinted waits until the console lines of all replicas, the killed
// one's included, name every expected key: every page was delivered at
// least once. The lines reach the test through pipes, a little after the
// outbox emptied.
func (r *escalationRun) waitPrinted(t *testing.T) map[string]int {
	t.Helper()
	var keys map[string]int
	eventually(t, 10*time.Second, "a console line for every page", func() (bool, string) {
		keys = consoleKeys(r.gates)
		var missing []string
		for k := range r.want {
			if keys[k] == 0 {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		return len(missing) == 0, fmt.Sprintf("%d pages never delivered, first: %v", len(missing), missing[:min(len(missing), 10)])
	})
	var unexpected []string
	for k := range keys {
		if _, ok := r.want[k]; !ok {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		t.Errorf("the console printed %d pages no policy step makes: %v", len(unexpected), unexpected[:min(len(unexpected), maxProblems)])
	}
	return keys
}

// escIncident is the API's incident, as far as these tests read it.
type escIncident struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	EscalationPolicy string `json:"escalation_policy"`
	Escalation       *struct {
		Step     int       `json:"step"`
		Repeat   int       `json:"repeat"`
		NextStep int       `json:"next_step"`
		NextAt   time.Time `json:"next_at"`
	} `json:"escalation"`
	Timeline []struct {
		At   time.Time `json:"at"`
		Type string    `json:"type"`
		Page *struct {
			Key  string `json:"key"`
			Step int    `json:"step"`
		} `json:"page"`
	} `json:"timeline"`
}

// problems collects what is wrong, from many goroutines, and reports it
// sorted, so a failure names the incidents and keys.
type problems struct {
	mu   sync.Mutex
	list []string
}

func (p *problems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) report(t *testing.T, what string) {
	t.Helper()
	if len(p.list) == 0 {
		return
	}
	sort.Strings(p.list)
	t.Errorf("%s: %d problems:\n  %s", what, len(p.list), strings.Join(p.list[:min(len(p.list), maxProblems)], "\n  "))
}

// walkStats is what verify measured on the way.
type walkStats struct {
	paged, delivered int
	// lags of every step commit: the timeline's paged entry (the time of
	// the pass that committed it) after the step fell due.
	lags []time.Duration
}

// verify checks, through the API of the live replicas and in Redis, that
// every incident walked its whole policy with each step committed exactly
// once and each page recorded as delivered exactly once.
func (r *escalationRun) verify(t *testing.T, live []*gate) walkStats {
	t.Helper()
	var st walkStats
	var bad problems
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for w := range 2 * len(live) {
		g := live[w%len(live)]
		wg.Go(func() {
			for id := range work {
				inc, err := fetchEscIncident(g, id)
				if err != nil {
					bad.add("incident %s: %v", id, err)
					continue
				}
				paged, delivered, lags := checkEscIncident(id, inc, &bad)
				mu.Lock()
				st.paged += paged
				st.delivered += delivered
				st.lags = append(st.lags, lags...)
				mu.Unlock()
			}
		})
	}
	for _, id := range r.ids {
		work <- id
	}
	close(work)
	wg.Wait()
	bad.report(t, "incidents (API)")
	if want := len(r.want); st.paged != want || st.delivered != want {
		t.Errorf("timelines hold %d paged and %d page_delivered entries, want %d of each", st.paged, st.delivered, want)
	}
	r.verifyRedis(t)
	return st
}

func fetchEscIncident(g *gate, id string) (escIncident, error) {
	var inc escIncident
	status, _, body, err := g.try(http.MethodGet, "/api/v1/incidents/"+id, jsonHeader(apiToken), nil)
	if err != nil {
		return inc, err
	}
	if status != http.StatusOK {
		return inc, fmt.Errorf("GET: %d %s", status, truncate(body, 300))
	}
	if err := json.Unmarshal(body, &inc); err != nil {
		return inc, fmt.Errorf("decode: %w", err)
	}
	if inc.ID != id {
		return inc, fmt.Errorf("GET answered incident %q", inc.ID)
	}
	return inc, nil
}

// checkEscIncident checks one incident's state and timeline: the policy
// ran to its end, and each expected key has exactly one paged and one
// page_delivered entry (and no other key has any).
func checkEscIncident(id string, inc escIncident, bad *problems) (paged, delivered int, lags []time.Duration) {
	if inc.Status != "triggered" || inc.EscalationPolicy != "e2e" {
		bad.add("incident %s: status %q, policy %q; want triggered, e2e", id, inc.Status, inc.EscalationPolicy)
	}
	if e := inc.Escalation; e == nil || e.Step != 3 || e.Repeat != 0 || e.NextStep != 0 || !e.NextAt.IsZero() {
		bad.add("incident %s: escalation %+v, want step 3 (the fallback), repeat 0, no next step", id, e)
	}
	pagedKeys, deliveredKeys := map[string]int{}, map[string]int{}
	exhausted := 0
	var due time.Time // when the next step fell due
	var lastCommit time.Time
	for _, e := range inc.Timeline {
		switch e.Type {
		case "triggered":
			due = e.At // group_wait 0
		case "paged", "page_delivered":
			if e.Page == nil {
				bad.add("incident %s: %s entry without its page", id, e.Type)
				continue
			}
			if e.Type == "page_delivered" {
				deliveredKeys[e.Page.Key]++
				delivered++
				continue
			}
			pagedKeys[e.Page.Key]++
			paged++
			// The pages of one step share the commit's time.
			if !e.At.Equal(lastCommit) {
				if e.At.Before(due) {
					bad.add("incident %s: step %d committed at %v, %v before it fell due", id, e.Page.Step, e.At, due.Sub(e.At))
				}
				lags = append(lags, e.At.Sub(due))
				lastCommit, due = e.At, e.At.Add(escDelay)
			}
		case "escalation_exhausted":
			exhausted++
		}
	}
	if exhausted != 1 {
		bad.add("incident %s: %d escalation_exhausted entries, want 1", id, exhausted)
	}
	for _, c := range []struct {
		what string
		got  map[string]int
	}{{"committed (paged entries)", pagedKeys}, {"recorded delivered (page_delivered entries)", deliveredKeys}} {
		for _, k := range escPolicyKeys {
			key := id + "." + k
			if n := c.got[key]; n != 1 {
				bad.add("incident %s: key %s %s %d times, want once", id, key, c.what, n)
			}
			delete(c.got, key)
		}
		for key, n := range c.got {
			bad.add("incident %s: key %s %s %d times, and no step makes it", id, key, c.what, n)
		}
	}
	return paged, delivered, lags
}

// verifyRedis checks the outbox streams took exactly one entry per page
// (entries-added counts every XADD, also of entries deleted since), that
// they hold nothing pending, and that every incident's page record holds
// exactly its keys, each delivered.
func (r *escalationRun) verifyRedis(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	var added int64
	for n := range redisx.Shards {
		key := r.layout.Shard(n).Key(redisx.Outbox)
		info, err := r.rdb.XInfoStream(ctx, key).Result()
		if err != nil {
			t.Fatalf("XINFO STREAM %s: %v", key, err)
		}
		added += info.EntriesAdded
		pending, err := r.rdb.XPending(ctx, key, "delivery").Result()
		if err != nil {
			t.Fatalf("XPENDING %s: %v", key, err)
		}
		if pending.Count != 0 {
			t.Errorf("outbox of shard %d: %d entries pending after the walk", n, pending.Count)
		}
	}
	if want := int64(len(r.want)); added != want {
		t.Errorf("the outbox streams took %d pages in all, want %d (one per key): a step was committed twice or lost; see the incidents' problems", added, want)
	}

	p := r.rdb.Pipeline()
	records := make([]*redis.MapStringStringCmd, len(r.ids))
	for i, id := range r.ids {
		n, _ := redisx.IncidentShard(id)
		records[i] = p.HGetAll(ctx, r.layout.Shard(n).KeyOf(redisx.Pages, id))
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatalf("read page records: %v", err)
	}
	var bad problems
	for i, id := range r.ids {
		got := records[i].Val()
		for _, k := range escPolicyKeys {
			key := id + "." + k
			if got[key] != "delivered" {
				bad.add("incident %s: page record of %s is %q, want delivered", id, key, got[key])
			}
			delete(got, key)
		}
		for key, v := range got {
			bad.add("incident %s: page record of %s (%s), a key no step makes", id, key, v)
		}
	}
	bad.report(t, "page records (Redis)")
}

// duplicates lists the keys printed more than once.
func duplicates(keys map[string]int) (n int, some []string) {
	for k, c := range keys {
		if c > 1 {
			n += c - 1
			some = append(some, fmt.Sprintf("%s×%d", k, c))
		}
	}
	sort.Strings(some)
	return n, some[:min(len(some), 10)]
}

// lagSummary describes step lags: median, 99th percentile, maximum, and
// how many were later than the lease (steps re-claimed after a replica
// holding them died or stalled).
func lagSummary(lags []time.Duration) string {
	if len(lags) == 0 {
		return "no steps"
	}
	slices.Sort(lags)
	late := 0
	for _, l := range lags {
		if l >= escLease {
			late++
		}
	}
	q := func(f float64) time.Duration { return lags[min(len(lags)-1, int(f*float64(len(lags))))] }
	return fmt.Sprintf("%d steps, lag p50 %v p99 %v max %v, %d at least a lease (%v) late",
		len(lags), q(0.5), q(0.99), lags[len(lags)-1], late, escLease)
}

// sumMetric adds a metric over replicas.
func sumMetric(t *testing.T, gates []*gate, name string) float64 {
	t.Helper()
	var sum float64
	for _, g := range gates {
		sum += g.metric(t, name)
	}
	return sum
}

// TestEscalationExactlyOnceAcrossReplicas: three replicas over one Redis
// walk 1,000 incidents through their policy at the same time. Every step
// is committed exactly once (one paged entry and one outbox entry per
// key), every page is delivered (a console line on some replica) and
// recorded once.
func TestEscalationExactlyOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	r := newEscalationRun(t)
	start := time.Now()
	r.openIncidents(t)
	opened := time.Since(start)
	r.waitWalked(t, r.gates)
	walked := time.Since(start)
	st := r.verify(t, r.gates)
	printed := r.waitPrinted(t)

	want := float64(escIncidents)
	if got := sumMetric(t, r.gates, "alertgate_escalation_steps_total"); got != want*escCommitsPerIncident {
		t.Errorf("alertgate_escalation_steps_total over the replicas = %v, want %v", got, want*escCommitsPerIncident)
	}
	if got := sumMetric(t, r.gates, "alertgate_escalation_pages_total"); got != float64(len(r.want)) {
		t.Errorf("alertgate_escalation_pages_total over the replicas = %v, want %d", got, len(r.want))
	}
	if got := sumMetric(t, r.gates, "alertgate_pages_delivered_total"); got != float64(len(r.want)) {
		t.Errorf("alertgate_pages_delivered_total over the replicas = %v, want %d (each page once, however often delivered)", got, len(r.want))
	}
	perReplica := make([]int, len(r.gates))
	for i, g := range r.gates {
		perReplica[i] = len(consoleKeys([]*gate{g}))
	}
	dups, some := duplicates(printed)
	t.Logf("%d incidents opened in %v, walked in %v; pages printed per replica %v; %s",
		escIncidents, opened.Round(time.Millisecond), walked.Round(time.Millisecond), perReplica, lagSummary(st.lags))
	t.Logf("duplicate deliveries: %d console lines (%v), alertgate_pages_duplicate_deliveries_total %v; commits refused %v",
		dups, some, sumMetric(t, r.gates, "alertgate_pages_duplicate_deliveries_total"),
		sumMetric(t, r.gates, "alertgate_escalation_commits_refused_total"))
}

// TestEscalationSurvivesKillAndStop: mid-walk, at a moment when it holds
// claims (right after it logged a page, with steps of the same pass still
// uncommitted), one replica is killed with SIGKILL; another is stopped
// with SIGSTOP, also holding claims if it can be caught so, until every
// claim held at that moment has been taken over, longer than the lease,
// then continued. No step is lost and none is committed twice: the third
// replica takes the lapsed claims, and only after their lease ran out;
// the stopped one's late commits are fenced off. Pages the two had read
// but not recorded are delivered again: duplicates are counted, not
// failures.
func TestEscalationSurvivesKillAndStop(t *testing.T) {
	t.Parallel()
	r := newEscalationRun(t)
	victim, stopped, survivor := r.gates[0], r.gates[1], r.gates[2]
	// Its passes and deliveries in flight at SIGSTOP run out of time when
	// it continues: expected, and logged as failed cycles.
	stopped.expectError("loop cycle")
	// Run before the harness stops them (cleanups run last first).
	for _, g := range []*gate{victim, stopped} {
		t.Cleanup(func() { _ = g.proc.cmd.Process.Signal(syscall.SIGCONT) })
	}

	r.openIncidents(t)
	killed := r.stopHolding(t, victim, 20*time.Second)
	if len(killed.held) == 0 {
		t.Fatalf("replica 0 never held a claim (a step in the due set at its claim's time + lease, with a claim token) right after logging the claim, in %d tries", killed.tries)
	}
	victim.kill(t)
	paused := r.stopHolding(t, stopped, 5*time.Second)
	faultAt := time.Now()
	held := r.claims(t)
	survivorLines := len(survivor.proc.stdout.Lines())
	t.Logf("killed replica 0 holding %d claims of its claim at %d (try %d); stopped replica 1 holding %d (try %d); %d steps claimed in all",
		len(killed.held), killed.passAt, killed.tries, len(paused.held), paused.tries, len(held))

	eventually(t, escWalkTimeout, "the claims held at the fault to be taken over, replica 1 stopped longer than the lease", func() (bool, string) {
		if survivor.proc.exited() {
			t.Fatalf("replica 2 exited: %v", survivor.proc.err)
		}
		now := r.claims(t)
		left := 0
		for id, token := range held {
			if now[id] == token {
				left++
			}
		}
		progress := len(survivor.proc.stdout.Lines()) - survivorLines
		stoppedFor := time.Since(faultAt)
		return left == 0 && progress > 0 && stoppedFor > escLease+time.Second,
			fmt.Sprintf("%d of %d claims not taken over, replica 2 printed %d pages since, stopped for %v", left, len(held), progress, stoppedFor)
	})
	stoppedFor := time.Since(faultAt)
	if err := stopped.proc.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT: %v", err)
	}

	live := []*gate{stopped, survivor}
	r.waitWalked(t, live)
	st := r.verify(t, live)
	printed := r.waitPrinted(t)
	r.checkTakenOverAfterLease(t, "killed replica 0", killed)
	r.checkTakenOverAfterLease(t, "stopped replica 1", paused)

	// The killed replica's stdout holds what it delivered before it died;
	// its metrics died with it.
	dups, some := duplicates(printed)
	t.Logf("replica 1 stopped for %v; %s", stoppedFor.Round(time.Millisecond), lagSummary(st.lags))
	t.Logf("duplicate deliveries: %d console lines (%v); alertgate_pages_duplicate_deliveries_total of the live replicas %v",
		dups, some, sumMetric(t, live, "alertgate_pages_duplicate_deliveries_total"))
	t.Logf("alertgate_escalation_commits_refused_total: stopped replica %v, survivor %v",
		stopped.metric(t, "alertgate_escalation_commits_refused_total"), survivor.metric(t, "alertgate_escalation_commits_refused_total"))
}

// caught is a replica stopped between a claim and its commit.
type caught struct {
	passAt int64    // the claim's time, Unix ms
	held   []string // incidents whose step it claimed and had not committed
	tries  int
}

// stopHolding stops g (SIGSTOP) right after it logs that it claimed steps
// and finds those of them it still holds (it had not sent their commit
// yet). Holding none, it lets g go on and tries its next claim, until
// timeout; then it leaves g stopped either way.
func (r *escalationRun) stopHolding(t *testing.T, g *gate, timeout time.Duration) caught {
	t.Helper()
	deadline := time.Now().Add(timeout)
	from := len(g.proc.stderr.Lines())
	var c caught
	for {
		c.tries++
		line, next, ok := waitLogAfter(t, g, from, time.Until(deadline), "escalation steps claimed")
		if err := g.proc.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatalf("SIGSTOP: %v", err)
		}
		if !ok {
			return c
		}
		var l struct {
			Shard *int  `json:"shard"`
			At    int64 `json:"at"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.Shard == nil || l.At == 0 {
			t.Fatalf("claim log line without shard and at: %s", line)
		}
		c.passAt, c.held = l.At, r.heldByClaim(t, *l.Shard, l.At)
		if len(c.held) > 0 || time.Now().After(deadline) {
			return c
		}
		if err := g.proc.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatalf("SIGCONT: %v", err)
		}
		from = next
	}
}

// heldByClaim finds the steps a claim of shard at time at (Unix ms) took
// and nobody has committed: a claim puts the step at at + lease in the
// shard's due set and a claim token on the incident; the commit removes
// the token.
func (r *escalationRun) heldByClaim(t *testing.T, shard int, at int64) (held []string) {
	t.Helper()
	score := strconv.FormatInt(at+escLease.Milliseconds(), 10)
	candidates, err := r.rdb.ZRangeByScore(t.Context(), r.layout.Shard(shard).Key(redisx.Due), &redis.ZRangeBy{Min: score, Max: score}).Result()
	if err != nil {
		t.Fatalf("read the due set: %v", err)
	}
	claimed := r.claimsOf(t, candidates)
	for _, c := range candidates {
		if claimed[c] != "" {
			held = append(held, c)
		}
	}
	return held
}

// checkTakenOverAfterLease: nobody committed a step of an incident a
// caught pass held before that pass's lease ran out.
func (r *escalationRun) checkTakenOverAfterLease(t *testing.T, who string, c caught) {
	t.Helper()
	ctx := t.Context()
	expiry := c.passAt + escLease.Milliseconds()
	var bad problems
	for _, id := range c.held {
		n, _ := redisx.IncidentShard(id)
		entries, err := r.rdb.LRange(ctx, r.layout.Shard(n).KeyOf(redisx.Timeline, id), 0, -1).Result()
		if err != nil {
			t.Fatalf("timeline of %s: %v", id, err)
		}
		for _, raw := range entries {
			var e struct {
				At   int64  `json:"at"`
				Type string `json:"type"`
			}
			if json.Unmarshal([]byte(raw), &e) == nil && e.Type == "paged" && e.At > c.passAt && e.At < expiry {
				bad.add("incident %s: the step %s held under a lease until %d was committed at %d, before the lease ran out", id, who, expiry, e.At)
				break
			}
		}
	}
	bad.report(t, "claims taken over")
}

// claims returns the claim token of every incident that has one.
func (r *escalationRun) claims(t *testing.T) map[string]string {
	t.Helper()
	return r.claimsOf(t, r.ids)
}

// claimsOf returns the claim tokens of those of ids that have one.
func (r *escalationRun) claimsOf(t *testing.T, ids []string) map[string]string {
	t.Helper()
	ctx := t.Context()
	p := r.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		n, _ := redisx.IncidentShard(id)
		cmds[i] = p.HGet(ctx, r.layout.Shard(n).KeyOf(redisx.Incident, id), "claim")
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatalf("read claims: %v", err)
	}
	out := map[string]string{}
	for i, id := range ids {
		if tok, err := cmds[i].Result(); err == nil {
			out[id] = tok
		}
	}
	return out
}

// waitLogAfter waits for a log line with message msg among the lines g
// wrote to stderr after the first from. It returns the line and the index
// after it; ok is false when timeout passed first.
func waitLogAfter(t *testing.T, g *gate, from int, timeout time.Duration, msg string) (line string, next int, ok bool) {
	t.Helper()
	deadline := time.NewTimer(max(timeout, 0))
	defer deadline.Stop()
	for {
		line, ok, next, changed := g.proc.stderr.find(from, func(s string) bool {
			var l logLine
			return json.Unmarshal([]byte(s), &l) == nil && l.Msg == msg
		})
		if ok {
			return line, next, true
		}
		from = next
		select {
		case <-changed:
		case <-g.proc.done:
			t.Fatalf("alertgate exited (%v) before logging %q", g.proc.err, msg)
		case <-deadline.C:
			return "", from, false
		}
	}
}
