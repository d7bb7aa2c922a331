package receivers

// Datadog Webhooks integration. Datadog's body is whatever the operator
// writes in the webhook's payload template, so alertgate documents the one
// to use (also in datadog_payload.json, which the README points to):
//
//	{
//	  "id": "$ID",
//	  "alert_id": "$ALERT_ID",
//	  "transition": "$ALERT_TRANSITION",
//	  "aggreg_key": "$AGGREG_KEY",
//	  "alert_cycle_key": "$ALERT_CYCLE_KEY",
//	  "title": "$EVENT_TITLE",
//	  "alert_title": "$ALERT_TITLE",
//	  "message": "$TEXT_ONLY_MSG",
//	  "priority": "$ALERT_PRIORITY",
//	  "alert_type": "$ALERT_TYPE",
//	  "scope": "$ALERT_SCOPE",
//	  "tags": "$TAGS",
//	  "hostname": "$HOSTNAME",
//	  "link": "$LINK",
//	  "snapshot": "$SNAPSHOT",
//	  "date": "$DATE",
//	  "org_id": "$ORG_ID",
//	  "event_type": "$EVENT_TYPE"
//	}
//
// A delivery as Datadog expands it:
//
//	{"id": "7386412835620462051", "alert_id": "154786455",
//	 "transition": "Triggered", "aggreg_key": "9bd4ac313a4d1e8fae2482df7b77628",
//	 "alert_cycle_key": "7386412835620462051",
//	 "title": "[Triggered on {host:web-1}] CPU high on web",
//	 "alert_title": "[Triggered on {host:web-1}] CPU high on web", …,
//	 "priority": "P2", "alert_type": "error", "scope": "host:web-1",
//	 "tags": "env:prod,service:web,team:sre,monitor", "date": "1759343824000", …}
//
// The body may also be a JSON array of such objects.
//
// Mapping:
//   - transition Triggered, Re-Triggered, Warn, Re-Warn, No Data,
//     Re-No Data and Renotify fire; Recovered resolves (case-insensitive);
//     anything else is rejected naming "transition".
//   - fingerprint is alert_cycle_key: one trigger→recovery cycle of one
//     monitor group is one alert, the next cycle a new one. Without it,
//     aggreg_key + "/" + a hash of the scope, else alert_id + "/" + that
//     hash. A value still holding an unexpanded "$VARIABLE" counts as
//     missing, in every field.
//   - group key is aggreg_key, else alert_id.
//   - labels come from tags, then scope (scope wins on conflicts): "k:v"
//     gives label k=v (several values of one key are joined with ","); a
//     bare tag "k" gives label k="true" unless a "k:v" tag sets k. Then
//     alertname is the alert title without Datadog's "[Triggered on …]" /
//     "[P1]" prefixes (so it is the same for every transition), and host is
//     hostname.
//   - severity: priority P1 critical, P2 error, P3 warning, P4/P5 info; else
//     alert_type error → error, warning → warning, info/success → info;
//     else error.
//   - summary is alert_title, else title; link and snapshot become links;
//     date (epoch milliseconds) is starts_at of a firing alert and ends_at of
//     a resolved one. id, alert_id, date and org_id may be JSON numbers.

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
)

type datadogReceiver struct {
	common
}

// ddValue is a Datadog template value: normally a string, but a template
// may leave a variable unquoted, so numbers, booleans and null are taken
// too. Objects and arrays are rejected.
type ddValue struct {
	s   string
	num bool // it was a JSON number; s is its literal text
}

var stringType = reflect.TypeFor[string]()

func (v *ddValue) UnmarshalJSON(b []byte) error {
	switch rawKind(b) {
	case '"':
		return json.Unmarshal(b, &v.s)
	case 'n':
		*v = ddValue{}
	case 't', 'f':
		v.s = string(b)
	case '0':
		v.s, v.num = string(b), true
	case '{':
		return &json.UnmarshalTypeError{Value: "object", Type: stringType}
	default:
		return &json.UnmarshalTypeError{Value: "array", Type: stringType}
	}
	return nil
}

// text is the value, trimmed, with an unexpanded template variable
// ("$ALERT_TITLE", "$TAGS[service]") counting as empty.
func (v ddValue) text() string {
	s := strings.TrimSpace(v.s)
	if unexpanded(s) {
		return ""
	}
	return s
}

// key is text for identifiers: anything starting with "$" is unexpanded.
func (v ddValue) key() string {
	s := strings.TrimSpace(v.s)
	if strings.HasPrefix(s, "$") {
		return ""
	}
	return s
}

// unexpanded reports whether s is a bare Datadog template variable.
func unexpanded(s string) bool {
	if len(s) < 2 || s[0] != '$' {
		return false
	}
	name := s[1:]
	if i := strings.IndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") {
		name = name[:i]
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

type ddEvent struct {
	ID            ddValue `json:"id"`
	EventID       ddValue `json:"event_id"` // alias of id
	AlertID       ddValue `json:"alert_id"`
	MonitorID     ddValue `json:"monitor_id"` // alias of alert_id
	Transition    ddValue `json:"transition"`
	AggregKey     ddValue `json:"aggreg_key"`
	AlertCycleKey ddValue `json:"alert_cycle_key"`
	Title         ddValue `json:"title"`
	AlertTitle    ddValue `json:"alert_title"`
	Message       ddValue `json:"message"`
	Priority      ddValue `json:"priority"`
	AlertType     ddValue `json:"alert_type"`
	Scope         ddValue `json:"scope"`
	Tags          ddValue `json:"tags"`
	Hostname      ddValue `json:"hostname"`
	Link          ddValue `json:"link"`
	Snapshot      ddValue `json:"snapshot"`
	Date          ddValue `json:"date"`
	OrgID         ddValue `json:"org_id"`
	EventType     ddValue `json:"event_type"`
}

func (r *datadogReceiver) Parse(_ context.Context, req Request) (alertgate.Batch, error) {
	events, array, err := decodeDatadog(req.Body)
	if err != nil {
		return alertgate.Batch{}, err
	}
	path := func(i int) string {
		if array {
			return elemPath("", i)
		}
		return ""
	}
	b := alertgate.Batch{Alerts: make([]alertgate.Alert, 0, len(events))}
	for i := range events {
		a, err := datadogAlert(&events[i], path(i))
		if err != nil {
			return alertgate.Batch{}, err
		}
		b.Alerts = append(b.Alerts, a)
	}
	if err := r.finish(&b, path); err != nil {
		return alertgate.Batch{}, err
	}
	return b, nil
}

// decodeDatadog reads one event object or a non-empty array of them.
func decodeDatadog(body []byte) (events []ddEvent, array bool, err error) {
	body, kind, err := prepareBody(body)
	if err != nil {
		return nil, false, err
	}
	switch kind {
	case '{':
		events = make([]ddEvent, 1)
		if err := json.Unmarshal(body, &events[0]); err != nil {
			return nil, false, jsonError(err, "")
		}
		return events, false, nil
	case '[':
		if err := json.Unmarshal(body, &events); err != nil {
			var syn *json.SyntaxError
			if !errors.As(err, &syn) {
				// Name the element: decode them one by one.
				var raw []json.RawMessage
				if json.Unmarshal(body, &raw) == nil {
					for i, r := range raw {
						if rawKind(r) != '{' {
							return nil, true, alertgate.FieldErrorf(elemPath("", i), "want an object, got %s", kindName(rawKind(r)))
						}
						var ev ddEvent
						if err := json.Unmarshal(r, &ev); err != nil {
							return nil, true, jsonError(err, elemPath("", i))
						}
					}
				}
			}
			return nil, true, jsonError(err, "")
		}
		if len(events) == 0 {
			return nil, true, alertgate.FieldErrorf("body", "empty array, want at least one Datadog event")
		}
		return events, true, nil
	}
	return nil, false, alertgate.FieldErrorf("body", "must be a JSON object (or an array of objects), got %s", kindName(kind))
}

var ddFiring = map[string]bool{
	"triggered": true, "re-triggered": true, "warn": true, "re-warn": true,
	"no data": true, "re-no data": true, "renotify": true,
}

func datadogAlert(ev *ddEvent, path string) (alertgate.Alert, error) {
	var a alertgate.Alert
	tr := ev.Transition.text()
	switch lt := strings.ToLower(tr); {
	case ddFiring[lt]:
		a.Status = alertgate.Firing
	case lt == "recovered":
		a.Status = alertgate.Resolved
	case tr == "" && strings.TrimSpace(ev.Transition.s) == "":
		return a, alertgate.FieldErrorf(join(path, "transition"), `missing: the webhook payload needs "transition": "$ALERT_TRANSITION" (see datadog_payload.json)`)
	case tr == "":
		return a, alertgate.FieldErrorf(join(path, "transition"), "%q was not expanded by Datadog: only monitor notifications can be received", alertgate.Truncate(ev.Transition.s, 64))
	default:
		return a, alertgate.FieldErrorf(join(path, "transition"), "want Triggered, Re-Triggered, Warn, Re-Warn, No Data, Re-No Data, Renotify or Recovered, got %q", alertgate.Truncate(tr, 64))
	}

	id, err := ddID(ev.ID, ev.EventID, join(path, "id"))
	if err != nil {
		return a, err
	}
	alertID, err := ddID(ev.AlertID, ev.MonitorID, join(path, "alert_id"))
	if err != nil {
		return a, err
	}
	orgID, err := ddID(ev.OrgID, ddValue{}, join(path, "org_id"))
	if err != nil {
		return a, err
	}
	scope := ev.Scope.text()
	cycle, aggreg := ev.AlertCycleKey.key(), ev.AggregKey.key()
	var fpField string
	switch {
	case cycle != "":
		a.Fingerprint, fpField = cycle, "alert_cycle_key"
	case aggreg != "":
		a.Fingerprint, fpField = aggreg+"/"+scopeHash(scope), "aggreg_key"
	case alertID != "":
		a.Fingerprint, fpField = alertID+"/"+scopeHash(scope), "alert_id"
	default:
		return a, alertgate.FieldErrorf(join(path, "alert_cycle_key"), `missing, and no aggreg_key or alert_id to fall back on: the webhook payload needs "alert_cycle_key": "$ALERT_CYCLE_KEY"`)
	}
	if len(a.Fingerprint) > alertgate.MaxFingerprintLen {
		return a, alertgate.FieldErrorf(join(path, fpField), "too long: the fingerprint made from it would exceed %d bytes", alertgate.MaxFingerprintLen)
	}
	if aggreg != "" {
		a.GroupKey = groupKey(aggreg)
	} else {
		a.GroupKey = groupKey(alertID)
	}

	labels, err := parseTags(ev.Tags.text(), join(path, "tags"))
	if err != nil {
		return a, err
	}
	scopeLabels, err := parseTags(scope, join(path, "scope"))
	if err != nil {
		return a, err
	}
	for k, v := range scopeLabels {
		labels[k] = v
	}
	title := ev.AlertTitle.text()
	if title == "" {
		title = ev.Title.text()
	}
	if name := stripTitlePrefix(title); name != "" {
		labels["alertname"] = alertgate.Truncate(name, alertgate.MaxLabelValueLen)
	}
	if host := ev.Hostname.text(); host != "" {
		labels["host"] = alertgate.Truncate(host, alertgate.MaxLabelValueLen)
	}
	if len(labels) > alertgate.MaxLabels {
		return a, alertgate.FieldErrorf(join(path, "tags"), "%d labels, more than %d", len(labels), alertgate.MaxLabels)
	}
	a.Labels = labels
	a.Service = alertgate.Truncate(labels["service"], maxServiceLen)

	priority, alertType := ev.Priority.text(), ev.AlertType.text()
	a.Severity = ddSeverity(priority, alertType)
	a.Summary = summary(title, monitorSummary(alertID), a.Fingerprint)

	when, err := ddDate(ev.Date, join(path, "date"))
	if err != nil {
		return a, err
	}
	if a.Status == alertgate.Firing {
		a.StartsAt = when
	} else {
		a.EndsAt = when
	}

	a.Details = make(map[string]string, 10)
	setDetail(a.Details, "event_id", id)
	setDetail(a.Details, "alert_id", alertID)
	setDetail(a.Details, "transition", tr)
	setDetail(a.Details, "event_type", ev.EventType.text())
	setDetail(a.Details, "org_id", orgID)
	setDetail(a.Details, "priority", priority)
	setDetail(a.Details, "alert_type", alertType)
	setDetail(a.Details, "scope", scope)
	setDetail(a.Details, "tags", ev.Tags.text())
	setDetail(a.Details, "message", ev.Message.text())
	a.Links = addLink(a.Links, ev.Link.text(), "datadog")
	a.Links = addLink(a.Links, ev.Snapshot.text(), "snapshot")
	return a, nil
}

func monitorSummary(alertID string) string {
	if alertID == "" {
		return ""
	}
	return "Datadog monitor " + alertID
}

// ddID reads an identifier: any string, or an integer JSON number.
func ddID(v, alias ddValue, field string) (string, error) {
	if v.s == "" {
		v = alias
	}
	s := v.key()
	if v.num {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return "", alertgate.FieldErrorf(field, "want an integer or a string, got number %s", alertgate.Truncate(s, 32))
			}
		}
	}
	return s, nil
}

// maxEpochMillis is 9999-12-31T23:59:59.999Z.
const maxEpochMillis = 253402300799999

// ddDate reads $DATE, epoch milliseconds, as a string or a number.
func ddDate(v ddValue, field string) (time.Time, error) {
	s := v.key()
	if s == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
			return time.Time{}, alertgate.FieldErrorf(field, "want epoch milliseconds, got %q", alertgate.Truncate(s, 32))
		}
		if f < 0 || f > maxEpochMillis {
			return time.Time{}, alertgate.FieldErrorf(field, "epoch milliseconds %s out of range", alertgate.Truncate(s, 32))
		}
		ms = int64(f)
	}
	if ms <= 0 || ms > maxEpochMillis {
		return time.Time{}, alertgate.FieldErrorf(field, "epoch milliseconds %s out of range", alertgate.Truncate(s, 32))
	}
	return time.UnixMilli(ms).UTC(), nil
}

func ddSeverity(priority, alertType string) alertgate.Severity {
	switch strings.ToUpper(priority) {
	case "P1":
		return alertgate.SeverityCritical
	case "P2":
		return alertgate.SeverityError
	case "P3":
		return alertgate.SeverityWarning
	case "P4", "P5":
		return alertgate.SeverityInfo
	}
	switch strings.ToLower(alertType) {
	case "error":
		return alertgate.SeverityError
	case "warning":
		return alertgate.SeverityWarning
	case "info", "success":
		return alertgate.SeverityInfo
	}
	return alertgate.SeverityError
}

// parseTags reads Datadog's comma-separated tags ("env:prod, role:db,
// canary") into labels: "k:v" sets k=v (values of a repeated key joined
// with ","), a bare "k" sets k="true" unless a "k:v" tag sets k.
func parseTags(s, field string) (map[string]string, error) {
	labels := make(map[string]string)
	if s == "" {
		return labels, nil
	}
	var bare []string
	for part := range strings.SplitSeq(s, ",") {
		k, v, hasValue := strings.Cut(strings.TrimSpace(part), ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" || k == "*" {
			continue
		}
		if len(k) > alertgate.MaxLabelNameLen {
			return nil, alertgate.FieldErrorf(field, "tag name %q… longer than %d bytes", alertgate.Truncate(k, 32), alertgate.MaxLabelNameLen)
		}
		if !hasValue {
			bare = append(bare, k)
			continue
		}
		if old, ok := labels[k]; ok {
			if !slices.Contains(strings.Split(old, ","), v) {
				labels[k] = alertgate.Truncate(old+","+v, alertgate.MaxLabelValueLen)
			}
			continue
		}
		if len(labels) >= alertgate.MaxLabels {
			return nil, alertgate.FieldErrorf(field, "more than %d tags", alertgate.MaxLabels)
		}
		labels[k] = alertgate.Truncate(v, alertgate.MaxLabelValueLen)
	}
	for _, k := range bare {
		if _, ok := labels[k]; !ok {
			if len(labels) >= alertgate.MaxLabels {
				return nil, alertgate.FieldErrorf(field, "more than %d tags", alertgate.MaxLabels)
			}
			labels[k] = "true"
		}
	}
	return labels, nil
}

// scopeHash identifies a monitor group by its scope tags, whatever their
// order and spacing.
func scopeHash(scope string) string {
	parts := strings.Split(scope, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
	slices.Sort(parts)
	return sha256Hex(strings.Join(parts, ","))[:16]
}

// stripTitlePrefix drops the "[Triggered on {host:web-1}]", "[Recovered]"
// and "[P2]" prefixes Datadog puts before a monitor's name, so the name is
// the same for every transition.
func stripTitlePrefix(title string) string {
	s := title
	for range 3 {
		if !strings.HasPrefix(s, "[") {
			break
		}
		end := strings.IndexByte(s, ']')
		if end < 0 {
			break
		}
		inner := strings.ToLower(s[1:end])
		if !isPriorityTag(inner) && !hasTransitionPrefix(inner) {
			break
		}
		s = strings.TrimSpace(s[end+1:])
	}
	if s == "" {
		return title
	}
	return s
}

func isPriorityTag(s string) bool {
	return len(s) == 2 && s[0] == 'p' && s[1] >= '1' && s[1] <= '5'
}

func hasTransitionPrefix(s string) bool {
	for _, t := range []string{"re-triggered", "triggered", "recovered", "re-warn", "warn", "re-no data", "no data", "renotify"} {
		if s == t || strings.HasPrefix(s, t+" ") {
			return true
		}
	}
	return false
}
