package receivers

import (
	"regexp"
	"testing"
)

// labelsFingerprint must give what Alertmanager puts in a webhook's
// "fingerprint", byte for byte, or a sender that leaves it empty and one
// that fills it in would name the same alert differently.
func TestLabelsFingerprintMatchesAlertmanager(t *testing.T) {
	for _, c := range []struct {
		labels map[string]string
		want   string
	}{
		// Label sets and fingerprints from the Alertmanager payloads in
		// testdata/alertmanager (firing_nested_groupkey.json, resolved.json,
		// truncated.json, unknown_severity.json).
		{map[string]string{"alertname": "ProbeFailure", "cluster": "eu1", "instance": "https://api.example.org", "severity": "critical"}, "a0db60e31ef2af83"},
		{map[string]string{"alertname": "ProbeFailure", "cluster": "eu1", "instance": "https://server.example.org", "severity": "critical"}, "fc63a1fa1026d85e"},
		{map[string]string{"alertname": "DiskFull", "device": "/dev/sda1", "instance": "db-1", "severity": "warning"}, "922a6e482d511b24"},
		{map[string]string{"alertname": "HighLatency", "instance": "web-1:9100", "service": "checkout", "severity": "page-me"}, "697c3c95dc4177bb"},
		// A fingerprint below 1<<52 keeps its leading zeros: always 16
		// digits, as Alertmanager writes them.
		{map[string]string{"alertname": "A6048"}, "000198e160fc4a25"},
	} {
		if got := labelsFingerprint(c.labels); got != c.want {
			t.Errorf("labelsFingerprint(%v) = %s, want %s", c.labels, got, c.want)
		}
	}
}

func TestLabelsFingerprintFormat(t *testing.T) {
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, labels := range []map[string]string{
		{"a": ""},
		{"": "x"},
		{"é": "\xff", "\x00": "世界"},
		{"alertname": "A", "zzz": "1", "aaa": "2"},
	} {
		if got := labelsFingerprint(labels); !hex16.MatchString(got) {
			t.Errorf("labelsFingerprint(%q) = %q, want 16 lowercase hex digits", labels, got)
		}
	}
}
