package receivers

// Grafana Alerting webhook contact point, payload version "1": the
// Alertmanager envelope plus Grafana's extras. Version "4" bodies (Grafana's
// Mimir-compatible notifier sends the plain Alertmanager format) are read
// the same way.
//
//	{
//	  "receiver": "My Super Webhook", "status": "firing", "orgId": 1,
//	  "alerts": [{
//	    "status": "firing",
//	    "labels": {"alertname": "High memory usage", "team": "blue"},
//	    "annotations": {"summary": "This alert was triggered for zone us-1"},
//	    "startsAt": "2021-10-12T09:51:03.157076+02:00", "endsAt": "0001-01-01T00:00:00Z",
//	    "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
//	    "fingerprint": "c6eadffa33fcdf37",
//	    "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=...",
//	    "dashboardURL": "", "panelURL": "",
//	    "values": {"B": 44.23943737541908, "C": 1}
//	  }],
//	  "groupLabels": {}, "commonLabels": {"team": "blue"}, "commonAnnotations": {},
//	  "externalURL": "https://play.grafana.org/",
//	  "version": "1", "groupKey": "{}:{}", "truncatedAlerts": 0,
//	  "title": "[FIRING:2]  (blue)", "state": "alerting", "message": "**Firing** ..."
//	}
//
// Mapping: as Alertmanager (see alertmanager.go), plus links "silence",
// "dashboard", "panel" and "image", details["values"] ("B=44.23943737541908,
// C=1", sorted by ref ID), details["org_id"] and details["rule_uid"].
// When the integration has a signature configured, the body must carry a
// valid X-Grafana-Alerting-Signature (see verify.go).

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/alertgate/alertgate"
)

type grafanaReceiver struct {
	common
	verify *verifier // nil: no signature required
}

type grafanaAlert struct {
	amAlert
	SilenceURL   string                     `json:"silenceURL"`
	DashboardURL string                     `json:"dashboardURL"`
	PanelURL     string                     `json:"panelURL"`
	ImageURL     string                     `json:"imageURL"`
	Values       map[string]json.RawMessage `json:"values"`
	OrgID        json.RawMessage            `json:"orgId"`
	RuleUID      string                     `json:"ruleUID"`
}

type grafanaMessage struct {
	amEnvelope
	OrgID  json.RawMessage `json:"orgId"`
	Alerts []grafanaAlert  `json:"alerts"`
}

func (r *grafanaReceiver) Parse(_ context.Context, req Request) (alertgate.Batch, error) {
	if err := r.verify.check(req); err != nil {
		return alertgate.Batch{}, err
	}
	m, err := decodeGrafana(req.Body)
	if err != nil {
		return alertgate.Batch{}, err
	}
	if m.Version != "1" && m.Version != "4" {
		return alertgate.Batch{}, alertgate.FieldErrorf("version", "want \"1\" (Grafana webhook payload) or \"4\", got %q", alertgate.Truncate(m.Version, 32))
	}
	b, err := m.amEnvelope.batch(len(m.Alerts), m.Alerts == nil)
	if err != nil {
		return b, err
	}
	bodyOrgID, err := idText(m.OrgID, "orgId")
	if err != nil {
		return alertgate.Batch{}, err
	}
	for i := range m.Alerts {
		in := &m.Alerts[i]
		path := elemPath("alerts", i)
		a, err := m.amEnvelope.alert(&in.amAlert, path, "grafana")
		if err != nil {
			return alertgate.Batch{}, err
		}
		a.Links = addLink(a.Links, in.SilenceURL, "silence")
		a.Links = addLink(a.Links, in.DashboardURL, "dashboard")
		a.Links = addLink(a.Links, in.PanelURL, "panel")
		a.Links = addLink(a.Links, in.ImageURL, "image")
		values, err := formatValues(in.Values, path+".values")
		if err != nil {
			return alertgate.Batch{}, err
		}
		setDetail(a.Details, "values", values)
		orgID := bodyOrgID
		if in.OrgID != nil {
			if orgID, err = idText(in.OrgID, path+".orgId"); err != nil {
				return alertgate.Batch{}, err
			}
		}
		setDetail(a.Details, "org_id", orgID)
		setDetail(a.Details, "rule_uid", in.RuleUID)
		b.Alerts = append(b.Alerts, a)
	}
	if err := r.finish(&b, alertPath); err != nil {
		return alertgate.Batch{}, err
	}
	return b, nil
}

// decodeGrafana is decodeAlertmanager with Grafana's fields.
func decodeGrafana(body []byte) (grafanaMessage, error) {
	body, kind, err := prepareBody(body)
	if err != nil {
		return grafanaMessage{}, err
	}
	var m grafanaMessage
	if kind == '{' && decodeAMFast(body, &m, true) {
		return m, nil
	}
	m = grafanaMessage{}
	if err := decodeAlerts(body, &m, func() any { return new(grafanaAlert) }); err != nil {
		return grafanaMessage{}, err
	}
	return m, nil
}

// formatValues renders Grafana's query values as "B=44.2, C=1", sorted by
// ref ID.
func formatValues(values map[string]json.RawMessage, path string) (string, error) {
	if len(values) == 0 {
		return "", nil
	}
	if len(values) > alertgate.MaxLabels {
		return "", alertgate.FieldErrorf(path, "%d values, more than %d", len(values), alertgate.MaxLabels)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sb strings.Builder
	for _, k := range keys {
		v := values[k]
		switch rawKind(v) {
		case 'n':
			continue
		case '0':
		default:
			return "", alertgate.FieldErrorf(path+"."+alertgate.Truncate(k, 64), "want a number, got %s", kindName(rawKind(v)))
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return "", alertgate.FieldErrorf(path+"."+alertgate.Truncate(k, 64), "number %s out of range", alertgate.Truncate(string(v), 32))
		}
		if sb.Len() > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		if sb.Len() > maxDetailLen {
			break
		}
	}
	return sb.String(), nil
}

// idText reads an identifier sent as a JSON string or number.
func idText(raw json.RawMessage, field string) (string, error) {
	switch rawKind(raw) {
	case 0, 'n':
		return "", nil
	case '0':
		return string(raw), nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", jsonError(err, field)
		}
		return s, nil
	}
	return "", alertgate.FieldErrorf(field, "want a string or a number, got %s", kindName(rawKind(raw)))
}
