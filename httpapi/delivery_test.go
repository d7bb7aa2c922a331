package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/snapshot"
)

// fakeDelivery answers what a deliverer would, and records the limit
// asked for.
type fakeDelivery struct {
	limit   int
	targets []notify.TargetStatus
}

func (f *fakeDelivery) Outbox(_ context.Context, limit int) (notify.OutboxReport, error) {
	f.limit = limit
	return notify.OutboxReport{Ready: 2, WaitingTotal: 1, Waiting: []notify.WaitingPage{{Key: "16.1.0.0.alice", Why: "throttled",
		Reason: "throttled by chat until 03:12:00 UTC", Due: time.Date(2026, 12, 1, 3, 12, 0, 0, time.UTC)}},
		DeadLetters: []notify.DeadLetter{}}, nil
}

func (f *fakeDelivery) Targets() []notify.TargetStatus { return f.targets }

func newDeliveryServer(t *testing.T, d httpapi.Delivery) *httptest.Server {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte(`
api:
  tokens: [api-token]
notifiers:
  - {id: chat, type: slack, url: "https://hooks.slack.com/services/T000/B000/XXXX"}
  - {id: hook, type: webhook, url: "https://example.com/hook", rate_limit: {messages: 10, per: 1s, burst: 20}}
`), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	store := dedupe.NewStore(rdb, prefix)
	logger := slog.New(slog.DiscardHandler)
	m := metrics.New(store.Counts)
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{
		Logger: logger, Snapshot: current.Load, Metrics: m, Delivery: d,
		Incidents: incident.NewService(store, incident.Options{Logger: logger, Observer: m}),
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer api-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOutboxEndpoint(t *testing.T) {
	d := &fakeDelivery{}
	srv := newDeliveryServer(t, d)
	code, body := get(t, srv.URL+"/api/v1/outbox?limit=7")
	if code != http.StatusOK || d.limit != 7 || !strings.Contains(body, `"reason":"throttled by chat until 03:12:00 UTC"`) ||
		!strings.Contains(body, `"ready":2`) || !strings.Contains(body, `"dead_letters":[]`) {
		t.Errorf("GET /api/v1/outbox = %d %s (limit %d), want 200 with the report", code, body, d.limit)
	}
	if get(t, srv.URL+"/api/v1/outbox"); d.limit != 50 {
		t.Errorf("default limit %d, want 50", d.limit)
	}
	for _, bad := range []string{"0", "501", "x", "-1"} {
		if code, body := get(t, srv.URL+"/api/v1/outbox?limit="+bad); code != http.StatusBadRequest || !strings.Contains(body, "limit") {
			t.Errorf("limit=%s: %d %s, want 400 naming limit", bad, code, body)
		}
	}
	if code, _ := get(t, newDeliveryServer(t, nil).URL+"/api/v1/outbox"); code != http.StatusServiceUnavailable {
		t.Errorf("without delivery: %d, want 503", code)
	}
	resp, err := http.Get(srv.URL + "/api/v1/outbox")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", resp.StatusCode)
	}
}

func TestNotifiersEndpoint(t *testing.T) {
	d := &fakeDelivery{}
	srv := newDeliveryServer(t, d)
	_, body := get(t, srv.URL+"/api/v1/notifiers")
	// The Slack target hides the webhook's path (its credential).
	if strings.Contains(body, "XXXX") || strings.Contains(body, "B000") {
		t.Errorf("notifiers leak the Slack URL: %s", body)
	}
	for _, want := range []string{
		`{"id":"console","type":"console","target":"notifier:console","breaker":{"target":"notifier:console","state":"closed"`,
		`"id":"chat","type":"slack","target":"slack:https://hooks.slack.com/#`,
		`"rate_limit":{"per_second":1,"burst":3},"digest_after":5}`,
		`"id":"hook","type":"webhook"`,
		`"rate_limit":{"per_second":10,"burst":20},"digest_after":0}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /api/v1/notifiers = %s\nwant it to contain %s", body, want)
		}
	}
	// The breaker's state on this replica shows on its notifier.
	d.targets = []notify.TargetStatus{{Target: "notifier:console", State: "open", ConsecutiveFailures: 5, LastError: "status 500"}}
	if _, body := get(t, srv.URL+"/api/v1/notifiers"); !strings.Contains(body, `"breaker":{"target":"notifier:console","state":"open","consecutive_failures":5`) {
		t.Errorf("GET /api/v1/notifiers = %s, want the console's open breaker", body)
	}
}
