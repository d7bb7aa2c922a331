package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/redisx"
)

// A replica killed -9 while it delivers a page to a webhook: the page is
// re-claimed by another replica after delivery.claim_after and delivered
// again, with the same Idempotency-Key; the timeline records one
// delivery. Faults F6 (killed before the target answered) and F7 (killed
// after the target answered, before the replica recorded it) of
// /work/shared/reliability.md §8.

// killClaimAfter is delivery.claim_after: a page whose replica died is
// delivered by another this long after the dead one read it. Its half is
// the notify timeout, the time a kill has to land while a request is out.
const killClaimAfter = 2 * time.Second

// killConfig is firstPageConfig (one incident per alertname, paged at
// once to the webhook notifier "sink") with quick delivery and a short
// escalation lease, so steps a killed replica claimed are taken over soon.
func killConfig(prefix, sinkURL string) string {
	return firstPageConfig(prefix, testRedisURL(), sinkURL) + fmt.Sprintf(`escalation:
  lease: 4s
  poll_interval: 50ms
delivery:
  claim_after: %s
  poll_interval: 50ms
`, killClaimAfter)
}

// How the sink treats a request.
type sinkMode int

const (
	sinkAnswer     sinkMode = iota // 200 at once
	sinkHold                       // no answer, until the sender goes away
	sinkAnswerHold                 // 200 and its headers, then no body until the sender goes away
)

// sinkArrival is one request the sink saw.
type sinkArrival struct {
	key      string // the Idempotency-Key header
	bodyKey  string // the body's idempotency_key
	incident string
	at       time.Time
	answered bool // it sent a 2xx: from the receiver's side, delivered
}

// killSink is the webhook receiver: it records every request in arrival
// order and treats the n-th (from 1) as mode says, after running
// onArrival (which may kill a replica).
type killSink struct {
	URL       string
	mode      func(n int) sinkMode
	onArrival func(n int)
	delay     time.Duration // before each 200

	mu       sync.Mutex
	arrivals []sinkArrival
}

func newKillSink(t *testing.T, mode func(n int) sinkMode, onArrival func(n int), delay time.Duration) *killSink {
	s := &killSink{mode: mode, onArrival: onArrival, delay: delay}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *killSink) serve(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Key      string `json:"idempotency_key"`
		Incident string `json:"incident_id"`
	}
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &body) // a body that does not read shows as empty keys, which the checks refuse
	s.mu.Lock()
	s.arrivals = append(s.arrivals, sinkArrival{key: r.Header.Get("Idempotency-Key"), bodyKey: body.Key, incident: body.Incident, at: time.Now()})
	n := len(s.arrivals)
	s.mu.Unlock()
	if s.onArrival != nil {
		s.onArrival(n)
	}
	mode := s.mode(n)
	if mode == sinkHold {
		<-r.Context().Done()
		return
	}
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(http.StatusOK)
	s.mu.Lock()
	s.arrivals[n-1].answered = true
	s.mu.Unlock()
	if mode == sinkAnswerHold {
		// The sender has the status and waits for the body: it cannot
		// record the delivery before it dies.
		_ = http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}
}

func (s *killSink) seen() []sinkArrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkArrival(nil), s.arrivals...)
}

// killer kills a replica from the sink's handler, at once, and tells the
// test when; the test goroutine then waits for the exit with gate.kill.
// The replica is set once it runs; the handler may read it any time.
type killer struct {
	victim atomic.Pointer[gate]
	at     chan time.Time // gets the kill's time, once
}

func newKiller() *killer { return &killer{at: make(chan time.Time, 1)} }

func (k *killer) kill() {
	if g := k.victim.Load(); g != nil {
		_ = syscall.Kill(g.proc.cmd.Process.Pid, syscall.SIGKILL)
		k.at <- time.Now()
	}
}

// killedAt waits for the kill.
func (k *killer) killedAt(t *testing.T, timeout time.Duration) time.Time {
	t.Helper()
	select {
	case at := <-k.at:
		return at
	case <-time.After(timeout):
		t.Fatalf("the sink did not kill the replica within %v", timeout)
		return time.Time{}
	}
}

// openKillIncidents posts n one-alert Alertmanager webhooks to g, each its
// own incident, and returns the incident ids.
func openKillIncidents(t *testing.T, g *gate, name string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				alertname := fmt.Sprintf("%s%03d", name, i)
				status, body := g.postHook(t, "am", amToken, amWebhook(t, alertname, firingAlerts(alertname, 1, time.Now())))
				var resp ingestResponse
				if status == http.StatusOK {
					_ = json.Unmarshal(body, &resp)
				}
				if status != http.StatusOK || len(resp.Incidents) != 1 {
					t.Errorf("webhook %s: %d %s, want 200 with one incident", alertname, status, truncate(body, 300))
					continue
				}
				ids[i] = resp.Incidents[0]
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ids
}

// waitAllDelivered waits until each incident of ids has its page
// recorded delivered, every outbox stream is empty and nothing is
// pending: nothing is left that could be sent again.
func waitAllDelivered(t *testing.T, r *escalationRun, live *gate, ids []string) {
	t.Helper()
	ctx := t.Context()
	eventually(t, 60*time.Second, "every page to be recorded delivered and leave the outbox", func() (bool, string) {
		if live.proc.exited() {
			t.Fatalf("the surviving replica exited: %v", live.proc.err)
		}
		_, outbox, err := r.backlog(ctx)
		if err != nil {
			return false, err.Error()
		}
		p := r.rdb.Pipeline()
		pending := make([]*redis.XPendingCmd, redisx.Shards)
		for n := range redisx.Shards {
			pending[n] = p.XPending(ctx, r.layout.Shard(n).Key(redisx.Outbox), "delivery")
		}
		records := make([]*redis.MapStringStringCmd, len(ids))
		for i, id := range ids {
			n, _ := redisx.IncidentShard(id)
			records[i] = p.HGetAll(ctx, r.layout.Shard(n).KeyOf(redisx.Pages, id))
		}
		if _, err := p.Exec(ctx); err != nil {
			return false, err.Error()
		}
		var inFlight int64
		for _, c := range pending {
			inFlight += c.Val().Count
		}
		undelivered := 0
		for _, c := range records {
			if !slices.Contains(slices.Collect(maps.Values(c.Val())), "delivered") {
				undelivered++
			}
		}
		return outbox == 0 && inFlight == 0 && undelivered == 0,
			fmt.Sprintf("%d incidents without a delivered page, %d pages in the outboxes, %d pending", undelivered, outbox, inFlight)
	})
}

// deliveredKeys reads an incident's timeline from g: the keys of its
// paged and page_delivered entries.
func deliveredKeys(t *testing.T, g *gate, id string) (paged, delivered []string) {
	t.Helper()
	inc, err := fetchEscIncident(g, id)
	if err != nil {
		t.Fatalf("incident %s: %v", id, err)
	}
	for _, e := range inc.Timeline {
		if e.Page == nil {
			continue
		}
		switch e.Type {
		case "paged":
			paged = append(paged, e.Page.Key)
		case "page_delivered":
			delivered = append(delivered, e.Page.Key)
		}
	}
	return paged, delivered
}

// TestDeliveryReplicaKilledWhileSending: replica A is the only one
// running (B is stopped with SIGSTOP) when the page goes out; the sink
// kills A with SIGKILL the moment the request arrives, before answering
// (F6) or after answering 200 and before A could record it (F7); then B
// goes on, re-claims the page after claim_after and delivers it.
func TestDeliveryReplicaKilledWhileSending(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		first sinkMode
	}{
		{"before the answer", sinkHold},
		{"after the answer", sinkAnswerHold},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			needBinary(t)
			rdb, prefix := redistest.New(t)
			k := newKiller()
			sink := newKillSink(t, func(n int) sinkMode {
				if n == 1 {
					return c.first
				}
				return sinkAnswer
			}, func(n int) {
				if n == 1 {
					k.kill()
				}
			}, 0)
			path := filepath.Join(t.TempDir(), "alertgate.yaml")
			writeFile(t, path, killConfig(prefix, sink.URL))
			a := startGate(t, gateOptions{prefix: prefix, configPath: path})
			k.victim.Store(a)
			b := startGate(t, gateOptions{prefix: prefix, configPath: path})
			// Runs before the harness stops it (cleanups run last first).
			t.Cleanup(func() { _ = b.proc.cmd.Process.Signal(syscall.SIGCONT) })
			if err := b.proc.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}

			id := openKillIncidents(t, a, "E2EKillOne", 1)[0]
			killedAt := k.killedAt(t, 30*time.Second)
			a.kill(t)
			for _, line := range a.proc.stderr.Lines() {
				var l logLine
				if json.Unmarshal([]byte(line), &l) == nil && (l.Msg == "page delivered" || l.Msg == "page waits") {
					t.Fatalf("replica A recorded the page before it died (%s): the kill came too late to test anything", line)
				}
			}
			if err := b.proc.cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}

			r := &escalationRun{rdb: rdb, layout: redisx.NewLayout(prefix)}
			waitAllDelivered(t, r, b, []string{id})
			got := sink.seen()
			recovered := got[len(got)-1].at.Sub(killedAt)

			paged, delivered := deliveredKeys(t, b, id)
			if len(paged) != 1 || len(delivered) != 1 || delivered[0] != paged[0] {
				t.Fatalf("timeline of %s: paged %q, page_delivered %q; want one of each, for the same key", id, paged, delivered)
			}
			key := paged[0]
			// At least once, at most twice: A's request and B's.
			if len(got) < 1 || len(got) > 2 {
				t.Fatalf("the sink saw %d requests, want 1 or 2: %+v", len(got), got)
			}
			answered := 0
			for i, s := range got {
				if s.key != key || s.bodyKey != key || s.incident != id {
					t.Errorf("request %d: Idempotency-Key %q, body key %q, incident %q; want %q of %s", i+1, s.key, s.bodyKey, s.incident, key, id)
				}
				if s.answered {
					answered++
				}
			}
			if !got[len(got)-1].answered {
				t.Errorf("the last request was not answered: %+v", got)
			}
			if got := b.metric(t, "alertgate_pages_delivered_total"); got != 1 {
				t.Errorf("B: alertgate_pages_delivered_total %v, want 1", got)
			}
			dupMetric := b.metric(t, "alertgate_pages_duplicate_deliveries_total")
			if dupMetric != 0 {
				t.Errorf("B: alertgate_pages_duplicate_deliveries_total %v, want 0 (A never recorded the page)", dupMetric)
			}
			t.Logf("counts: %d requests to the sink, %d answered 200 (duplicates at the receiver: %d), all with key %s; "+
				"page_delivered entries %d; duplicate metric %v; B delivered %v after A was killed (claim_after %v)",
				len(got), answered, answered-1, key, len(delivered), dupMetric, recovered.Round(time.Millisecond), killClaimAfter)
		})
	}
}

// TestDeliveryReplicaKilledUnderLoad: two replicas deliver 200 pages to a
// sink that takes 20 ms for each; the sink kills one replica when the
// 100th request arrives. Every page is delivered and recorded once on its
// timeline; the sink sees every page at least once and at most twice,
// every copy with the same key. The copies are counted.
func TestDeliveryReplicaKilledUnderLoad(t *testing.T) {
	t.Parallel()
	needBinary(t)
	const pages, killAt = 200, 100
	rdb, prefix := redistest.New(t)
	k := newKiller()
	sink := newKillSink(t, func(int) sinkMode { return sinkAnswer }, func(n int) {
		if n == killAt {
			k.kill()
		}
	}, 20*time.Millisecond)
	path := filepath.Join(t.TempDir(), "alertgate.yaml")
	writeFile(t, path, killConfig(prefix, sink.URL))
	a := startGate(t, gateOptions{prefix: prefix, configPath: path})
	k.victim.Store(a)
	b := startGate(t, gateOptions{prefix: prefix, configPath: path})
	// A is killed mid-way; steps and pages it holds then are B's to finish.
	began := time.Now()
	ids := openKillIncidents(t, b, "E2EKillMany", pages)
	killedAt := k.killedAt(t, 60*time.Second)
	a.kill(t)
	r := &escalationRun{rdb: rdb, layout: redisx.NewLayout(prefix)}
	waitAllDelivered(t, r, b, ids)
	drained := time.Since(began)

	byIncident := map[string][]sinkArrival{}
	for _, s := range sink.seen() {
		byIncident[s.incident] = append(byIncident[s.incident], s)
	}
	var bad problems
	var copies, answeredTwice int
	var some []string
	var lastAfterKill time.Duration
	for _, id := range ids {
		paged, delivered := deliveredKeys(t, b, id)
		if len(paged) != 1 || len(delivered) != 1 || delivered[0] != paged[0] {
			bad.add("incident %s: paged %q, page_delivered %q; want one of each, for the same key", id, paged, delivered)
			continue
		}
		key := paged[0]
		got := byIncident[id]
		delete(byIncident, id)
		answered := 0
		for _, s := range got {
			if s.key != key || s.bodyKey != key {
				bad.add("incident %s: a request with Idempotency-Key %q, body key %q; want %q", id, s.key, s.bodyKey, key)
			}
			if s.answered {
				answered++
			}
			if s.at.After(killedAt) {
				lastAfterKill = max(lastAfterKill, s.at.Sub(killedAt))
			}
		}
		switch {
		case answered == 0:
			bad.add("incident %s: %d requests, none answered: the page was recorded delivered but never taken", id, len(got))
		case len(got) > 2:
			bad.add("incident %s: the sink saw its page %d times, want at most twice", id, len(got))
		}
		if len(got) > 1 {
			copies += len(got) - 1
			some = append(some, fmt.Sprintf("%s×%d(%d answered)", key, len(got), answered))
		}
		if answered > 1 {
			answeredTwice++
		}
	}
	for id, got := range byIncident {
		bad.add("the sink saw %d requests for incident %q, which the test never opened", len(got), id)
	}
	bad.report(t, "pages at the sink")
	sort.Strings(some)
	dupMetric := b.metric(t, "alertgate_pages_duplicate_deliveries_total")
	t.Logf("counts: %d pages, %d requests to the sink; %d extra copies (%d pages taken twice), all with their page's key: %v; "+
		"B's alertgate_pages_delivered_total %v, alertgate_pages_duplicate_deliveries_total %v; "+
		"all recorded %v after the first alert, the last request %v after the kill (claim_after %v)",
		pages, len(sink.seen()), copies, answeredTwice, some[:min(len(some), 10)],
		b.metric(t, "alertgate_pages_delivered_total"), dupMetric, drained.Round(time.Millisecond),
		lastAfterKill.Round(time.Millisecond), killClaimAfter)
}
