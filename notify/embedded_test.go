package notify_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/notify"
)

// `alertgate serve --dev` delivers on the embedded Redis (miniredis): the
// commands and the record script work there too, re-claiming included.
func TestDeliveryOnTheEmbeddedRedis(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	h := newHarnessOn(t, rdb, "alertgate")

	var pages []notify.Page
	for i := 1; i <= 20; i++ {
		id := strconv.Itoa(i)
		h.addIncident(id)
		pages = append(pages, page(id, "alice"))
		h.commit(pages[len(pages)-1])
	}
	h.addRaw(0, "page", "{not json")
	// The first page fails once, retryably: it is re-claimed.
	fake := newFake(func(_ context.Context, p notify.Page, call int) (bool, error) {
		if p.Key == pages[0].Key && call == 1 {
			return true, errors.New("try again")
		}
		return false, nil
	})
	log := testlog.New(t, testlog.AllowError("malformed outbox entry; dropped"))
	d := h.deliverer(log, map[string]notify.Notifier{notify.ConsoleName: fake}, notify.DelivererOptions{
		ClaimAfter:  5 * time.Millisecond,
		Concurrency: 32, // every page starts at once: none waits past ClaimAfter/2
	})
	h.passAdvancing(time.Second, func() bool { dl, _, _ := h.obs.counts(); return dl == len(pages) }, d)
	for _, p := range pages {
		want := 1
		if p.Key == pages[0].Key {
			want = 2
		}
		if e := h.outcome(p); e.Type != alertgate.EventPageDelivered || e.Page.Attempts != want {
			t.Errorf("page %s: %s after %d attempts, want page_delivered after %d", p.Key, e.Type, e.Page.Attempts, want)
		}
	}
	h.requireOutboxEmpty()
}
