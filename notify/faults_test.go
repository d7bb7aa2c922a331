package notify_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/notify"
)

// The delivery faults of issue 7, played against the real webhook notifier
// by a loopback receiver that follows a script per request and records
// every request: a target answering 500, 429 with Retry-After, hanging,
// dropping connections, or answering 400. Each test compares the whole
// list of requests the target saw with the one expected, so an extra
// request (a duplicate, an early retry, a probe while open) fails it.

// faultSecret signs the requests; the receiver checks every signature.
const faultSecret = "fault-secret"

// answer is what the receiver does with one request.
type answer struct {
	status     int
	retryAfter string // the Retry-After header; "" for none
	body       string
	hang       bool // answer nothing until the client gives up (or the test ends)
	drop       bool // close the connection without a word
}

// What became of a request.
const (
	outcomeAnswered  = "answered"
	outcomeAbandoned = "abandoned" // hung until the client went away
	outcomeDropped   = "dropped"
	outcomePending   = "pending" // still being handled
)

// arrival is one request the receiver saw.
type arrival struct {
	key      string    // the Idempotency-Key header
	bodyHash string    // sha256 of the body, hex, first 12 characters
	at       time.Time // the harness's clock at arrival
	status   int       // what it answered; 0 unless answered
	outcome  string
}

// faultTarget is the loopback receiver.
type faultTarget struct {
	t      *testing.T
	clock  *fakeclock.Clock
	script func(n int) answer // n counts requests from 1
	srv    *httptest.Server
	stop   chan struct{} // closed at the end of the test: hung handlers return

	mu   sync.Mutex
	reqs []arrival
}

func newFaultTarget(t *testing.T, clock *fakeclock.Clock, script func(n int) answer) *faultTarget {
	ft := &faultTarget{t: t, clock: clock, script: script, stop: make(chan struct{})}
	ft.srv = httptest.NewServer(http.HandlerFunc(ft.serve))
	// Cleanups run last first: release hung handlers, then close.
	t.Cleanup(ft.srv.Close)
	t.Cleanup(func() { close(ft.stop) })
	return ft
}

func (ft *faultTarget) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		ft.t.Errorf("receiver: read body: %v", err)
		return
	}
	if err := notify.VerifyWebhookSignature(r.Header, body, []string{faultSecret}, ft.clock.Now(), 0); err != nil {
		ft.t.Errorf("receiver: request for %q: %v", r.Header.Get(notify.HeaderIdempotencyKey), err)
	}
	sum := sha256.Sum256(body)
	ft.mu.Lock()
	ft.reqs = append(ft.reqs, arrival{key: r.Header.Get(notify.HeaderIdempotencyKey), bodyHash: hex.EncodeToString(sum[:6]),
		at: ft.clock.Now(), outcome: outcomePending})
	n := len(ft.reqs)
	ft.mu.Unlock()

	a := ft.script(n)
	outcome, status := outcomeAnswered, 0
	switch {
	case a.hang:
		select {
		case <-r.Context().Done():
			outcome = outcomeAbandoned
		case <-ft.stop:
			outcome = outcomePending
		}
	case a.drop:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			ft.t.Errorf("receiver: hijack: %v", err)
			return
		}
		_ = conn.Close()
		outcome = outcomeDropped
	default:
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		status = a.status
		w.WriteHeader(status)
		_, _ = io.WriteString(w, a.body)
	}
	ft.mu.Lock()
	ft.reqs[n-1].status, ft.reqs[n-1].outcome = status, outcome
	ft.mu.Unlock()
}

// webhook is the real webhook notifier posting to the receiver, on a
// transport of its own (so no other test's connections are reused) and
// with the harness's clock; client nil takes the notifier's default
// client over that transport.
func (ft *faultTarget) webhook(client *http.Client) *notify.Webhook {
	ft.t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	ft.t.Cleanup(tr.CloseIdleConnections)
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	client.Transport = tr
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w, err := notify.NewWebhook(notify.WebhookOptions{URL: ft.srv.URL + "/page", Secrets: []string{faultSecret},
		Client: client, Now: ft.clock.Now})
	if err != nil {
		ft.t.Fatal(err)
	}
	return w
}

func (ft *faultTarget) arrivals() []arrival {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return slices.Clone(ft.reqs)
}

func (ft *faultTarget) count() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return len(ft.reqs)
}

// log is the requests as "<key> <what became of it>", in arrival order.
func (ft *faultTarget) log() []string {
	var out []string
	for _, a := range ft.arrivals() {
		what := a.outcome
		if a.outcome == outcomeAnswered {
			what = strconv.Itoa(a.status)
		}
		out = append(out, a.key+" "+what)
	}
	return out
}

// requireLog fails the test unless the receiver saw exactly want.
func (ft *faultTarget) requireLog(want ...string) {
	ft.t.Helper()
	if got := ft.log(); !slices.Equal(got, want) {
		ft.t.Fatalf("the target saw %d requests:\n  %s\nwant %d:\n  %s", len(got), strings.Join(got, "\n  "), len(want), strings.Join(want, "\n  "))
	}
}

// accepted counts the requests for key the target answered 2xx: the
// deliveries it took. More than one is a duplicate.
func (ft *faultTarget) accepted(key string) int {
	n := 0
	for _, a := range ft.arrivals() {
		if a.key == key && a.outcome == outcomeAnswered && a.status/100 == 2 {
			n++
		}
	}
	return n
}

// saw is the line requireLog expects for a request for p.
func saw(p notify.Page, what any) string { return fmt.Sprint(p.Key, " ", what) }

// requireQuiet runs passes an hour of the harness's clock later and fails
// the test if the target hears anything more: no late retry, no
// duplicate.
func (h *harness) requireQuiet(d *notify.Deliverer, targets ...*faultTarget) {
	h.t.Helper()
	before := make([]int, len(targets))
	for i, ft := range targets {
		before[i] = ft.count()
	}
	for range 2 {
		h.clock.Advance(time.Hour)
		if err := d.Pass(h.t.Context()); err != nil {
			h.t.Fatal(err)
		}
	}
	for i, ft := range targets {
		if got := ft.count(); got != before[i] {
			h.t.Errorf("target %d: %d more requests after everything was delivered, want none: %q", i, got-before[i], ft.log()[before[i]:])
		}
	}
	h.requireOutboxEmpty()
}

// breakerOf is the one target d knows, failing the test otherwise.
func breakerOf(t *testing.T, d *notify.Deliverer) notify.TargetStatus {
	t.Helper()
	s := d.Targets()
	if len(s) != 1 {
		t.Fatalf("targets %+v, want one", s)
	}
	return s[0]
}

// waitBreaker waits, in real time (the breaker's own clock), until d's
// one target's breaker is in state.
func waitBreaker(t *testing.T, d *notify.Deliverer, state string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for breakerOf(t, d).State != state {
		if time.Now().After(deadline) {
			t.Fatalf("breaker %+v, not %s within %s", breakerOf(t, d), state, waitFor)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, with a deadline
	}
}

func passOnce(t *testing.T, d *notify.Deliverer) {
	t.Helper()
	if err := d.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// faultPage is a page to user about incident id through notifier "hook".
func faultPage(id, user string) notify.Page {
	p := page(id, user)
	p.Notifier = "hook"
	return p
}

// commitFaultPage makes incident id and commits its faultPage.
func (h *harness) commitFaultPage(id, user string) notify.Page {
	h.t.Helper()
	h.addIncident(id)
	p := faultPage(id, user)
	h.commit(p)
	return p
}

// failFirst is a script: a for the first n requests, then 200s.
func failFirst(n int, a answer) func(int) answer {
	return func(i int) answer {
		if i <= n {
			return a
		}
		return answer{status: http.StatusOK}
	}
}

// 500s open the breaker after BreakerFailures; while open nothing reaches
// the target, retries that come due included; a probe that fails opens it
// again; one that succeeds closes it and the backlog drains in urgency
// order. Every page is delivered once; nothing is lost.
func TestFaultServerErrors(t *testing.T) {
	h := newHarness(t)
	const failing = 4 // three to open the breaker, then the first probe
	ft := newFaultTarget(t, h.clock, failFirst(failing, answer{status: http.StatusInternalServerError, body: "upstream down"}))
	hook := ft.webhook(nil)
	var pages []notify.Page
	for i := 1; i <= 8; i++ {
		id := strconv.Itoa(16 * i) // all on shard 0: one read, in order
		h.addIncident(id)
		p := faultPage(id, "dora")
		p.Severity = alertgate.SeverityWarning
		p.At = start.Add(time.Duration(i) * time.Second)
		switch i {
		case 6:
			p.Severity = alertgate.SeverityCritical // the most urgent
		case 7:
			p.Repeat = 1 // after every first page
		}
		pages = append(pages, p)
	}
	d := h.deliverer(testlog.New(t), map[string]notify.Notifier{"hook": hook}, notify.DelivererOptions{
		BreakerFailures: 3, BreakerOpenFor: 500 * time.Millisecond, PerTarget: 1,
		RetryInitial: 100 * time.Millisecond, RetryMax: 100 * time.Millisecond, MaxAttempts: 50, GiveUpAfter: time.Hour,
		Rand: func() float64 { return 0 },
	})

	for _, p := range pages[:3] {
		h.commit(p)
	}
	passOnce(t, d)
	if s := breakerOf(t, d); s.State != "open" || !strings.Contains(s.LastError, "status 500: upstream down") {
		t.Fatalf("breaker %+v after 3 failures, want open with the last error", s)
	}
	for _, p := range pages[3:] {
		h.commit(p)
	}
	passOnce(t, d) // the new pages wait behind the breaker
	h.clock.Advance(5 * time.Second)
	passOnce(t, d) // so do the retries, due now
	ft.requireLog(saw(pages[0], 500), saw(pages[1], 500), saw(pages[2], 500))
	// Every hold counts: the 5 new pages, then all 8 once the retries fell
	// due.
	if got := h.obs.waits("circuit_open"); got != 5+8 {
		t.Errorf("%d waits for the circuit, want 13", got)
	}
	// The timeline hears of the wait once (the raw JSON escapes "/").
	if got := h.messages(pages[3].Incident, alertgate.EventPageWaiting); len(got) != 1 ||
		!strings.HasPrefix(strings.ReplaceAll(got[0], `\/`, "/"), "waiting: circuit open for "+hook.Target()+" until ") {
		t.Errorf("page_waiting %q, want the open circuit named once", got)
	}

	// Half-open: the most urgent page is the probe, and fails.
	waitBreaker(t, d, "half-open")
	h.clock.Advance(5 * time.Second)
	passOnce(t, d)
	if s := breakerOf(t, d); s.State != "open" {
		t.Fatalf("breaker %s after a failed probe, want open", s.State)
	}
	if got := ft.count(); got != failing {
		t.Fatalf("%d requests after the failed probe, want %d: %q", got, failing, ft.log())
	}

	// The next probe succeeds: the breaker closes and the backlog drains.
	waitBreaker(t, d, "half-open")
	recovery := time.Now()
	h.clock.Advance(5 * time.Second)
	passUntil(t, func() bool { dl, _, _ := h.obs.counts(); return dl == len(pages) }, d)
	drained := time.Since(recovery)

	byUrgency := []int{5, 0, 1, 2, 3, 4, 7, 6} // critical, warnings oldest first, the repeat
	want := []string{saw(pages[0], 500), saw(pages[1], 500), saw(pages[2], 500), saw(pages[5], 500)}
	for _, i := range byUrgency {
		want = append(want, saw(pages[i], 200))
	}
	ft.requireLog(want...)
	for i, p := range pages {
		e := h.outcome(p)
		attempts := 1
		if i < 3 || i == 5 {
			attempts = 2 // failed once, each
		}
		if e.Type != alertgate.EventPageDelivered || e.Page.Attempts != attempts {
			t.Errorf("page %s: %s after %d attempts, want delivered after %d", p.Key, e.Type, e.Page.Attempts, attempts)
		}
		if n := ft.accepted(p.Key); n != 1 {
			t.Errorf("page %s: the target took it %d times, want once", p.Key, n)
		}
	}
	h.obs.mu.Lock()
	states := slices.Clone(h.obs.breaker)
	h.obs.mu.Unlock()
	var wantStates []string
	for _, s := range []string{"open", "half-open", "open", "half-open", "closed"} {
		wantStates = append(wantStates, hook.Target()+" "+s)
	}
	if !slices.Equal(states, wantStates) {
		t.Errorf("breaker states %q, want %q", states, wantStates)
	}
	if _, failed, dups := h.obs.counts(); failed != 0 || dups != 0 {
		t.Errorf("%d pages failed and %d delivered twice, want none", failed, dups)
	}
	h.requireQuiet(d, ft)
	t.Logf("counts: %d requests (%d answered 500, %d while open), %d pages each taken once; backlog of %d drained %v after the breaker went half-open",
		ft.count(), failing, 0, len(pages), len(pages), drained.Round(time.Millisecond))
}

// A 429's Retry-After holds the page back on the deliverer's clock, in
// either form; a value that says nothing falls back to the backoff.
func TestFaultRetryAfter(t *testing.T) {
	for _, c := range []struct {
		name       string
		retryAfter string
		wait       time.Duration
	}{
		{"delay-seconds", "30", 30 * time.Second},
		{"HTTP-date", start.Add(45 * time.Second).Format(http.TimeFormat), 45 * time.Second},
		{"negative (the backoff's 1s)", "-1", time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.commitFaultPage("3", "dave")
			ft := newFaultTarget(t, h.clock, failFirst(1, answer{status: http.StatusTooManyRequests, retryAfter: c.retryAfter, body: "slow down"}))
			d := h.deliverer(testlog.New(t), map[string]notify.Notifier{"hook": ft.webhook(nil)},
				notify.DelivererOptions{RetryInitial: 2 * time.Second, RetryMax: 2 * time.Second, Rand: func() float64 { return 0 }})
			passOnce(t, d)
			r, err := d.Outbox(t.Context(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Waiting) != 1 || !r.Waiting[0].Due.Equal(start.Add(c.wait)) || !strings.Contains(r.Waiting[0].LastError, "status 429: slow down") {
				t.Fatalf("outbox %+v, want the page waiting until %s", r, start.Add(c.wait))
			}
			// Not a moment early, however often the deliverer looks.
			early := c.wait - time.Millisecond
			for i := range 3 {
				h.clock.Advance(early*time.Duration(i+1)/3 - early*time.Duration(i)/3)
				passOnce(t, d)
			}
			ft.requireLog(saw(p, 429))
			h.clock.Advance(time.Millisecond)
			passUntil(t, func() bool { return h.result(p) != "" }, d)
			ft.requireLog(saw(p, 429), saw(p, 200))
			got := ft.arrivals()
			if gap := got[1].at.Sub(got[0].at); gap < c.wait {
				t.Errorf("retry %v after the 429, want at least %v", gap, c.wait)
			}
			if e := h.outcome(p); e.Type != alertgate.EventPageDelivered || e.Page.Attempts != 2 {
				t.Errorf("%s after %d attempts, want delivered after 2", e.Type, e.Page.Attempts)
			}
			if msgs := h.messages("3", alertgate.EventPageWaiting); len(msgs) != 1 || !strings.Contains(msgs[0], "status 429") {
				t.Errorf("page_waiting %q, want one naming the 429", msgs)
			}
			h.requireQuiet(d, ft)
		})
	}
}

// A target that never answers: the attempt ends at the timeout (the
// client's, or the deliverer's NotifyTimeout), counts as a failure for
// the breaker, and the retry carries the same key; the target takes the
// page once.
func TestFaultHangingTarget(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, c := range []struct {
		name   string
		client *http.Client
		opts   notify.DelivererOptions
	}{
		{"client timeout", &http.Client{Timeout: timeout}, notify.DelivererOptions{}},
		{"NotifyTimeout", nil, notify.DelivererOptions{NotifyTimeout: timeout}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.commitFaultPage("4", "erin")
			ft := newFaultTarget(t, h.clock, failFirst(1, answer{hang: true}))
			o := c.opts
			o.RetryInitial, o.RetryMax = time.Second, time.Second
			d := h.deliverer(testlog.New(t), map[string]notify.Notifier{"hook": ft.webhook(c.client)}, o)
			began := time.Now()
			passOnce(t, d)
			took := time.Since(began)
			if took < timeout {
				t.Errorf("the pass took %v, less than the %v timeout: the hung request was not waited for", took, timeout)
			}
			if s := breakerOf(t, d); s.State != "closed" || s.ConsecutiveFailures != 1 {
				t.Errorf("breaker %+v, want one failure counted", s)
			}
			r, err := d.Outbox(t.Context(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Waiting) != 1 || r.Waiting[0].Why != "retry" {
				t.Fatalf("outbox %+v, want the page waiting to retry", r)
			}
			passUntilAbandoned(t, ft)
			h.clock.Advance(time.Second)
			passUntil(t, func() bool { return h.result(p) != "" }, d)
			ft.requireLog(saw(p, outcomeAbandoned), saw(p, 200))
			if n := ft.accepted(p.Key); n != 1 {
				t.Errorf("the target took the page %d times, want once", n)
			}
			if e := h.outcome(p); e.Type != alertgate.EventPageDelivered || e.Page.Attempts != 2 {
				t.Errorf("%s after %d attempts, want delivered after 2", e.Type, e.Page.Attempts)
			}
			h.requireQuiet(d, ft)
			t.Logf("counts: %d requests, 1 hung (the attempt ended after %v), 1 taken; last error %q",
				ft.count(), took.Round(time.Millisecond), r.Waiting[0].LastError)
		})
	}
}

// passUntilAbandoned waits until the receiver saw the hung request's
// client go away: the timeout closed the connection, nothing leaks.
func passUntilAbandoned(t *testing.T, ft *faultTarget) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for ft.arrivals()[0].outcome != outcomeAbandoned {
		if time.Now().After(deadline) {
			t.Fatalf("the hung request is %s, not abandoned by its client within %s", ft.arrivals()[0].outcome, waitFor)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, with a deadline
	}
}

// A target that closes the connection without answering: retryable, the
// breaker counts it, and the page gets through once the target answers.
func TestFaultDroppedConnections(t *testing.T) {
	h := newHarness(t)
	p := h.commitFaultPage("5", "fay")
	const drops = 3
	ft := newFaultTarget(t, h.clock, failFirst(drops, answer{drop: true}))
	d := h.deliverer(testlog.New(t), map[string]notify.Notifier{"hook": ft.webhook(nil)}, notify.DelivererOptions{
		BreakerFailures: drops, BreakerOpenFor: 300 * time.Millisecond,
		RetryInitial: time.Second, RetryMax: time.Second, Rand: func() float64 { return 0 },
	})
	for attempt := 1; attempt <= drops; attempt++ {
		passOnce(t, d)
		if got := ft.count(); got != attempt {
			t.Fatalf("attempt %d: %d requests: %q", attempt, got, ft.log())
		}
		h.clock.Advance(time.Second)
	}
	s := breakerOf(t, d)
	if s.State != "open" || !strings.Contains(s.LastError, "EOF") {
		t.Fatalf("breaker %+v after %d dropped connections, want open with the transport's error", s, drops)
	}
	passOnce(t, d) // due, but held by the breaker
	waitBreaker(t, d, "half-open")
	h.clock.Advance(2 * time.Second)
	passUntil(t, func() bool { return h.result(p) != "" }, d)
	ft.requireLog(saw(p, outcomeDropped), saw(p, outcomeDropped), saw(p, outcomeDropped), saw(p, 200))
	if e := h.outcome(p); e.Type != alertgate.EventPageDelivered || e.Page.Attempts != drops+1 {
		t.Errorf("%s after %d attempts, want delivered after %d", e.Type, e.Page.Attempts, drops+1)
	}
	if s := breakerOf(t, d); s.State != "closed" {
		t.Errorf("breaker %s after the probe went through, want closed", s.State)
	}
	h.requireQuiet(d, ft)
}

// Go's transport resends a request that has an Idempotency-Key once, on a
// new connection, when a kept-alive connection closes without an answer.
// That second layer of retry is invisible to the deliverer (one attempt,
// no failure counted) but not to the target: it gets the page twice, with
// the same key. This pins that behaviour down and counts it.
func TestFaultDroppedKeptAliveConnectionIsResent(t *testing.T) {
	h := newHarness(t)
	first, second := faultPage("6", "gil"), faultPage("7", "gil")
	for _, p := range []notify.Page{first, second} {
		h.addIncident(p.Incident)
	}
	ft := newFaultTarget(t, h.clock, func(n int) answer {
		if n == 2 {
			return answer{drop: true}
		}
		return answer{status: http.StatusOK}
	})
	d := h.deliverer(testlog.New(t), map[string]notify.Notifier{"hook": ft.webhook(nil)}, notify.DelivererOptions{})
	h.commit(first)
	passUntil(t, func() bool { return h.result(first) != "" }, d) // leaves an idle connection
	h.commit(second)
	passUntil(t, func() bool { return h.result(second) != "" }, d)
	ft.requireLog(saw(first, 200), saw(second, outcomeDropped), saw(second, 200))
	if e := h.outcome(second); e.Type != alertgate.EventPageDelivered || e.Page.Attempts != 1 {
		t.Errorf("%s after %d attempts, want delivered at the first", e.Type, e.Page.Attempts)
	}
	if s := breakerOf(t, d); s.ConsecutiveFailures != 0 {
		t.Errorf("breaker %+v, want no failure counted", s)
	}
	h.requireQuiet(d, ft)
}

// 400 is permanent: one request per page, dead-lettered with the target's
// answer, the breaker closed however many come, and each page fails over
// to the person's next contact, which takes it.
func TestFaultPermanentRefusal(t *testing.T) {
	h := newHarness(t)
	bad := newFaultTarget(t, h.clock, func(int) answer {
		return answer{status: http.StatusBadRequest, body: "invalid payload"}
	})
	backup := newFaultTarget(t, h.clock, func(int) answer { return answer{status: http.StatusOK} })
	const n = 6 // twice BreakerFailures
	var pages, failovers []notify.Page
	for i := 1; i <= n; i++ {
		id := strconv.Itoa(16 * i) // all on shard 0: one read, in order
		h.addIncident(id)
		p := faultPage(id, "hal")
		p.At = start.Add(time.Duration(i) * time.Second)
		p.Next = []notify.Contact{{Notifier: "backup", Address: "hal-2"}}
		pages = append(pages, p)
		f := p
		f.Key, f.Notifier = p.Key+"#2", "backup"
		failovers = append(failovers, f)
		h.commit(p)
	}
	log := testlog.NewLog(t, testlog.ExpectError("page failed"))
	d := h.deliverer(log.Logger(), map[string]notify.Notifier{"hook": bad.webhook(nil), "backup": backup.webhook(nil)},
		notify.DelivererOptions{BreakerFailures: 3, PerTarget: 1})
	passUntil(t, func() bool { dl, f, _ := h.obs.counts(); return dl == n && f == n }, d)

	var wantBad, wantBackup []string
	for i := range pages {
		wantBad = append(wantBad, saw(pages[i], 400))
		wantBackup = append(wantBackup, saw(failovers[i], 200))
	}
	bad.requireLog(wantBad...)
	backup.requireLog(wantBackup...)
	for _, s := range d.Targets() {
		if s.State != "closed" || s.ConsecutiveFailures != 0 {
			t.Errorf("target %s: breaker %s with %d failures, want closed with none: a 400 is an answer", s.Target, s.State, s.ConsecutiveFailures)
		}
	}
	r, err := d.Outbox(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.DeadLetters) != n || r.WaitingTotal != 0 {
		t.Fatalf("outbox %+v, want %d dead letters and nothing waiting", r, n)
	}
	for _, dl := range r.DeadLetters {
		if dl.Attempts != 1 || !strings.HasSuffix(dl.Error, "status 400: invalid payload") || dl.Notifier != "hook" {
			t.Errorf("dead letter %+v, want hook's page after 1 attempt with the target's answer", dl)
		}
	}
	for i := range pages {
		if e := h.outcome(pages[i]); e.Type != alertgate.EventPageFailed || !strings.Contains(e.Page.Error, "status 400: invalid payload") {
			t.Errorf("page %s: %s (%s), want page_failed with the target's answer", pages[i].Key, e.Type, e.Page.Error)
		}
		if e := h.outcome(failovers[i]); e.Type != alertgate.EventPageDelivered || e.Page.Attempts != 1 {
			t.Errorf("failover %s: %s after %d attempts, want delivered at the first", failovers[i].Key, e.Type, e.Page.Attempts)
		}
		if got := h.messages(pages[i].Incident, alertgate.EventPageFailover); !slices.Equal(got, []string{"hal could not be reached through hook; trying backup next"}) {
			t.Errorf("incident %s: page_failover %q", pages[i].Incident, got)
		}
	}
	if got := log.Count("page failed"); got != n {
		t.Errorf("%d page failed lines, want %d", got, n)
	}
	h.requireQuiet(d, bad, backup)
}

// BUG (breaker.go, Targets): gobreaker clears its counts on every change
// of state, so a breaker that has just opened after BreakerFailures
// failures reports consecutive_failures 0, where TargetStatus and
// docs/delivery.md (GET /api/v1/notifiers: "state": "open",
// "consecutive_failures": 5) promise the failures since the last success.
// This test fails until the target keeps its own count.
func TestFaultOpenBreakerReportsItsFailures(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 3; i++ {
		h.commitFaultPage(strconv.Itoa(16*i), "ida")
	}
	ft := newFaultTarget(t, h.clock, failFirst(3, answer{status: http.StatusServiceUnavailable}))
	d := h.deliverer(testlog.New(t), map[string]notify.Notifier{"hook": ft.webhook(nil)},
		notify.DelivererOptions{BreakerFailures: 3, PerTarget: 1})
	passOnce(t, d)
	if got := ft.count(); got != 3 {
		t.Fatalf("%d requests, want 3", got)
	}
	if s := breakerOf(t, d); s.State != "open" || s.ConsecutiveFailures != 3 {
		t.Errorf("breaker %s with consecutive_failures %d, want open with 3: the failures that opened it", s.State, s.ConsecutiveFailures)
	}
}

// A Retry-After beyond GiveUpAfter is not waited for: the page is given
// up on at once and fails over to the next contact, which takes it. One
// request to the throttling target, none later.
func TestFaultRetryAfterBeyondGiveUp(t *testing.T) {
	h := newHarness(t)
	h.addIncident("8")
	p := faultPage("8", "jo")
	p.Next = []notify.Contact{{Notifier: "backup", Address: "jo-2"}}
	h.commit(p)
	failover := p
	failover.Key = p.Key + "#2"
	hook := newFaultTarget(t, h.clock, func(int) answer {
		return answer{status: http.StatusTooManyRequests, retryAfter: "1000000000"}
	})
	backup := newFaultTarget(t, h.clock, failFirst(0, answer{}))
	log := testlog.NewLog(t, testlog.ExpectError("page failed"))
	d := h.deliverer(log.Logger(), map[string]notify.Notifier{"hook": hook.webhook(nil), "backup": backup.webhook(nil)},
		notify.DelivererOptions{GiveUpAfter: 5 * time.Minute})
	passUntil(t, func() bool { return h.result(failover) != "" }, d)
	hook.requireLog(saw(p, 429))
	backup.requireLog(saw(failover, 200))
	if e := h.outcome(p); e.Type != alertgate.EventPageFailed || !strings.HasPrefix(e.Page.Error, "gave up after 1 attempt in ") {
		t.Errorf("%s (%s), want page_failed, given up after 1 attempt", e.Type, e.Page.Error)
	}
	if e := h.outcome(failover); e.Type != alertgate.EventPageDelivered {
		t.Errorf("failover %s, want delivered", e.Type)
	}
	h.requireQuiet(d, hook, backup)
}
