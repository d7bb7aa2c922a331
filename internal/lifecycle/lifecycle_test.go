package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/internal/testlog"
)

// waitFor bounds every wait of these tests; none waits for it to pass.
const waitFor = 10 * time.Second

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitFor):
		t.Fatalf("%s did not happen within %s", what, waitFor)
	}
}

// events records what the components did, in order.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, fmt.Sprintf(format, args...))
}

// with returns the events that start with one of the prefixes, in order.
func (e *events) with(prefixes ...string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.list {
		for _, p := range prefixes {
			if strings.HasPrefix(ev, p) {
				out = append(out, ev)
				break
			}
		}
	}
	return out
}

// part is a well-behaved component that records every step; running is
// closed once its Run runs.
type part struct {
	lifecycle.Component
	running chan struct{}
}

func newPart(ev *events, name string) *part {
	p := &part{running: make(chan struct{})}
	p.Component = lifecycle.Component{
		Name:  name,
		Start: func(context.Context) error { ev.add("start %s", name); return nil },
		Run: func(ctx context.Context) error {
			ev.add("run %s", name)
			close(p.running)
			<-ctx.Done()
			ev.add("returned %s", name)
			return ctx.Err()
		},
		Stop: func(context.Context) error { ev.add("stop %s", name); return nil },
	}
	return p
}

// runAsync runs sup.Run(ctx) and returns a channel with its result.
func runAsync(ctx context.Context, sup *lifecycle.Supervisor) <-chan error {
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	return done
}

func result(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(waitFor):
		t.Fatalf("Run did not return within %s", waitFor)
		return nil
	}
}

func TestStartsInOrderStopsInReverse(t *testing.T) {
	ev := &events{}
	sup := lifecycle.New(testlog.New(t))
	parts := []*part{newPart(ev, "redis"), newPart(ev, "worker"), newPart(ev, "http")}
	type key struct{}
	var sawValue bool
	parts[1].Run = func(ctx context.Context) error {
		sawValue = ctx.Value(key{}) == "v"
		ev.add("run worker")
		close(parts[1].running)
		<-ctx.Done()
		ev.add("returned worker")
		return nil
	}
	for _, p := range parts {
		sup.Add(p.Component)
	}
	ctx, cancel := context.WithCancel(context.WithValue(t.Context(), key{}, "v"))
	done := runAsync(ctx, sup)
	for _, p := range parts {
		wait(t, p.running, p.Name+" running")
	}
	if got := ev.with("start", "stop", "returned"); !slices.Equal(got, []string{"start redis", "start worker", "start http"}) {
		t.Fatalf("before cancellation: %q", got)
	}
	cancel()
	if err := result(t, done); err != nil {
		t.Fatalf("Run after cancellation: %v", err)
	}
	want := []string{
		"start redis", "start worker", "start http",
		// Each Run's context ends only at its own stop, after its Stop,
		// and the next stops only once it returned.
		"stop http", "returned http", "stop worker", "returned worker", "stop redis", "returned redis",
	}
	if got := ev.with("start", "stop", "returned"); !slices.Equal(got, want) {
		t.Fatalf("events\n%q\nwant\n%q", got, want)
	}
	if !sawValue {
		t.Error("Run's context lacks the values of the context given to Supervisor.Run")
	}
}

func TestDyingComponentTakesAllDown(t *testing.T) {
	for _, tt := range []struct {
		name    string
		err     error
		wantMsg string
	}{
		{"with an error", errors.New("subscription lost"), "worker exited: subscription lost"},
		{"without one", nil, "worker exited: returned before shutdown"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := &events{}
			log := testlog.NewLog(t, testlog.ExpectError("component exited; stopping everything"))
			sup := lifecycle.New(log.Logger())
			a, b, c := newPart(ev, "redis"), newPart(ev, "worker"), newPart(ev, "http")
			die := make(chan struct{})
			b.Run = func(context.Context) error {
				close(b.running)
				<-die
				ev.add("returned worker")
				return tt.err
			}
			for _, p := range []*part{a, b, c} {
				sup.Add(p.Component)
			}
			done := runAsync(t.Context(), sup) // never cancelled: the death alone stops it
			for _, p := range []*part{a, b, c} {
				wait(t, p.running, p.Name+" running")
			}
			close(die)
			err := result(t, done)
			if err == nil || err.Error() != "lifecycle: "+tt.wantMsg {
				t.Fatalf("Run returned %v, want %q", err, "lifecycle: "+tt.wantMsg)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("Run's error %v does not wrap the component's", err)
			}
			want := []string{"returned worker", "stop http", "returned http", "stop worker", "stop redis", "returned redis"}
			if got := ev.with("stop", "returned"); !slices.Equal(got, want) {
				t.Fatalf("events\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestPanics(t *testing.T) {
	t.Run("in Run", func(t *testing.T) {
		ev := &events{}
		sup := lifecycle.New(testlog.New(t, testlog.ExpectError("component exited; stopping everything")))
		a, b := newPart(ev, "redis"), newPart(ev, "worker")
		b.Run = func(context.Context) error { panic("nil map") }
		sup.Add(a.Component)
		sup.Add(b.Component)
		err := result(t, runAsync(t.Context(), sup))
		p, ok := errors.AsType[*lifecycle.PanicError](err)
		if !ok || p.Value != "nil map" || !strings.Contains(string(p.Stack), "lifecycle_test.go") || !strings.Contains(err.Error(), "worker exited: panic: nil map") {
			t.Fatalf("Run returned %v, want the worker's panic with its stack", err)
		}
		if got := ev.with("stop"); !slices.Equal(got, []string{"stop worker", "stop redis"}) {
			t.Fatalf("stops %q", got)
		}
	})
	t.Run("in Start", func(t *testing.T) {
		ev := &events{}
		sup := lifecycle.New(testlog.New(t, testlog.ExpectError("component failed to start; stopping the others")))
		a, b, c := newPart(ev, "redis"), newPart(ev, "worker"), newPart(ev, "http")
		b.Start = func(context.Context) error { panic("bad config") }
		for _, p := range []*part{a, b, c} {
			sup.Add(p.Component)
		}
		err := result(t, runAsync(t.Context(), sup))
		if _, ok := errors.AsType[*lifecycle.PanicError](err); !ok || !strings.Contains(err.Error(), "start worker: panic: bad config") {
			t.Fatalf("Run returned %v", err)
		}
		if got := ev.with("start", "stop"); !slices.Equal(got, []string{"start redis", "stop redis"}) {
			t.Fatalf("events %q: want redis started and stopped, the rest never started", got)
		}
	})
	t.Run("in Stop", func(t *testing.T) {
		ev := &events{}
		sup := lifecycle.New(testlog.New(t, testlog.ExpectError("component stop failed")))
		a, b := newPart(ev, "redis"), newPart(ev, "worker")
		b.Stop = func(context.Context) error { panic("double close") }
		sup.Add(a.Component)
		sup.Add(b.Component)
		ctx, cancel := context.WithCancel(t.Context())
		done := runAsync(ctx, sup)
		wait(t, b.running, "worker running")
		cancel()
		err := result(t, done)
		if _, ok := errors.AsType[*lifecycle.PanicError](err); !ok || !strings.Contains(err.Error(), "stop worker: panic: double close") {
			t.Fatalf("Run returned %v", err)
		}
		if got := ev.with("stop", "returned"); !slices.Equal(got, []string{"returned worker", "stop redis", "returned redis"}) {
			t.Fatalf("events %q: the worker's Run must still be stopped, and redis after it", got)
		}
	})
}

func TestStartFailure(t *testing.T) {
	ev := &events{}
	sup := lifecycle.New(testlog.New(t, testlog.ExpectError("component failed to start; stopping the others")))
	a, b, c := newPart(ev, "redis"), newPart(ev, "listener"), newPart(ev, "http")
	errPort := errors.New("address already in use")
	b.Start = func(context.Context) error { return errPort }
	for _, p := range []*part{a, b, c} {
		sup.Add(p.Component)
	}
	err := result(t, runAsync(t.Context(), sup))
	if !errors.Is(err, errPort) || !strings.Contains(err.Error(), "start listener") {
		t.Fatalf("Run returned %v", err)
	}
	if got := ev.with("start", "stop", "returned"); !slices.Equal(got, []string{"start redis", "stop redis", "returned redis"}) {
		t.Fatalf("events %q", got)
	}
}

func TestStopErrorsAreJoined(t *testing.T) {
	ev := &events{}
	sup := lifecycle.New(testlog.New(t, testlog.AllowError("component stop failed")))
	errA, errB := errors.New("flush failed"), errors.New("close failed")
	a, b, c := newPart(ev, "a"), newPart(ev, "b"), newPart(ev, "c")
	a.Stop = func(context.Context) error { ev.add("stop a"); return errA }
	b.Stop = func(context.Context) error { ev.add("stop b"); return errB }
	ranFor := errors.New("lost its lease")
	c.Run = func(ctx context.Context) error {
		close(c.running)
		<-ctx.Done()
		return ranFor // an error on the way out counts too
	}
	for _, p := range []*part{a, b, c} {
		sup.Add(p.Component)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := runAsync(ctx, sup)
	wait(t, c.running, "c running")
	cancel()
	err := result(t, done)
	for _, want := range []error{errA, errB, ranFor} {
		if !errors.Is(err, want) {
			t.Errorf("Run's error %v lacks %v", err, want)
		}
	}
	if got := ev.with("stop"); !slices.Equal(got, []string{"stop c", "stop b", "stop a"}) {
		t.Fatalf("stops %q: a failed stop must not skip the rest", got)
	}
}

func TestStopTimeouts(t *testing.T) {
	ev := &events{}
	sup := lifecycle.New(testlog.New(t, testlog.ExpectError("component stop failed")))
	hung := make(chan struct{})
	t.Cleanup(func() { close(hung) }) // let the stuck goroutines go at the end
	a, b, c := newPart(ev, "a"), newPart(ev, "stuck-stop"), newPart(ev, "stuck-run")
	b.Stop = func(context.Context) error { <-hung; return nil } // ignores its deadline
	b.StopTimeout = time.Millisecond
	c.Run = func(context.Context) error { close(c.running); <-hung; return nil } // ignores cancellation
	c.StopTimeout = time.Millisecond
	for _, p := range []*part{a, b, c} {
		sup.Add(p.Component)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := runAsync(ctx, sup)
	wait(t, c.running, "stuck-run running")
	cancel()
	err := result(t, done)
	for _, want := range []string{"stop stuck-stop: did not return within 1ms", "stuck-run: Run did not return within 1ms of its stop"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Run returned %v, want it to say %q", err, want)
		}
	}
	if got := ev.with("stop", "returned"); !slices.Equal(got, []string{"stop stuck-run", "returned stuck-stop", "stop a", "returned a"}) {
		t.Fatalf("events %q: the components after a stuck one must still stop", got)
	}
}

func TestSupervisorStop(t *testing.T) {
	ev := &events{}
	sup := lifecycle.New(testlog.New(t))
	var stops sync.Map
	a, b := newPart(ev, "a"), newPart(ev, "b")
	for _, p := range []*part{a, b} {
		name := p.Name
		p.Stop = func(context.Context) error {
			n, _ := stops.LoadOrStore(name, new(int))
			*n.(*int)++
			return nil
		}
		sup.Add(p.Component)
	}
	done := runAsync(t.Context(), sup)
	wait(t, b.running, "b running")
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(sup.Stop)
	}
	wg.Wait()
	if err := result(t, done); err != nil {
		t.Fatalf("Run after Stop: %v", err)
	}
	sup.Stop() // after Run returned: harmless too
	for _, name := range []string{"a", "b"} {
		if n, _ := stops.Load(name); n == nil || *n.(*int) != 1 {
			t.Errorf("%s stopped %v times, want once", name, n)
		}
	}
	if err := sup.Run(t.Context()); err == nil {
		t.Error("a second Run returned nil")
	}
	defer func() {
		if recover() == nil {
			t.Error("Add after Run did not panic")
		}
	}()
	sup.Add(lifecycle.Component{Name: "late"})
}

func TestStopBeforeRun(t *testing.T) {
	ev := &events{}
	sup := lifecycle.New(nil)
	sup.Add(newPart(ev, "a").Component)
	sup.Stop()
	if err := sup.Run(t.Context()); err != nil || len(ev.with("")) != 0 {
		t.Fatalf("Run after Stop: %v, events %q; want nil and nothing started", err, ev.with(""))
	}
}

// A shutdown that comes while a component starts: the start is cancelled,
// what started is stopped, and that is a clean shutdown, not an error.
func TestShutdownDuringStart(t *testing.T) {
	for _, how := range []string{"context", "Stop"} {
		t.Run(how, func(t *testing.T) {
			ev := &events{}
			sup := lifecycle.New(testlog.New(t))
			a, b, c := newPart(ev, "a"), newPart(ev, "slow"), newPart(ev, "c")
			starting := make(chan struct{})
			b.Start = func(ctx context.Context) error {
				close(starting)
				<-ctx.Done()
				return fmt.Errorf("dial: %w", ctx.Err())
			}
			for _, p := range []*part{a, b, c} {
				sup.Add(p.Component)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := runAsync(ctx, sup)
			wait(t, starting, "the slow start")
			if how == "Stop" {
				sup.Stop()
			} else {
				cancel()
			}
			if err := result(t, done); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := ev.with("start", "stop"); !slices.Equal(got, []string{"start a", "stop a"}) {
				t.Fatalf("events %q", got)
			}
		})
	}
}

// A component that is only started and stopped (no Run), and one that only
// runs.
func TestOptionalFunctions(t *testing.T) {
	ev := &events{}
	sup := lifecycle.New(testlog.New(t))
	running := make(chan struct{})
	sup.Add(lifecycle.Component{Name: "pool", Start: func(context.Context) error { ev.add("start pool"); return nil },
		Stop: func(context.Context) error { ev.add("stop pool"); return nil }})
	sup.Add(lifecycle.Component{Name: "loop", Run: func(ctx context.Context) error {
		close(running)
		<-ctx.Done()
		ev.add("returned loop")
		return nil
	}})
	sup.Add(lifecycle.Component{Name: "nothing"})
	ctx, cancel := context.WithCancel(t.Context())
	done := runAsync(ctx, sup)
	wait(t, running, "loop running")
	cancel()
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	if got := ev.with(""); !slices.Equal(got, []string{"start pool", "returned loop", "stop pool"}) {
		t.Fatalf("events %q", got)
	}
}
