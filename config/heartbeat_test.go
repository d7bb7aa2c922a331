package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
)

func TestHeartbeatValid(t *testing.T) {
	c, err := Load([]byte(`
integrations:
  - name: watchdog
    type: heartbeat
    interval: 2m
    grace: 1m
    tokens: [t]
  - name: cron
    type: heartbeat
    interval: 1s
    severity: warning
    tokens: [t]
routes:
  - name: heartbeats
    integrations: [watchdog, cron]
`), "hb.yml")
	if err != nil {
		t.Fatal(err)
	}
	w, cron := &c.Integrations[0], &c.Integrations[1]
	if w.HeartbeatTimeout() != 3*time.Minute || w.HeartbeatSeverity() != alertgate.SeverityCritical {
		t.Errorf("watchdog: timeout %v severity %s", w.HeartbeatTimeout(), w.HeartbeatSeverity())
	}
	if cron.HeartbeatTimeout() != time.Second || cron.HeartbeatSeverity() != alertgate.SeverityWarning {
		t.Errorf("cron: timeout %v severity %s", cron.HeartbeatTimeout(), cron.HeartbeatSeverity())
	}
}

// Every heartbeat rule, each problem with its line.
func TestHeartbeatInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"no interval", "  - {name: hb, type: heartbeat, tokens: [t]}\n",
			"hb.yml:3: integrations[0].interval: required for type heartbeat: how often the sender pings (at least 1s)"},
		{"interval too short", "  - {name: hb, type: heartbeat, interval: 500ms, tokens: [t]}\n",
			"hb.yml:3: integrations[0].interval: must be at least 1s"},
		{"interval too long", "  - {name: hb, type: heartbeat, interval: 9000h, tokens: [t]}\n",
			"hb.yml:3: integrations[0].interval: must be at most 8784h0m0s"},
		{"negative grace", "  - {name: hb, type: heartbeat, interval: 1m, grace: -1s, tokens: [t]}\n",
			"hb.yml:3: integrations[0].grace: must not be negative"},
		{"sum too long", "  - {name: hb, type: heartbeat, interval: 8000h, grace: 1000h, tokens: [t]}\n",
			"hb.yml:3: integrations[0].grace: interval + grace must be at most 8784h0m0s"},
		{"bad severity", "  - {name: hb, type: heartbeat, interval: 1m, severity: high, tokens: [t]}\n",
			`hb.yml:3: integrations[0].severity: "high" is not one of critical, error, warning, info`},
		{"no tokens", "  - {name: hb, type: heartbeat, interval: 1m}\n",
			"hb.yml:3: integrations[0].tokens: at least one token is required"},
		{"routing keys", "  - {name: hb, type: heartbeat, interval: 1m, tokens: [t], routing_keys: [k]}\n",
			"hb.yml:3: integrations[0].routing_keys: only for type pagerduty"},
		{"interval on another type", "  - {name: am, type: alertmanager, interval: 1m, tokens: [t]}\n",
			"hb.yml:3: integrations[0].interval: only for type heartbeat"},
		{"grace on another type", "  - {name: am, type: alertmanager, grace: 1m, tokens: [t]}\n",
			"hb.yml:3: integrations[0].grace: only for type heartbeat"},
		{"severity on another type", "  - {name: am, type: generic, severity: info, tokens: [t], generic: {dedup_key: id}}\n",
			"hb.yml:3: integrations[0].severity: only for type heartbeat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte("\nintegrations:\n"+tc.yaml), "hb.yml")
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load: %v, want a *LoadError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("problems:\n%v\nwant one starting %q", err, tc.want)
			}
			if len(le.Problems) != 1 {
				t.Errorf("%d problems, want 1:\n%v", len(le.Problems), err)
			}
		})
	}
}
