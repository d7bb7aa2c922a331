package httpapi_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/alertgate/alertgate/internal/redisx"
	"github.com/alertgate/alertgate/internal/testlog"
)

// A script error is our bug, not an outage: 500 with a generic message
// (the cause only in the log, at ERROR), counted as an internal error, and
// never the 503 that makes Alertmanager and Datadog retry it forever.
func TestScriptErrorIsInternal(t *testing.T) {
	f := newFixture(t, testlog.ExpectError("ingest rejected"), testlog.ExpectError("api request failed"))
	resp, body := f.do(t, "POST", "/hooks/am", "am-token", amBody("firing", "aaaa"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	var ing struct{ Incidents []string }
	mustJSON(t, body, &ing)
	id := ing.Incidents[0]

	// Break the incident's timeline and its group: strings now, not a list
	// and a hash.
	n, _ := redisx.IncidentShard(id)
	shard := redisx.NewLayout(f.prefix).Shard(n)
	if err := f.rdb.Set(t.Context(), shard.KeyOf(redisx.Timeline, id), "garbage", 0).Err(); err != nil {
		t.Fatal(err)
	}
	resp, body = f.do(t, "POST", "/api/v1/incidents/"+id+"/notes", "api-token", `{"text":"hello"}`)
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Retry-After") != "" {
		t.Fatalf("note on a broken incident: %d (Retry-After %q) %s, want 500 without Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if got, want := string(body), `{"error":{"code":"internal","message":"internal error"}}`+"\n"; got != want {
		t.Errorf("body %s, want %s", got, want)
	}
	ghash, _ := redisx.GroupShard("default", `am|{}:{alertname="Down"}`)
	if err := f.rdb.Set(t.Context(), shard.KeyOf(redisx.Group, ghash), "garbage", 0).Err(); err != nil {
		t.Fatal(err)
	}
	resp, body = f.do(t, "POST", "/hooks/am", "am-token", amBody("firing", "bbbb"))
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("ingest into a broken group: %d %s, want 500", resp.StatusCode, body)
	}
	if !strings.Contains(f.log.String(), "dedupe: ingest: WRONGTYPE") {
		t.Errorf("the log does not name the script and its error:\n%s", f.log.String())
	}

	_, metricsText := f.do(t, "GET", "/metrics", "", "")
	for _, want := range []string{
		`alertgate_internal_errors_total{where="api"} 1`,
		`alertgate_internal_errors_total{where="ingest"} 1`,
		`alertgate_alerts_received_total{integration="am",outcome="failed"} 1`,
	} {
		if !strings.Contains(string(metricsText), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if m := regexp.MustCompile(`alertgate_alerts_received_total\{integration="am",outcome="unavailable"\} (\d+)`).FindSubmatch(metricsText); m != nil {
		if n, _ := strconv.Atoi(string(m[1])); n > 0 {
			t.Errorf("a script error was counted as unavailable %d times", n)
		}
	}
}

// A client that retries an action with the same Idempotency-Key gets it
// done once; a key the request memory could not hold is refused.
func TestIdempotencyKey(t *testing.T) {
	f := newFixture(t)
	resp, body := f.do(t, "POST", "/hooks/am", "am-token", amBody("firing", "aaaa"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	var ing struct{ Incidents []string }
	mustJSON(t, body, &ing)
	note := func(key string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.srv.URL+"/api/v1/incidents/"+ing.Incidents[0]+"/notes", strings.NewReader(`{"text":"on it"}`))
		req.Header.Set("Authorization", "Bearer api-token")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	var last []byte
	for range 3 {
		status, b := note("retry-1")
		if status != http.StatusOK {
			t.Fatalf("note: %d %s", status, b)
		}
		last = b
	}
	var inc struct {
		Timeline []struct{ Type string } `json:"timeline"`
	}
	mustJSON(t, last, &inc)
	notes := 0
	for _, e := range inc.Timeline {
		if e.Type == "note" {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("%d notes after three tries with one key, want 1", notes)
	}
	if status, b := note("bad\tkey"); status != http.StatusBadRequest || !strings.Contains(string(b), "Idempotency-Key") {
		t.Errorf("a key with a tab: %d %s, want 400 naming the header", status, b)
	}
}
