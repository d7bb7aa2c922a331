package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Loop does Work every Interval until its context ends. Each cycle gets a
// context bounded by Timeout; a cycle's error is logged and the next cycle
// comes anyway (Redis may be back by then); a cycle's panic is recovered
// and logged with its stack; a cycle slower than SlowAfter is logged at
// WARN, since a loop that falls behind pages late. A failure that repeats
// unchanged is logged once every RepeatLogEvery, with a count.
//
// Run is the loop, a Component's Run:
//
//	sup.Add(lifecycle.Component{Name: "escalations", Run: loop.Run})
type Loop struct {
	// Name names the loop in logs.
	Name string
	// Interval is the time between cycles (between their starts; a cycle
	// that takes longer than Interval is followed at once by the next).
	Interval time.Duration
	// Clock ticks the loop and times its cycles; RealClock if nil.
	Clock Clock
	// Trigger, if not nil, runs a cycle at once for each value received
	// (tests; or a "new work" poke). Closing it only stops the pokes.
	Trigger <-chan struct{}
	// Work is one cycle.
	Work func(ctx context.Context) error
	// Timeout bounds one cycle (Work's context, in real time, not
	// Clock's); Interval if zero.
	Timeout time.Duration
	// SlowAfter: a cycle that takes longer is logged at WARN; half the
	// Timeout if zero.
	SlowAfter time.Duration
	// Logger gets the loop's errors, panics and slow cycles; nil: none.
	Logger *slog.Logger

	// The last failure logged: while Redis is down every cycle fails the
	// same way, and one line per cycle (five a second) would bury the log.
	lastErr    string
	lastLogged time.Time
	repeated   int
}

// RepeatLogEvery is how often a loop logs a failure that repeats unchanged
// cycle after cycle; the line says how often it repeated since.
const RepeatLogEvery = 30 * time.Second

// Run runs cycles until ctx ends, then returns nil. It returns an error at
// once if the loop is misconfigured (no Work, no Interval).
func (l *Loop) Run(ctx context.Context) error {
	if l.Work == nil || l.Interval <= 0 {
		return fmt.Errorf("lifecycle: loop %q needs Work and a positive Interval", l.Name)
	}
	clock := l.Clock
	if clock == nil {
		clock = RealClock
	}
	logger := l.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("loop", l.Name)
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = l.Interval
	}
	slow := l.SlowAfter
	if slow <= 0 {
		slow = timeout / 2
	}

	ticker := clock.NewTicker(l.Interval)
	defer ticker.Stop()
	trigger := l.Trigger
	for {
		// ctx first: select picks among ready cases at random, and a
		// tick that is ready too must not start a cycle after shutdown.
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C():
		case _, ok := <-trigger:
			if !ok {
				trigger = nil // closed: stop selecting on it
				continue
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		l.cycle(ctx, clock, logger, timeout, slow)
	}
}

// cycle runs Work once.
func (l *Loop) cycle(ctx context.Context, clock Clock, logger *slog.Logger, timeout, slow time.Duration) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := clock.Now()
	err := call(func() error { return l.Work(cctx) })
	took := clock.Now().Sub(start)

	var p *PanicError
	switch {
	case errors.As(err, &p):
		logger.Error("loop cycle panicked", "panic", fmt.Sprint(p.Value), "stack", string(p.Stack), "took", took)
	case err != nil && ctx.Err() != nil:
		// Shutting down: an error from the cancellation is no news.
	case err != nil && errors.Is(cctx.Err(), context.DeadlineExceeded):
		logger.Error("loop cycle timed out", "err", err.Error(), "timeout", timeout, "took", took)
	case err != nil:
		// Judged by when the cycle started, the one time taken before Work.
		if err.Error() == l.lastErr && start.Sub(l.lastLogged) < RepeatLogEvery {
			l.repeated++
			break
		}
		logger.Error("loop cycle failed", "err", err.Error(), "took", took, "repeated", l.repeated)
		l.lastErr, l.lastLogged, l.repeated = err.Error(), start, 0
	case l.lastErr != "":
		logger.Info("loop cycle succeeded again", "failed_before", l.repeated+1)
		l.lastErr, l.repeated = "", 0
	}
	if took > slow {
		logger.Warn("slow loop cycle", "took", took, "slow_after", slow, "timeout", timeout, "interval", l.Interval)
	}
}
