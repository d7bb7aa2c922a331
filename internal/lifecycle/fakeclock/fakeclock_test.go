package fakeclock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func received(ch <-chan time.Time) (time.Time, bool) {
	select {
	case t := <-ch:
		return t, true
	default:
		return time.Time{}, false
	}
}

func TestAdvanceTicks(t *testing.T) {
	c := fakeclock.New(epoch)
	tk := c.NewTicker(time.Minute)
	if _, ok := received(tk.C()); ok {
		t.Fatal("a tick before any advance")
	}
	c.Advance(59 * time.Second)
	if _, ok := received(tk.C()); ok {
		t.Fatal("a tick before the interval passed")
	}
	c.Advance(time.Second)
	if at, ok := received(tk.C()); !ok || !at.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("tick %v %v, want one at a minute", at, ok)
	}
	if !c.Now().Equal(epoch.Add(time.Minute)) {
		t.Fatalf("Now %v", c.Now())
	}
	// Five intervals at once: one tick, the latest due; the rest are
	// dropped.
	c.Advance(5 * time.Minute)
	if at, ok := received(tk.C()); !ok || !at.Equal(epoch.Add(6*time.Minute)) {
		t.Fatalf("tick %v %v, want one, at six minutes", at, ok)
	}
	if _, ok := received(tk.C()); ok {
		t.Fatal("missed ticks were queued")
	}
	// The schedule kept its phase: the next is at seven minutes.
	c.Advance(time.Minute)
	if at, ok := received(tk.C()); !ok || !at.Equal(epoch.Add(7*time.Minute)) {
		t.Fatalf("tick %v %v, want one at seven minutes", at, ok)
	}
	// A tick not taken is not joined by another.
	c.Advance(time.Minute)
	c.Advance(time.Minute)
	if at, ok := received(tk.C()); !ok || !at.Equal(epoch.Add(8*time.Minute)) {
		t.Fatalf("tick %v %v, want the one at eight minutes", at, ok)
	}
	if _, ok := received(tk.C()); ok {
		t.Fatal("two ticks held")
	}
	tk.Stop()
	tk.Stop() // twice is harmless
	c.Advance(time.Hour)
	if _, ok := received(tk.C()); ok {
		t.Fatal("a stopped ticker ticked")
	}
}

func TestWaitForTickers(t *testing.T) {
	c := fakeclock.New(epoch)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.WaitForTickers(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitForTickers without tickers: %v, want the context's error", err)
	}
	made := make(chan struct{})
	go func() {
		c.NewTicker(time.Second)
		c.NewTicker(time.Second)
		close(made)
	}()
	ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.WaitForTickers(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if c.Tickers() != 2 {
		t.Fatalf("%d tickers", c.Tickers())
	}
	<-made
}
