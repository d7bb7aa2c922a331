package receivers

import (
	"encoding/json"
	"strings"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// FingerprintInput says what one alert's fingerprint was made of, for
// explain: the fingerprint (with the integration's name) is the alert's
// identity, so "why did this join that incident?" often means "what is it
// computed from?".
type FingerprintInput struct {
	// From names the rule that made it: "sender" (the sender's own
	// fingerprint field, taken as is), "labels" (a hash of the label set,
	// as Alertmanager computes it), "dedup_key" (a dedup key field, as is),
	// "alert_cycle_key", "aggreg_key+scope" (Datadog),
	// "integration" (a heartbeat's, fixed per integration).
	From string `json:"from"`
	// Field is the payload field the value came from ("alerts[0].fingerprint",
	// the generic mapping's dedup_key path, …), when one did.
	Field string `json:"field,omitempty"`
	// Labels is the label set hashed (From "labels"), as the sender sent
	// it: before the integration's own labels are added.
	Labels map[string]string `json:"labels,omitempty"`
	// Method says how the value becomes the fingerprint.
	Method string `json:"method"`
}

// FingerprintInputs reports, for each alert of b (parsed by in's receiver
// from body), what its fingerprint was made of. It re-reads only what it
// needs of body and changes nothing; it never fails (a part it cannot
// tell is reported as the sender's value).
func FingerprintInputs(in config.Integration, body []byte, b alertgate.Batch) []FingerprintInput {
	out := make([]FingerprintInput, len(b.Alerts))
	switch in.Type {
	case config.TypeAlertmanager, config.TypeGrafana:
		amInputs(body, b, out)
	case config.TypeDatadog:
		for i := range b.Alerts {
			out[i] = datadogInput(&b.Alerts[i])
		}
	case config.TypeGeneric:
		path := ""
		if in.Generic != nil {
			path = in.Generic.DedupKey
			if in.Generic.Alerts != "" {
				path = in.Generic.Alerts + "[*]." + strings.TrimPrefix(path, "$.")
			}
		}
		for i := range out {
			out[i] = FingerprintInput{From: "dedup_key", Field: path, Method: "the field's value as text, as is"}
		}
	case config.TypePagerDuty:
		for i := range out {
			out[i] = FingerprintInput{From: "dedup_key", Field: "dedup_key", Method: "as is"}
		}
	case config.TypeHeartbeat:
		for i := range out {
			out[i] = FingerprintInput{From: "integration", Method: `"heartbeat:" + the integration's name`}
		}
	}
	return out
}

// amInputs tells, per alert, Alertmanager's (and Grafana's) two cases: the
// sender's fingerprint field when not blank, else the labels' hash.
func amInputs(body []byte, b alertgate.Batch, out []FingerprintInput) {
	var raw struct {
		Alerts []struct {
			Fingerprint string            `json:"fingerprint"`
			Labels      map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	_ = json.Unmarshal(body, &raw) // the receiver read it already
	for i := range b.Alerts {
		out[i] = FingerprintInput{From: "sender", Method: "as is"}
		for j := range raw.Alerts {
			ra := &raw.Alerts[j]
			switch {
			case strings.TrimSpace(ra.Fingerprint) != "":
				if ra.Fingerprint != b.Alerts[i].Fingerprint {
					continue
				}
				out[i].Field = elemPath("alerts", j) + ".fingerprint"
			case len(ra.Labels) > 0 && labelsFingerprint(ra.Labels) == b.Alerts[i].Fingerprint:
				out[i] = FingerprintInput{From: "labels", Field: elemPath("alerts", j) + ".labels", Labels: ra.Labels,
					Method: "Alertmanager's label-set fingerprint (FNV-1a 64 of the sorted labels, 16 hex digits)"}
			default:
				continue
			}
			break
		}
	}
}

// datadogInput tells Datadog's cases apart by the fingerprint's shape
// (see the mapping in datadog.go): a scope hash follows a "/" after the
// aggreg_key, else the alert_id, which is then the group key too.
func datadogInput(a *alertgate.Alert) FingerprintInput {
	if _, _, scoped := strings.Cut(a.Fingerprint, "/"); !scoped {
		return FingerprintInput{From: "alert_cycle_key", Field: "alert_cycle_key", Method: "as is"}
	}
	return FingerprintInput{From: "aggreg_key+scope", Field: "aggreg_key (else alert_id), scope",
		Method: `aggreg_key (else alert_id) + "/" + the first 16 hex digits of SHA-256 of the sorted scope tags`}
}
