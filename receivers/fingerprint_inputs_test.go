package receivers

import (
	"context"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

func TestFingerprintInputs(t *testing.T) {
	parse := func(in config.Integration, body string) (alertgate.Batch, []FingerprintInput) {
		t.Helper()
		r, err := New(in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.Parse(context.Background(), Request{Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		return b, FingerprintInputs(in, []byte(body), b)
	}
	// Alertmanager: the sender's fingerprint when given, else the labels'
	// hash; the integration's labels are not hashed.
	am := config.Integration{Name: "am", Type: config.TypeAlertmanager, Labels: map[string]string{"env": "prod"}}
	b, got := parse(am, `{"version":"4","alerts":[
		{"status":"firing","labels":{"alertname":"A"},"fingerprint":"f00"},
		{"status":"firing","labels":{"alertname":"B","x":"1"}},
		{"status":"firing","labels":{"alertname":"C"},"fingerprint":"  "}]}`)
	if got[0].From != "sender" || got[0].Field != "alerts[0].fingerprint" {
		t.Errorf("sender: %+v", got[0])
	}
	if got[1].From != "labels" || got[1].Field != "alerts[1].labels" || len(got[1].Labels) != 2 ||
		labelsFingerprint(got[1].Labels) != b.Alerts[1].Fingerprint || b.Alerts[1].Labels["env"] != "prod" {
		t.Errorf("labels: %+v (alert %+v)", got[1], b.Alerts[1])
	}
	if got[2].From != "labels" || got[2].Field != "alerts[2].labels" { // a blank fingerprint is none
		t.Errorf("blank: %+v", got[2])
	}

	pd := config.Integration{Name: "pd", Type: config.TypePagerDuty, RoutingKeys: []config.Secret{"0123456789abcdef0123456789abcdef"}}
	_, got = parse(pd, `{"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","dedup_key":"k1",
		"payload":{"summary":"s","source":"h","severity":"critical"}}`)
	if got[0].From != "dedup_key" || got[0].Field != "dedup_key" {
		t.Errorf("pagerduty: %+v", got[0])
	}
}

func TestDatadogFingerprintInputs(t *testing.T) {
	for fp, want := range map[string]string{"7386412835620462051": "alert_cycle_key", "9bd4/0123456789abcdef": "aggreg_key+scope"} {
		if got := datadogInput(&alertgate.Alert{Fingerprint: fp}); got.From != want {
			t.Errorf("%s: %+v, want %s", fp, got, want)
		}
	}
}
