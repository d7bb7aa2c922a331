package httpapi_test

import (
	"bytes"
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

	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/internal/lifecycle/fakeclock"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

// silenceNow is the silence fixture's clock at the start.
var silenceNow = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

type silenceFixture struct {
	srv   *httptest.Server
	clock *fakeclock.Clock
	store *silence.Store
}

// newSilenceServer serves testConfig with a silence store over the test
// Redis, on a fake clock at silenceNow. The test fails on any ERROR log.
func newSilenceServer(tb testing.TB) *silenceFixture {
	tb.Helper()
	rdb, prefix := redistest.New(tb)
	snap, err := snapshot.Load([]byte(testConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	var logger *slog.Logger
	if t, ok := tb.(*testing.T); ok {
		logger = slog.New(slog.NewJSONHandler(testlog.NewLog(t), nil))
	} else {
		logger = slog.New(slog.DiscardHandler)
	}
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	clock := fakeclock.New(silenceNow)
	store := silence.NewStore(rdb, prefix, silence.Options{Now: clock.Now})
	h := httpapi.NewServer(httpapi.Deps{
		Logger:   logger,
		Snapshot: current.Load,
		Metrics:  metrics.New(nil),
		Ready:    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Now:      clock.Now,
		Silences: store,
	})
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &silenceFixture{srv: srv, clock: clock, store: store}
}

// silenceClient bounds every request, so a hang fails the test.
var silenceClient = &http.Client{Timeout: 10 * time.Second}

func (f *silenceFixture) do(tb testing.TB, method, path, body string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer api-token")
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := silenceClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, b
}

const silenceBody = `{"matchers": ["alertname=\"DiskFull\"", "instance=~\"db-.*\""],
	"ends_at": "2026-03-04T14:00:00Z", "comment": "disk swap", "created_by": "alice"}`

func TestSilencesAPI(t *testing.T) {
	f := newSilenceServer(t)

	resp, b := f.do(t, "POST", "/api/v1/silences", silenceBody, "Idempotency-Key", "k1")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var created silence.Silence
	mustJSON(t, b, &created)
	if got, want := resp.Header.Get("Location"), "/api/v1/silences/"+created.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	var raw map[string]any
	mustJSON(t, b, &raw)
	want := map[string]any{
		"id":         created.ID,
		"matchers":   []any{`alertname="DiskFull"`, `instance=~"db-.*"`},
		"starts_at":  "2026-03-04T12:00:00Z", // none given: now
		"ends_at":    "2026-03-04T14:00:00Z",
		"comment":    "disk swap",
		"created_by": "alice",
		"created_at": "2026-03-04T12:00:00Z",
		"state":      "active",
	}
	if got, _ := json.Marshal(raw); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("created\n%s\nwant\n%s", got, must(json.Marshal(want)))
	}

	// A retry with the same key: the first silence, 200.
	resp, b = f.do(t, "POST", "/api/v1/silences", silenceBody, "Idempotency-Key", "k1")
	var again silence.Silence
	mustJSON(t, b, &again)
	if resp.StatusCode != http.StatusOK || again.ID != created.ID {
		t.Errorf("retry: %d %s, want 200 and the first silence", resp.StatusCode, b)
	}

	pending := `{"matchers": ["team=web"], "starts_at": "2026-03-05T00:00:00+01:00", "ends_at": "2026-03-05T02:00:00Z",
		"comment": "deploy", "created_by": "bob"}`
	resp, b = f.do(t, "POST", "/api/v1/silences", pending)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create pending: %d %s", resp.StatusCode, b)
	}
	var p silence.Silence
	mustJSON(t, b, &p)
	if p.State != silence.Pending || p.StartsAt.Format(time.RFC3339) != "2026-03-04T23:00:00Z" || p.Matchers[0] != `team="web"` {
		t.Errorf("pending silence = %+v", p)
	}

	list := func(query string) []string {
		t.Helper()
		resp, b := f.do(t, "GET", "/api/v1/silences"+query, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list%s: %d %s", query, resp.StatusCode, b)
		}
		var got struct{ Silences []silence.Silence }
		mustJSON(t, b, &got)
		out := []string{}
		for _, s := range got.Silences {
			out = append(out, s.ID+":"+string(s.State))
		}
		return out
	}
	if got, want := strings.Join(list(""), " "), created.ID+":active "+p.ID+":pending"; got != want {
		t.Errorf("list = %s, want %s", got, want)
	}
	if got, want := strings.Join(list("?state=pending"), " "), p.ID+":pending"; got != want {
		t.Errorf("list?state=pending = %s, want %s", got, want)
	}
	if got := list("?state=expired"); len(got) != 0 {
		t.Errorf("list?state=expired = %v", got)
	}

	resp, b = f.do(t, "GET", "/api/v1/silences/"+created.ID, "")
	var got silence.Silence
	mustJSON(t, b, &got)
	if resp.StatusCode != http.StatusOK || got.ID != created.ID || got.State != silence.Active {
		t.Errorf("get: %d %s", resp.StatusCode, b)
	}

	f.clock.Advance(30 * time.Minute)
	resp, b = f.do(t, "DELETE", "/api/v1/silences/"+created.ID, "")
	mustJSON(t, b, &got)
	if resp.StatusCode != http.StatusOK || got.State != silence.Expired || got.EndsAt.Format(time.RFC3339) != "2026-03-04T12:30:00Z" {
		t.Errorf("expire: %d %s, want 200 with ends_at 12:30", resp.StatusCode, b)
	}
	f.clock.Advance(time.Minute)
	resp, b = f.do(t, "DELETE", "/api/v1/silences/"+created.ID, "")
	mustJSON(t, b, &got)
	if resp.StatusCode != http.StatusOK || got.EndsAt.Format(time.RFC3339) != "2026-03-04T12:30:00Z" {
		t.Errorf("expire again: %d %s, want 200, unchanged", resp.StatusCode, b)
	}
	if got, want := strings.Join(list("?state=expired"), " "), created.ID+":expired"; got != want {
		t.Errorf("list?state=expired = %s, want %s", got, want)
	}

	for _, tt := range []struct {
		method, path string
		status       int
		field        string
	}{
		{"GET", "/api/v1/silences/sil-nope", 404, ""},
		{"DELETE", "/api/v1/silences/sil-nope", 404, ""},
		{"GET", "/api/v1/silences?state=muted", 400, "state"},
		{"PUT", "/api/v1/silences/" + created.ID, 405, ""},
	} {
		resp, b := f.do(t, tt.method, tt.path, "")
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		mustJSON(t, b, &e)
		if resp.StatusCode != tt.status || e.Error.Field != tt.field || e.Error.Message == "" {
			t.Errorf("%s %s: %d %s, want %d naming %q", tt.method, tt.path, resp.StatusCode, b, tt.status, tt.field)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestCreateSilenceRefusesBadInput(t *testing.T) {
	f := newSilenceServer(t)
	valid := map[string]any{"matchers": []string{`team="dba"`}, "ends_at": "2026-03-04T14:00:00Z", "comment": "c", "created_by": "alice"}
	with := func(k string, v any) string {
		m := map[string]any{}
		for key, val := range valid {
			m[key] = val
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return string(must(json.Marshal(m)))
	}
	tests := []struct {
		name, body string
		header     []string
		status     int
		field      string
	}{
		{"empty body", "", nil, 400, "body"},
		{"not JSON", "{", nil, 400, "body"},
		{"a list", "[]", nil, 400, "body"},
		{"trailing data", with("x", nil) + "{}", nil, 400, "body"},
		{"unknown field", with("duration", "2h"), nil, 400, "body"},
		{"matchers not a list", with("matchers", `team="dba"`), nil, 400, "matchers"},
		{"matchers of numbers", with("matchers", []int{1}), nil, 400, "matchers"},
		{"comment a number", with("comment", 5), nil, 400, "comment"},
		{"no matchers", with("matchers", nil), nil, 400, "matchers"},
		{"a bad matcher", with("matchers", []string{`team="dba"`, `team=~"("`}), nil, 400, "matchers[1]"},
		{"matchers matching everything", with("matchers", []string{`team=~".*"`}), nil, 400, "matchers"},
		{"no ends_at", with("ends_at", nil), nil, 400, "ends_at"},
		{"ends_at not RFC 3339", with("ends_at", "tomorrow"), nil, 400, "ends_at"},
		{"ends_at in the past", with("ends_at", "2026-03-04T11:00:00Z"), nil, 400, "ends_at"},
		{"ends_at beyond 9998", with("ends_at", "9999-01-01T00:00:00Z"), nil, 400, "ends_at"},
		{"starts_at not RFC 3339", with("starts_at", "now"), nil, 400, "starts_at"},
		{"starts_at after ends_at", with("starts_at", "2026-03-04T15:00:00Z"), nil, 400, "ends_at"},
		{"longer than a year", with("ends_at", "2027-06-01T00:00:00Z"), nil, 400, "ends_at"},
		{"no comment", with("comment", nil), nil, 400, "comment"},
		{"no created_by", with("created_by", ""), nil, 400, "created_by"},
		{"created_by on two lines", with("created_by", "a\nb"), nil, 400, "created_by"},
		{"a bad Idempotency-Key", with("x", nil), []string{"Idempotency-Key", strings.Repeat("k", 200)}, 400, "Idempotency-Key"},
		{"a body too large", `{"comment": "` + strings.Repeat("x", 300<<10) + `"}`, nil, 413, ""},
		{"a compressed body", with("x", nil), []string{"Content-Encoding", "gzip"}, 415, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := f.do(t, "POST", "/api/v1/silences", tt.body, tt.header...)
			var e struct {
				Error struct{ Code, Message, Field string }
			}
			mustJSON(t, b, &e)
			if resp.StatusCode != tt.status || e.Error.Field != tt.field || e.Error.Message == "" {
				t.Errorf("%d %s, want %d naming %q", resp.StatusCode, b, tt.status, tt.field)
			}
		})
	}
	if list, err := f.store.List(t.Context(), ""); err != nil || len(list) != 0 {
		t.Errorf("refused requests stored %d silences (%v)", len(list), err)
	}
}

func TestSilencesNeedTheToken(t *testing.T) {
	f := newSilenceServer(t)
	for _, m := range []string{"GET", "POST"} {
		req, _ := http.NewRequestWithContext(t.Context(), m, f.srv.URL+"/api/v1/silences", strings.NewReader(silenceBody))
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d, want 401", m, resp.StatusCode)
		}
	}
}

func TestSilencesWithoutAStore(t *testing.T) {
	rdb, _ := redistest.New(t)
	snap, err := snapshot.Load([]byte(testConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.NewServer(httpapi.Deps{
		Logger:   slog.New(slog.NewJSONHandler(testlog.NewLog(t), nil)),
		Snapshot: func() *snapshot.Snapshot { return snap },
		Metrics:  metrics.New(nil),
		Ready:    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	})
	for _, m := range []string{"GET", "POST"} {
		req := httptest.NewRequest(m, "/api/v1/silences", strings.NewReader(silenceBody))
		req.Header.Set("Authorization", "Bearer api-token")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s without a store: %d %s, want 503", m, rec.Code, rec.Body)
		}
	}
}

// FuzzCreateSilence sends any body to POST /api/v1/silences: the answer
// is 201 or 200 with a silence, or a 4xx with a JSON error, never a 5xx
// (the test also fails on any ERROR log).
func FuzzCreateSilence(f *testing.F) {
	for _, seed := range []string{
		silenceBody,
		`{"matchers": ["a=b"], "starts_at": "2026-03-04T13:00:00Z", "ends_at": "2026-03-04T14:00:00Z", "comment": "c", "created_by": "d"}`,
		`{"matchers": ["{a=\"b\", c=~\"d\"}"], "ends_at": "2026-03-04T14:00:00Z", "comment": "c", "created_by": "d"}`,
		`{"matchers": ["a=~\"(\""], "ends_at": "2026-03-04T14:00:00Z", "comment": "c", "created_by": "d"}`,
		`{"matchers": ["a!~\".*\"", "b=\"\\u00ff\\n\""], "ends_at": "2026-03-05T14:00:00.123456789+05:30", "comment": "c\td", "created_by": "d"}`,
		`{"matchers": null, "ends_at": null}`,
		`{"matchers": [""], "ends_at": "0000-01-01T00:00:00Z"}`,
		`{}`, `[]`, `null`, `"x"`, ``,
	} {
		f.Add(seed)
	}
	srv := newSilenceServer(f)
	f.Fuzz(func(t *testing.T, body string) {
		resp, b := srv.do(t, "POST", "/api/v1/silences", body)
		switch {
		case resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK:
			var sl silence.Silence
			if err := json.Unmarshal(b, &sl); err != nil || sl.ID == "" || len(sl.Matchers) == 0 || !sl.EndsAt.After(sl.StartsAt) {
				t.Fatalf("%d with %s", resp.StatusCode, b)
			}
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%d with %s, want a JSON error", resp.StatusCode, b)
			}
		default:
			t.Fatalf("body %q: %d %s", body, resp.StatusCode, bytes.TrimSpace(b))
		}
	})
}
