package lifecycle

import "time"

// Clock is the time a Loop runs on. RealClock is the wall clock;
// lifecycle/fakeclock has one that tests move by hand.
type Clock interface {
	Now() time.Time
	// NewTicker ticks every d, dropping ticks a slow receiver misses, as
	// time.NewTicker does.
	NewTicker(d time.Duration) Ticker
}

// Ticker is what Clock.NewTicker returns.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// RealClock is the wall clock.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time { return t.t.C }
func (t realTicker) Stop()               { t.t.Stop() }
