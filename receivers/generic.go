package receivers

// Generic JSON: any sender that can POST JSON, mapped by the integration's
// config.GenericMapping. With this mapping
//
//	generic:
//	  alerts: events
//	  dedup_key: id
//	  summary: title
//	  severity: level
//	  status: state
//	  resolved_values: [ok, resolved]
//	  labels: {host: source.host}
//	  labels_from: tags
//	  annotations: {runbook: runbook_url}
//	  group_key: check
//	  link: url
//
// this body gives two alerts:
//
//	{
//	  "events": [
//	    {"id": "disk-full-db1", "title": "Disk /var is 97% full on db1",
//	     "level": "critical", "state": "alerting", "check": "disk",
//	     "source": {"host": "db1.example.com"},
//	     "tags": {"env": "prod", "team": "dba", "cores": 8, "nested": {"skipped": true}},
//	     "runbook_url": "https://runbooks.example.com/disk", "url": "https://checks.example.com/disk-full-db1"},
//	    {"id": 42, "title": "Backup finished late", "level": "P3", "state": "OK", "check": "backup"}
//	  ]
//	}
//
// Mapping: the dedup key is required (numbers and booleans are written as
// text) and becomes the fingerprint; status is resolved when its value
// equals one of resolved_values (case-insensitive), firing otherwise or
// when missing; severity words go through alertgate.ParseSeverity (unknown
// or missing: error, with the raw word in details["severity_raw"]);
// labels_from gives every scalar member of an object as a label (nested
// values are skipped) and labels, which win, one label per path; service
// is the "service" label. Summary falls back to the alertname label, then
// the dedup key. When the integration has a signature configured, the body
// must carry a valid X-Alertgate-Signature (see verify.go).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

type genericReceiver struct {
	common
	verify *verifier

	alerts      *mappedPath // nil: the body is one alert
	dedupKey    mappedPath
	summary     *mappedPath
	severity    *mappedPath
	status      *mappedPath
	resolved    []string
	labels      []namedPath // sorted by name
	labelsFrom  *mappedPath
	annotations []namedPath
	groupKey    *mappedPath
	link        *mappedPath
}

// mappedPath is a parsed path and how error messages name it.
type mappedPath struct {
	p    config.Path
	name string // "" for the root
}

type namedPath struct {
	name string
	mappedPath
}

func parseMapped(field, s string) (*mappedPath, error) {
	if s == "" {
		return nil, nil
	}
	p, err := config.ParsePath(s)
	if err != nil {
		return nil, fmt.Errorf("generic.%s: %w", field, err)
	}
	mp := &mappedPath{p: p}
	if !p.IsRoot() {
		mp.name = p.String()
	}
	return mp, nil
}

func newGeneric(c common) (*genericReceiver, error) {
	m := c.in.Generic
	if m == nil {
		return nil, errors.New("generic: mapping missing")
	}
	if m.DedupKey == "" {
		return nil, errors.New("generic.dedup_key: required")
	}
	r := &genericReceiver{common: c}
	var err error
	if r.verify, err = newVerifier(c.in.Signature, config.DefaultGenericSignatureHeader); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		dst   **mappedPath
		field string
		path  string
	}{
		{&r.alerts, "alerts", m.Alerts},
		{&r.summary, "summary", m.Summary},
		{&r.severity, "severity", m.Severity},
		{&r.status, "status", m.Status},
		{&r.labelsFrom, "labels_from", m.LabelsFrom},
		{&r.groupKey, "group_key", m.GroupKey},
		{&r.link, "link", m.Link},
	} {
		if *f.dst, err = parseMapped(f.field, f.path); err != nil {
			return nil, err
		}
	}
	dk, err := parseMapped("dedup_key", m.DedupKey)
	if err != nil {
		return nil, err
	}
	r.dedupKey = *dk
	for _, v := range m.ResolvedValues {
		r.resolved = append(r.resolved, strings.TrimSpace(v))
	}
	// The names and their number were checked by config.Validate.
	named := func(field string, m map[string]string) ([]namedPath, error) {
		var out []namedPath
		for name, s := range m {
			mp, err := parseMapped(field+"."+name, s)
			if err != nil {
				return nil, err
			}
			if mp == nil {
				return nil, fmt.Errorf("generic.%s.%s: empty path", field, name)
			}
			out = append(out, namedPath{name: name, mappedPath: *mp})
		}
		slices.SortFunc(out, func(a, b namedPath) int { return strings.Compare(a.name, b.name) })
		return out, nil
	}
	if r.labels, err = named("labels", m.Labels); err != nil {
		return nil, err
	}
	if r.annotations, err = named("annotations", m.Annotations); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *genericReceiver) Parse(_ context.Context, req Request) (alertgate.Batch, error) {
	if err := r.verify.check(req); err != nil {
		return alertgate.Batch{}, err
	}
	// The body is an object unless the alerts path starts at an array.
	object := r.alerts == nil || !(r.alerts.p.IsRoot() || strings.HasPrefix(r.alerts.name, "["))
	doc, err := decodeAny(req.Body, object)
	if err != nil {
		return alertgate.Batch{}, err
	}
	if r.alerts == nil {
		b := alertgate.Batch{Alerts: make([]alertgate.Alert, 1)}
		if b.Alerts[0], err = r.alert(doc, ""); err != nil {
			return alertgate.Batch{}, err
		}
		if err := r.finish(&b, func(int) string { return "" }); err != nil {
			return alertgate.Batch{}, err
		}
		return b, nil
	}
	v, ok := r.alerts.p.Lookup(doc)
	arr, isArray := v.([]any)
	switch {
	case !ok || v == nil:
		return alertgate.Batch{}, alertgate.FieldErrorf(nameOr(r.alerts.name), "missing, want an array of alerts")
	case !isArray:
		return alertgate.Batch{}, alertgate.FieldErrorf(nameOr(r.alerts.name), "want an array of alerts, got %s", anyKind(v))
	}
	b := alertgate.Batch{Alerts: make([]alertgate.Alert, len(arr))}
	path := func(i int) string { return elemPath(r.alerts.name, i) }
	for i, el := range arr {
		if b.Alerts[i], err = r.alert(el, path(i)); err != nil {
			return alertgate.Batch{}, err
		}
	}
	if err := r.finish(&b, path); err != nil {
		return alertgate.Batch{}, err
	}
	return b, nil
}

func nameOr(name string) string {
	if name == "" {
		return "body"
	}
	return name
}

// decodeAny decodes a body into an any, numbers as json.Number.
func decodeAny(body []byte, object bool) (any, error) {
	body, kind, err := prepareBody(body)
	if err != nil {
		return nil, err
	}
	if object {
		if err := wantObject(kind); err != nil {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, alertgate.FieldErrorf("body", "invalid JSON at byte %d: unexpected end of JSON input", len(body))
		}
		return nil, jsonError(err, "")
	}
	for off := int(dec.InputOffset()); off < len(body); off++ {
		if !isSpace(body[off]) {
			return nil, alertgate.FieldErrorf("body", "invalid JSON at byte %d: data after the top-level value", off+1)
		}
	}
	return doc, nil
}

// alert maps one alert value; path names it in errors ("" for the body).
func (r *genericReceiver) alert(el any, path string) (alertgate.Alert, error) {
	var a alertgate.Alert
	field := func(mp *mappedPath) string {
		if f := join(path, mp.name); f != "" {
			return f
		}
		return "body"
	}

	dk, found := r.dedupKey.p.Lookup(el)
	s, scalar := scalarString(dk)
	switch {
	case !found || dk == nil:
		if _, isObject := el.(map[string]any); !isObject && path != "" {
			return a, alertgate.FieldErrorf(path, "want an object, got %s", anyKind(el))
		}
		return a, alertgate.FieldErrorf(field(&r.dedupKey), "missing (the dedup key is required)")
	case !scalar:
		return a, alertgate.FieldErrorf(field(&r.dedupKey), "want a string, number or boolean, got %s", anyKind(dk))
	case strings.TrimSpace(s) == "":
		return a, alertgate.FieldErrorf(field(&r.dedupKey), "empty (the dedup key is required)")
	case len(s) > alertgate.MaxFingerprintLen:
		return a, alertgate.FieldErrorf(field(&r.dedupKey), "longer than %d bytes", alertgate.MaxFingerprintLen)
	}
	a.Fingerprint = s

	a.Status = alertgate.Firing
	if st, ok := r.lookupString(r.status, el); ok {
		st = strings.TrimSpace(st)
		for _, v := range r.resolved {
			if strings.EqualFold(st, v) {
				a.Status = alertgate.Resolved
				break
			}
		}
	}

	a.Labels = make(map[string]string, len(r.labels)+4)
	if r.labelsFrom != nil {
		if err := labelsFrom(r.labelsFrom, el, field(r.labelsFrom), a.Labels); err != nil {
			return a, err
		}
	}
	for _, l := range r.labels {
		if v, ok := r.lookupString(&l.mappedPath, el); ok {
			a.Labels[l.name] = alertgate.Truncate(v, alertgate.MaxLabelValueLen)
		}
	}
	if len(a.Labels) > alertgate.MaxLabels {
		return a, alertgate.FieldErrorf(nameOr(path), "%d labels, more than %d", len(a.Labels), alertgate.MaxLabels)
	}

	for _, an := range r.annotations {
		v, ok := an.p.Lookup(el)
		if !ok || v == nil {
			continue
		}
		s, scalar := scalarString(v)
		if !scalar {
			b, err := json.Marshal(v)
			if err != nil {
				continue
			}
			s = string(b)
		}
		if a.Annotations == nil {
			a.Annotations = make(map[string]string, len(r.annotations))
		}
		a.Annotations[an.name] = alertgate.Truncate(s, alertgate.MaxAnnotationLen)
	}

	a.Details = make(map[string]string, 1)
	sev, _ := r.lookupString(r.severity, el)
	a.Severity = severityOf(sev, a.Details)
	sum, _ := r.lookupString(r.summary, el)
	a.Summary = summary(sum, a.Labels["alertname"], a.Fingerprint)
	a.Service = alertgate.Truncate(strings.TrimSpace(a.Labels["service"]), maxServiceLen)
	if gk, ok := r.lookupString(r.groupKey, el); ok {
		a.GroupKey = groupKey(gk)
	}
	if link, ok := r.lookupString(r.link, el); ok {
		a.Links = addLink(a.Links, link, "source")
	}
	return a, nil
}

// lookupString finds a scalar at mp (nil: not mapped).
func (r *genericReceiver) lookupString(mp *mappedPath, el any) (string, bool) {
	if mp == nil {
		return "", false
	}
	v, ok := mp.p.Lookup(el)
	if !ok {
		return "", false
	}
	return scalarString(v)
}

// labelsFrom adds every scalar member of the object at mp as a label.
func labelsFrom(mp *mappedPath, el any, field string, labels map[string]string) error {
	v, ok := mp.p.Lookup(el)
	if !ok || v == nil {
		return nil
	}
	obj, isObject := v.(map[string]any)
	if !isObject {
		return alertgate.FieldErrorf(field, "want an object, got %s", anyKind(v))
	}
	if len(obj) > alertgate.MaxLabels {
		return alertgate.FieldErrorf(field, "%d members, more than %d labels", len(obj), alertgate.MaxLabels)
	}
	for k, v := range obj {
		s, scalar := scalarString(v)
		if !scalar || k == "" {
			continue
		}
		if len(k) > alertgate.MaxLabelNameLen {
			return alertgate.FieldErrorf(field, "label name %q… longer than %d bytes", alertgate.Truncate(k, 32), alertgate.MaxLabelNameLen)
		}
		labels[k] = alertgate.Truncate(s, alertgate.MaxLabelValueLen)
	}
	return nil
}

// scalarString writes a string, number or boolean as text; ok is false for
// null, objects and arrays.
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

func anyKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "another type"
}
