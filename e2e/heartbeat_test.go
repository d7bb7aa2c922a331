package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/redistest"
)

// The heartbeat test: three alertgate processes over one prefix watch one
// heartbeat (interval 1s, grace 1s). Pings keep it quiet; when they stop,
// one incident opens, whichever replicas check; the next ping resolves it.
const (
	hbToken = "t-hb"
	// hbOpenTimeout bounds the wait for the miss's incident: the deadline
	// is 2s after the last ping, checks run every second; the rest is room
	// for a loaded machine running race-enabled binaries.
	hbOpenTimeout = 15 * time.Second
	// hbQuietFor is how long the test watches for a second incident
	// after the first opened: several checks of every replica.
	hbQuietFor = 4 * time.Second
)

func heartbeatConfig(prefix, redisURL string) string {
	return gateConfig(prefix, redisURL) + fmt.Sprintf(`  - name: watchdog
    type: heartbeat
    interval: 1s
    grace: 1s
    tokens: [%s]
    labels: {team: sre}
`, hbToken)
}

type pingAnswer struct {
	Status       string    `json:"status"`
	NextDeadline time.Time `json:"next_deadline"`
}

func ping(t *testing.T, g *gate) pingAnswer {
	t.Helper()
	// Alertmanager's Watchdog webhook, as it would send it: the body is
	// ignored, any POST is a ping.
	body := amWebhook(t, "Watchdog", firingAlerts("Watchdog", 1, time.Now().Add(-time.Hour)))
	status, b := g.postHook(t, "watchdog", hbToken, body)
	var a pingAnswer
	if status == http.StatusOK || status == http.StatusAccepted {
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatalf("ping answer %s: %v", b, err)
		}
		return a
	}
	t.Fatalf("ping to %s: %d %s", g.URL, status, truncate(b, 500))
	return a
}

// heartbeatIncidents lists the incidents of heartbeat watchdog.
func heartbeatIncidents(t *testing.T, g *gate) []incident {
	t.Helper()
	var out []incident
	for _, inc := range g.incidents(t) {
		full := g.incident(t, inc.ID)
		for _, a := range full.Alerts {
			if a.Source == "watchdog" && a.Labels["alertname"] == "HeartbeatMissed" && a.Labels["heartbeat"] == "watchdog" {
				out = append(out, full)
				break
			}
		}
	}
	return out
}

func TestHeartbeatThreeReplicas(t *testing.T) {
	needBinary(t)
	_, prefix := redistest.New(t)
	path := filepath.Join(t.TempDir(), "alertgate.yaml")
	writeFile(t, path, heartbeatConfig(prefix, testRedisURL()))
	var gates []*gate
	for range 3 {
		gates = append(gates, startGate(t, gateOptions{prefix: prefix, configPath: path}))
	}

	// Healthy: pings to every replica, well within the deadline, and no
	// incident however often every replica checks.
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for i := range 10 {
		a := ping(t, gates[i%3])
		if a.Status != "ok" || time.Until(a.NextDeadline) > 2*time.Second || time.Until(a.NextDeadline) < time.Second {
			t.Fatalf("ping %d: %+v, want ok with a deadline about 2s ahead", i, a)
		}
		<-tick.C
	}
	if incs := heartbeatIncidents(t, gates[0]); len(incs) != 0 {
		t.Fatalf("%d incidents while pinging, want none", len(incs))
	}

	// Pings stop: one incident opens.
	var opened incident
	eventually(t, hbOpenTimeout, "the missed heartbeat's incident", func() (bool, string) {
		incs := heartbeatIncidents(t, gates[1])
		if len(incs) > 1 {
			t.Fatalf("%d incidents for one miss, want 1", len(incs))
		}
		if len(incs) == 1 {
			opened = incs[0]
		}
		return len(incs) == 1, fmt.Sprintf("%d incidents", len(incs))
	})
	if opened.Status != "triggered" || opened.Severity != "critical" || opened.Title != "No heartbeat from watchdog for 2s" {
		t.Errorf("incident: status %s severity %s title %q", opened.Status, opened.Severity, opened.Title)
	}
	// Still missing: every replica checks again and again, nothing new.
	watchUntil := time.Now().Add(hbQuietFor)
	for time.Now().Before(watchUntil) {
		incs := heartbeatIncidents(t, gates[2])
		if len(incs) != 1 || incs[0].ID != opened.ID || incs[0].Alerts[0].Received != 1 {
			t.Fatalf("while missing: %+v, want only incident %s with its alert received once", incs, opened.ID)
		}
		<-tick.C
	}

	// The next ping resolves it.
	if a := ping(t, gates[2]); a.Status != "resolved" && a.Status != "recovering" {
		t.Fatalf("ping after the miss: %+v, want resolved or recovering", a)
	}
	eventually(t, hbOpenTimeout, "the incident resolved", func() (bool, string) {
		inc := gates[0].incident(t, opened.ID)
		return inc.Status == "resolved", inc.Status
	})
	if incs := heartbeatIncidents(t, gates[0]); len(incs) != 1 {
		t.Fatalf("%d incidents after the resolve, want 1", len(incs))
	}
	if a := ping(t, gates[0]); a.Status != "ok" {
		t.Fatalf("ping once resolved: %+v, want ok", a)
	}
}
