// Package fakeclock is a lifecycle.Clock that moves only when a test says
// so, so tests of timed loops need neither sleeps nor real time.
package fakeclock

import (
	"context"
	"sync"
	"time"

	"github.com/alertgate/alertgate/internal/lifecycle"
)

// Clock is a fake lifecycle.Clock. Its zero value is not usable; use New.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	tickers []*ticker
	changed chan struct{} // closed, and replaced, whenever a ticker is made or stopped
}

var _ lifecycle.Clock = (*Clock)(nil)

// New returns a clock that reads start until moved.
func New(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTicker returns a ticker whose first tick is d after now.
func (c *Clock) NewTicker(d time.Duration) lifecycle.Ticker {
	if d <= 0 {
		panic("fakeclock: non-positive interval for NewTicker")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &ticker{clock: c, period: d, next: c.now.Add(d), ch: make(chan time.Time, 1)}
	c.tickers = append(c.tickers, t)
	c.notifyLocked()
	return t
}

// Advance moves the clock forward by d. A ticker with a tick due by then
// gets one, carrying the time of the latest tick due, unless it still
// holds one not taken: as with a real ticker and a slow receiver, a jump
// over several intervals is one tick, not a burst. The ticker's schedule
// keeps its phase.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.tickers {
		if t.next.After(c.now) {
			continue
		}
		missed := c.now.Sub(t.next) / t.period
		latest := t.next.Add(missed * t.period)
		select {
		case t.ch <- latest:
		default:
		}
		t.next = latest.Add(t.period)
	}
}

// Tickers returns how many tickers are running.
func (c *Clock) Tickers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tickers)
}

// WaitForTickers returns once at least n tickers are running, or ctx's
// error. A test calls it before Advance, so the loop it drives has made
// its ticker and the advance is not lost.
func (c *Clock) WaitForTickers(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		have, changed := len(c.tickers), c.changed
		c.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Clock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

type ticker struct {
	clock  *Clock
	period time.Duration
	next   time.Time
	ch     chan time.Time
}

func (t *ticker) C() <-chan time.Time { return t.ch }

func (t *ticker) Stop() {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.tickers {
		if x == t {
			c.tickers = append(c.tickers[:i], c.tickers[i+1:]...)
			c.notifyLocked()
			return
		}
	}
}
