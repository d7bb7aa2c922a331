package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/schedule"
	"github.com/alertgate/alertgate/snapshot"
)

// onCallConfig has two rotations: primary (UTC) hands over weekly from
// alice to bob at Monday 09:00, starting 2026-03-02; secondary (New York)
// hands over daily at 09:00 local from carol to dave.
const onCallConfig = `
public_url: https://alertgate.example.com/
api:
  tokens: [api-token]
users:
  - {id: alice, name: Alice Example, time_zone: Europe/London, contacts: [{notifier: console, address: alice}]}
  - {id: bob, contacts: [{notifier: console, address: bob}]}
  - {id: carol, contacts: [{notifier: console, address: carol}]}
  - {id: dave, contacts: [{notifier: console, address: dave}]}
  - {id: erin, contacts: [{notifier: console, address: erin}]}
teams:
  - {id: sre, members: [alice, bob, carol, dave]}
rotations:
  - id: primary
    team: sre
    time_zone: UTC
    layers:
      - name: weekly
        participants: [alice, bob]
        start: "2026-03-02T09:00"
        shift: 1w
  - id: secondary
    time_zone: America/New_York
    layers:
      - participants: [carol, dave]
        start: "2026-03-02T09:00"
        shift: 1d
        restrictions:
          - {days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "00:00"}
`

// onCallNow is the fixture's clock: Wednesday 2026-03-04 12:00 UTC, alice's
// week in primary, dave's day in secondary (07:00 in New York).
var onCallNow = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

var testFeedKey = []byte("feed-secret-for-tests")

type onCallFixture struct {
	*fixture
	store *oncall.Store
}

// newOnCallFixture serves onCallConfig over the test Redis at onCallNow,
// with calendar feeds signed by feedKey (none: feeds off).
func newOnCallFixture(t *testing.T, feedKey []byte) *onCallFixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	return newOnCallServer(t, rdb, prefix, feedKey)
}

func newOnCallServer(t *testing.T, rdb redis.UniversalClient, prefix string, feedKey []byte) *onCallFixture {
	t.Helper()
	cfg := onCallConfig
	if feedKey != nil {
		cfg = strings.Replace(cfg, "api:\n  tokens: [api-token]\n", "api:\n  tokens: [api-token]\n  feed_secret: "+string(feedKey)+"\n", 1)
	}
	snap, err := snapshot.Load([]byte(cfg), "oncall.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(io.MultiWriter(logBuf, testlog.NewLog(t)), nil)) // fails the test on any ERROR
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	store := oncall.NewStore(rdb, prefix)
	h := httpapi.NewServer(httpapi.Deps{
		Logger:    logger,
		Snapshot:  current.Load,
		Metrics:   metrics.New(nil),
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Now:       func() time.Time { return onCallNow },
		Overrides: store,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &onCallFixture{fixture: &fixture{srv: srv, log: logBuf, rdb: rdb, prefix: prefix}, store: store}
}

// at is a UTC time of March 2026.
func at(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (f *onCallFixture) createOverride(t *testing.T, body string) schedule.Override {
	t.Helper()
	resp, b := f.do(t, "POST", "/api/v1/overrides", "api-token", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create override %s: %d %s", body, resp.StatusCode, b)
	}
	var o schedule.Override
	mustJSON(t, b, &o)
	return o
}

func (f *onCallFixture) onCall(t *testing.T, query string) schedule.OnCallReport {
	t.Helper()
	resp, body := f.do(t, "GET", "/api/v1/oncall"+query, "api-token", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("oncall%s: %d %s", query, resp.StatusCode, body)
	}
	var rep schedule.OnCallReport
	mustJSON(t, body, &rep)
	return rep
}

func (f *onCallFixture) shifts(t *testing.T, rotation, query string) []schedule.Span {
	t.Helper()
	resp, body := f.do(t, "GET", "/api/v1/rotations/"+rotation+"/shifts"+query, "api-token", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("shifts of %s%s: %d %s", rotation, query, resp.StatusCode, body)
	}
	if !strings.Contains(string(body), `"shifts":[`) {
		t.Errorf("shifts is not a JSON array: %s", body)
	}
	var rep schedule.ShiftReport
	mustJSON(t, body, &rep)
	if rep.Rotation != rotation {
		t.Errorf("report of rotation %q, want %q", rep.Rotation, rotation)
	}
	return rep.Shifts
}

func TestOnCall(t *testing.T) {
	f := newOnCallFixture(t, nil)
	type now struct {
		id, user     string
		since, until time.Time
		next         schedule.Span
	}
	check := func(query string, want []now) {
		t.Helper()
		rep := f.onCall(t, query)
		var got []now
		for _, r := range rep.Rotations {
			n := now{id: r.ID, since: r.Since, until: r.Until}
			if r.OnCall != nil {
				n.user = *r.OnCall
			}
			if r.Next != nil {
				n.next = *r.Next
			}
			got = append(got, n)
		}
		if !slices.EqualFunc(got, want, func(a, b now) bool {
			return a.id == b.id && a.user == b.user && a.since.Equal(b.since) && a.until.Equal(b.until) &&
				a.next.User == b.next.User && a.next.Start.Equal(b.next.Start) && a.next.End.Equal(b.next.End)
		}) {
			t.Errorf("oncall%s:\n got %+v\nwant %+v", query, got, want)
		}
	}
	// New York is UTC-5 until 8 March, UTC-4 after: handoffs at 09:00 local.
	check("", []now{
		{"primary", "alice", at(2, 9), at(9, 9), schedule.Span{User: "bob", Start: at(9, 9), End: at(16, 9)}},
		{"secondary", "dave", at(3, 14), at(4, 14), schedule.Span{User: "carol", Start: at(4, 14), End: at(5, 14)}},
	})
	check("?at=2026-03-10T00:00:00Z", []now{
		{"primary", "bob", at(9, 9), at(16, 9), schedule.Span{User: "alice", Start: at(16, 9), End: at(23, 9)}},
		{"secondary", "dave", at(9, 13), at(10, 13), schedule.Span{User: "carol", Start: at(10, 13), End: at(11, 13)}},
	})
	// Before the rotations start nobody is on call.
	rep := f.onCall(t, "?at=2026-03-01T00:00:00Z")
	if r := rep.Rotations[0]; r.OnCall != nil || r.Next == nil || r.Next.User != "alice" || !r.Next.Start.Equal(at(2, 9)) {
		t.Errorf("before the start: %+v, want nobody, next alice at %s", r, at(2, 9))
	}
	if !rep.At.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("at %s, want the time asked about", rep.At)
	}
}

func TestShifts(t *testing.T) {
	f := newOnCallFixture(t, nil)
	spans := func(s ...schedule.Span) []schedule.Span { return s }
	for _, tt := range []struct {
		rotation, query string
		want            []schedule.Span
	}{
		// Default: from now, 14 days, clipped at both ends.
		{"primary", "", spans(
			schedule.Span{User: "alice", Start: onCallNow, End: at(9, 9)},
			schedule.Span{User: "bob", Start: at(9, 9), End: at(16, 9)},
			schedule.Span{User: "alice", Start: at(16, 9), End: at(18, 12)},
		)},
		{"primary", "?from=2026-03-01T00:00:00Z&to=2026-03-09T09:00:00Z", spans(
			schedule.Span{User: "alice", Start: at(2, 9), End: at(9, 9)},
		)},
		// Across New York's change to daylight time on 8 March.
		{"secondary", "?from=2026-03-07T00:00:00Z&to=2026-03-10T00:00:00Z", spans(
			schedule.Span{User: "carol", Start: at(7, 0), End: at(7, 14)},
			schedule.Span{User: "dave", Start: at(7, 14), End: at(8, 13)},
			schedule.Span{User: "carol", Start: at(8, 13), End: at(9, 13)},
			schedule.Span{User: "dave", Start: at(9, 13), End: at(10, 0)},
		)},
		{"primary", "?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z", spans()},
	} {
		got := f.shifts(t, tt.rotation, tt.query)
		if !equalSpans(got, tt.want) {
			t.Errorf("shifts of %s%s:\n got %v\nwant %v", tt.rotation, tt.query, got, tt.want)
		}
	}
	// Times are UTC: RFC 3339 with a Z.
	_, body := f.do(t, "GET", "/api/v1/rotations/secondary/shifts?from=2026-03-07T00:00:00-05:00", "api-token", "")
	if !strings.Contains(string(body), `"start":"2026-03-07T05:00:00Z"`) {
		t.Errorf("shifts are not in UTC: %s", body)
	}
}

func equalSpans(a, b []schedule.Span) bool {
	return slices.EqualFunc(a, b, func(x, y schedule.Span) bool {
		return x.User == y.User && x.Start.Equal(y.Start) && x.End.Equal(y.End) && x.Override == y.Override
	})
}

// An override shows in /oncall and /shifts, and stops showing once deleted.
func TestOverrideShowsInOnCallAndShifts(t *testing.T) {
	f := newOnCallFixture(t, nil)
	o := f.createOverride(t, `{"rotation":"primary","user":"erin","replaces":"alice",
		"start":"2026-03-04T10:00:00Z","end":"2026-03-05T10:00:00Z","comment":"alice at the dentist"}`)

	rep := f.onCall(t, "")
	p := rep.Rotations[0]
	if p.OnCall == nil || *p.OnCall != "erin" || p.Override != o.ID || !p.Since.Equal(at(4, 10)) || !p.Until.Equal(at(5, 10)) {
		t.Errorf("oncall with the override: %+v, want erin by %s from %s to %s", p, o.ID, at(4, 10), at(5, 10))
	}
	if s := rep.Rotations[1]; s.OnCall == nil || *s.OnCall != "dave" {
		t.Errorf("the override changed another rotation: %+v", s)
	}
	want := []schedule.Span{
		{User: "alice", Start: at(2, 9), End: at(4, 10)},
		{User: "erin", Start: at(4, 10), End: at(5, 10), Override: o.ID},
		{User: "alice", Start: at(5, 10), End: at(9, 9)},
	}
	got := f.shifts(t, "primary", "?from=2026-03-02T09:00:00Z&to=2026-03-09T09:00:00Z")
	if !equalSpans(got, want) {
		t.Errorf("shifts with the override:\n got %v\nwant %v", got, want)
	}
	_, body := f.do(t, "GET", "/api/v1/rotations/primary/shifts?from=2026-03-04T00:00:00Z&to=2026-03-06T00:00:00Z", "api-token", "")
	if !strings.Contains(string(body), `"override":"`+o.ID+`"`) {
		t.Errorf("the override's span does not name it: %s", body)
	}

	if resp, body := f.do(t, "DELETE", "/api/v1/overrides/"+o.ID, "api-token", ""); resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("delete: %d %s, want 204 without a body", resp.StatusCode, body)
	}
	if p := f.onCall(t, "").Rotations[0]; p.OnCall == nil || *p.OnCall != "alice" || p.Override != "" {
		t.Errorf("oncall after the delete: %+v, want alice again", p)
	}
}

func TestOverridesAPI(t *testing.T) {
	f := newOnCallFixture(t, nil)
	resp, body := f.do(t, "POST", "/api/v1/overrides", "api-token",
		`{"rotation":"secondary","user":"erin","start":"2026-03-06T00:00:00Z","end":"2026-03-07T00:00:00Z","actor":"carol"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var o schedule.Override
	mustJSON(t, body, &o)
	if got, want := resp.Header.Get("Location"), "/api/v1/overrides/"+o.ID; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	want := schedule.Override{ID: o.ID, Rotation: "secondary", User: "erin", Start: at(6, 0), End: at(7, 0), CreatedBy: "user:carol", CreatedAt: onCallNow}
	if !o.Start.Equal(want.Start) || !o.End.Equal(want.End) || !o.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("override times %+v, want %+v", o, want)
	}
	o.Start, o.End, o.CreatedAt = want.Start, want.End, want.CreatedAt
	if o != want || !strings.HasPrefix(o.ID, "ov-") {
		t.Errorf("created %+v, want %+v", o, want)
	}
	anon := f.createOverride(t, `{"rotation":"primary","user":"bob","start":"2026-03-04T00:00:00Z","end":"2026-03-05T00:00:00Z"}`)
	if anon.CreatedBy != "api" {
		t.Errorf("created_by %q without an actor, want api", anon.CreatedBy)
	}

	resp, body = f.do(t, "GET", "/api/v1/overrides/"+o.ID, "api-token", "")
	var got schedule.Override
	mustJSON(t, body, &got)
	if resp.StatusCode != http.StatusOK || got.ID != o.ID || got.User != "erin" || got.CreatedBy != "user:carol" {
		t.Errorf("get: %d %s", resp.StatusCode, body)
	}

	list := func(query string) []string {
		t.Helper()
		resp, body := f.do(t, "GET", "/api/v1/overrides"+query, "api-token", "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"overrides":[`) {
			t.Fatalf("list%s: %d %s", query, resp.StatusCode, body)
		}
		var l struct{ Overrides []schedule.Override }
		mustJSON(t, body, &l)
		ids := []string{}
		for _, o := range l.Overrides {
			ids = append(ids, o.ID)
		}
		return ids
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{anon.ID, o.ID}}, // from now, no end; by start
		{"?rotation=secondary", []string{o.ID}},
		{"?rotation=primary", []string{anon.ID}},
		{"?from=2026-03-05T00:00:00Z", []string{o.ID}},                            // anon ends at from
		{"?from=2026-03-01T00:00:00Z&to=2026-03-06T00:00:00Z", []string{anon.ID}}, // o starts at to
		{"?rotation=secondary&from=2026-03-08T00:00:00Z", []string{}},
	} {
		if got := list(tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("list%s = %v, want %v", tt.query, got, tt.want)
		}
	}

	if resp, body := f.do(t, "DELETE", "/api/v1/overrides/"+o.ID, "api-token", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	for _, method := range []string{"GET", "DELETE"} {
		if resp, body := f.do(t, method, "/api/v1/overrides/"+o.ID, "api-token", ""); resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), o.ID) {
			t.Errorf("%s after delete: %d %s, want 404 naming it", method, resp.StatusCode, body)
		}
	}
	if got := list("?rotation=secondary"); len(got) != 0 {
		t.Errorf("list after delete: %v", got)
	}
}

func TestOnCallErrors(t *testing.T) {
	f := newOnCallFixture(t, nil)
	override := func(fields string) string {
		base := map[string]any{"rotation": "primary", "user": "erin", "replaces": "alice", "start": "2026-03-04T10:00:00Z", "end": "2026-03-05T10:00:00Z"}
		var change map[string]any
		if err := json.Unmarshal([]byte(fields), &change); err != nil {
			panic(err)
		}
		for k, v := range change {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		b, _ := json.Marshal(base)
		return string(b)
	}
	tests := []struct {
		name, method, path, body string
		want                     int
		field                    string // the error's field; "" for none
		wantInMessage            string
	}{
		{"oncall bad at", "GET", "/api/v1/oncall?at=tomorrow", "", 400, "at", "RFC 3339"},
		{"oncall at year 1", "GET", "/api/v1/oncall?at=0001-01-01T00:00:00Z", "", 400, "at", "between"},
		{"oncall at year 9999", "GET", "/api/v1/oncall?at=9999-12-31T00:00:00Z", "", 400, "at", "between"},
		{"shifts unknown rotation", "GET", "/api/v1/rotations/nope/shifts", "", 404, "", `no rotation "nope"`},
		{"shifts bad from", "GET", "/api/v1/rotations/primary/shifts?from=2026-03-04", "", 400, "from", "RFC 3339"},
		{"shifts bad to", "GET", "/api/v1/rotations/primary/shifts?to=soon", "", 400, "to", "RFC 3339"},
		{"shifts to before from", "GET", "/api/v1/rotations/primary/shifts?from=2026-03-04T00:00:00Z&to=2026-03-03T00:00:00Z", "", 400, "to", "after from"},
		{"shifts empty range", "GET", "/api/v1/rotations/primary/shifts?from=2026-03-04T00:00:00Z&to=2026-03-04T00:00:00Z", "", 400, "to", "after from"},
		{"shifts over 400 days", "GET", "/api/v1/rotations/primary/shifts?from=2026-03-04T00:00:00Z&to=2027-04-09T00:00:01Z", "", 400, "to", "400 days"},
		{"shifts wrong method", "POST", "/api/v1/rotations/primary/shifts", "", 405, "", "method"},

		{"override no rotation", "POST", "/api/v1/overrides", override(`{"rotation":null}`), 400, "rotation", "required"},
		{"override unknown rotation", "POST", "/api/v1/overrides", override(`{"rotation":"nope"}`), 404, "rotation", `no rotation "nope"`},
		{"override no user", "POST", "/api/v1/overrides", override(`{"user":null}`), 400, "user", "required"},
		{"override unknown user", "POST", "/api/v1/overrides", override(`{"user":"zed"}`), 404, "user", `no user "zed"`},
		{"override replaces unknown user", "POST", "/api/v1/overrides", override(`{"replaces":"zed"}`), 404, "replaces", `no user "zed"`},
		{"override replaces a non-participant", "POST", "/api/v1/overrides", override(`{"replaces":"carol"}`), 400, "replaces", "no layer"},
		{"override replaces oneself", "POST", "/api/v1/overrides", override(`{"user":"bob","replaces":"bob"}`), 400, "replaces", "themselves"},
		{"override no start", "POST", "/api/v1/overrides", override(`{"start":null}`), 400, "start", "required"},
		{"override bad start", "POST", "/api/v1/overrides", override(`{"start":"Wednesday"}`), 400, "start", "RFC 3339"},
		{"override no end", "POST", "/api/v1/overrides", override(`{"end":null}`), 400, "end", "required"},
		{"override bad end", "POST", "/api/v1/overrides", override(`{"end":"2026-03-05 10:00"}`), 400, "end", "RFC 3339"},
		{"override end before start", "POST", "/api/v1/overrides", override(`{"end":"2026-03-04T09:00:00Z"}`), 400, "end", "after start"},
		{"override empty", "POST", "/api/v1/overrides", override(`{"end":"2026-03-04T10:00:00Z"}`), 400, "end", "after start"},
		{"override in the past", "POST", "/api/v1/overrides", override(`{"start":"2026-03-01T00:00:00Z","end":"2026-03-04T12:00:00Z"}`), 400, "end", "past"},
		{"override too long", "POST", "/api/v1/overrides", override(`{"end":"2027-03-05T10:00:01Z"}`), 400, "end", "366 days"},
		{"override long comment", "POST", "/api/v1/overrides", override(`{"comment":"` + strings.Repeat("x", 1025) + `"}`), 400, "comment", "1024"},
		{"override control character", "POST", "/api/v1/overrides", override(`{"comment":"a\u0007b"}`), 400, "comment", ""},
		{"override long actor", "POST", "/api/v1/overrides", override(`{"actor":"` + strings.Repeat("x", 129) + `"}`), 400, "actor", ""},
		{"override unknown field", "POST", "/api/v1/overrides", override(`{"who":"erin"}`), 400, "body", "who"},
		{"override not JSON", "POST", "/api/v1/overrides", `{"rotation":`, 400, "body", "JSON"},
		{"override empty body", "POST", "/api/v1/overrides", ``, 400, "rotation", "required"},
		{"list unknown rotation", "GET", "/api/v1/overrides?rotation=nope", "", 404, "", "nope"},
		{"list bad from", "GET", "/api/v1/overrides?from=x", "", 400, "from", "RFC 3339"},
		{"list to before from", "GET", "/api/v1/overrides?from=2026-03-04T00:00:00Z&to=2026-03-04T00:00:00Z", "", 400, "to", "after from"},
		{"get unknown override", "GET", "/api/v1/overrides/ov-nope", "", 404, "", "ov-nope"},
		{"delete unknown override", "DELETE", "/api/v1/overrides/ov-nope", "", 404, "", "ov-nope"},
		{"overrides wrong method", "PUT", "/api/v1/overrides/ov-nope", "", 405, "", "method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, tt.method, tt.path, "api-token", tt.body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.want)
			}
			var e struct {
				Error struct{ Code, Message, Field string }
			}
			mustJSON(t, body, &e)
			if e.Error.Field != tt.field || !strings.Contains(e.Error.Message, tt.wantInMessage) {
				t.Fatalf("error %+v, want field %q and a message with %q", e.Error, tt.field, tt.wantInMessage)
			}
		})
	}
	if list, err := f.store.ByRotation(t.Context()); err != nil || len(list) != 0 {
		t.Errorf("refused overrides were stored: %v %v", list, err)
	}
	// Every route wants the bearer token.
	for _, p := range []string{"/api/v1/oncall", "/api/v1/rotations", "/api/v1/rotations/primary/shifts", "/api/v1/overrides", "/api/v1/overrides/ov-1"} {
		if resp, body := f.do(t, "GET", p, "", ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d %s", p, resp.StatusCode, body)
		}
		if resp, body := f.do(t, "GET", p, "wrong", ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d %s", p, resp.StatusCode, body)
		}
	}
	if resp, body := f.do(t, "POST", "/api/v1/overrides", "", override(`{}`)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without a token: %d %s", resp.StatusCode, body)
	}
}

// A Redis that cannot be reached is a 503 with Retry-After, for reads and
// writes alike.
func TestOnCallRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	f := newOnCallServer(t, rdb, "down", testFeedKey)
	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/api/v1/oncall", ""},
		{"GET", "/api/v1/rotations/primary/shifts", ""},
		{"GET", "/api/v1/overrides", ""},
		{"GET", "/api/v1/overrides/ov-1", ""},
		{"DELETE", "/api/v1/overrides/ov-1", ""},
		{"POST", "/api/v1/overrides", `{"rotation":"primary","user":"bob","start":"2026-03-04T10:00:00Z","end":"2026-03-05T10:00:00Z"}`},
	} {
		resp, body := f.do(t, tt.method, tt.path, "api-token", tt.body)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s with Redis down: %d (Retry-After %q) %s, want 503 with Retry-After", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	resp, body := f.do(t, "GET", oncall.FeedPath(testFeedKey, oncall.FeedRotation, "primary"), "", "")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("feed with Redis down: %d %s, want 503", resp.StatusCode, body)
	}
}

func TestRotations(t *testing.T) {
	for _, tt := range []struct {
		name string
		key  []byte
	}{{"feeds on", testFeedKey}, {"feeds off", nil}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newOnCallFixture(t, tt.key)
			resp, body := f.do(t, "GET", "/api/v1/rotations", "api-token", "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("rotations: %d %s", resp.StatusCode, body)
			}
			var got struct {
				Rotations []struct {
					ID          string `json:"id"`
					Team        string `json:"team"`
					TimeZone    string `json:"time_zone"`
					CalendarURL string `json:"calendar_url"`
					Layers      []struct {
						Name         string   `json:"name"`
						Participants []string `json:"participants"`
						Start        string   `json:"start"`
						Shift        string   `json:"shift"`
						Restrictions []struct {
							Days     []string `json:"days"`
							From, To string
						} `json:"restrictions"`
					} `json:"layers"`
				} `json:"rotations"`
			}
			mustJSON(t, body, &got)
			if len(got.Rotations) != 2 {
				t.Fatalf("rotations %s, want primary and secondary", body)
			}
			p, s := got.Rotations[0], got.Rotations[1]
			if p.ID != "primary" || p.Team != "sre" || p.TimeZone != "UTC" || len(p.Layers) != 1 ||
				p.Layers[0].Name != "weekly" || !slices.Equal(p.Layers[0].Participants, []string{"alice", "bob"}) ||
				p.Layers[0].Start != "2026-03-02T09:00" || p.Layers[0].Shift != "1w" {
				t.Errorf("primary: %+v", p)
			}
			if s.ID != "secondary" || s.TimeZone != "America/New_York" || len(s.Layers) != 1 || len(s.Layers[0].Restrictions) != 1 ||
				s.Layers[0].Restrictions[0].From != "00:00" || len(s.Layers[0].Restrictions[0].Days) != 7 {
				t.Errorf("secondary: %+v", s)
			}
			if tt.key == nil {
				if strings.Contains(string(body), "calendar_url") {
					t.Errorf("feeds are off but the list has feed URLs: %s", body)
				}
				return
			}
			if want := "https://alertgate.example.com/api/v1/rotations/primary/calendar.ics?token=" + oncall.FeedToken(tt.key, oncall.FeedRotation, "primary"); p.CalendarURL != want {
				t.Errorf("primary's calendar_url %q, want %q", p.CalendarURL, want)
			}
			// The listed URL opens the feed.
			u, err := url.Parse(s.CalendarURL)
			if err != nil {
				t.Fatal(err)
			}
			if resp, body := f.do(t, "GET", u.RequestURI(), "", ""); resp.StatusCode != http.StatusOK {
				t.Errorf("the listed feed URL %s: %d %s", u.RequestURI(), resp.StatusCode, body)
			}
		})
	}
}

// vevents splits an iCal body into its events' property lines.
func vevents(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	text := strings.ReplaceAll(string(body), "\r\n ", "") // unfold
	var out []map[string]string
	var cur map[string]string
	for line := range strings.SplitSeq(text, "\r\n") {
		switch {
		case line == "BEGIN:VEVENT":
			cur = map[string]string{}
		case line == "END:VEVENT":
			out = append(out, cur)
			cur = nil
		case cur != nil:
			name, value, _ := strings.Cut(line, ":")
			cur[name] = value
		}
	}
	return out
}

func icsUTC(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

func TestRotationCalendar(t *testing.T) {
	f := newOnCallFixture(t, testFeedKey)
	o := f.createOverride(t, `{"rotation":"primary","user":"erin","replaces":"alice",
		"start":"2026-03-04T10:00:00Z","end":"2026-03-05T10:00:00Z","comment":"dentist"}`)

	path := oncall.FeedPath(testFeedKey, oncall.FeedRotation, "primary")
	resp, body := f.do(t, "GET", path, "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("feed: %d %s", resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("Content-Type"), "text/calendar; charset=utf-8"; got != want {
		t.Errorf("Content-Type %q, want %q", got, want)
	}
	if !strings.HasPrefix(string(body), "BEGIN:VCALENDAR\r\n") {
		t.Errorf("not an iCalendar file: %.200s", body)
	}
	events := vevents(t, body)
	// The window: a month back (nothing before the start on 2 March) to
	// 180 days ahead. The last shift is not cut at the window's edge but
	// shown whole, so its start and UID stay put as the window moves.
	from, to := onCallNow.Add(-30*24*time.Hour), onCallNow.Add(180*24*time.Hour)
	spans := f.shifts(t, "primary", "?from="+rfc(from)+"&to="+rfc(to))
	lastEnd := time.Date(2026, 9, 7, 9, 0, 0, 0, time.UTC) // the weekly handoff after the window
	if spans[len(spans)-1].End.Equal(to) {
		spans[len(spans)-1].End = lastEnd
	}
	if len(events) != len(spans) || len(events) < 20 {
		t.Fatalf("%d events, want one per shift of the window (%d)", len(events), len(spans))
	}
	for i, e := range events {
		if e["DTSTART"] != icsUTC(spans[i].Start) || e["DTEND"] != icsUTC(spans[i].End) {
			t.Errorf("event %d: %s–%s, want %s–%s", i, e["DTSTART"], e["DTEND"], icsUTC(spans[i].Start), icsUTC(spans[i].End))
		}
	}
	if first, last := events[0], events[len(events)-1]; first["DTSTART"] != icsUTC(at(2, 9)) || last["DTEND"] != icsUTC(lastEnd) {
		t.Errorf("window %s to %s, want %s to %s", first["DTSTART"], last["DTEND"], icsUTC(at(2, 9)), icsUTC(lastEnd))
	}
	if e := events[0]; e["SUMMARY"] != "On call: Alice Example" {
		t.Errorf("first event %v, want alice by her name", e)
	}
	if e := events[1]; e["SUMMARY"] != "On call: erin" || !strings.Contains(e["DESCRIPTION"], o.ID) || !strings.Contains(e["DESCRIPTION"], "dentist") {
		t.Errorf("the override's event %v, want erin, naming the override and its comment", e)
	}
	// The same shift keeps its UID from one fetch to the next.
	_, again := f.do(t, "GET", path, "", "")
	if e2 := vevents(t, again); e2[2]["UID"] != events[2]["UID"] || events[2]["UID"] == events[3]["UID"] {
		t.Errorf("UIDs %q then %q; want stable and distinct", events[2]["UID"], e2[2]["UID"])
	}
	// A calendar app may check with HEAD.
	if resp, _ := f.do(t, "HEAD", path, "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD: %d", resp.StatusCode)
	}
}

func TestUserCalendar(t *testing.T) {
	f := newOnCallFixture(t, testFeedKey)
	o := f.createOverride(t, `{"rotation":"secondary","user":"alice","start":"2026-03-05T00:00:00Z","end":"2026-03-05T06:00:00Z"}`)

	resp, body := f.do(t, "GET", oncall.FeedPath(testFeedKey, oncall.FeedUser, "alice"), "", "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("feed: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// In alice's zone, London.
	if !strings.Contains(string(body), "X-WR-TIMEZONE:Europe/London\r\n") {
		t.Errorf("the feed is not in alice's zone: %.400s", body)
	}
	events := vevents(t, body)
	from, to := onCallNow.Add(-30*24*time.Hour), onCallNow.Add(180*24*time.Hour)
	var want []schedule.Span
	for _, rot := range []string{"primary", "secondary"} {
		for _, s := range f.shifts(t, rot, "?from="+rfc(from)+"&to="+rfc(to)) {
			if s.User == "alice" {
				want = append(want, s)
			}
		}
	}
	slices.SortStableFunc(want, func(a, b schedule.Span) int { return a.Start.Compare(b.Start) })
	if len(events) != len(want) || len(want) < 10 {
		t.Fatalf("%d events, want alice's %d shifts", len(events), len(want))
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	sawOverride := false
	for i, e := range events {
		start := e["DTSTART;TZID=Europe/London"]
		if start == "" {
			start = e["DTSTART"]
		}
		if wantStart := want[i].Start.In(london).Format("20060102T150405"); start != wantStart && start != icsUTC(want[i].Start) {
			t.Errorf("event %d starts %q, want %s", i, start, wantStart)
		}
		if strings.Contains(e["DESCRIPTION"], o.ID) {
			sawOverride = true
			if e["SUMMARY"] != "On call: secondary" {
				t.Errorf("the override's event %v, want it to name the rotation", e)
			}
		}
	}
	if !sawOverride {
		t.Errorf("alice's override in secondary is not in her feed")
	}
}

func TestCalendarFeedTokens(t *testing.T) {
	f := newOnCallFixture(t, testFeedKey)
	tok := func(kind oncall.FeedKind, id string) string { return oncall.FeedToken(testFeedKey, kind, id) }
	for _, tt := range []struct {
		name, path string
		want       int
		wantInBody string
	}{
		{"rotation, its token", "/api/v1/rotations/primary/calendar.ics?token=" + tok(oncall.FeedRotation, "primary"), 200, "BEGIN:VCALENDAR"},
		{"user, its token", "/api/v1/users/bob/calendar.ics?token=" + tok(oncall.FeedUser, "bob"), 200, "BEGIN:VCALENDAR"},
		{"no token", "/api/v1/rotations/primary/calendar.ics", 401, "feed token"},
		{"another rotation's token", "/api/v1/rotations/primary/calendar.ics?token=" + tok(oncall.FeedRotation, "secondary"), 401, "feed token"},
		{"a user's token for a rotation", "/api/v1/rotations/primary/calendar.ics?token=" + tok(oncall.FeedUser, "primary"), 401, "feed token"},
		{"another user's token", "/api/v1/users/bob/calendar.ics?token=" + tok(oncall.FeedUser, "alice"), 401, "feed token"},
		{"another key's token", "/api/v1/rotations/primary/calendar.ics?token=" + oncall.FeedToken([]byte("other"), oncall.FeedRotation, "primary"), 401, "feed token"},
		{"the API token", "/api/v1/rotations/primary/calendar.ics?token=api-token", 401, "feed token"},
		{"unknown rotation, right token", "/api/v1/rotations/nope/calendar.ics?token=" + tok(oncall.FeedRotation, "nope"), 404, `no rotation \"nope\"`},
		{"unknown user, right token", "/api/v1/users/zed/calendar.ics?token=" + tok(oncall.FeedUser, "zed"), 404, `no user \"zed\"`},
		{"unknown rotation, no token", "/api/v1/rotations/nope/calendar.ics", 401, "feed token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, "GET", tt.path, "", "")
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.wantInBody) {
				t.Fatalf("%d %.300s, want %d with %q", resp.StatusCode, body, tt.want, tt.wantInBody)
			}
		})
	}
	// The bearer token does not open a feed.
	if resp, body := f.do(t, "GET", "/api/v1/rotations/primary/calendar.ics", "api-token", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("feed with the bearer token: %d %s, want 401", resp.StatusCode, body)
	}
}

func TestCalendarFeedsOff(t *testing.T) {
	f := newOnCallFixture(t, nil)
	for _, p := range []string{
		"/api/v1/rotations/primary/calendar.ics?token=" + oncall.FeedToken(nil, oncall.FeedRotation, "primary"),
		"/api/v1/users/alice/calendar.ics?token=" + oncall.FeedToken(nil, oncall.FeedUser, "alice"),
		"/api/v1/rotations/primary/calendar.ics",
	} {
		resp, body := f.do(t, "GET", p, "", "")
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "api.feed_secret") {
			t.Errorf("%s with feeds off: %d %s, want 404 saying how to turn them on", p, resp.StatusCode, body)
		}
	}
}

// A client that retries a create with the same Idempotency-Key (after a
// timeout, say) gets the first request's override back, not a second one.
func TestCreateOverrideIdempotencyKey(t *testing.T) {
	f := newOnCallFixture(t, nil)
	body := `{"rotation":"primary","user":"erin","start":"2026-03-05T10:00:00Z","end":"2026-03-05T12:00:00Z"}`
	post := func(key string) (int, schedule.Override) {
		req, err := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+"/api/v1/overrides", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer api-token")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var o schedule.Override
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode < 300 {
			mustJSON(t, b, &o)
		}
		return resp.StatusCode, o
	}
	st1, first := post("retry-me")
	st2, again := post("retry-me")
	st3, other := post("another-key")
	if st1 != http.StatusCreated || st2 != http.StatusOK || st3 != http.StatusCreated {
		t.Fatalf("statuses %d, %d, %d; want 201, then 200 for the retry, then 201 for a new key", st1, st2, st3)
	}
	if again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) || other.ID == first.ID {
		t.Errorf("retry gave %s (first %s), a new key %s", again.ID, first.ID, other.ID)
	}
	list, err := f.store.List(t.Context(), "primary", time.Time{}, time.Time{})
	if err != nil || len(list) != 2 {
		t.Errorf("%d overrides stored (%v), want 2", len(list), err)
	}
	if st, _ := post(strings.Repeat("k", 129)); st != http.StatusBadRequest {
		t.Errorf("a 129-byte key: %d, want 400", st)
	}
}
