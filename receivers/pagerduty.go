package receivers

// PagerDuty Events API v2 (POST /v2/enqueue). Any tool that can page
// PagerDuty can page alertgate by changing one URL; the routing_key picks
// the integration (see Registry.ByRoutingKey).
//
//	{
//	  "routing_key": "<32-char integration key>",
//	  "event_action": "trigger",
//	  "dedup_key": "srv01/HTTP",
//	  "payload": {
//	    "summary": "Example alert on host1.example.com",
//	    "source": "host1.example.com",
//	    "severity": "critical",
//	    "timestamp": "2015-07-17T08:42:58.315+0000",
//	    "component": "postgres", "group": "prod-datapipe", "class": "deploy",
//	    "custom_details": {"ping time": "1500ms", "load avg": 0.75}
//	  },
//	  "images": [{"src": "https://example.com/graph.png", "href": "https://example.com/", "alt": "graph"}],
//	  "links": [{"href": "https://example.com/", "text": "Runbook"}],
//	  "client": "Alert Gateway", "client_url": "https://gateway.example.com"
//	}
//
//	{"routing_key": "...", "dedup_key": "srv01/HTTP", "event_action": "acknowledge"}
//	{"routing_key": "...", "dedup_key": "srv01/HTTP", "event_action": "resolve"}
//
// Validation follows PagerDuty's: event_action is required and one of
// trigger, acknowledge, resolve; dedup_key is at most 255 characters and
// required for acknowledge and resolve; a trigger needs payload.summary (at
// most 1024 characters: longer is rejected, as PagerDuty does),
// payload.source and payload.severity (critical, error, warning or info).
// A trigger without dedup_key gets a random one, returned to the sender.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// PagerDuty event actions.
const (
	PagerDutyTrigger     = "trigger"
	PagerDutyAcknowledge = "acknowledge"
	PagerDutyResolve     = "resolve"
)

// pdMaxSummary is PagerDuty's limit on payload.summary, in characters.
const pdMaxSummary = 1024

// PagerDutyEvent is one validated Events API v2 event.
type PagerDutyEvent struct {
	RoutingKey string
	// EventAction is PagerDutyTrigger, PagerDutyAcknowledge or
	// PagerDutyResolve.
	EventAction string
	// DedupKey is the sender's, or a generated one for a trigger that had
	// none (then DedupKeyGenerated is true). Answer it to the sender.
	DedupKey          string
	DedupKeyGenerated bool
	// Payload is set for triggers only.
	Payload PagerDutyPayload
	// Links holds links[], then images[] and client_url (http and https
	// URLs only).
	Links  []alertgate.Link
	Client string
}

// PagerDutyPayload is a trigger's payload.
type PagerDutyPayload struct {
	Summary  string
	Source   string
	Severity alertgate.Severity
	// Timestamp is payload.timestamp, or the time the event was received.
	Timestamp time.Time
	Component string
	Group     string
	Class     string
	// CustomDetails is custom_details flattened one level: string values
	// as they are, other values as compact JSON. A custom_details that is
	// not an object is kept under the key "custom_details".
	CustomDetails map[string]string
}

// PagerDutyResponse is the body PagerDuty answers; the HTTP layer sends the
// same so PagerDuty clients understand us.
type PagerDutyResponse struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// PagerDutyAccepted is the 202 answer to an accepted event.
func PagerDutyAccepted(dedupKey string) PagerDutyResponse {
	return PagerDutyResponse{Status: "success", Message: "Event processed", DedupKey: dedupKey}
}

// PagerDutyInvalid is the 400 answer to an invalid event.
func PagerDutyInvalid(errs ...string) PagerDutyResponse {
	return PagerDutyResponse{Status: "invalid event", Message: "Event object is invalid", Errors: errs}
}

// PagerDutyRoutingKey reads only the routing_key of an event body, so the
// HTTP layer can pick the integration before parsing the event.
func PagerDutyRoutingKey(body []byte) (string, error) {
	var m struct {
		RoutingKey string `json:"routing_key"`
	}
	if err := decodeObject(body, &m); err != nil {
		return "", err
	}
	if m.RoutingKey == "" {
		return "", alertgate.FieldErrorf("routing_key", "missing")
	}
	return m.RoutingKey, nil
}

type pdWire struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"`
	DedupKey    string            `json:"dedup_key"`
	Payload     *pdWirePayload    `json:"payload"`
	Images      []json.RawMessage `json:"images"`
	Links       []json.RawMessage `json:"links"`
	Client      string            `json:"client"`
	ClientURL   string            `json:"client_url"`
}

type pdWirePayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group"`
	Class         string          `json:"class"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

// ParsePagerDuty decodes and validates one Events API v2 event. now is the
// timestamp of a trigger that carries none.
func ParsePagerDuty(body []byte, now time.Time) (PagerDutyEvent, error) {
	var w pdWire
	if err := decodeObject(body, &w); err != nil {
		return PagerDutyEvent{}, err
	}
	ev := PagerDutyEvent{RoutingKey: w.RoutingKey, EventAction: w.EventAction, DedupKey: w.DedupKey}
	if w.RoutingKey == "" {
		return ev, alertgate.FieldErrorf("routing_key", "missing")
	}
	switch w.EventAction {
	case PagerDutyTrigger, PagerDutyAcknowledge, PagerDutyResolve:
	case "":
		return ev, alertgate.FieldErrorf("event_action", "missing, want trigger, acknowledge or resolve")
	default:
		return ev, alertgate.FieldErrorf("event_action", "want trigger, acknowledge or resolve, got %q", alertgate.Truncate(w.EventAction, 32))
	}
	if len(w.DedupKey) > alertgate.MaxFingerprintLen {
		return ev, alertgate.FieldErrorf("dedup_key", "longer than %d characters", alertgate.MaxFingerprintLen)
	}
	if w.EventAction != PagerDutyTrigger {
		if w.DedupKey == "" {
			return ev, alertgate.FieldErrorf("dedup_key", "required for event_action %s", w.EventAction)
		}
		return ev, nil
	}

	p := w.Payload
	if p == nil {
		return ev, alertgate.FieldErrorf("payload", "missing, required for event_action trigger")
	}
	switch {
	case strings.TrimSpace(p.Summary) == "":
		return ev, alertgate.FieldErrorf("payload.summary", "missing")
	case utf8.RuneCountInString(p.Summary) > pdMaxSummary:
		return ev, alertgate.FieldErrorf("payload.summary", "longer than %d characters", pdMaxSummary)
	case strings.TrimSpace(p.Source) == "":
		return ev, alertgate.FieldErrorf("payload.source", "missing")
	}
	switch p.Severity {
	case "critical", "error", "warning", "info":
		ev.Payload.Severity = alertgate.Severity(p.Severity)
	case "":
		return ev, alertgate.FieldErrorf("payload.severity", "missing, want critical, error, warning or info")
	default:
		return ev, alertgate.FieldErrorf("payload.severity", "want critical, error, warning or info, got %q", alertgate.Truncate(p.Severity, 32))
	}
	ts, err := parsePagerDutyTime(p.Timestamp)
	if err != nil {
		return ev, err
	}
	if ts.IsZero() {
		ts = now.UTC()
	}
	ev.Payload.Summary = p.Summary
	ev.Payload.Source = p.Source
	ev.Payload.Timestamp = ts
	ev.Payload.Component = p.Component
	ev.Payload.Group = p.Group
	ev.Payload.Class = p.Class
	if ev.Payload.CustomDetails, err = flattenDetails(p.CustomDetails); err != nil {
		return ev, err
	}
	if ev.Links, err = pdLinks(&w); err != nil {
		return ev, err
	}
	ev.Client = w.Client
	if ev.DedupKey == "" {
		ev.DedupKey, ev.DedupKeyGenerated = newDedupKey(), true
	}
	return ev, nil
}

// newDedupKey returns 32 random hex digits.
func newDedupKey() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

// parsePagerDutyTime reads payload.timestamp: ISO 8601 with a "Z", "+07:00",
// "+0700" or "+07" zone, or no zone (UTC). Empty is zero.
func parsePagerDutyTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{
		time.RFC3339,
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05Z07",
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05Z0700",
		"2006-01-02 15:04:05",
	} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t = t.UTC()
		if y := t.Year(); y < 1 || y > 9999 {
			return time.Time{}, alertgate.FieldErrorf("payload.timestamp", "year %d out of range", y)
		}
		return t, nil
	}
	return time.Time{}, alertgate.FieldErrorf("payload.timestamp", "not an ISO 8601 time: %q", alertgate.Truncate(s, 64))
}

// flattenDetails turns custom_details into string details.
func flattenDetails(raw json.RawMessage) (map[string]string, error) {
	details := make(map[string]string)
	switch rawKind(raw) {
	case 0, 'n':
		return details, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, jsonError(err, "payload.custom_details")
		}
		setDetail(details, "custom_details", s)
		return details, nil
	case '{':
	default:
		setDetail(details, "custom_details", compactJSON(raw))
		return details, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, jsonError(err, "payload.custom_details")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // which keys survive the bound must not depend on map order
	for _, k := range keys {
		if len(details) >= maxDetails {
			break
		}
		v := m[k]
		if rawKind(v) == 'n' {
			continue
		}
		k = alertgate.Truncate(k, alertgate.MaxLabelNameLen)
		if rawKind(v) == '"' {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, jsonError(err, "payload.custom_details")
			}
			setDetail(details, k, s)
			continue
		}
		setDetail(details, k, compactJSON(v))
	}
	return details, nil
}

func compactJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}

// pdLinks collects links[], images[] and client_url.
func pdLinks(w *pdWire) ([]alertgate.Link, error) {
	var links []alertgate.Link
	for i, raw := range w.Links {
		var l struct {
			Href string `json:"href"`
			Text string `json:"text"`
		}
		if err := pdElem(raw, &l, elemPath("links", i)); err != nil {
			return nil, err
		}
		links = addLink(links, l.Href, l.Text)
	}
	for i, raw := range w.Images {
		var img struct {
			Src  string `json:"src"`
			Href string `json:"href"`
			Alt  string `json:"alt"`
		}
		if err := pdElem(raw, &img, elemPath("images", i)); err != nil {
			return nil, err
		}
		text := img.Alt
		if text == "" {
			text = "image"
		}
		links = addLink(links, img.Src, text)
	}
	text := w.Client
	if text == "" {
		text = "client"
	}
	return addLink(links, w.ClientURL, text), nil
}

// pdElem decodes one element of links[] or images[]; null is skipped.
func pdElem(raw json.RawMessage, v any, path string) error {
	switch rawKind(raw) {
	case 'n':
		return nil
	case '{':
		return jsonError(json.Unmarshal(raw, v), path)
	}
	return alertgate.FieldErrorf(path, "want an object, got %s", kindName(rawKind(raw)))
}

type pagerDutyReceiver struct {
	common
}

// Parse verifies that the event's routing_key belongs to this integration
// (the HTTP layer normally chose the integration by it) and maps the event:
// a trigger is a firing alert, a resolve a resolved one, an acknowledge
// goes into Batch.Acknowledge.
func (r *pagerDutyReceiver) Parse(_ context.Context, req Request) (alertgate.Batch, error) {
	ev, err := ParsePagerDuty(req.Body, req.Now)
	if err != nil {
		return alertgate.Batch{}, err
	}
	if !config.MatchAny(r.in.RoutingKeys, ev.RoutingKey) {
		return alertgate.Batch{}, unauthorized("routing_key", "not a routing key of integration %q", r.in.Name)
	}
	var b alertgate.Batch
	switch ev.EventAction {
	case PagerDutyAcknowledge:
		b.Acknowledge = []string{ev.DedupKey}
		return b, nil
	case PagerDutyResolve:
		a := alertgate.Alert{
			Fingerprint: ev.DedupKey,
			Status:      alertgate.Resolved,
			Severity:    alertgate.SeverityInfo,
			Summary:     "resolved via PagerDuty Events API",
		}
		if !req.Now.IsZero() {
			a.EndsAt = req.Now.UTC()
		}
		b.Alerts = []alertgate.Alert{a}
	default:
		b.Alerts = []alertgate.Alert{ev.alert()}
	}
	if err := r.finish(&b, func(int) string { return "" }); err != nil {
		return alertgate.Batch{}, err
	}
	return b, nil
}

// alert maps a trigger onto a firing alert.
func (ev *PagerDutyEvent) alert() alertgate.Alert {
	p := &ev.Payload
	labels := make(map[string]string, 4)
	for _, l := range [...]struct{ k, v string }{
		{"source", p.Source}, {"component", p.Component}, {"group", p.Group}, {"class", p.Class},
	} {
		if v := strings.TrimSpace(l.v); v != "" {
			labels[l.k] = alertgate.Truncate(v, alertgate.MaxLabelValueLen)
		}
	}
	return alertgate.Alert{
		Fingerprint: ev.DedupKey,
		Status:      alertgate.Firing,
		Labels:      labels,
		Summary:     alertgate.Truncate(p.Summary, alertgate.MaxSummaryLen),
		Severity:    p.Severity,
		StartsAt:    p.Timestamp,
		Links:       ev.Links,
		Details:     p.CustomDetails,
	}
}
