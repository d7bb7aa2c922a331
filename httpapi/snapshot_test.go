package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/snapshot"
)

// Two configs that tell apart which one served a request: every token,
// routing key, limit and route differs. Config "b" refuses everything a
// request under config "a" sends: its body limit is below any body.
const (
	pdKeyA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	pdKeyB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func reloadConfig(v, maxBody, pdKey string) string {
	return `
api:
  tokens: [api-` + v + `]
ingest:
  max_body_bytes: ` + maxBody + `
integrations:
  - name: am
    type: alertmanager
    tokens: [am-` + v + `]
  - name: pd
    type: pagerduty
    routing_keys: [` + pdKey + `]
routes:
  - name: route-` + v + `
    group_by: ["..."]
`
}

type reloadFixture struct {
	h      http.Handler
	svc    *incident.Service
	a, b   *snapshot.Snapshot
	pinned atomic.Pointer[snapshot.Snapshot] // what the server serves
	loads  atomic.Int64                      // calls of Deps.Snapshot
	// afterFirst, when set, is what every load but the first returns, as
	// if a reload had landed right after the request began.
	afterFirst *snapshot.Snapshot
}

func newReloadFixture(t *testing.T) *reloadFixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	f := &reloadFixture{}
	var err error
	noEnv := func(string) string { return "" }
	if f.a, err = snapshot.Load([]byte(reloadConfig("a", "65536", pdKeyA)), "a.yaml", noEnv); err != nil {
		t.Fatal(err)
	}
	if f.b, err = snapshot.Load([]byte(reloadConfig("b", "8", pdKeyB)), "b.yaml", noEnv); err != nil {
		t.Fatal(err)
	}
	f.pinned.Store(f.a)
	store := dedupe.NewStore(rdb, prefix)
	logger := testlog.New(t)
	f.svc = incident.NewService(store, incident.Options{Logger: logger})
	f.h = httpapi.NewServer(httpapi.Deps{
		Logger: logger,
		Snapshot: func() *snapshot.Snapshot {
			if f.loads.Add(1) > 1 && f.afterFirst != nil {
				return f.afterFirst
			}
			return f.pinned.Load()
		},
		Incidents: f.svc,
		Metrics:   metrics.New(store.Counts),
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	})
	return f
}

func (f *reloadFixture) serve(t *testing.T, method, path, token string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	f.loads.Store(0)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

// swapOnRead is a request body that swaps the served snapshot when the
// handler first reads it: a SIGHUP reload landing in the middle of a
// request, after it chose its integration and checked its token, before
// it parses, routes and commits.
type swapOnRead struct {
	r    io.Reader
	once sync.Once
	swap func()
}

func (s *swapOnRead) Read(p []byte) (int, error) {
	s.once.Do(s.swap)
	return s.r.Read(p)
}

// TestReloadMidRequest: a reload that lands while a delivery is being
// served does not change the config that delivery sees. It was checked
// against config "a" and must be parsed, limited, routed and committed
// under "a" too. With two pointers (the HTTP state, and the routing tree
// inside incident.Service), the incident went to route-b.
func TestReloadMidRequest(t *testing.T) {
	f := newReloadFixture(t)
	for _, tt := range []struct {
		name, path, token, body string
		want                    int
		title                   string
	}{
		{"hook", "/hooks/am", "am-a", amBody("firing", "mid-1"), http.StatusOK, "Down mid-1"},
		{"pagerduty", "/v2/enqueue", "", `{"routing_key":"` + pdKeyA + `","event_action":"trigger","dedup_key":"mid-2",
			"payload":{"summary":"Disk full","source":"web-1","severity":"critical"}}`, http.StatusAccepted, "Disk full"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.pinned.Store(f.a)
			body := &swapOnRead{r: strings.NewReader(tt.body), swap: func() { f.pinned.Store(f.b) }}
			w := f.serve(t, http.MethodPost, tt.path, tt.token, body)
			if f.pinned.Load() != f.b {
				t.Fatal("the body was never read: the test swapped nothing")
			}
			if w.Code != tt.want {
				t.Fatalf("status %d %s, want %d: the request saw config b after the reload", w.Code, w.Body, tt.want)
			}
			if n := f.loads.Load(); n != 1 {
				t.Errorf("the request loaded the snapshot %d times, want once", n)
			}
			// The incident, looked up through the API (config b serves now).
			w = f.serve(t, http.MethodGet, "/api/v1/incidents", "api-b", nil)
			var list struct {
				Incidents []struct{ Title, Route string }
			}
			mustJSON(t, w.Body.Bytes(), &list)
			var inc struct{ Title, Route string }
			for _, i := range list.Incidents {
				if i.Title == tt.title {
					inc = i
				}
			}
			if inc.Title == "" {
				t.Fatalf("no incident %q in %s", tt.title, w.Body)
			}
			if inc.Route != "route-a" {
				t.Errorf("incident route %q, want route-a: the delivery was routed by the config that came after it", inc.Route)
			}
		})
	}
}

// TestOneSnapshotPerRequest: every endpoint loads the snapshot once and
// uses it throughout. Deps.Snapshot returns config "a" on the first call
// and config "b" on every later one, so a second load anywhere in a
// request shows, and would answer as "b" would.
func TestOneSnapshotPerRequest(t *testing.T) {
	f := newReloadFixture(t)
	f.afterFirst = f.b

	// An incident to act on, under config "a".
	w := f.serve(t, http.MethodPost, "/hooks/am", "am-a", strings.NewReader(amBody("firing", "once-1")))
	if w.Code != http.StatusOK {
		t.Fatalf("ingest: %d %s", w.Code, w.Body)
	}
	var ing struct{ Incidents []string }
	if err := json.Unmarshal(w.Body.Bytes(), &ing); err != nil || len(ing.Incidents) != 1 {
		t.Fatalf("ingest response %s: %v", w.Body, err)
	}
	id := ing.Incidents[0]

	for _, tt := range []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"ingest", "POST", "/hooks/am", "am-a", amBody("firing", "once-2"), 200},
		{"ingest wrong token", "POST", "/hooks/am", "am-b", amBody("firing", "once-3"), 401},
		{"ingest unknown integration", "POST", "/hooks/nope", "am-a", "{}", 404},
		{"ingest malformed", "POST", "/hooks/am", "am-a", "{", 400},
		{"pagerduty", "POST", "/v2/enqueue", "", `{"routing_key":"` + pdKeyA + `","event_action":"acknowledge","dedup_key":"x"}`, 202},
		{"pagerduty unknown key", "POST", "/v2/enqueue", "", `{"routing_key":"` + pdKeyB + `","event_action":"trigger"}`, 400},
		{"list", "GET", "/api/v1/incidents", "api-a", "", 200},
		{"list bad filter", "GET", "/api/v1/incidents?limit=0", "api-a", "", 400},
		{"list wrong token", "GET", "/api/v1/incidents", "api-b", "", 401},
		{"get", "GET", "/api/v1/incidents/" + id, "api-a", "", 200},
		{"get unknown", "GET", "/api/v1/incidents/12345", "api-a", "", 404},
		{"acknowledge", "POST", "/api/v1/incidents/" + id + "/acknowledge", "api-a", `{"actor":"alice"}`, 200},
		{"note", "POST", "/api/v1/incidents/" + id + "/notes", "api-a", `{"text":"looking"}`, 200},
		{"empty note", "POST", "/api/v1/incidents/" + id + "/notes", "api-a", `{"text":""}`, 400},
		{"resolve", "POST", "/api/v1/incidents/" + id + "/resolve", "api-a", "", 200},
		{"acknowledge resolved", "POST", "/api/v1/incidents/" + id + "/acknowledge", "api-a", "", 409},
		{"readyz", "GET", "/readyz", "", "", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := f.serve(t, tt.method, tt.path, tt.token, strings.NewReader(tt.body))
			if w.Code != tt.want {
				t.Errorf("status %d %s, want %d", w.Code, w.Body, tt.want)
			}
			if n := f.loads.Load(); n != 1 {
				t.Errorf("the request loaded the snapshot %d times, want once", n)
			}
		})
	}
}
