// Package lifecycle runs the parts of the process in order and stops them
// in reverse, and runs background work in loops.
//
// A Supervisor holds components, added in the order they depend on each
// other (Redis client, then the workers that use it, then the HTTP server
// that feeds them). Run starts them in that order and stops them in
// reverse when its context ends, or when Stop is called, or when any
// component's Run returns on its own: a worker that dies takes the process
// down loudly, with an error naming it, instead of leaving a half-alive
// pager that answers HTTP but pages nobody. A panic in a component is an
// error like any other.
//
// A Loop is background work done every Interval (and at once on a
// trigger), each cycle bounded by a timeout, its panics recovered and
// logged, its slow cycles reported. Its Run is a component's Run.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// DefaultStopTimeout bounds a component's stop when it sets none.
const DefaultStopTimeout = 10 * time.Second

// Component is one part of the process. Every function is optional.
type Component struct {
	// Name names the component in logs and errors.
	Name string
	// Start readies the component (opens a connection, binds a port) and
	// returns; the next component starts only then, so it may rely on
	// this one. An error stops the components started before it.
	Start func(ctx context.Context) error
	// Run does the component's work until its context is cancelled (or
	// Stop makes it return). If it returns before shutdown, error or
	// nil, the supervisor stops everything. Its context carries the
	// values of Run's but is cancelled only when this component is
	// stopped, in reverse order, after its Stop.
	Run func(ctx context.Context) error
	// Stop stops the component, within ctx's deadline (StopTimeout).
	// It is called once, for every component whose Start succeeded, even
	// when its Run has returned already (to release what Start took).
	// Then Run's context is cancelled and Run must return within another
	// StopTimeout.
	Stop func(ctx context.Context) error
	// StopTimeout bounds Stop, and then the return of Run once its context
	// is cancelled; DefaultStopTimeout if zero. A component that overruns
	// it is reported and left behind: the next one stops all the same.
	StopTimeout time.Duration
}

// PanicError is a panic recovered in a component or a loop cycle.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Supervisor runs components. Make one with New, Add the components, then
// call Run once.
type Supervisor struct {
	logger *slog.Logger

	mu      sync.Mutex
	comps   []Component
	started bool // Run was called

	stopOnce sync.Once
	stopping chan struct{} // closed by Stop
}

// New returns an empty supervisor logging to logger (nil: no logs).
func New(logger *slog.Logger) *Supervisor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{logger: logger, stopping: make(chan struct{})}
}

// Add appends c; components start in the order added. It panics after
// Run has been called, or on a component without a name.
func (s *Supervisor) Add(c Component) {
	if c.Name == "" {
		panic("lifecycle: Add of a component without a name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("lifecycle: Add after Run")
	}
	s.comps = append(s.comps, c)
}

// Stop asks Run to stop every component and return. It returns at once;
// calling it again, concurrently, or before Run, is harmless (before Run,
// Run then starts nothing).
func (s *Supervisor) Stop() {
	s.stopOnce.Do(func() { close(s.stopping) })
}

// running is one started component.
type running struct {
	c        Component
	cancel   context.CancelFunc // cancels Run's context (nil without Run)
	done     chan struct{}      // closed when Run has returned (nil without Run)
	err      error              // Run's result, once done is closed
	reported bool               // its exit is the error Run returns already
}

// Run starts the components in order, waits for ctx to end, Stop, or a
// component's Run to return, and stops the started components in reverse
// order. It returns nil after a clean shutdown; otherwise every problem
// joined (errors.Join): the component that failed to start or exited on
// its own, then every stop that failed or timed out, each naming its
// component. A second call returns an error.
func (s *Supervisor) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("lifecycle: Run called twice")
	}
	s.started = true
	comps := s.comps
	s.mu.Unlock()

	// Start functions see Stop as a cancellation too.
	startCtx, cancelStart := context.WithCancel(ctx)
	defer cancelStart()
	go func() {
		select {
		case <-s.stopping:
			cancelStart()
		case <-startCtx.Done():
		}
	}()

	exits := make(chan *running, len(comps)) // Runs that returned
	var started []*running
	var cause error // the failure that stops us, nil for a requested shutdown

	for _, c := range comps {
		if s.shutdownRequested(ctx) {
			break
		}
		s.logger.Debug("starting", "component", c.Name)
		if c.Start != nil {
			if err := call(func() error { return c.Start(startCtx) }); err != nil {
				if !s.shutdownRequested(ctx) || !errors.Is(err, context.Canceled) {
					cause = fmt.Errorf("lifecycle: start %s: %w", c.Name, err)
					s.logger.Error("component failed to start; stopping the others", errAttrs(c.Name, err)...)
				}
				break
			}
		}
		r := &running{c: c}
		started = append(started, r)
		if c.Run != nil {
			var runCtx context.Context
			runCtx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
			r.done = make(chan struct{})
			go func() {
				r.err = call(func() error { return c.Run(runCtx) })
				close(r.done)
				exits <- r
			}()
		}
		// A Run that ended already (a port taken, a bad setting) stops
		// the start here.
		select {
		case r := <-exits:
			cause = s.exited(r)
		default:
		}
		if cause != nil {
			break
		}
	}

	if cause == nil && len(started) == len(comps) {
		s.logger.Debug("all components started", "components", len(comps))
		select {
		case <-ctx.Done():
		case <-s.stopping:
		case r := <-exits:
			cause = s.exited(r)
		}
	}

	errs := []error{cause}
	for i := len(started) - 1; i >= 0; i-- {
		errs = append(errs, s.stop(ctx, started[i]))
	}
	return errors.Join(errs...)
}

func (s *Supervisor) shutdownRequested(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-s.stopping:
		return true
	default:
		return false
	}
}

// exited is the error for a Run that returned before shutdown.
func (s *Supervisor) exited(r *running) error {
	r.reported = true
	err := r.err
	if err == nil {
		err = errors.New("returned before shutdown")
	}
	s.logger.Error("component exited; stopping everything", errAttrs(r.c.Name, err)...)
	return fmt.Errorf("lifecycle: %s exited: %w", r.c.Name, err)
}

// stop stops one component: its Stop, then the cancellation of its Run's
// context, and waits for Run to return, each within its stop timeout.
func (s *Supervisor) stop(parent context.Context, r *running) error {
	timeout := r.c.StopTimeout
	if timeout <= 0 {
		timeout = DefaultStopTimeout
	}
	s.logger.Debug("stopping", "component", r.c.Name)
	var errs []error
	if r.c.Stop != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), timeout)
		defer cancel()
		// In a goroutine, so a Stop that ignores its deadline cannot hold
		// up the components after it.
		stopped := make(chan error, 1)
		go func() { stopped <- call(func() error { return r.c.Stop(ctx) }) }()
		select {
		case err := <-stopped:
			if err != nil {
				errs = append(errs, fmt.Errorf("lifecycle: stop %s: %w", r.c.Name, err))
			}
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("lifecycle: stop %s: did not return within %s", r.c.Name, timeout))
		}
	}
	if r.cancel != nil {
		r.cancel()
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case <-r.done:
			// What Run returns while being stopped is worth reporting,
			// except the cancellation we just caused, or an exit that is
			// the cause of the shutdown, reported already.
			if r.err != nil && !r.reported && !errors.Is(r.err, context.Canceled) {
				errs = append(errs, fmt.Errorf("lifecycle: %s: %w", r.c.Name, r.err))
			}
		case <-timer.C:
			errs = append(errs, fmt.Errorf("lifecycle: %s: Run did not return within %s of its stop", r.c.Name, timeout))
		}
	}
	for _, err := range errs {
		s.logger.Error("component stop failed", errAttrs(r.c.Name, err)...)
	}
	return errors.Join(errs...)
}

// errAttrs are the log attributes of a component's failure, with the stack
// of a panic.
func errAttrs(name string, err error) []any {
	attrs := []any{"component", name, "err", err.Error()}
	if p, ok := errors.AsType[*PanicError](err); ok {
		attrs = append(attrs, "stack", string(p.Stack))
	}
	return attrs
}

// call runs f, turning a panic into a *PanicError.
func call(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return f()
}
