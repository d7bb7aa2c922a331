package notify

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/alertgate/alertgate/internal/lifecycle"
)

// Targeted is a notifier that names the receiver behind it (a webhook
// URL's host and a hash of it, an SMTP server, a Twilio account): pages
// to one target share a circuit breaker, however many notifiers and
// contacts lead there. A notifier that is not Targeted is its own target.
type Targeted interface {
	Target() string
}

// RateTargeted is a notifier whose rate limit applies to something other
// than its Target: Twilio limits each sender number, not the account.
type RateTargeted interface {
	RateTarget() string
}

// targetOf names n's breaker target and its rate-limit target.
func targetOf(name string, n Notifier) (breaker, rate string) {
	breaker = "notifier:" + name
	if t, ok := n.(Targeted); ok {
		breaker = t.Target()
	}
	rate = breaker
	if t, ok := n.(RateTargeted); ok {
		rate = t.RateTarget()
	}
	return breaker, rate
}

// targets holds this replica's circuit breakers, one per target. Each
// replica keeps its own (gobreaker's shared-store breaker would serialise
// every replica's deliveries behind one Redis lock); a target that is down
// opens each replica's breaker after a few failures of its own.
type targets struct {
	clock     lifecycle.Clock
	failures  int
	openFor   time.Duration
	perTarget int
	observer  Observer

	mu sync.Mutex
	m  map[string]*target
}

func newTargets(clock lifecycle.Clock, failures int, openFor time.Duration, perTarget int, o Observer) *targets {
	return &targets{clock: clock, failures: failures, openFor: openFor, perTarget: perTarget, observer: o, m: map[string]*target{}}
}

// target is one receiver: its breaker, and the slots that bound the
// deliveries to it at once.
type target struct {
	name  string
	cb    *gobreaker.TwoStepCircuitBreaker[struct{}]
	open  time.Duration // how long the breaker stays open
	slots chan struct{}

	mu        sync.Mutex
	openedAt  time.Time // when the breaker last opened, on the deliverer's clock
	failures  int       // failures in a row that the breaker counted
	lastError string
	lastAt    time.Time
}

// get returns the target called name, made on first use.
func (ts *targets) get(name string) *target {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if t := ts.m[name]; t != nil {
		return t
	}
	t := &target{name: name, open: ts.openFor, slots: make(chan struct{}, ts.perTarget)}
	t.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1, // half-open: one probe at a time
		Timeout:     ts.openFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(ts.failures) },
		// Only failures that say the target is unwell count: a 400 or a
		// 404 is an answer, and retrying elsewhere will not fix it.
		IsSuccessful: func(err error) bool {
			retry, _ := Failed(err)
			return err == nil || !retry
		},
		OnStateChange: func(_ string, _, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				t.mu.Lock()
				t.openedAt = ts.clock.Now()
				t.mu.Unlock()
			}
			ts.observer.BreakerState(name, to.String())
		},
	})
	ts.m[name] = t
	return t
}

// errWaitBreaker is a page held back by its target's breaker.
var errWaitBreaker = errors.New("circuit open")

// allow asks the breaker whether a message may go now. When it may not,
// due says when to try again: a second after the breaker lets its next
// probe through, the same instant for every page it held while open (so
// they come due together and drain in order of urgency); or, while a
// probe is out, a second from now.
func (t *target) allow(now time.Time) (done func(error), due time.Time, err error) {
	done, err = t.cb.Allow()
	if err == nil {
		return done, time.Time{}, nil
	}
	if errors.Is(err, gobreaker.ErrOpenState) {
		t.mu.Lock()
		probe := t.openedAt.Add(t.open)
		t.mu.Unlock()
		if probe.Before(now) {
			probe = now
		}
		return nil, probe.Add(time.Second), errWaitBreaker
	}
	return nil, now.Add(time.Second), errWaitBreaker
}

// note keeps a target's last failure and its failures in a row, for GET
// /api/v1/notifiers: gobreaker clears its own counts at every change of
// state, so an open breaker would show none. unwell is what the breaker
// counts (a refusal is an answer, and ends a run of failures).
func (t *target) note(err, unwell error, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if unwell != nil {
		t.failures++
	} else {
		t.failures = 0
	}
	if err != nil {
		t.lastError, t.lastAt = err.Error(), at
	}
}

// TargetStatus is one target's breaker as this replica sees it.
type TargetStatus struct {
	Target string `json:"target"`
	// State is "closed" (delivering), "open" (pages wait) or "half-open"
	// (one probe decides).
	State string `json:"state"`
	// ConsecutiveFailures counts failures since the last success.
	ConsecutiveFailures int `json:"consecutive_failures"`
	// OpenUntil is when an open breaker lets its next probe through.
	OpenUntil time.Time `json:"open_until,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	LastAt    time.Time `json:"last_error_at,omitzero"`
}

// Targets reports every target this replica has delivered to.
func (d *Deliverer) Targets() []TargetStatus {
	d.targets.mu.Lock()
	list := make([]*target, 0, len(d.targets.m))
	for _, t := range d.targets.m {
		list = append(list, t)
	}
	d.targets.mu.Unlock()
	out := make([]TargetStatus, 0, len(list))
	for _, t := range list {
		st := t.cb.State()
		t.mu.Lock()
		s := TargetStatus{Target: t.name, State: st.String(), ConsecutiveFailures: t.failures,
			LastError: t.lastError, LastAt: t.lastAt}
		if st == gobreaker.StateOpen {
			s.OpenUntil = t.openedAt.Add(t.open)
		}
		t.mu.Unlock()
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b TargetStatus) int { return strings.Compare(a.Target, b.Target) })
	return out
}
