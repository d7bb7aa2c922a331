package escalation

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
)

// gate is a Gate that holds while until is in the future, and records
// what it was shown.
type gate struct {
	mu     sync.Mutex
	until  time.Time
	reason string
	err    error
	seen   []Candidate
}

func (g *gate) Hold(_ context.Context, c Candidate) (Hold, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seen = append(g.seen, c)
	if g.err != nil {
		return Hold{}, g.err
	}
	if c.At.Before(g.until) {
		return Hold{Reason: g.reason, Until: g.until}, nil
	}
	return Hold{}, nil
}

func (h *harness) withGate(g Gate) {
	h.engine = New(h.rdb, h.prefix, Options{Directory: func() *Directory { return h.dir }, Clock: h.clock,
		Lease: time.Minute, Gate: g, HoldRecheck: time.Minute})
}

// A held step pages nobody, stays where it is, says so once, and runs as
// soon as the hold ends: the first step, not the policy's next.
func TestHeldStepRunsWhenTheHoldEnds(t *testing.T) {
	h := newHarness(t, twoSteps())
	g := &gate{until: t0.Add(10 * time.Minute), reason: "silenced by s1 (db upgrade, alice)"}
	h.withGate(g)
	id := h.open("p", "a", 0)
	for _, d := range []time.Duration{0, 1, 2, 3, 9} {
		h.at(d * time.Minute)
	}
	h.expectPaged()
	inc := h.incident(id)
	if inc.Escalation == nil || inc.Escalation.Held != g.reason || inc.Escalation.NextStep != 1 {
		t.Errorf("escalation %+v, want step 1 next, held by the silence", inc.Escalation)
	}
	var held []string
	for _, e := range inc.Timeline {
		if e.Type == alertgate.EventHeld {
			held = append(held, e.Message)
		}
	}
	if len(held) != 1 || !strings.Contains(held[0], g.reason) || !strings.Contains(held[0], "12:10 UTC") {
		t.Errorf("held entries %q, want one naming the silence and its end", held)
	}
	// The hold ends at 12:10: step 1 pages then, not at a recheck later.
	h.at(10 * time.Minute)
	h.expectPaged("alice@1.0")
	if inc := h.incident(id); inc.Escalation.Held != "" {
		t.Errorf("still held %q after the hold ended", inc.Escalation.Held)
	}
	tl := h.timelineTypes(id)
	if i := slices.Index(tl, alertgate.EventReleased); i < 0 || tl[i+1] != alertgate.EventPaged {
		t.Errorf("timeline %v, want escalation_released then paged", tl)
	}
	// The policy goes on from there: step 2 five minutes later.
	h.at(15 * time.Minute)
	h.expectPaged("alice@1.0", "bob@2.0")

	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.seen[0]
	if c.ID != id || c.Route != "r" || c.Policy != "p" || c.FiringTotal != 1 || len(c.Firing) != 1 || c.Firing[0]["instance"] != "a" {
		t.Errorf("gate saw %+v, want the incident with its one firing alert's labels", c)
	}
}

// A hold without an end is looked at again after HoldRecheck.
func TestHoldWithoutAnEndIsRechecked(t *testing.T) {
	h := newHarness(t, twoSteps())
	g := &gate{until: t0.Add(90 * time.Second), reason: "inhibited"}
	h.withGate(holdForever{g})
	h.open("p", "a", 0)
	h.at(0)
	h.at(59 * time.Second)
	if n := len(g.seen); n != 1 {
		t.Fatalf("gate asked %d times within the recheck interval, want 1", n)
	}
	h.at(time.Minute)
	if n := len(g.seen); n != 2 {
		t.Fatalf("gate asked %d times after the recheck interval, want 2", n)
	}
	h.at(2 * time.Minute)
	h.expectPaged("alice@1.0")
}

// holdForever wraps a gate, dropping its end: the hold names none.
type holdForever struct{ g *gate }

func (f holdForever) Hold(ctx context.Context, c Candidate) (Hold, error) {
	hold, err := f.g.Hold(ctx, c)
	hold.Until = time.Time{}
	return hold, err
}

// A gate that fails does not keep anyone from being paged.
func TestFailingGatePages(t *testing.T) {
	h := newHarness(t, twoSteps())
	h.withGate(&gate{err: errors.New("silences unreadable")})
	h.open("p", "a", 0)
	h.at(0)
	h.expectPaged("alice@1.0")
}
