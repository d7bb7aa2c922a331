package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRedisOutage: with Redis down, a delivery is refused with 503 and a
// Retry-After (so Alertmanager retries), never accepted and lost; /readyz
// says not ready. When Redis is back (empty: it kept nothing), the
// sender's retry of the refused delivery commits, and the alert that was
// refused is in an incident.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	needBinary(t)
	port := freePort(t)
	rs := startRedis(t, port)
	g := startGate(t, gateOptions{prefix: "e2e-outage", redisURL: fmt.Sprintf("redis://127.0.0.1:%d/0", port)})

	const name = "E2EOutage"
	startsAt := time.Now().Add(-time.Minute)
	alerts := firingAlerts(name, 2, startsAt)
	// Alertmanager re-sends the group's whole current set each time: the
	// first notification holds alert 0, the next one alerts 0 and 1.
	first := amWebhook(t, name, alerts[:1])
	second := amWebhook(t, name, alerts)

	status, body := g.postHook(t, "am", amToken, first)
	if status != http.StatusOK {
		t.Fatalf("delivery with Redis up: %d %s", status, body)
	}

	rs.kill(t)

	code, hdr, body := g.do(t, http.MethodPost, "/hooks/am", jsonHeader(amToken), second)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("delivery with Redis down: %d %s, want 503", code, body)
	}
	if got := hdr.Get("Retry-After"); got != "2" { // ingest.retry_after: 2s
		t.Errorf("503 Retry-After %q, want \"2\" (the configured ingest.retry_after)", got)
	}
	var e errorResponse
	decodeJSON(t, body, &e)
	if e.Error.Code != "unavailable" || e.Error.Message == "" {
		t.Errorf("503 body %s: want error code \"unavailable\" and a message", body)
	}
	if strings.Contains(string(body), "127.0.0.1") {
		t.Errorf("503 body %s leaks the Redis address", body)
	}
	if code, _, body := g.do(t, http.MethodGet, "/readyz", nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis down: %d %s, want 503", code, body)
	}
	if code, _, body := g.do(t, http.MethodGet, "/healthz", nil, nil); code != http.StatusOK {
		t.Errorf("/healthz with Redis down: %d %s, want 200 (the process is alive)", code, body)
	}

	rs.start(t) // same port, empty

	// The sender retries the refused delivery until it is taken.
	var resp ingestResponse
	attempts := 0
	eventually(t, 20*time.Second, "the retried delivery to be accepted", func() (bool, string) {
		attempts++
		code, _, body := g.do(t, http.MethodPost, "/hooks/am", jsonHeader(amToken), second)
		switch code {
		case http.StatusOK:
			decodeJSON(t, body, &resp)
			return true, ""
		case http.StatusServiceUnavailable:
			return false, string(body)
		}
		t.Fatalf("retry after Redis came back: %d %s, want 200 or 503", code, body)
		return false, ""
	})
	t.Logf("accepted after %d attempt(s)", attempts)
	if len(resp.Incidents) != 1 || resp.Alerts != 2 {
		t.Fatalf("retried delivery: %+v, want 2 alerts in one incident", resp)
	}
	inc := g.incident(t, resp.Incidents[0])
	got := inc.received()
	for _, a := range alerts {
		if _, ok := got[a.Fingerprint]; !ok {
			t.Errorf("alert %s (%s) is in no incident: lost", a.Fingerprint, a.Labels["instance"])
		}
	}
	if inc.AlertCount != 2 || inc.Firing != 2 || inc.Status != "triggered" {
		t.Errorf("incident: alert_count %d firing %d status %s, want 2 2 triggered", inc.AlertCount, inc.Firing, inc.Status)
	}
	g.waitReady(t, 10*time.Second)
}
