// Package alertgate holds the vocabulary every other package shares: the
// canonical Alert that receivers produce, the Incident that dedupe opens, and
// the error codes that the HTTP layer maps to status codes in one place.
//
// It depends on nothing but the standard library, so every package can import
// it without creating cycles.
package alertgate

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// AlertStatus is what the sender says about one alert.
type AlertStatus string

const (
	Firing   AlertStatus = "firing"
	Resolved AlertStatus = "resolved"
)

// Severity follows PagerDuty's four levels, which every sender maps onto.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeverityError    Severity = "error"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// Severities lists every severity, worst first.
var Severities = []Severity{SeverityCritical, SeverityError, SeverityWarning, SeverityInfo}

// Rank orders severities: higher is worse. Unknown severities rank lowest.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// ParseSeverity maps the many words senders use onto the four levels.
// ok is false when the word means nothing we know.
func ParseSeverity(s string) (sev Severity, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "crit", "fatal", "emergency", "emerg", "alert", "page", "p1", "high", "disaster", "sev1", "sev-1":
		return SeverityCritical, true
	case "error", "err", "major", "p2", "sev2", "sev-2":
		return SeverityError, true
	case "warning", "warn", "minor", "p3", "medium", "average", "sev3", "sev-3":
		return SeverityWarning, true
	case "info", "informational", "information", "notice", "ok", "low", "p4", "p5", "none", "debug", "sev4", "sev-4", "sev5":
		return SeverityInfo, true
	}
	return "", false
}

// Link is a URL a sender attached to an alert (runbook, graph, dashboard).
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Alert is the canonical form of one alert, whatever sent it. Receivers
// produce it; dedupe stores it.
type Alert struct {
	// Fingerprint identifies the alert within its integration: the sender's
	// own fingerprint or dedup key when it has one, else a hash of the labels.
	Fingerprint string      `json:"fingerprint"`
	Status      AlertStatus `json:"status"`
	// Source is the integration that received the alert.
	Source      string            `json:"source"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Summary     string            `json:"summary"`
	Severity    Severity          `json:"severity"`
	Service     string            `json:"service,omitempty"`
	StartsAt    time.Time         `json:"starts_at,omitzero"`
	EndsAt      time.Time         `json:"ends_at,omitzero"`
	Links       []Link            `json:"links,omitempty"`
	// GroupKey is the sender's own grouping (Alertmanager's groupKey,
	// Datadog's aggregation key), used when a route has no group_by.
	GroupKey string `json:"group_key,omitempty"`
	// Details keeps sender fields worth showing that have no field of their
	// own (externalURL, monitor id, Grafana values, …).
	Details map[string]string `json:"details,omitempty"`
}

// Key is the alert's identity across integrations.
func (a *Alert) Key() string { return a.Source + "/" + a.Fingerprint }

// Limits on what one alert may carry. They keep a single hostile payload
// from filling Redis; they are far above what real senders produce.
const (
	MaxFingerprintLen = 255 // PagerDuty's dedup_key limit
	MaxSummaryLen     = 1024
	MaxLabels         = 256
	MaxLabelNameLen   = 256
	MaxLabelValueLen  = 4096
	MaxAnnotationLen  = 64 << 10
	MaxLinks          = 32
)

// Validate reports the first problem that makes the alert unusable. Receivers
// call it on everything they produce, so dedupe can trust its input.
func (a *Alert) Validate() error {
	switch {
	case a.Fingerprint == "":
		return Errorf(EINVALID, "fingerprint: must not be empty")
	case len(a.Fingerprint) > MaxFingerprintLen:
		return Errorf(EINVALID, "fingerprint: longer than %d bytes", MaxFingerprintLen)
	case a.Status != Firing && a.Status != Resolved:
		return Errorf(EINVALID, "status: %q is neither firing nor resolved", a.Status)
	case a.Source == "":
		return Errorf(EINVALID, "source: must not be empty")
	case a.Severity.Rank() == 0:
		return Errorf(EINVALID, "severity: %q is not one of critical, error, warning, info", a.Severity)
	case len(a.Summary) > MaxSummaryLen:
		return Errorf(EINVALID, "summary: longer than %d bytes", MaxSummaryLen)
	case len(a.Labels) > MaxLabels:
		return Errorf(EINVALID, "labels: more than %d", MaxLabels)
	case len(a.Links) > MaxLinks:
		return Errorf(EINVALID, "links: more than %d", MaxLinks)
	}
	for _, s := range []string{a.Fingerprint, a.Summary, a.GroupKey, a.Service} {
		if !utf8.ValidString(s) {
			return Errorf(EINVALID, "alert: invalid UTF-8")
		}
	}
	for k, v := range a.Labels {
		if k == "" {
			return Errorf(EINVALID, "labels: empty label name")
		}
		if len(k) > MaxLabelNameLen || len(v) > MaxLabelValueLen {
			return Errorf(EINVALID, "labels.%s: too long", truncate(k, 64))
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return Errorf(EINVALID, "labels: invalid UTF-8")
		}
	}
	for k, v := range a.Annotations {
		if len(k) > MaxLabelNameLen || len(v) > MaxAnnotationLen {
			return Errorf(EINVALID, "annotations.%s: too long", truncate(k, 64))
		}
	}
	if !a.EndsAt.IsZero() && !a.StartsAt.IsZero() && a.EndsAt.Before(a.StartsAt) && a.Status == Firing {
		return Errorf(EINVALID, "ends_at: before starts_at")
	}
	return nil
}

// Batch is what one delivery from a sender carries.
type Batch struct {
	Alerts []Alert
	// Acknowledge lists fingerprints the sender acknowledged (PagerDuty
	// event_action=acknowledge); their incidents are acknowledged.
	Acknowledge []string
	// Truncated counts alerts the sender dropped before sending
	// (Alertmanager's truncatedAlerts).
	Truncated int
}

// Truncate shortens s to at most n bytes without splitting a UTF-8 sequence.
func Truncate(s string, n int) string { return truncate(s, n) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// String is for logs.
func (a *Alert) String() string {
	return fmt.Sprintf("%s/%s[%s]", a.Source, a.Fingerprint, a.Status)
}
