package receivers

// A reflection-free decoder for Alertmanager and Grafana bodies, the
// gateway's hot path (Alertmanager re-sends whole groups every
// group_interval). It fills the same structs as encoding/json and gives up
// (ok == false) on anything it does not handle exactly as encoding/json
// would: a syntax or type error, a key that matches a field only
// case-insensitively, a repeated "alerts" key, nesting deeper than
// fastMaxDepth. The caller then decodes with encoding/json, which either
// gives the same result or the error message naming the field.
// TestFastDecoderMatchesEncodingJSON and FuzzFastDecoder hold it to that;
// TestFastDecoderKnowsEveryField fails when a field is added to those
// structs (or their JSON tags change) without teaching it to this decoder
// and to the key lists below.

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

const fastMaxDepth = 1000

type fastDec struct {
	s     string
	i     int
	depth int
}

// decodeAMFast decodes a prepared body (see prepareBody) into m; grafana
// also reads Grafana's extra fields.
func decodeAMFast(body []byte, m *grafanaMessage, grafana bool) bool {
	d := fastDec{s: string(body)}
	seenAlerts := false
	ok := d.object(func(key string) bool {
		switch key {
		case "version":
			return d.stringInto(&m.Version)
		case "groupKey":
			return d.stringInto(&m.GroupKey)
		case "truncatedAlerts":
			return d.int64Into(&m.TruncatedAlerts)
		case "receiver":
			return d.stringInto(&m.Receiver)
		case "externalURL":
			return d.stringInto(&m.ExternalURL)
		case "notification_reason":
			return d.stringInto(&m.NotificationReason)
		case "alerts":
			if seenAlerts {
				return false
			}
			seenAlerts = true
			return d.alerts(&m.Alerts, grafana)
		}
		if grafana {
			if key == "orgId" {
				return d.rawInto(&m.OrgID)
			}
			return !foldsTo(key, envelopeKeys, grafanaEnvelopeKeys) && d.skip()
		}
		return !foldsTo(key, envelopeKeys, nil) && d.skip()
	})
	if !ok {
		return false
	}
	d.ws()
	return d.i == len(d.s)
}

var (
	envelopeKeys        = []string{"version", "groupKey", "truncatedAlerts", "receiver", "externalURL", "notification_reason", "alerts"}
	grafanaEnvelopeKeys = []string{"orgId"}
	alertKeys           = []string{"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}
	grafanaAlertKeys    = []string{"silenceURL", "dashboardURL", "panelURL", "imageURL", "values", "orgId", "ruleUID"}
)

// foldsTo reports whether an unknown key could still match a field the way
// encoding/json matches keys: case-insensitively, with Unicode folding.
// Non-ASCII keys are assumed to (the slow path decides).
func foldsTo(key string, a, b []string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] >= 0x80 {
			return true
		}
	}
	for _, k := range a {
		if len(k) == len(key) && strings.EqualFold(k, key) {
			return true
		}
	}
	for _, k := range b {
		if len(k) == len(key) && strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

func (d *fastDec) alerts(dst *[]grafanaAlert, grafana bool) bool {
	if d.peek() == 'n' {
		*dst = nil
		return d.lit("null")
	}
	// One "fingerprint" key per alert is a good guess at the count.
	alerts := make([]grafanaAlert, 0, min(max(strings.Count(d.s[d.i:], `"fingerprint"`), 1), 1024))
	ok := d.array(func() bool {
		alerts = append(alerts, grafanaAlert{})
		return d.alert(&alerts[len(alerts)-1], grafana)
	})
	*dst = alerts
	return ok
}

func (d *fastDec) alert(a *grafanaAlert, grafana bool) bool {
	return d.object(func(key string) bool {
		switch key {
		case "status":
			return d.stringInto(&a.Status)
		case "labels":
			return d.mapInto(&a.Labels)
		case "annotations":
			return d.mapInto(&a.Annotations)
		case "startsAt":
			return d.stringInto(&a.StartsAt)
		case "endsAt":
			return d.stringInto(&a.EndsAt)
		case "generatorURL":
			return d.stringInto(&a.GeneratorURL)
		case "fingerprint":
			return d.stringInto(&a.Fingerprint)
		}
		if !grafana {
			return !foldsTo(key, alertKeys, nil) && d.skip()
		}
		switch key {
		case "silenceURL":
			return d.stringInto(&a.SilenceURL)
		case "dashboardURL":
			return d.stringInto(&a.DashboardURL)
		case "panelURL":
			return d.stringInto(&a.PanelURL)
		case "imageURL":
			return d.stringInto(&a.ImageURL)
		case "ruleUID":
			return d.stringInto(&a.RuleUID)
		case "orgId":
			return d.rawInto(&a.OrgID)
		case "values":
			return d.rawMapInto(&a.Values)
		}
		return !foldsTo(key, alertKeys, grafanaAlertKeys) && d.skip()
	})
}

func (d *fastDec) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (d *fastDec) peek() byte {
	d.ws()
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

func (d *fastDec) consume(c byte) bool {
	if d.peek() == c {
		d.i++
		return true
	}
	return false
}

func (d *fastDec) lit(w string) bool {
	if strings.HasPrefix(d.s[d.i:], w) {
		d.i += len(w)
		return true
	}
	return false
}

// str reads a string. Strings without escapes are sliced from the body;
// those with escapes (Alertmanager writes & as \u0026) are unescaped.
func (d *fastDec) str() (string, bool) {
	if d.peek() != '"' {
		return "", false
	}
	start := d.i + 1
	for j := start; j < len(d.s); j++ {
		switch c := d.s[j]; {
		case c == '"':
			d.i = j + 1
			return d.s[start:j], true
		case c == '\\':
			return d.escaped(start, j)
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

func (d *fastDec) escaped(start, j int) (string, bool) {
	for j < len(d.s) {
		switch c := d.s[j]; {
		case c == '\\':
			j += 2
		case c == '"':
			out, ok := unescape(d.s[start:j])
			d.i = j + 1
			return out, ok
		case c < 0x20:
			return "", false
		default:
			j++
		}
	}
	return "", false
}

// unescape decodes the inside of a JSON string that holds escapes, exactly
// as encoding/json does: a \u escape of a lone surrogate becomes U+FFFD.
func unescape(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			if c < 0x20 {
				return "", false
			}
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		switch s[i+1] {
		case '"', '\\', '/':
			b = append(b, s[i+1])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(s, i)
			if r < 0 {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if dec := utf16.DecodeRune(r, hex4(s, i)); dec != unicode.ReplacementChar {
					r = dec
					i += 6
				} else {
					r = unicode.ReplacementChar
				}
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return string(b), true
}

// hex4 reads the \uXXXX escape at s[i:], or returns -1.
func hex4(s string, i int) rune {
	if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range []byte(s[i+2 : i+6]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// number reads a number literal, checking JSON's grammar.
func (d *fastDec) number() (string, bool) {
	d.ws()
	s, j := d.s, d.i
	digits := func() bool {
		k := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case !digits():
		return "", false
	}
	if j < len(s) && s[j] == '.' {
		j++
		if !digits() {
			return "", false
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if !digits() {
			return "", false
		}
	}
	n := s[d.i:j]
	d.i = j
	return n, true
}

// skip passes over one value of any kind, checking its syntax.
func (d *fastDec) skip() bool {
	switch d.peek() {
	case '"':
		_, ok := d.str()
		return ok
	case '{':
		return d.object(func(string) bool { return d.skip() })
	case '[':
		return d.array(d.skip)
	case 't':
		return d.lit("true")
	case 'f':
		return d.lit("false")
	case 'n':
		return d.lit("null")
	}
	_, ok := d.number()
	return ok
}

func (d *fastDec) object(member func(key string) bool) bool {
	if !d.consume('{') {
		return false
	}
	if d.depth++; d.depth > fastMaxDepth {
		return false
	}
	if d.consume('}') {
		d.depth--
		return true
	}
	for {
		k, ok := d.str()
		if !ok || !d.consume(':') || !member(k) {
			return false
		}
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			d.depth--
			return true
		}
		return false
	}
}

func (d *fastDec) array(elem func() bool) bool {
	if !d.consume('[') {
		return false
	}
	if d.depth++; d.depth > fastMaxDepth {
		return false
	}
	if d.consume(']') {
		d.depth--
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			d.depth--
			return true
		}
		return false
	}
}

// stringInto sets *dst; null leaves it as it is (as encoding/json does).
func (d *fastDec) stringInto(dst *string) bool {
	if d.peek() == 'n' {
		return d.lit("null")
	}
	s, ok := d.str()
	if ok {
		*dst = s
	}
	return ok
}

func (d *fastDec) int64Into(dst *int64) bool {
	if d.peek() == 'n' {
		return d.lit("null")
	}
	lit, ok := d.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return false
	}
	*dst = n
	return true
}

// mapInto decodes an object of strings. Like encoding/json, null sets the
// map to nil, a repeated key adds to the map, a null value is "".
func (d *fastDec) mapInto(dst *map[string]string) bool {
	if d.peek() == 'n' {
		*dst = nil
		return d.lit("null")
	}
	if *dst == nil {
		*dst = make(map[string]string, 8)
	}
	m := *dst
	return d.object(func(k string) bool {
		if d.peek() == 'n' {
			m[k] = ""
			return d.lit("null")
		}
		v, ok := d.str()
		m[k] = v
		return ok
	})
}

// rawInto keeps one value's text, as json.RawMessage does.
func (d *fastDec) rawInto(dst *json.RawMessage) bool {
	d.ws()
	start := d.i
	if !d.skip() {
		return false
	}
	*dst = json.RawMessage(d.s[start:d.i])
	return true
}

func (d *fastDec) rawMapInto(dst *map[string]json.RawMessage) bool {
	if d.peek() == 'n' {
		*dst = nil
		return d.lit("null")
	}
	if *dst == nil {
		*dst = make(map[string]json.RawMessage, 4)
	}
	m := *dst
	return d.object(func(k string) bool {
		var raw json.RawMessage
		if !d.rawInto(&raw) {
			return false
		}
		m[k] = raw
		return true
	})
}
