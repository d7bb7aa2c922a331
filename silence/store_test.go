package silence_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/silence"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	s      *silence.Store
	rdb    redis.UniversalClient
	prefix string
	clock  *fakeclock.Clock
}

func newStore(t *testing.T) *fixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	clock := fakeclock.New(t0)
	s := silence.NewStore(rdb, prefix, silence.Options{Now: clock.Now})
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	return &fixture{s: s, rdb: rdb, prefix: prefix, clock: clock}
}

// silenceOf is a silence of the matchers from t0+startH to t0+endH hours.
func silenceOf(startH, endH int, ms ...string) silence.Silence {
	return silence.Silence{
		Matchers:  ms,
		StartsAt:  t0.Add(time.Duration(startH) * time.Hour),
		EndsAt:    t0.Add(time.Duration(endH) * time.Hour),
		Comment:   "disk swap",
		CreatedBy: "alice",
	}
}

func (f *fixture) mustCreate(t *testing.T, sl silence.Silence) silence.Silence {
	t.Helper()
	got, created, err := f.s.Create(t.Context(), sl, "")
	if err != nil {
		t.Fatalf("Create(%+v): %v", sl, err)
	}
	if !created {
		t.Fatalf("Create(%+v): not created", sl)
	}
	return got
}

func ids(list []silence.Silence) []string {
	out := []string{}
	for _, s := range list {
		out = append(out, s.ID)
	}
	return out
}

func TestCreateGetList(t *testing.T) {
	f := newStore(t)
	active := f.mustCreate(t, silenceOf(0, 2, `alertname="DiskFull"`, `instance=~"db-.*"`))
	if active.ID == "" || active.State != silence.Active || !active.CreatedAt.Equal(t0) {
		t.Errorf("created %+v: want an id, state active, created_at %s", active, t0)
	}
	if got, want := active.Matchers, []string{`alertname="DiskFull"`, `instance=~"db-.*"`}; !slices.Equal(got, want) {
		t.Errorf("matchers = %q, want %q", got, want)
	}
	activeLonger := f.mustCreate(t, silenceOf(0, 5, `team=dba`))
	if got, want := activeLonger.Matchers, []string{`team="dba"`}; !slices.Equal(got, want) {
		t.Errorf("matchers = %q, want the canonical %q", got, want)
	}
	pending := f.mustCreate(t, silenceOf(3, 4, `team="web"`))
	if pending.State != silence.Pending {
		t.Errorf("a silence starting in 3h is %s, want pending", pending.State)
	}
	short := f.mustCreate(t, silenceOf(0, 1, `team="ops"`))

	got, err := f.s.Get(t.Context(), active.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != active.ID || !got.EndsAt.Equal(active.EndsAt) || got.Comment != "disk swap" || got.CreatedBy != "alice" || got.State != silence.Active {
		t.Errorf("Get = %+v, want %+v", got, active)
	}
	if _, err := f.s.Get(t.Context(), "sil-nope"); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
		t.Errorf("Get(unknown) = %v, want ENOTFOUND", err)
	}

	f.clock.Advance(90 * time.Minute) // short has ended, the others run
	list, err := f.s.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	// Active first, soonest to end first; then pending; then expired.
	if got, want := ids(list), []string{active.ID, activeLonger.ID, pending.ID, short.ID}; !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	states := []silence.State{}
	for _, s := range list {
		states = append(states, s.State)
	}
	if want := []silence.State{silence.Active, silence.Active, silence.Pending, silence.Expired}; !slices.Equal(states, want) {
		t.Errorf("states = %v, want %v", states, want)
	}
	for state, want := range map[silence.State][]string{
		silence.Active:  {active.ID, activeLonger.ID},
		silence.Pending: {pending.ID},
		silence.Expired: {short.ID},
	} {
		got, err := f.s.List(t.Context(), state)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), want) {
			t.Errorf("List(%s) = %v, want %v", state, ids(got), want)
		}
	}
	if _, err := f.s.List(t.Context(), "dormant"); alertgate.ErrorCode(err) != alertgate.EINVALID {
		t.Errorf("List(dormant) = %v, want EINVALID", err)
	}
}

func TestCreateRefusesBadSilences(t *testing.T) {
	f := newStore(t)
	long := func() string {
		b := make([]byte, silence.MaxCommentLen+1)
		for i := range b {
			b[i] = 'x'
		}
		return string(b)
	}()
	tests := []struct {
		name  string
		edit  func(*silence.Silence)
		field string
	}{
		{"no matchers", func(s *silence.Silence) { s.Matchers = nil }, "matchers"},
		{"a matcher that does not parse", func(s *silence.Silence) { s.Matchers = []string{`team="dba"`, `=~~`} }, "matchers[1]"},
		{"matchers that match everything", func(s *silence.Silence) { s.Matchers = []string{`team=~".*"`, `env=""`} }, "matchers"},
		{"too many matchers", func(s *silence.Silence) {
			s.Matchers = nil
			for i := range silence.MaxMatchers + 1 {
				s.Matchers = append(s.Matchers, fmt.Sprintf(`l%d="v"`, i))
			}
		}, "matchers"},
		{"no end", func(s *silence.Silence) { s.EndsAt = time.Time{} }, "ends_at"},
		{"an end in the past", func(s *silence.Silence) { s.StartsAt, s.EndsAt = t0.Add(-2*time.Hour), t0.Add(-time.Hour) }, "ends_at"},
		{"an end before the start", func(s *silence.Silence) { s.StartsAt, s.EndsAt = t0.Add(3*time.Hour), t0.Add(2*time.Hour) }, "ends_at"},
		{"an end at the start", func(s *silence.Silence) { s.StartsAt, s.EndsAt = t0.Add(3*time.Hour), t0.Add(3*time.Hour) }, "ends_at"},
		{"longer than the limit", func(s *silence.Silence) { s.EndsAt = t0.Add(silence.MaxDuration + time.Minute) }, "ends_at"},
		{"a start too far ahead", func(s *silence.Silence) {
			s.StartsAt, s.EndsAt = t0.Add(silence.MaxDuration+time.Hour), t0.Add(silence.MaxDuration+2*time.Hour)
		}, "starts_at"},
		{"no comment", func(s *silence.Silence) { s.Comment = "  " }, "comment"},
		{"a comment too long", func(s *silence.Silence) { s.Comment = long }, "comment"},
		{"a comment with control characters", func(s *silence.Silence) { s.Comment = "a\x00b" }, "comment"},
		{"no author", func(s *silence.Silence) { s.CreatedBy = "" }, "created_by"},
		{"an author on two lines", func(s *silence.Silence) { s.CreatedBy = "alice\nbob" }, "created_by"},
		{"an author not UTF-8", func(s *silence.Silence) { s.CreatedBy = "\xff" }, "created_by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sl := silenceOf(0, 1, `team="dba"`)
			tt.edit(&sl)
			_, _, err := f.s.Create(t.Context(), sl, "")
			var e *alertgate.Error
			if !errors.As(err, &e) || e.Code != alertgate.EINVALID || e.Field != tt.field {
				t.Fatalf("Create = %v, want EINVALID on %s", err, tt.field)
			}
		})
	}
	if list, err := f.s.List(t.Context(), ""); err != nil || len(list) != 0 {
		t.Errorf("after refusals, List = %v, %v; want nothing stored", ids(list), err)
	}
}

func TestCreateMovesAStartInThePastToNow(t *testing.T) {
	f := newStore(t)
	f.clock.Advance(1500 * time.Microsecond) // now has sub-millisecond digits
	sl := f.mustCreate(t, silenceOf(-5, 1, `team="dba"`))
	if want := t0.Add(time.Millisecond); !sl.StartsAt.Equal(want) || !sl.CreatedAt.Equal(want) {
		t.Errorf("starts_at %s, created_at %s; want both now to the millisecond, %s", sl.StartsAt, sl.CreatedAt, want)
	}
	noStart := silenceOf(0, 1, `team="dba"`)
	noStart.StartsAt = time.Time{}
	if sl := f.mustCreate(t, noStart); !sl.StartsAt.Equal(t0.Add(time.Millisecond)) {
		t.Errorf("no starts_at: starts_at %s, want now", sl.StartsAt)
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	f := newStore(t)
	first, created, err := f.s.Create(t.Context(), silenceOf(0, 1, `team="dba"`), "key-1")
	if err != nil || !created {
		t.Fatalf("Create = %v, %v", created, err)
	}
	f.clock.Advance(time.Minute)
	again, created, err := f.s.Create(t.Context(), silenceOf(0, 2, `team="web"`), "key-1")
	if err != nil {
		t.Fatal(err)
	}
	if created || again.ID != first.ID || !again.EndsAt.Equal(first.EndsAt) || !slices.Equal(again.Matchers, first.Matchers) {
		t.Errorf("a retry with the same key made %+v (created %v), want the first %+v", again, created, first)
	}
	other, created, err := f.s.Create(t.Context(), silenceOf(0, 1, `team="dba"`), "key-2")
	if err != nil || !created || other.ID == first.ID {
		t.Errorf("another key: %+v, created %v, %v; want a new silence", other, created, err)
	}
	if list, _ := f.s.List(t.Context(), ""); len(list) != 2 {
		t.Errorf("List has %d silences, want 2", len(list))
	}
}

func TestExpire(t *testing.T) {
	f := newStore(t)
	active := f.mustCreate(t, silenceOf(0, 2, `team="dba"`))
	pending := f.mustCreate(t, silenceOf(3, 4, `team="web"`))
	f.clock.Advance(10 * time.Minute)
	now := t0.Add(10 * time.Minute)

	got, err := f.s.Expire(t.Context(), active.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != silence.Expired || !got.EndsAt.Equal(now) || !got.StartsAt.Equal(t0) {
		t.Errorf("expired active silence = %+v, want ends_at now (%s), starts_at kept", got, now)
	}
	got, err = f.s.Expire(t.Context(), pending.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != silence.Expired || !got.EndsAt.Equal(now) || !got.StartsAt.Equal(now) {
		t.Errorf("expired pending silence = %+v, want starts_at = ends_at = now", got)
	}
	if stored, _ := f.s.Get(t.Context(), pending.ID); stored.State != silence.Expired || !stored.EndsAt.Equal(now) {
		t.Errorf("stored after expiry: %+v", stored)
	}

	// Again, later: nothing changes.
	f.clock.Advance(time.Minute)
	again, err := f.s.Expire(t.Context(), active.ID)
	if err != nil {
		t.Fatalf("expiring an expired silence: %v, want a no-op", err)
	}
	if !again.EndsAt.Equal(now) || again.State != silence.Expired {
		t.Errorf("expiring again = %+v, want ends_at still %s", again, now)
	}
	if _, err := f.s.Expire(t.Context(), "sil-nope"); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
		t.Errorf("Expire(unknown) = %v, want ENOTFOUND", err)
	}

	set, err := f.s.Active(t.Context(), f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.Silences()); n != 0 {
		t.Errorf("Active after expiring both holds %v", ids(set.Silences()))
	}
}

func TestConcurrentExpiriesAgree(t *testing.T) {
	f := newStore(t)
	sl := f.mustCreate(t, silenceOf(0, 2, `team="dba"`))
	f.clock.Advance(time.Minute)
	var wg sync.WaitGroup
	results := make([]silence.Silence, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = f.s.Expire(t.Context(), sl.ID) })
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || !results[i].EndsAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("expiry %d: %+v, %v", i, results[i], errs[i])
		}
	}
}

func TestActive(t *testing.T) {
	f := newStore(t)
	dba := f.mustCreate(t, silenceOf(0, 2, `team="dba"`))
	web := f.mustCreate(t, silenceOf(1, 3, `team="web"`, `severity!="critical"`))
	all := f.mustCreate(t, silenceOf(0, 4, `alertname=~"Disk.*"`))
	_ = f.mustCreate(t, silenceOf(0, 1, `team="gone"`))

	set, err := f.s.Active(t.Context(), t0.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(set.Silences()); len(got) != 4 {
		t.Errorf("Active(t0+30m) holds %v, want all four", got)
	}
	check := func(set silence.Set, labels map[string]string, want ...string) {
		t.Helper()
		if got := ids(set.Silencing(labels)); !slices.Equal(got, append([]string{}, want...)) {
			t.Errorf("at %s, Silencing(%v) = %v, want %v", set.At().Format(time.TimeOnly), labels, got, want)
		}
		if got := set.Muted(labels); got != (len(want) > 0) {
			t.Errorf("at %s, Muted(%v) = %v", set.At().Format(time.TimeOnly), labels, got)
		}
	}
	check(set, map[string]string{"team": "dba", "alertname": "DiskFull"}, dba.ID, all.ID)
	check(set, map[string]string{"team": "web"}) // web is pending
	check(set, map[string]string{"team": "ops"})
	if got, want := set.NextChange(), t0.Add(time.Hour); !got.Equal(want) {
		t.Errorf("NextChange = %s, want %s (gone ends, web starts)", got, want)
	}

	set, err = f.s.Active(t.Context(), t0.Add(90*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	check(set, map[string]string{"team": "web", "severity": "warning"}, web.ID)
	check(set, map[string]string{"team": "web", "severity": "critical"})
	check(set, map[string]string{"team": "gone"})
	if got, want := set.NextChange(), t0.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("NextChange = %s, want %s (dba ends)", got, want)
	}

	set, err = f.s.Active(t.Context(), t0.Add(4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Silences()) != 0 || !set.NextChange().IsZero() {
		t.Errorf("after every end: %v, NextChange %s", ids(set.Silences()), set.NextChange())
	}

	// An earlier instant again: what had ended by the later one is back.
	set, err = f.s.Active(t.Context(), t0.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.Silences()); n != 4 {
		t.Errorf("Active(t0+30m) after Active(t0+4h) holds %v, want four", ids(set.Silences()))
	}
}

// Active is what the engine calls on every pass: one command, whose reply
// is one value when nothing changed, and which sees changes made through
// another store (another replica) at once.
func TestActiveIsOneShortRoundTrip(t *testing.T) {
	f := newStore(t)
	f.mustCreate(t, silenceOf(0, 2, `team="dba"`))
	other := silence.NewStore(f.rdb, f.prefix, silence.Options{Now: f.clock.Now})

	var calls atomic.Int64
	var replyLen atomic.Int64
	f.rdb.AddHook(countHook{n: &calls, replyLen: &replyLen})
	at := t0.Add(time.Minute)
	for i := range 3 {
		calls.Store(0)
		set, err := f.s.Active(t.Context(), at)
		if err != nil {
			t.Fatal(err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("pass %d: Active sent %d commands, want 1", i, n)
		}
		if len(set.Silences()) != 1 {
			t.Errorf("pass %d: %v", i, ids(set.Silences()))
		}
		if i > 0 && replyLen.Load() != 1 {
			t.Errorf("pass %d: nothing changed, but the reply has %d values", i, replyLen.Load())
		}
		at = at.Add(time.Second)
	}

	web, _, err := other.Create(t.Context(), silenceOf(0, 2, `team="web"`), "")
	if err != nil {
		t.Fatal(err)
	}
	set, err := f.s.Active(t.Context(), at)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(set.Silencing(map[string]string{"team": "web"})); !slices.Equal(got, []string{web.ID}) {
		t.Errorf("after another replica's create, Silencing(web) = %v", got)
	}
	if _, err := other.Expire(t.Context(), web.ID); err != nil {
		t.Fatal(err)
	}
	set, err = f.s.Active(t.Context(), at.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Silencing(map[string]string{"team": "web"}); len(got) != 0 {
		t.Errorf("after another replica's expiry, Silencing(web) = %v", ids(got))
	}
}

type countHook struct{ n, replyLen *atomic.Int64 }

func (countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		err := next(ctx, cmd)
		if c, ok := cmd.(*redis.Cmd); ok {
			if v, err := c.Slice(); err == nil {
				h.replyLen.Store(int64(len(v)))
			}
		}
		return err
	}
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// More silences than one HMGET chunk of the scripts' prelude, read in one
// call.
func TestActiveWithManySilences(t *testing.T) {
	f := newStore(t)
	const n = 1500
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				sl := silenceOf(0, 1+i%5, fmt.Sprintf(`instance="host-%d"`, i))
				if _, _, err := f.s.Create(t.Context(), sl, ""); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	at := t0.Add(90 * time.Minute) // those of i%5 == 0 (ending at 1h) have ended
	set, err := f.s.Active(t.Context(), at)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(set.Silences()), n-n/5; got != want {
		t.Errorf("Active holds %d silences, want %d", got, want)
	}
	if got := set.Silencing(map[string]string{"instance": "host-1499"}); len(got) != 1 {
		t.Errorf("Silencing(host-1499) = %v", ids(got))
	}
	if got := set.Silencing(map[string]string{"instance": "host-1000"}); len(got) != 0 {
		t.Errorf("Silencing(host-1000), which ended at 1h, = %v", ids(got))
	}
	if got, want := set.NextChange(), t0.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("NextChange = %s, want %s", got, want)
	}
}

func TestCreateRefusesPastMaxLive(t *testing.T) {
	if testing.Short() {
		t.Skip("creates MaxLive silences")
	}
	f := newStore(t)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < silence.MaxLive; i += 8 {
				if _, _, err := f.s.Create(t.Context(), silenceOf(0, 1, fmt.Sprintf(`i="%d"`, i)), ""); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of the first %d creations failed", n, silence.MaxLive)
	}
	_, _, err := f.s.Create(t.Context(), silenceOf(0, 1, `i="one more"`), "")
	if alertgate.ErrorCode(err) != alertgate.ECONFLICT {
		t.Fatalf("Create past MaxLive = %v, want ECONFLICT", err)
	}
	// Once they have ended there is room again.
	f.clock.Advance(time.Hour)
	f.mustCreate(t, silenceOf(1, 2, `i="after"`))
}

func TestExpiredSilencesGoAfterRetention(t *testing.T) {
	f := newStore(t)
	old := f.mustCreate(t, silenceOf(0, 1, `team="dba"`))      // ends at t0+1h
	expired := f.mustCreate(t, silenceOf(0, 48, `team="web"`)) // expired at t0+2h
	f.clock.Advance(2 * time.Hour)
	if _, err := f.s.Expire(t.Context(), expired.ID); err != nil {
		t.Fatal(err)
	}
	// Just before old's retention is up, a change keeps it.
	f.clock.Advance(silence.Retention - time.Hour - time.Minute)
	f.mustCreate(t, silenceOf(200, 201, `team="a"`))
	if _, err := f.s.Get(t.Context(), old.ID); err != nil {
		t.Errorf("old, ended %s ago, is gone: %v", silence.Retention-time.Minute, err)
	}
	// Past it, the next change deletes old; the one expired later stays.
	f.clock.Advance(2 * time.Minute)
	f.mustCreate(t, silenceOf(200, 201, `team="b"`))
	if _, err := f.s.Get(t.Context(), old.ID); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
		t.Errorf("old, ended over %s ago, is still there: %v", silence.Retention, err)
	}
	if _, err := f.s.Get(t.Context(), expired.ID); err != nil {
		t.Errorf("expired at t0+2h is gone before its retention: %v", err)
	}
	// The index went with it.
	n, err := f.rdb.ZCard(t.Context(), silence.KeyBase(f.prefix)+"ends").Result()
	if err != nil || n != 3 {
		t.Errorf("ends index holds %d, %v; want 3", n, err)
	}
}

// A silence alertgate could not read (a hand-edited key, a matcher a later
// version refuses) mutes nothing and is reported; the others still work.
func TestActiveSkipsWhatItCannotRead(t *testing.T) {
	f := newStore(t)
	good := f.mustCreate(t, silenceOf(0, 2, `team="dba"`))
	base := silence.KeyBase(f.prefix)
	f.rdb.HSet(t.Context(), base+"all", "sil-bad", `{"id":"sil-bad","matchers":["=~~"],"ends_at":"2026-03-02T11:00:00Z"}`)
	f.rdb.ZAdd(t.Context(), base+"ends", redis.Z{Score: float64(t0.Add(2 * time.Hour).UnixMilli()), Member: "sil-bad"})
	f.rdb.Set(t.Context(), base+"version", "hand-edited", 0)

	set, err := f.s.Active(t.Context(), t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(set.Invalid, []string{"sil-bad"}) {
		t.Errorf("Invalid = %v, want [sil-bad]", set.Invalid)
	}
	if got := ids(set.Silencing(map[string]string{"team": "dba"})); !slices.Equal(got, []string{good.ID}) {
		t.Errorf("Silencing(dba) = %v", got)
	}
}

// Past MaxKept silences kept, a new one makes room by deleting the expired
// one that ended first, before its retention is up.
func TestCreateKeepsAtMostMaxKept(t *testing.T) {
	f := newStore(t)
	base := silence.KeyBase(f.prefix)
	// MaxKept expired silences, written directly: ended over the last hour.
	_, err := f.rdb.Pipelined(t.Context(), func(p redis.Pipeliner) error {
		for i := range silence.MaxKept {
			id := fmt.Sprintf("sil-old-%05d", i)
			end := t0.Add(-time.Hour + time.Duration(i)*time.Millisecond)
			js := fmt.Sprintf(`{"id":%q,"matchers":["i=\"%d\""],"starts_at":%q,"ends_at":%q,"comment":"c","created_by":"t","created_at":%q}`,
				id, i, end.Add(-time.Minute).Format(time.RFC3339Nano), end.Format(time.RFC3339Nano), end.Add(-time.Minute).Format(time.RFC3339Nano))
			p.HSet(t.Context(), base+"all", id, js)
			p.ZAdd(t.Context(), base+"ends", redis.Z{Score: float64(end.UnixMilli()), Member: id})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fresh := f.mustCreate(t, silenceOf(0, 1, `team="dba"`))
	if n, err := f.rdb.ZCard(t.Context(), base+"ends").Result(); err != nil || n != silence.MaxKept {
		t.Errorf("kept %d silences (%v), want MaxKept %d", n, err, silence.MaxKept)
	}
	if _, err := f.s.Get(t.Context(), "sil-old-00000"); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
		t.Errorf("the silence that ended first is still kept: %v", err)
	}
	for _, id := range []string{"sil-old-00001", fresh.ID} {
		if _, err := f.s.Get(t.Context(), id); err != nil {
			t.Errorf("Get(%s): %v", id, err)
		}
	}
}
