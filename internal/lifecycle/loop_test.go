package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/testlog"
)

var epoch = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// loopHarness runs a loop on a fake clock; every cycle reports on cycles
// and waits for the test to take that report, so the test always knows
// how many cycles ran.
type loopHarness struct {
	t       *testing.T
	clock   *fakeclock.Clock
	trigger chan struct{}
	cycles  chan time.Time // the fake time each cycle ran at
	n       atomic.Int32
	cancel  context.CancelFunc
	done    chan error
}

func startLoop(t *testing.T, l *lifecycle.Loop, work func(ctx context.Context) error) *loopHarness {
	t.Helper()
	h := &loopHarness{t: t, clock: fakeclock.New(epoch), trigger: make(chan struct{}), cycles: make(chan time.Time), done: make(chan error, 1)}
	l.Clock, l.Trigger = h.clock, h.trigger
	if l.Name == "" {
		l.Name = "test"
	}
	if l.Interval == 0 {
		l.Interval = time.Minute
	}
	l.Work = func(ctx context.Context) error {
		h.n.Add(1)
		select {
		case h.cycles <- h.clock.Now():
		case <-ctx.Done():
			return ctx.Err()
		}
		if work != nil {
			return work(ctx)
		}
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	h.cancel = cancel
	go func() { h.done <- l.Run(ctx) }()
	ready, stop := context.WithTimeout(t.Context(), waitFor)
	defer stop()
	if err := h.clock.WaitForTickers(ready, 1); err != nil {
		t.Fatalf("the loop made no ticker: %v", err)
	}
	return h
}

// cycle waits for the next cycle and returns the fake time it ran at.
func (h *loopHarness) cycle() time.Time {
	h.t.Helper()
	select {
	case at := <-h.cycles:
		return at
	case <-time.After(waitFor):
		h.t.Fatalf("no cycle within %s", waitFor)
		return time.Time{}
	}
}

func (h *loopHarness) poke() {
	h.t.Helper()
	select {
	case h.trigger <- struct{}{}:
	case <-time.After(waitFor):
		h.t.Fatalf("the loop did not take the trigger within %s", waitFor)
	}
}

// stop cancels the loop, waits for Run, and returns how many cycles ran.
func (h *loopHarness) stop() int {
	h.t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Fatalf("Run returned %v after cancellation, want nil", err)
		}
	case <-time.After(waitFor):
		h.t.Fatalf("Run did not return within %s of cancellation", waitFor)
	}
	if n := h.clock.Tickers(); n != 0 {
		h.t.Errorf("%d tickers left running after Run returned", n)
	}
	return int(h.n.Load())
}

func TestLoopTicksOnItsClock(t *testing.T) {
	h := startLoop(t, &lifecycle.Loop{Interval: time.Minute, Logger: testlog.New(t)}, nil)
	h.clock.Advance(time.Minute)
	if at := h.cycle(); !at.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("first cycle at %v, want a minute in", at)
	}
	h.clock.Advance(30 * time.Second) // no tick due: no cycle
	h.poke()                          // a trigger runs one at once
	if at := h.cycle(); !at.Equal(epoch.Add(90 * time.Second)) {
		t.Fatalf("triggered cycle at %v", at)
	}
	h.clock.Advance(30 * time.Second) // the two-minute tick: the trigger did not move it
	if at := h.cycle(); !at.Equal(epoch.Add(2 * time.Minute)) {
		t.Fatalf("third cycle at %v", at)
	}
	if n := h.stop(); n != 3 {
		t.Fatalf("%d cycles, want 3", n)
	}
}

// Ticks missed while the loop was busy are dropped, not run back to back.
func TestLoopDropsMissedTicks(t *testing.T) {
	h := startLoop(t, &lifecycle.Loop{Interval: time.Minute, Logger: testlog.New(t)}, nil)
	h.clock.Advance(10 * time.Minute)
	h.cycle()
	h.poke() // the loop took the trigger, so it was idle: no tick queued
	h.cycle()
	if n := h.stop(); n != 2 {
		t.Fatalf("%d cycles after ten missed ticks and a trigger, want 2", n)
	}
}

// A tick that is ready when the context ends does not start a cycle.
func TestLoopChecksItsContextFirst(t *testing.T) {
	release := make(chan struct{})
	h := startLoop(t, &lifecycle.Loop{Interval: time.Minute, Logger: testlog.New(t)}, func(context.Context) error {
		<-release // ignores ctx, like work caught mid-step
		return nil
	})
	h.poke()
	h.cycle()                    // the cycle is now blocked on release
	h.clock.Advance(time.Minute) // a tick is ready
	h.cancel()                   // and so is the end
	close(release)
	if n := h.stop(); n != 1 {
		t.Fatalf("%d cycles, want 1: a tick after cancellation ran a cycle", n)
	}
}

func TestLoopClosedTrigger(t *testing.T) {
	h := startLoop(t, &lifecycle.Loop{Interval: time.Minute, Logger: testlog.New(t)}, nil)
	close(h.trigger)
	h.clock.Advance(time.Minute) // still ticking
	h.cycle()
	if n := h.stop(); n != 1 {
		t.Fatalf("%d cycles, want 1: a closed trigger ran cycles", n)
	}
}

func TestLoopSurvivesPanicsAndErrors(t *testing.T) {
	log := testlog.NewLog(t, testlog.ExpectError("loop cycle panicked"), testlog.ExpectError("loop cycle failed"))
	var calls atomic.Int32
	h := startLoop(t, &lifecycle.Loop{Name: "escalations", Logger: log.Logger()}, func(context.Context) error {
		switch calls.Add(1) {
		case 1:
			panic("assignment to entry in nil map")
		case 2:
			return errors.New("redis: connection refused")
		}
		return nil
	})
	for range 3 {
		h.poke()
		h.cycle()
	}
	if n := h.stop(); n != 3 {
		t.Fatalf("%d cycles, want 3: the loop must go on after a panic and an error", n)
	}
	for _, e := range log.Entries() {
		switch e.Message {
		case "loop cycle panicked":
			if e.Attrs["loop"] != "escalations" || !strings.Contains(e.Attrs["panic"], "nil map") || !strings.Contains(e.Attrs["stack"], "loop_test.go") {
				t.Errorf("panic logged as %+v, want the loop's name, the panic and its stack", e)
			}
		case "loop cycle failed":
			if e.Attrs["loop"] != "escalations" || !strings.Contains(e.Attrs["err"], "connection refused") {
				t.Errorf("error logged as %+v", e)
			}
		}
	}
}

// While Redis is down every cycle fails alike: the loop logs that once per
// RepeatLogEvery with a count, not once per cycle, and says when it is over.
func TestLoopLogsARepeatedFailureOnce(t *testing.T) {
	log := testlog.NewLog(t, testlog.ExpectError("loop cycle failed"))
	// The first five cycles fail. Counted in the work itself: the harness
	// hands a cycle over before its work runs, so a flag the test flips
	// after cycle() returned could be read by that very cycle.
	var calls atomic.Int32
	h := startLoop(t, &lifecycle.Loop{Logger: log.Logger(), Interval: lifecycle.RepeatLogEvery}, func(context.Context) error {
		if calls.Add(1) <= 5 {
			return errors.New("redis: connection refused")
		}
		return nil
	})
	for range 4 {
		h.poke()
		h.cycle()
	}
	h.clock.Advance(lifecycle.RepeatLogEvery)
	h.cycle() // the tick
	h.poke()
	h.cycle()
	h.stop()
	var repeated []string
	for _, e := range log.Entries() {
		if e.Message == "loop cycle failed" {
			repeated = append(repeated, e.Attrs["repeated"])
		}
	}
	if fmt.Sprint(repeated) != "[0 3]" {
		t.Errorf("failures logged with repeated=%v, want [0 3]: the first, and one after RepeatLogEvery counting the three between", repeated)
	}
	if n := log.Count("loop cycle succeeded again"); n != 1 {
		t.Errorf("recovery logged %d times, want once", n)
	}
}

func TestLoopCycleTimeout(t *testing.T) {
	log := testlog.NewLog(t, testlog.ExpectError("loop cycle timed out"))
	var hadDeadline atomic.Bool
	// A real millisecond: the cycle waits for its deadline, which comes.
	h := startLoop(t, &lifecycle.Loop{Timeout: time.Millisecond, Logger: log.Logger()}, func(ctx context.Context) error {
		_, ok := ctx.Deadline()
		hadDeadline.Store(ok)
		<-ctx.Done()
		return ctx.Err()
	})
	h.poke()
	h.cycle()
	h.poke() // taken only once the first cycle ended
	h.cycle()
	h.stop()
	if !hadDeadline.Load() {
		t.Error("the cycle's context had no deadline")
	}
	if n := log.Count("loop cycle timed out"); n < 1 {
		t.Errorf("%d timeouts logged", n)
	}
}

func TestLoopWarnsAboutSlowCycles(t *testing.T) {
	log := testlog.NewLog(t)
	var clock atomic.Pointer[fakeclock.Clock]
	slowness := make(chan time.Duration, 1)
	h := startLoop(t, &lifecycle.Loop{Interval: time.Minute, Logger: log.Logger()}, func(context.Context) error {
		clock.Load().Advance(<-slowness) // the work "takes" this long
		return nil
	})
	clock.Store(h.clock)
	for _, d := range []time.Duration{10 * time.Second, 40 * time.Second} { // SlowAfter defaults to half of the one-minute timeout
		slowness <- d
		h.poke()
		h.cycle()
	}
	h.stop()
	if n := log.Count("slow loop cycle"); n != 1 {
		t.Fatalf("%d slow-cycle warnings, want 1, for the 40s cycle", n)
	}
	for _, e := range log.Entries() {
		if e.Message == "slow loop cycle" && (e.Level.String() != "WARN" || e.Attrs["took"] != "40s" || e.Attrs["slow_after"] != "30s") {
			t.Errorf("warning %+v", e)
		}
	}
}

// An error that only says the loop is being stopped is not logged (testlog
// would fail the test on it).
func TestLoopQuietOnShutdown(t *testing.T) {
	entered := make(chan struct{})
	h := startLoop(t, &lifecycle.Loop{Logger: testlog.New(t)}, func(ctx context.Context) error {
		close(entered)
		<-ctx.Done()
		return ctx.Err()
	})
	h.poke()
	h.cycle()
	wait(t, entered, "the cycle")
	if n := h.stop(); n != 1 {
		t.Fatalf("%d cycles", n)
	}
}

func TestLoopMisconfigured(t *testing.T) {
	for _, l := range []*lifecycle.Loop{{Name: "no work", Interval: time.Second}, {Name: "no interval", Work: func(context.Context) error { return nil }}} {
		if err := l.Run(t.Context()); err == nil || !strings.Contains(err.Error(), l.Name) {
			t.Errorf("%s: Run returned %v", l.Name, err)
		}
	}
}

// In a supervisor, a loop is a component's Run: it stops with the rest.
func TestLoopAsComponent(t *testing.T) {
	clock := fakeclock.New(epoch)
	cycles := make(chan struct{}, 1)
	loop := &lifecycle.Loop{Name: "sweeper", Interval: time.Second, Clock: clock, Logger: testlog.New(t),
		Work: func(context.Context) error { cycles <- struct{}{}; return nil }}
	sup := lifecycle.New(testlog.New(t))
	sup.Add(lifecycle.Component{Name: "sweeper", Run: loop.Run})
	ctx, cancel := context.WithCancel(t.Context())
	done := runAsync(ctx, sup)
	ready, stop := context.WithTimeout(t.Context(), waitFor)
	defer stop()
	if err := clock.WaitForTickers(ready, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	wait(t, cycles, "a cycle")
	cancel()
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
}

func TestRealClock(t *testing.T) {
	tk := lifecycle.RealClock.NewTicker(time.Millisecond)
	defer tk.Stop()
	select {
	case at := <-tk.C():
		if at.IsZero() || lifecycle.RealClock.Now().Before(at) {
			t.Fatalf("tick at %v", at)
		}
	case <-time.After(waitFor):
		t.Fatal("no tick from the real clock")
	}
}
