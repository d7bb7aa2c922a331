package receivers

import (
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// FuzzHeartbeat: any body is a ping, which carries no alert.
func FuzzHeartbeat(f *testing.F) {
	r := mustNew(f, heartbeatIntegration())
	for _, s := range uglySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := r.Parse(t.Context(), Request{Body: body, Now: testNow})
		if err != nil || len(b.Alerts) != 0 || len(b.Acknowledge) != 0 {
			t.Fatalf("Parse = %+v, %v; want no alerts, no error", b, err)
		}
	})
}

func heartbeatIntegration() config.Integration {
	in := testIntegration(config.TypeHeartbeat)
	in.Interval, in.Grace = 2*time.Minute, time.Minute
	in.Labels["alertname"] = "not-this-one"
	return in
}

// The alert of a miss: the heartbeat's own labels over the integration's,
// its severity, the same alert every time it is built for one miss.
func TestHeartbeatAlert(t *testing.T) {
	in := heartbeatIntegration()
	missed := time.Date(2026, 12, 1, 9, 3, 0, 0, time.UTC)
	a, err := HeartbeatAlert(in, alertgate.Firing, missed)
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, in, alertgate.Batch{Alerts: []alertgate.Alert{a}})
	want := map[string]string{"alertname": HeartbeatAlertName, "heartbeat": in.Name, "env": "integration-default", "gateway": "alertgate"}
	if len(a.Labels) != len(want) {
		t.Errorf("labels %v, want %v", a.Labels, want)
	}
	for k, v := range want {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if a.Fingerprint != "heartbeat:"+in.Name || a.Summary != "No heartbeat from heartbeat-test for 3m0s" ||
		a.Severity != alertgate.SeverityCritical || a.Service != "default-service" || !a.StartsAt.Equal(missed) ||
		a.Details["last_ping"] != "2026-12-01T09:00:00Z" {
		t.Errorf("alert %+v", a)
	}
	again, _ := HeartbeatAlert(in, alertgate.Firing, missed)
	if a.Summary != again.Summary || !a.StartsAt.Equal(again.StartsAt) || a.Fingerprint != again.Fingerprint {
		t.Errorf("built twice: %+v and %+v", a, again)
	}
	in.Severity = "info"
	r, err := HeartbeatAlert(in, alertgate.Resolved, missed)
	if err != nil || r.Status != alertgate.Resolved || r.Severity != alertgate.SeverityInfo || r.Fingerprint != a.Fingerprint {
		t.Errorf("resolved: %+v, %v", r, err)
	}
}
