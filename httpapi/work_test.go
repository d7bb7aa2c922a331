package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/snapshot"
)

const workConfig = escalationConfig + `
status_updates:
  notifiers: [console]
postmortems:
  required:
    - {severity: critical, due: 72h}
`

func newWorkFixture(t *testing.T) *escalationFixture {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte(workConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	engine := escalation.New(rdb, prefix, escalation.Options{Directory: func() *escalation.Directory { return current.Load().Escalation }})
	store := dedupe.NewStore(rdb, prefix)
	m := metrics.New(store.Counts)
	logger := slog.New(slog.NewJSONHandler(testlog.NewLog(t), nil))
	h := httpapi.NewServer(httpapi.Deps{
		Logger:    logger,
		Snapshot:  current.Load,
		Incidents: incident.NewService(store, incident.Options{Logger: logger, Observer: m, Escalator: engine}),
		Metrics:   m,
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &escalationFixture{fixture: &fixture{srv: srv, rdb: rdb, prefix: prefix}, engine: engine}
}

type workIncident struct {
	alertgate.Incident
}

func TestDeclareAPI(t *testing.T) {
	f := newWorkFixture(t)
	body := `{"title":"Checkout fails","severity":"critical","service":"payments","commander":"alice","rotation":"ops-weekly","actor":"alice"}`
	resp, b := f.do(t, "POST", "/api/v1/incidents", "api-token", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("declare: %d %s", resp.StatusCode, b)
	}
	var inc workIncident
	mustJSON(t, b, &inc)
	if !inc.Declared || inc.Roles["commander"] != "alice" || inc.Status != alertgate.Triggered {
		t.Errorf("declared incident %s", b)
	}
	if got := f.paged(t, inc.ID); len(got) != 1 || got[0] != "bob" {
		t.Errorf("paged %v, want bob (on call in ops-weekly)", got)
	}
	if inc.Postmortem == nil || inc.Postmortem.Status != "required" || inc.Postmortem.Rule == "" || !inc.Postmortem.Due.IsZero() {
		t.Errorf("postmortem %+v, want required by the rule, no due time before the resolve", inc.Postmortem)
	}

	// With a policy: the first step is due at once.
	resp, b = f.do(t, "POST", "/api/v1/incidents", "api-token", `{"title":"Deploy broke login","severity":"error","escalation_policy":"ops"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("declare with policy: %d %s", resp.StatusCode, b)
	}
	var withPolicy workIncident
	mustJSON(t, b, &withPolicy)
	if err := f.engine.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.paged(t, withPolicy.ID); len(got) != 1 || got[0] != "alice" {
		t.Errorf("policy paged %v, want alice (step 1)", got)
	}

	for _, c := range []struct{ body, field string }{
		{``, "body"},
		{`{"severity":"critical"}`, "title"},
		{`{"title":"x"}`, "severity"},
		{`{"title":"x","severity":"sev1"}`, "severity"},
		{`{"title":"x","severity":"info","escalation_policy":"nope"}`, "escalation_policy"},
		{`{"title":"x","severity":"info","rotation":"nope"}`, "rotation"},
		{`{"title":"x","severity":"info","rotation":"ops-weekly","escalation_policy":"ops"}`, "rotation"},
		{`{"title":"x","severity":"info","colour":"red"}`, "body"},
		{`{"title":"line\nbreak","severity":"info"}`, "title"},
	} {
		resp, b := f.do(t, "POST", "/api/v1/incidents", "api-token", c.body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"field":"`+c.field+`"`) {
			t.Errorf("declare %s: %d %s, want 400 naming %s", c.body, resp.StatusCode, b, c.field)
		}
	}
	if resp, _ := f.do(t, "POST", "/api/v1/incidents", "", body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("declare without a token: %d, want 401", resp.StatusCode)
	}
}

func TestDeclareIdempotent(t *testing.T) {
	f := newWorkFixture(t)
	declare := func() (int, workIncident) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.srv.URL+"/api/v1/incidents", strings.NewReader(`{"title":"x","severity":"info","rotation":"ops-weekly"}`))
		req.Header.Set("Authorization", "Bearer api-token")
		req.Header.Set("Idempotency-Key", "declare-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var inc workIncident
		if err := jsonDecode(resp, &inc); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, inc
	}
	s1, first := declare()
	s2, second := declare()
	if s1 != http.StatusCreated || s2 != http.StatusOK || first.ID != second.ID {
		t.Fatalf("two declares with one key: %d %s, %d %s; want 201 then 200, one incident", s1, first.ID, s2, second.ID)
	}
	if got := f.paged(t, first.ID); len(got) != 1 {
		t.Errorf("paged %v, want once", got)
	}
}

func TestWorkAPI(t *testing.T) {
	f := newWorkFixture(t)
	_, b := f.do(t, "POST", "/api/v1/incidents", "api-token", `{"title":"Checkout fails","severity":"critical","service":"payments","commander":"alice"}`)
	var inc workIncident
	mustJSON(t, b, &inc)
	base := "/api/v1/incidents/" + inc.ID
	ok := func(method, path, body string) workIncident {
		t.Helper()
		resp, b := f.do(t, method, base+path, "api-token", body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s %s: %d %s", method, path, body, resp.StatusCode, b)
		}
		var got workIncident
		mustJSON(t, b, &got)
		return got
	}
	refused := func(method, path, body string, status int, field string) {
		t.Helper()
		resp, b := f.do(t, method, base+path, "api-token", body)
		if resp.StatusCode != status || (field != "" && !strings.Contains(string(b), `"field":"`+field+`"`)) {
			t.Errorf("%s %s %s: %d %s, want %d naming %q", method, path, body, resp.StatusCode, b, status, field)
		}
	}

	got := ok("POST", "/roles", `{"role":"communications","user":"bob","actor":"alice"}`)
	if got.Roles["communications"] != "bob" {
		t.Errorf("roles %v", got.Roles)
	}
	refused("POST", "/roles", `{"role":"captain","user":"bob"}`, 400, "role")

	ok("POST", "/status_updates", `{"text":"Mitigated; watching error rates"}`)
	refused("POST", "/status_updates", `{"text":"  "}`, 400, "text")
	if got := f.paged(t, inc.ID); len(got) != 1 || got[0] != "" {
		t.Errorf("status update pages %q, want one to the console channel", got)
	}

	got = ok("POST", "/impact", `{"start":"2026-11-25T09:55:00Z","end":"2026-11-25T10:40:00Z"}`)
	if got.Impact == nil || !got.Impact.Set || got.Impact.End.IsZero() {
		t.Errorf("impact %+v", got.Impact)
	}
	refused("POST", "/impact", `{"start":"2026-11-25T10:00:00Z","end":"2026-11-25T09:00:00Z"}`, 400, "end")
	refused("POST", "/impact", `{"start":"yesterday"}`, 400, "start")

	resp, b := f.do(t, "POST", base+"/follow_ups", "api-token", `{"title":"Alert on checkout errors","owner":"bob","due":"2026-12-01T00:00:00Z"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add follow-up: %d %s", resp.StatusCode, b)
	}
	mustJSON(t, b, &got)
	if len(got.FollowUps) != 1 {
		t.Fatalf("follow-ups %+v", got.FollowUps)
	}
	fu := got.FollowUps[0].ID
	got = ok("PATCH", "/follow_ups/"+fu, `{"done":true}`)
	if !got.FollowUps[0].Done || got.FollowUps[0].DoneAt.IsZero() || got.FollowUps[0].Owner != "bob" {
		t.Errorf("follow-up after done: %+v", got.FollowUps[0])
	}
	refused("PATCH", "/follow_ups/fu-nope", `{"done":true}`, 404, "")
	refused("POST", "/follow_ups", `{"owner":"bob"}`, 400, "title")
	refused("POST", "/follow_ups", `{"title":"x","link":"javascript:alert(1)"}`, 400, "link")

	// Done needs a resolved incident; draft does not.
	refused("POST", "/postmortem", `{"status":"done"}`, 409, "")
	ok("POST", "/postmortem", `{"status":"draft","link":"https://wiki.example.com/pm/1"}`)
	refused("POST", "/postmortem", `{"status":"finished"}`, 400, "status")
	ok("POST", "/resolve", "")
	got = ok("POST", "/postmortem", `{"status":"done"}`)
	if pm := got.Postmortem; pm == nil || pm.Status != "done" || pm.Link == "" || pm.DoneAt.IsZero() || pm.Rule == "" {
		t.Errorf("postmortem %+v", got.Postmortem)
	}

	resp, b = f.do(t, "GET", base+"/postmortem.md", "api-token", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/markdown") ||
		!strings.Contains(string(b), "# Postmortem: Checkout fails") || !strings.Contains(string(b), "- [x] Alert on checkout errors") {
		t.Errorf("postmortem.md: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	refused("POST", "/roles", `{"role":"commander"`, 400, "body")
	if resp, _ := f.do(t, "POST", "/api/v1/incidents/424242/roles", "api-token", `{"role":"commander","user":"x"}`); resp.StatusCode != 404 {
		t.Errorf("role on a missing incident: %d, want 404", resp.StatusCode)
	}
}

func jsonDecode(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
