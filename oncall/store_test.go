package oncall_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/schedule"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newStore(t *testing.T) (*oncall.Store, redis.UniversalClient, string) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	s := oncall.NewStore(rdb, prefix)
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	return s, rdb, prefix
}

// override is an override of rot for user from t0+startH to t0+endH hours,
// created at t0.
func override(rot, user string, startH, endH int) schedule.Override {
	return schedule.Override{
		Rotation:  rot,
		User:      user,
		Start:     t0.Add(time.Duration(startH) * time.Hour),
		End:       t0.Add(time.Duration(endH) * time.Hour),
		CreatedAt: t0,
	}
}

func mustCreate(t *testing.T, s *oncall.Store, o schedule.Override) schedule.Override {
	t.Helper()
	got, err := s.Create(t.Context(), o)
	if err != nil {
		t.Fatalf("Create(%+v): %v", o, err)
	}
	return got
}

func ids(list []schedule.Override) []string {
	out := []string{}
	for _, o := range list {
		out = append(out, o.ID)
	}
	return out
}

func TestCreateGetDelete(t *testing.T) {
	s, _, _ := newStore(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	in := schedule.Override{
		Rotation:  "primary",
		User:      "bob",
		Replaces:  "alice",
		Start:     t0.In(ny),
		End:       t0.Add(90 * time.Minute).In(ny),
		Comment:   "dentist",
		CreatedBy: "user:carol",
		CreatedAt: t0.Add(-time.Hour + 123*time.Nanosecond),
	}
	got := mustCreate(t, s, in)
	if !strings.HasPrefix(got.ID, "ov-") || len(got.ID) < 3+16 {
		t.Errorf("id %q: want ov- and at least 64 random bits", got.ID)
	}
	if other := mustCreate(t, s, in); other.ID == got.ID {
		t.Errorf("two creations got the same id %q", got.ID)
	}
	want := in
	want.ID = got.ID
	want.Start, want.End, want.CreatedAt = in.Start.UTC(), in.End.UTC(), in.CreatedAt.UTC()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Create returned\n%+v\nwant\n%+v", got, want)
	}
	read, err := s.Get(t.Context(), got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(read, want) {
		t.Errorf("Get returned\n%+v\nwant\n%+v", read, want)
	}

	if err := s.Delete(t.Context(), got.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(t.Context(), got.ID); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
		t.Errorf("Get after Delete: %v, want not found", err)
	}
	if err := s.Delete(t.Context(), got.ID); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
		t.Errorf("Delete twice: %v, want not found", err)
	}
	list, err := s.List(t.Context(), "primary", t0.Add(-24*time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID == got.ID {
		t.Errorf("List after Delete: %v, want only the other override", ids(list))
	}
}

func TestCreateRefusesWhatTheStoreCannotKeep(t *testing.T) {
	s, _, _ := newStore(t)
	for name, tt := range map[string]struct {
		o     schedule.Override
		field string
	}{
		"no rotation":     {override("", "bob", 0, 1), "rotation"},
		"no user":         {override("primary", "", 0, 1), "user"},
		"empty":           {override("primary", "bob", 1, 1), "end"},
		"end first":       {override("primary", "bob", 2, 1), "end"},
		"no created time": {schedule.Override{Rotation: "primary", User: "bob", Start: t0, End: t0.Add(time.Hour)}, "created_at"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Create(t.Context(), tt.o)
			var e *alertgate.Error
			if !errors.As(err, &e) || e.Code != alertgate.EINVALID || e.Field != tt.field {
				t.Fatalf("Create: %v, want invalid %s", err, tt.field)
			}
		})
	}
	all, err := s.ByRotation(t.Context())
	if err != nil || len(all) != 0 {
		t.Errorf("ByRotation after refusals: %v, %v; want nothing stored", all, err)
	}
}

func TestList(t *testing.T) {
	s, _, _ := newStore(t)
	a := mustCreate(t, s, override("primary", "bob", 0, 10))    // [0, 10)
	b := mustCreate(t, s, override("primary", "carol", 10, 20)) // [10, 20)
	c := mustCreate(t, s, override("primary", "dave", -5, 30))  // [-5, 30)
	d := mustCreate(t, s, override("secondary", "bob", 5, 15))  // [5, 15)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	tests := []struct {
		rotation string
		from, to time.Time
		want     []schedule.Override
	}{
		{"primary", at(0), at(10), []schedule.Override{c, a}},                                // b starts at to: out
		{"primary", at(10), at(11), []schedule.Override{c, b}},                               // a ends at from: out
		{"primary", at(-100), at(100), []schedule.Override{c, a, b}},                         // ordered by start
		{"primary", at(30), at(40), []schedule.Override{}},                                   // c ends at from
		{"primary", at(29), time.Time{}, []schedule.Override{c}},                             // no end
		{"secondary", at(0), at(100), []schedule.Override{d}},                                // one rotation only
		{"", at(9), at(11), []schedule.Override{c, a, d, b}},                                 // every rotation
		{"tertiary", at(-100), at(100), []schedule.Override{}},                               // none
		{"primary", at(10).Add(-time.Millisecond / 2), at(11), []schedule.Override{c, a, b}}, // below a score's precision
	}
	for _, tt := range tests {
		got, err := s.List(t.Context(), tt.rotation, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(got), ids(tt.want)) {
			t.Errorf("List(%q, %s, %s) = %v, want %v", tt.rotation, tt.from, tt.to, ids(got), ids(tt.want))
		}
	}
}

// ByRotation is what the escalation engine reads once per batch of steps:
// every override, grouped, in one round trip.
func TestByRotationIsOneRoundTrip(t *testing.T) {
	s, rdb, _ := newStore(t)
	a := mustCreate(t, s, override("primary", "bob", 10, 20))
	b := mustCreate(t, s, override("primary", "carol", 0, 5))
	c := mustCreate(t, s, override("secondary", "bob", 5, 15))

	var calls atomic.Int64
	rdb.AddHook(countHook{&calls})
	got, err := s.ByRotation(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("ByRotation sent %d commands, want 1", n)
	}
	want := map[string][]schedule.Override{"primary": {b, a}, "secondary": {c}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ByRotation = %v, want %v", got, want)
	}
}

type countHook struct{ n *atomic.Int64 }

func (countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func TestCreatePrunesWhatEndedLongAgo(t *testing.T) {
	s, rdb, prefix := newStore(t)
	old := mustCreate(t, s, override("primary", "bob", 0, 1))         // ends t0+1h
	recent := mustCreate(t, s, override("secondary", "carol", 0, 48)) // ends t0+48h
	later := override("tertiary", "dave", 24*40, 24*41)
	later.CreatedAt = t0.Add(time.Hour + oncall.Retention + time.Minute) // old ended just over 30 days ago
	fresh := mustCreate(t, s, later)

	if _, err := s.Get(t.Context(), old.ID); alertgate.ErrorCode(err) != alertgate.ENOTFOUND {
		t.Errorf("an override that ended over 30 days ago is still there: %v", err)
	}
	for _, id := range []string{recent.ID, fresh.ID} {
		if _, err := s.Get(t.Context(), id); err != nil {
			t.Errorf("Get(%s): %v", id, err)
		}
	}
	all, err := s.ByRotation(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all["primary"]) != 0 || len(all["secondary"]) != 1 || len(all["tertiary"]) != 1 {
		t.Errorf("ByRotation after pruning: %v", all)
	}
	// The pruned override left its rotation's index too, where it would
	// count against the rotation's cap.
	list, err := s.List(t.Context(), "primary", t0.Add(-time.Hour), time.Time{})
	if err != nil || len(list) != 0 {
		t.Errorf("List(primary) after pruning: %v, %v", ids(list), err)
	}
	for _, k := range scanKeys(t, rdb, prefix) {
		if strings.HasSuffix(k, ":primary") {
			t.Errorf("key %s is left after pruning primary's only override", k)
		}
	}
}

func TestCreateCapsOverridesPerRotation(t *testing.T) {
	s, _, _ := newStore(t)
	var first schedule.Override
	for i := range oncall.MaxPerRotation {
		o := mustCreate(t, s, override("primary", "bob", i, i+1))
		if i == 0 {
			first = o
		}
	}
	_, err := s.Create(t.Context(), override("primary", "bob", 0, 1))
	var e *alertgate.Error
	if !errors.As(err, &e) || e.Code != alertgate.ECONFLICT || e.Field != "rotation" || !strings.Contains(e.Message, "delete some") {
		t.Fatalf("Create past the cap: %v, want a conflict on rotation saying what to do", err)
	}
	mustCreate(t, s, override("secondary", "bob", 0, 1)) // another rotation has room
	if err := s.Delete(t.Context(), first.ID); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, override("primary", "bob", 0, 1)) // room again
}

// Every key is under the one {oncall} hash tag, so a script's keys share a
// Cluster slot (CI runs this against a cluster too).
func TestKeysShareOneHashTag(t *testing.T) {
	s, rdb, prefix := newStore(t)
	o := mustCreate(t, s, override("primary", "bob", 0, 1))
	mustCreate(t, s, override("secondary", "bob", 0, 1))
	if err := s.Delete(t.Context(), o.ID); err != nil {
		t.Fatal(err)
	}
	keys := scanKeys(t, rdb, prefix)
	if len(keys) < 3 {
		t.Fatalf("keys %v: want the hash and at least two indexes", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, oncall.KeyBase(prefix)) || !strings.Contains(k, ":v1:{oncall}:") {
			t.Errorf("key %q is not under %q", k, oncall.KeyBase(prefix))
		}
	}
}

func scanKeys(t *testing.T, rdb redis.UniversalClient, prefix string) []string {
	t.Helper()
	var keys []string
	scan := func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, prefix+":*", 100).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		return iter.Err()
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(t.Context(), func(ctx context.Context, m *redis.Client) error { return scan(ctx, m) })
	} else {
		err = scan(t.Context(), rdb)
	}
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// A Redis that cannot be reached is a 503, never a 500 or a 404.
func TestRedisDownIsUnavailable(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	s := oncall.NewStore(rdb, "down")
	ctx := t.Context()
	for name, call := range map[string]func() error{
		"Create":     func() error { _, err := s.Create(ctx, override("primary", "bob", 0, 1)); return err },
		"Get":        func() error { _, err := s.Get(ctx, "ov-1"); return err },
		"Delete":     func() error { return s.Delete(ctx, "ov-1") },
		"List":       func() error { _, err := s.List(ctx, "primary", t0, time.Time{}); return err },
		"ByRotation": func() error { _, err := s.ByRotation(ctx); return err },
	} {
		if err := call(); alertgate.ErrorCode(err) != alertgate.EUNAVAILABLE {
			t.Errorf("%s with Redis down: %v, want unavailable", name, err)
		}
	}
}
