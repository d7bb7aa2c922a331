package receivers

// Alertmanager webhook, payload version "4". One request carries one
// aggregation group; every alert of the group is in it, firing and resolved
// ones alike, and every notification re-sends the whole current set.
//
//	{
//	  "version": "4",
//	  "groupKey": "{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\"}",
//	  "truncatedAlerts": 0,
//	  "status": "firing",
//	  "receiver": "sms",
//	  "groupLabels": {"alertname": "ProbeFailure"},
//	  "commonLabels": {"alertname": "ProbeFailure", "severity": "critical"},
//	  "commonAnnotations": {"summary": "BlackBox Probe Failure: https://server.example.org"},
//	  "externalURL": "http://alertmanager.example.org:9093",
//	  "notification_reason": "first notification",
//	  "routeLabels": {},
//	  "alerts": [{
//	    "status": "firing",
//	    "labels": {"alertname": "ProbeFailure", "instance": "https://server.example.org", "severity": "critical"},
//	    "annotations": {"summary": "BlackBox Probe Failure: https://server.example.org"},
//	    "startsAt": "2023-02-06T13:08:45.828Z",
//	    "endsAt": "0001-01-01T00:00:00Z",
//	    "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1",
//	    "fingerprint": "1a30ba71cca2921f"
//	  }]
//	}
//
// Mapping: fingerprint is the sender's (recomputed from the labels, the way
// Alertmanager computes it, when empty); group key is groupKey; summary is
// the summary annotation, else description, else message (older
// kube-prometheus and Mimir rules use it), else the alertname label, else
// the fingerprint; severity comes from the severity label (missing or
// unknown: error, with the raw word in details["severity_raw"]); service
// from the service label. Unknown fields are ignored: Alertmanager adds
// fields now and then.

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertgate/alertgate"
)

type alertmanagerReceiver struct {
	common
}

// amEnvelope is the part of the body around the alerts, shared by
// Alertmanager and Grafana.
type amEnvelope struct {
	Version            string `json:"version"`
	GroupKey           string `json:"groupKey"`
	TruncatedAlerts    int64  `json:"truncatedAlerts"`
	Receiver           string `json:"receiver"`
	ExternalURL        string `json:"externalURL"`
	NotificationReason string `json:"notification_reason"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

type amMessage struct {
	amEnvelope
	Alerts []amAlert `json:"alerts"`
}

func (r *alertmanagerReceiver) Parse(_ context.Context, req Request) (alertgate.Batch, error) {
	m, err := decodeAlertmanager(req.Body)
	if err != nil {
		return alertgate.Batch{}, err
	}
	if m.Version != "4" {
		return alertgate.Batch{}, alertgate.FieldErrorf("version", "want \"4\" (Alertmanager webhook payload), got %q", alertgate.Truncate(m.Version, 32))
	}
	b, err := m.amEnvelope.batch(len(m.Alerts), m.Alerts == nil)
	if err != nil {
		return b, err
	}
	for i := range m.Alerts {
		a, err := m.amEnvelope.alert(&m.Alerts[i].amAlert, elemPath("alerts", i), "alertmanager")
		if err != nil {
			return alertgate.Batch{}, err
		}
		b.Alerts = append(b.Alerts, a)
	}
	if err := r.finish(&b, alertPath); err != nil {
		return alertgate.Batch{}, err
	}
	return b, nil
}

// decodeAlertmanager decodes a body with the fast decoder, or, when that
// gives up, with encoding/json (which also names the field of an error).
// Grafana's fields are left empty.
func decodeAlertmanager(body []byte) (grafanaMessage, error) {
	body, kind, err := prepareBody(body)
	if err != nil {
		return grafanaMessage{}, err
	}
	var m grafanaMessage
	if kind == '{' && decodeAMFast(body, &m, false) {
		return m, nil
	}
	var am amMessage
	if err := decodeAlerts(body, &am, func() any { return new(amAlert) }); err != nil {
		return grafanaMessage{}, err
	}
	m = grafanaMessage{amEnvelope: am.amEnvelope}
	if am.Alerts != nil {
		m.Alerts = make([]grafanaAlert, len(am.Alerts))
		for i := range am.Alerts {
			m.Alerts[i].amAlert = am.Alerts[i]
		}
	}
	return m, nil
}

func alertPath(i int) string { return elemPath("alerts", i) }

// batch checks the envelope and starts the batch.
func (e *amEnvelope) batch(n int, missing bool) (alertgate.Batch, error) {
	if missing {
		return alertgate.Batch{}, alertgate.FieldErrorf("alerts", "missing, want an array (may be empty)")
	}
	if e.TruncatedAlerts < 0 {
		return alertgate.Batch{}, alertgate.FieldErrorf("truncatedAlerts", "must not be negative, got %d", e.TruncatedAlerts)
	}
	t := e.TruncatedAlerts
	if t > 1<<31-1 {
		t = 1<<31 - 1
	}
	return alertgate.Batch{Alerts: make([]alertgate.Alert, 0, n), Truncated: int(t)}, nil
}

// decodeAlerts decodes a body whose alerts sit in "alerts". encoding/json
// does not say which element of an array held a value of the wrong type, so
// on such an error the elements are decoded one by one to name it.
func decodeAlerts(body []byte, v any, elem func() any) error {
	body, kind, err := prepareBody(body)
	if err != nil {
		return err
	}
	if err := wantObject(kind); err != nil {
		return err
	}
	err = json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		var raw struct {
			Alerts []json.RawMessage `json:"alerts"`
		}
		if json.Unmarshal(body, &raw) == nil {
			for i, r := range raw.Alerts {
				if err := json.Unmarshal(r, elem()); err != nil {
					return jsonError(err, elemPath("alerts", i))
				}
			}
		}
	}
	return jsonError(err, "")
}

// alert maps one Alertmanager-shaped alert. path names it in errors
// ("alerts[3]"); system names the sender in the externalURL link.
func (e *amEnvelope) alert(in *amAlert, path, system string) (alertgate.Alert, error) {
	var a alertgate.Alert
	switch in.Status {
	case "firing":
		a.Status = alertgate.Firing
	case "resolved":
		a.Status = alertgate.Resolved
	default:
		return a, alertgate.FieldErrorf(path+".status", "want firing or resolved, got %q", alertgate.Truncate(in.Status, 64))
	}
	if err := checkLabels(in.Labels, path+".labels"); err != nil {
		return a, err
	}
	switch fp := in.Fingerprint; {
	case len(fp) > alertgate.MaxFingerprintLen:
		return a, alertgate.FieldErrorf(path+".fingerprint", "longer than %d bytes", alertgate.MaxFingerprintLen)
	case strings.TrimSpace(fp) != "":
		a.Fingerprint = fp
	case len(in.Labels) == 0:
		return a, alertgate.FieldErrorf(path+".fingerprint", "empty, and no labels to compute one from")
	default:
		a.Fingerprint = labelsFingerprint(in.Labels)
	}
	truncateValues(in.Labels, alertgate.MaxLabelValueLen)
	a.Labels = in.Labels
	if err := checkAnnotations(in.Annotations, path+".annotations"); err != nil {
		return a, err
	}
	a.Annotations = in.Annotations

	var err error
	if a.StartsAt, err = parseTime(in.StartsAt, path+".startsAt"); err != nil {
		return a, err
	}
	if a.EndsAt, err = parseTime(in.EndsAt, path+".endsAt"); err != nil {
		return a, err
	}
	if a.Status == alertgate.Firing && !a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt) {
		return a, alertgate.FieldErrorf(path+".endsAt", "before startsAt on a firing alert")
	}

	a.Details = make(map[string]string, 4)
	a.Severity = severityOf(in.Labels["severity"], a.Details)
	a.Summary = summary(in.Annotations["summary"], in.Annotations["description"], in.Annotations["message"], in.Labels["alertname"], a.Fingerprint)
	a.Service = alertgate.Truncate(strings.TrimSpace(in.Labels["service"]), maxServiceLen)
	a.GroupKey = groupKey(e.GroupKey)
	setDetail(a.Details, "external_url", e.ExternalURL)
	setDetail(a.Details, "receiver", e.Receiver)
	setDetail(a.Details, "notification_reason", e.NotificationReason)
	a.Links = addLink(a.Links, in.GeneratorURL, "source")
	a.Links = addLink(a.Links, e.ExternalURL, system)
	return a, nil
}

// checkLabels enforces the label limits that truncation cannot fix.
func checkLabels(labels map[string]string, path string) error {
	if len(labels) > alertgate.MaxLabels {
		return alertgate.FieldErrorf(path, "%d labels, more than %d", len(labels), alertgate.MaxLabels)
	}
	for k := range labels {
		if k == "" {
			return alertgate.FieldErrorf(path, "empty label name")
		}
		if len(k) > alertgate.MaxLabelNameLen {
			return alertgate.FieldErrorf(path, "label name %q… longer than %d bytes", alertgate.Truncate(k, 32), alertgate.MaxLabelNameLen)
		}
	}
	return nil
}

// checkAnnotations bounds annotations and truncates their values.
func checkAnnotations(ann map[string]string, path string) error {
	if len(ann) > alertgate.MaxLabels {
		return alertgate.FieldErrorf(path, "%d annotations, more than %d", len(ann), alertgate.MaxLabels)
	}
	for k := range ann {
		if len(k) > alertgate.MaxLabelNameLen {
			return alertgate.FieldErrorf(path, "annotation name %q… longer than %d bytes", alertgate.Truncate(k, 32), alertgate.MaxLabelNameLen)
		}
	}
	truncateValues(ann, alertgate.MaxAnnotationLen)
	return nil
}

func truncateValues(m map[string]string, n int) {
	for k, v := range m {
		if len(v) > n {
			m[k] = alertgate.Truncate(v, n)
		}
	}
}

// parseTime reads an RFC 3339 time. Empty and Go's zero time
// ("0001-01-01T00:00:00Z", what Alertmanager sends for a firing alert's
// endsAt) mean no time. Times are kept in UTC.
func parseTime(s, path string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, alertgate.FieldErrorf(path, "not an RFC 3339 time: %q", alertgate.Truncate(s, 64))
	}
	if t.IsZero() {
		return time.Time{}, nil
	}
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, alertgate.FieldErrorf(path, "year %d out of range", y)
	}
	return t, nil
}

// labelsFingerprint computes Alertmanager's alert fingerprint as
// Alertmanager does: the label set's model.Fingerprint, written as 16
// lowercase hex digits.
func labelsFingerprint(labels map[string]string) string {
	ls := make(model.LabelSet, len(labels))
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}
