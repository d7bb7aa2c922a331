package main

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Payload layout. Request k goes to group g = k % groups and is that
// group's round r = k / groups. Each group has its own sequence of alert
// slots; slot j of group g is the alert with global number n = j*groups + g,
// labels {alertname: Load<g>, instance: i-<n>, severity: warning}. A firing
// round takes the next batch of slots of its group, so with no -alerts limit
// no alert is ever sent twice. With -alerts N the slots of group g wrap
// around after the group's share of the N alerts.
//
// A resolving round (chosen per group, evenly spread: a fraction f of every
// group's rounds) resolves the alerts of the group's latest firing round
// before it, so resolves hit alerts that exist; a group whose first round
// resolves resolves alerts never fired.

// Fixed alert times: every run sends byte-identical bodies for the same
// flags, so repeated runs exercise the duplicate path predictably.
const (
	startsAt     = "2026-01-01T00:00:00Z"
	resolvedAt   = "2026-01-01T00:05:00Z"
	zeroTime     = "0001-01-01T00:00:00Z" // Alertmanager's endsAt of a firing alert
	externalURL  = "http://alertgate-load.invalid"
	generatorURL = "http://alertgate-load.invalid/graph?g0.expr=load"
	severity     = "warning"
)

// fractionScale is the precision of -resolve: the fraction is kept as an
// integer number of millionths so round selection is exact arithmetic.
const fractionScale = 1_000_000

// payloadSpec says what the bodies contain.
type payloadSpec struct {
	Batch   int     // alerts per request, ≥ 1
	Groups  int     // distinct groups, ≥ 1
	Alerts  int     // distinct alerts cycled through; 0: never repeat one
	Resolve float64 // fraction of requests that resolve, 0..1
}

func (s payloadSpec) validate() error {
	switch {
	case s.Batch < 1:
		return fmt.Errorf("-batch must be at least 1")
	case s.Groups < 1:
		return fmt.Errorf("-groups must be at least 1")
	case s.Alerts < 0:
		return fmt.Errorf("-alerts must not be negative")
	case s.Alerts > 0 && s.Alerts/s.Groups < s.Batch:
		// Each group needs at least a batch of its own alerts, or one
		// request would carry the same alert twice.
		return fmt.Errorf("-alerts %d is too small: need at least -batch × -groups = %d so that no request repeats an alert", s.Alerts, s.Batch*s.Groups)
	case !(s.Resolve >= 0 && s.Resolve <= 1): // also rejects NaN
		return fmt.Errorf("-resolve must be a fraction from 0 to 1")
	}
	return nil
}

// payloads renders request bodies. It is read-only after newPayloads, so
// any number of goroutines may call appendBody at once.
type payloads struct {
	spec        payloadSpec
	resolvePPM  int64 // Resolve in millionths
	firingHead  [][]byte
	resolveHead [][]byte
	groupName   []string
}

// amEnvelope is the group part of an Alertmanager v4 notification. Field
// order follows Alertmanager's; the alerts array is appended by hand.
type amEnvelope struct {
	Version            string            `json:"version"`
	GroupKey           string            `json:"groupKey"`
	TruncatedAlerts    int               `json:"truncatedAlerts"`
	Status             string            `json:"status"`
	Receiver           string            `json:"receiver"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	ExternalURL        string            `json:"externalURL"`
	NotificationReason string            `json:"notification_reason"`
	RouteLabels        map[string]string `json:"routeLabels"`
}

func newPayloads(spec payloadSpec) (*payloads, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	p := &payloads{
		spec:        spec,
		resolvePPM:  int64(spec.Resolve*fractionScale + 0.5),
		firingHead:  make([][]byte, spec.Groups),
		resolveHead: make([][]byte, spec.Groups),
		groupName:   make([]string, spec.Groups),
	}
	for g := range spec.Groups {
		name := "Load" + strconv.Itoa(g)
		p.groupName[g] = name
		for _, resolved := range []bool{false, true} {
			env := amEnvelope{
				Version:            "4",
				GroupKey:           `{}:{alertname="` + name + `"}`,
				Status:             "firing",
				Receiver:           "alertgate-load",
				GroupLabels:        map[string]string{"alertname": name},
				CommonLabels:       map[string]string{"alertname": name, "severity": severity},
				CommonAnnotations:  map[string]string{},
				ExternalURL:        externalURL,
				NotificationReason: "new alerts added",
				RouteLabels:        map[string]string{},
			}
			if resolved {
				env.Status = "resolved"
				env.NotificationReason = "all alerts resolved"
			}
			b, err := json.Marshal(env)
			if err != nil {
				return nil, err
			}
			// Reopen the object: drop "}" and start the alerts array.
			head := append(b[:len(b)-1], `,"alerts":[`...)
			if resolved {
				p.resolveHead[g] = head
			} else {
				p.firingHead[g] = head
			}
		}
	}
	return p, nil
}

// isResolving reports whether round r of a group resolves. Exactly
// floor(r × f) of the rounds before r resolve, spread evenly.
func (p *payloads) isResolving(r int64) bool {
	return (r+1)*p.resolvePPM/fractionScale > r*p.resolvePPM/fractionScale
}

// request describes request k: its group, whether it resolves, and the
// first of its Batch consecutive alert slots in the group.
func (p *payloads) request(k int64) (group int, resolving bool, firstSlot int64) {
	groups := int64(p.spec.Groups)
	g, r := k%groups, k/groups
	batch := int64(p.spec.Batch)
	// Firing rounds before r: r minus the resolving ones.
	firing := r - r*p.resolvePPM/fractionScale
	if !p.isResolving(r) {
		return int(g), false, firing * batch
	}
	if firing == 0 {
		// Nothing fired yet in this group: resolve slots of our own.
		return int(g), true, r * batch
	}
	return int(g), true, (firing - 1) * batch
}

// alertNumber maps slot j of group g to the global alert number.
func (p *payloads) alertNumber(g int, j int64) int64 {
	groups := int64(p.spec.Groups)
	if p.spec.Alerts > 0 {
		// Alerts n < Alerts with n % groups == g.
		perGroup := (int64(p.spec.Alerts) - int64(g) + groups - 1) / groups
		j %= perGroup
	}
	return j*groups + int64(g)
}

// appendBody appends the body of request k to dst.
func (p *payloads) appendBody(dst []byte, k int64) []byte {
	g, resolving, first := p.request(k)
	name := p.groupName[g]
	status, endsAt := "firing", zeroTime
	if resolving {
		status, endsAt = "resolved", resolvedAt
		dst = append(dst, p.resolveHead[g]...)
	} else {
		dst = append(dst, p.firingHead[g]...)
	}
	var inst [24]byte
	for i := range int64(p.spec.Batch) {
		if i > 0 {
			dst = append(dst, ',')
		}
		// Every string below is ASCII letters, digits, '-', ':' and '.', so
		// none needs JSON escaping.
		instance := append(inst[:0], "i-"...)
		instance = strconv.AppendInt(instance, p.alertNumber(g, first+i), 10)
		dst = append(dst, `{"status":"`...)
		dst = append(dst, status...)
		dst = append(dst, `","labels":{"alertname":"`...)
		dst = append(dst, name...)
		dst = append(dst, `","instance":"`...)
		dst = append(dst, instance...)
		dst = append(dst, `","severity":"`+severity+`"},"annotations":{"summary":"load alert `...)
		dst = append(dst, instance...)
		dst = append(dst, `"},"startsAt":"`+startsAt+`","endsAt":"`...)
		dst = append(dst, endsAt...)
		dst = append(dst, `","generatorURL":"`+generatorURL+`","fingerprint":"`...)
		dst = appendHex16(dst, alertFingerprint(name, instance))
		dst = append(dst, `"}`...)
	}
	return append(dst, "]}"...)
}

// FNV-1a, 64 bit.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// alertFingerprint hashes the generator's label set the way Alertmanager
// fingerprints labels: FNV-1a 64 over each label name and value in name
// order, each followed by the byte 0xff. The labels are always exactly
// alertname, instance and severity, which is already name order.
func alertFingerprint(alertname string, instance []byte) uint64 {
	h := uint64(fnvOffset64)
	h = fnvString(h, "alertname")
	h = fnvString(h, alertname)
	h = fnvString(h, "instance")
	for _, c := range instance {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	h ^= 0xff
	h *= fnvPrime64
	h = fnvString(h, "severity")
	return fnvString(h, severity)
}

// fnvString adds s and the separator 0xff to h.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	h ^= 0xff
	h *= fnvPrime64
	return h
}

func appendHex16(dst []byte, h uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, digits[(h>>uint(shift))&0xf])
	}
	return dst
}
