package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/redistest"
)

// alertmanager is a real prometheus-alertmanager process.
type alertmanager struct {
	URL    string
	proc   *proc
	client *http.Client
}

// startAlertmanager runs Debian's prometheus-alertmanager on a free port,
// clustering off, with one route that groups by alertname and re-sends
// quickly, to the receiver "gate" whose config lines (indented under the
// receiver) are given.
func startAlertmanager(t *testing.T, receiverConfig string) *alertmanager {
	t.Helper()
	path := needTool(t, "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := `route:
  receiver: gate
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: gate
` + receiverConfig
	cfgPath := filepath.Join(dir, "am.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	am := &alertmanager{URL: "http://" + addr, client: newClient()}
	am.proc = startProc(t, "alertmanager", path,
		"--config.file="+cfgPath,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=debug",
	)
	t.Cleanup(func() {
		am.client.CloseIdleConnections()
		if code := am.proc.stop(t, syscall.SIGTERM, stopTimeout); code != 0 {
			t.Logf("alertmanager exited with code %d", code)
		}
	})
	eventually(t, startTimeout, "alertmanager /-/ready", func() (bool, string) {
		if am.proc.exited() {
			t.Fatalf("alertmanager exited: %v", am.proc.err)
		}
		resp, err := am.client.Get(am.URL + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return am
}

// postableAlert is an alert for Alertmanager's API v2.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// amAlerts returns n alerts of one alertname (instances i0…), as
// Prometheus would post them: firing while endsAt is in the future,
// resolved once it is in the past.
func amAlerts(alertname string, n int, startsAt, endsAt time.Time) []postableAlert {
	out := make([]postableAlert, n)
	for i := range out {
		out[i] = postableAlert{
			Labels:       map[string]string{"alertname": alertname, "instance": fmt.Sprintf("i%d", i), "severity": "critical"},
			Annotations:  map[string]string{"summary": fmt.Sprintf("%s on i%d", alertname, i)},
			StartsAt:     startsAt.UTC(),
			EndsAt:       endsAt.UTC(),
			GeneratorURL: "http://prometheus.invalid:9090/graph",
		}
	}
	return out
}

// post sends alerts to POST /api/v2/alerts.
func (am *alertmanager) post(t *testing.T, alerts []postableAlert) {
	t.Helper()
	resp, err := am.client.Post(am.URL+"/api/v2/alerts", "application/json", bytes.NewReader(mustJSON(t, alerts)))
	if err != nil {
		t.Fatalf("post alerts to alertmanager: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post alerts to alertmanager: %s", resp.Status)
	}
}

// activeFingerprints returns the fingerprints Alertmanager computed for its
// unresolved alerts of one alertname.
func (am *alertmanager) activeFingerprints(t *testing.T, alertname string) map[string]bool {
	t.Helper()
	resp, err := am.client.Get(am.URL + "/api/v2/alerts?filter=" + url.QueryEscape(`alertname="`+alertname+`"`))
	if err != nil {
		t.Fatalf("list alertmanager alerts: %v", err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list alertmanager alerts: %s %s", resp.Status, body.Bytes())
	}
	var alerts []struct {
		Fingerprint string    `json:"fingerprint"`
		EndsAt      time.Time `json:"endsAt"`
	}
	decodeJSON(t, body.Bytes(), &alerts)
	fps := make(map[string]bool)
	for _, a := range alerts {
		if a.EndsAt.IsZero() || a.EndsAt.After(time.Now()) {
			fps[a.Fingerprint] = true
		}
	}
	return fps
}

// metric reads one of Alertmanager's own metrics.
func (am *alertmanager) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	return scrape(t, am.client, am.URL+"/metrics", name, labels...)
}

// onlyIncident waits for the prefix to hold an incident that satisfies
// cond, failing at once if there is ever more than one.
func onlyIncident(t *testing.T, g *gate, timeout time.Duration, what string, cond func(incident) bool) incident {
	t.Helper()
	var got incident
	eventually(t, timeout, what, func() (bool, string) {
		list := g.incidents(t)
		switch len(list) {
		case 0:
			return false, "no incident yet"
		case 1:
		default:
			t.Fatalf("%d incidents, want exactly 1: %+v", len(list), list)
		}
		got = list[0]
		return cond(got), fmt.Sprintf("%+v", got)
	})
	return got
}

// TestAlertmanagerEndToEnd: real Alertmanager → webhook → alertgate.
// One group of three alerts opens one incident; Alertmanager's re-sends
// of the same group are deduplicated into it; resolving the alerts in
// Alertmanager resolves it.
func TestAlertmanagerEndToEnd(t *testing.T) {
	t.Parallel()
	needBinary(t)
	_, prefix := redistest.New(t)
	g := startGate(t, gateOptions{prefix: prefix})
	am := startAlertmanager(t, fmt.Sprintf(`    webhook_configs:
      - url: %s/hooks/am
        send_resolved: true
        http_config:
          authorization:
            credentials: %s
`, g.URL, amToken))

	const name = "E2EWebhookDiskFull"
	startsAt := time.Now().Add(-time.Minute)
	am.post(t, amAlerts(name, 3, startsAt, time.Now().Add(time.Hour)))

	inc := onlyIncident(t, g, 20*time.Second, "one incident with 3 alerts", func(inc incident) bool {
		return inc.AlertCount == 3
	})
	inc = g.incident(t, inc.ID)
	if inc.Status != "triggered" || inc.Firing != 3 || inc.Severity != "critical" {
		t.Errorf("incident: status %q firing %d severity %q, want triggered 3 critical", inc.Status, inc.Firing, inc.Severity)
	}
	if want := `alertname="` + name + `"`; !strings.Contains(inc.GroupKey, want) {
		t.Errorf("incident group_key %q does not hold Alertmanager's group labels", inc.GroupKey)
	}
	// alertgate keeps the fingerprints Alertmanager computed.
	amFPs := am.activeFingerprints(t, name)
	if len(amFPs) != 3 || len(inc.Alerts) != 3 {
		t.Fatalf("alertmanager has %d active alerts, the incident %d; want 3 and 3", len(amFPs), len(inc.Alerts))
	}
	for _, a := range inc.Alerts {
		if !amFPs[a.Fingerprint] || a.Source != "am" || a.Status != "firing" || a.Labels["alertname"] != name {
			t.Errorf("incident alert %+v: not one of Alertmanager's firing alerts %v", a, amFPs)
		}
	}

	// repeat_interval 2s: Alertmanager re-sends the whole group. Every
	// alert seen three times means two re-sends, all in the one incident.
	eventually(t, 30*time.Second, "two re-sends of the group", func() (bool, string) {
		if n := len(g.incidents(t)); n != 1 {
			t.Fatalf("%d incidents after a re-send, want 1", n)
		}
		got := g.incident(t, inc.ID)
		for _, r := range got.received() {
			if r < 3 {
				return false, fmt.Sprintf("received %v", got.received())
			}
		}
		return true, ""
	})
	if hits := g.metric(t, "alertgate_dedupe_hits_total", `integration="am"`); hits < 6 {
		t.Errorf("alertgate_dedupe_hits_total{integration=\"am\"} = %v after two re-sends of 3 alerts, want >= 6", hits)
	}

	// Prometheus resolves by posting the alerts again with endsAt past.
	am.post(t, amAlerts(name, 3, startsAt, time.Now().Add(-time.Second)))
	resolved := onlyIncident(t, g, 20*time.Second, "the incident resolved", func(inc incident) bool {
		return inc.Status == "resolved"
	})
	if resolved.ID != inc.ID {
		t.Fatalf("resolved incident %s, want %s", resolved.ID, inc.ID)
	}
	inc = g.incident(t, inc.ID)
	if inc.Firing != 0 || inc.AlertCount != 3 || inc.ResolvedAt.IsZero() || !inc.hasEvent("resolved") {
		t.Errorf("resolved incident: firing %d alert_count %d resolved_at %v timeline %+v", inc.Firing, inc.AlertCount, inc.ResolvedAt, inc.Timeline)
	}
	for _, a := range inc.Alerts {
		if a.Status != "resolved" {
			t.Errorf("alert %s is %s, want resolved", a.Fingerprint, a.Status)
		}
	}
	// Alertmanager saw a 2xx for every notification.
	if failed := am.metric(t, "alertmanager_notifications_failed_total", `integration="webhook"`); failed != 0 {
		t.Errorf("alertmanager_notifications_failed_total{integration=\"webhook\"} = %v, want 0", failed)
	}
}

// TestAlertmanagerPagerDutyReceiver: real Alertmanager → pagerduty_configs
// → alertgate's /v2/enqueue. Alertmanager sends one event per group with
// dedup_key = sha256(groupKey); it keeps sending trigger while any alert
// of the group fires and sends resolve only when all resolved.
func TestAlertmanagerPagerDutyReceiver(t *testing.T) {
	t.Parallel()
	needBinary(t)
	_, prefix := redistest.New(t)
	g := startGate(t, gateOptions{prefix: prefix})
	am := startAlertmanager(t, fmt.Sprintf(`    pagerduty_configs:
      - routing_key: %s
        url: %s/v2/enqueue
        send_resolved: true
`, pdRoutingKey, g.URL))

	const name = "E2EPagerDiskFull"
	sum := sha256.Sum256([]byte(`{}:{alertname="` + name + `"}`))
	dedupKey := hex.EncodeToString(sum[:])
	startsAt := time.Now().Add(-time.Minute)
	am.post(t, amAlerts(name, 3, startsAt, time.Now().Add(time.Hour)))

	inc := onlyIncident(t, g, 20*time.Second, "one incident from the PagerDuty event", func(inc incident) bool {
		return inc.AlertCount >= 1
	})
	inc = g.incident(t, inc.ID)
	if inc.Status != "triggered" || inc.AlertCount != 1 || inc.Firing != 1 || len(inc.Alerts) != 1 {
		t.Fatalf("incident: status %q alert_count %d firing %d alerts %d, want triggered 1 1 1", inc.Status, inc.AlertCount, inc.Firing, len(inc.Alerts))
	}
	if a := inc.Alerts[0]; a.Fingerprint != dedupKey || a.Source != "pd" {
		t.Errorf("alert fingerprint %q source %q, want Alertmanager's dedup_key sha256(groupKey) %q from pd", a.Fingerprint, a.Source, dedupKey)
	}

	// Two of three alerts resolve: Alertmanager keeps triggering.
	am.post(t, amAlerts(name, 2, startsAt, time.Now().Add(-time.Second)))
	eventually(t, 10*time.Second, "alertmanager to see two alerts resolved", func() (bool, string) {
		n := len(am.activeFingerprints(t, name))
		return n == 1, fmt.Sprintf("%d active", n)
	})
	base := g.incident(t, inc.ID).received()[dedupKey]
	eventually(t, 30*time.Second, "two more events after the partial resolution", func() (bool, string) {
		got := g.incident(t, inc.ID)
		if got.Status != "triggered" || got.Firing != 1 {
			t.Fatalf("after a partial resolution the incident is %s with %d firing; want triggered, 1", got.Status, got.Firing)
		}
		r := got.received()[dedupKey]
		return r >= base+2, fmt.Sprintf("received %d, was %d", r, base)
	})

	// The last one resolves: Alertmanager sends resolve.
	all := amAlerts(name, 3, startsAt, time.Now().Add(-time.Second))
	am.post(t, all[2:])
	resolved := onlyIncident(t, g, 20*time.Second, "the incident resolved", func(inc incident) bool {
		return inc.Status == "resolved"
	})
	if resolved.ID != inc.ID {
		t.Fatalf("resolved incident %s, want %s", resolved.ID, inc.ID)
	}
	inc = g.incident(t, inc.ID)
	if inc.Firing != 0 || len(inc.Alerts) != 1 || inc.Alerts[0].Status != "resolved" || !inc.hasEvent("resolved") {
		t.Errorf("resolved incident: firing %d alerts %+v timeline %+v", inc.Firing, inc.Alerts, inc.Timeline)
	}
	if failed := am.metric(t, "alertmanager_notifications_failed_total", `integration="pagerduty"`); failed != 0 {
		t.Errorf("alertmanager_notifications_failed_total{integration=\"pagerduty\"} = %v, want 0", failed)
	}
}
