package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/heartbeat"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/snapshot"
)

const heartbeatConfig = `
api:
  tokens: [api-token]
ingest:
  max_body_bytes: 4096
integrations:
  - name: watchdog
    type: heartbeat
    interval: 2m
    grace: 1m
    tokens: [hb-token]
`

type heartbeatFixture struct {
	h       http.Handler
	clock   *fakeclock.Clock
	checker *heartbeat.Checker
	svc     *incident.Service
}

// newHeartbeatFixture serves heartbeatConfig over rdb (the test Redis if
// nil) with heartbeats on, or off when hbOff.
func newHeartbeatFixture(tb testing.TB, logger io.Writer, rdb redis.UniversalClient, hbOff bool) *heartbeatFixture {
	tb.Helper()
	testRDB, prefix := redistest.New(tb)
	if rdb == nil {
		rdb = testRDB
	}
	snap, err := snapshot.Load([]byte(heartbeatConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	clock := fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewJSONHandler(logger, nil))
	store := dedupe.NewStore(rdb, prefix)
	m := metrics.New(store.Counts)
	svc := incident.NewService(store, incident.Options{Logger: log, Observer: m, Now: clock.Now})
	fx := &heartbeatFixture{clock: clock, svc: svc}
	deps := httpapi.Deps{Logger: log, Snapshot: current.Load, Incidents: svc, Metrics: m, Now: clock.Now,
		Ready: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }}
	if !hbOff {
		fx.checker = heartbeat.New(rdb, prefix, heartbeat.Options{Snapshot: current.Load, Accept: svc, Clock: clock, Logger: log})
		deps.Heartbeats = fx.checker
	}
	fx.h = httpapi.NewServer(deps)
	return fx
}

func (fx *heartbeatFixture) post(tb testing.TB, path, token, body string) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequestWithContext(tb.Context(), http.MethodPost, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	fx.h.ServeHTTP(rec, req)
	return rec
}

type pingAnswer struct {
	Status       string    `json:"status"`
	NextDeadline time.Time `json:"next_deadline"`
}

func decodePing(t *testing.T, rec *httptest.ResponseRecorder) pingAnswer {
	t.Helper()
	var a pingAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	return a
}

func TestHeartbeatPing(t *testing.T) {
	fx := newHeartbeatFixture(t, testlog.NewLog(t), nil, false)
	start := fx.clock.Now()

	// Any body is a ping: Alertmanager's webhook, nothing, or garbage.
	for _, body := range []string{amBody("firing", "watchdog"), "", "\xff not json {"} {
		rec := fx.post(t, "/hooks/watchdog", "hb-token", body)
		a := decodePing(t, rec)
		if rec.Code != http.StatusOK || a.Status != heartbeat.StatusOK || !a.NextDeadline.Equal(start.Add(3*time.Minute)) {
			t.Fatalf("ping with body %q: %d %s", body, rec.Code, rec.Body)
		}
	}
	// ?token= works as for every integration.
	if rec := fx.post(t, "/hooks/watchdog?token=hb-token", "", "{}"); rec.Code != http.StatusOK {
		t.Fatalf("ping with ?token=: %d %s", rec.Code, rec.Body)
	}

	// Missed: the check opens an incident; the next ping resolves it.
	fx.clock.Advance(3 * time.Minute)
	if err := fx.checker.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	page, err := fx.svc.List(t.Context(), alertgate.IncidentFilter{})
	if err != nil || len(page.Incidents) != 1 || page.Incidents[0].Status != alertgate.Triggered {
		t.Fatalf("after the miss: %+v, %v", page, err)
	}
	rec := fx.post(t, "/hooks/watchdog", "hb-token", "")
	if a := decodePing(t, rec); rec.Code != http.StatusOK || a.Status != heartbeat.StatusResolved {
		t.Fatalf("ping after the miss: %d %s", rec.Code, rec.Body)
	}
	inc, err := fx.svc.Get(t.Context(), page.Incidents[0].ID)
	if err != nil || inc.Status != alertgate.IncidentResolved {
		t.Fatalf("incident after the ping: %+v, %v", inc, err)
	}
}

func TestHeartbeatPingRejected(t *testing.T) {
	fx := newHeartbeatFixture(t, testlog.NewLog(t), nil, false)
	for _, tc := range []struct {
		name, path, token, body string
		want                    int
	}{
		{"no token", "/hooks/watchdog", "", "", http.StatusUnauthorized},
		{"wrong token", "/hooks/watchdog", "am-token", "", http.StatusUnauthorized},
		{"too large", "/hooks/watchdog", "hb-token", strings.Repeat("x", 4097), http.StatusRequestEntityTooLarge},
		{"unknown", "/hooks/watchdogs", "hb-token", "", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := fx.post(t, tc.path, tc.token, tc.body)
			if rec.Code != tc.want || !strings.Contains(rec.Body.String(), `"message":`) {
				t.Fatalf("%d %s, want %d with a message", rec.Code, rec.Body, tc.want)
			}
		})
	}
}

// Redis down, or heartbeats off: 503 with Retry-After, so the sender
// retries.
func TestHeartbeatPingUnavailable(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: redistest.ClosedAddr(t), MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	for name, fx := range map[string]*heartbeatFixture{
		"redis down": newHeartbeatFixture(t, io.Discard, down, false),
		"off":        newHeartbeatFixture(t, io.Discard, nil, true),
	} {
		t.Run(name, func(t *testing.T) {
			rec := fx.post(t, "/hooks/watchdog", "hb-token", "")
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Fatalf("%d %v %s, want 503 with Retry-After", rec.Code, rec.Header(), rec.Body)
			}
		})
	}
}

// FuzzHeartbeatPing posts arbitrary bodies and tokens to a heartbeat:
// every answer is a 200 ping answer or a 4xx naming the problem, never a
// 5xx, never a panic.
func FuzzHeartbeatPing(f *testing.F) {
	fx := newHeartbeatFixture(f, io.Discard, nil, false)
	f.Add([]byte(""), "hb-token")
	f.Add([]byte(`{"version":"4","status":"firing","alerts":[{"labels":{"alertname":"Watchdog"}}]}`), "hb-token")
	f.Add([]byte("\x00\xff{"), "")
	f.Add([]byte("x"), "hb-token\x00")
	f.Fuzz(func(t *testing.T, body []byte, token string) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/hooks/watchdog", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var a pingAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || a.Status != heartbeat.StatusOK || a.NextDeadline.IsZero() {
				t.Fatalf("200 %s: %v", rec.Body, err)
			}
		case http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
			if !strings.Contains(rec.Body.String(), `"message":`) {
				t.Fatalf("%d without a message: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
