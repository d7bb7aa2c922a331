package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is a small, independent reader of iCalendar files for the
// tests: a structural validator (validateICS) and a resolver that turns a
// DATE-TIME with TZID into an instant using only the file's VTIMEZONE, not
// Go's zone data, so a wrong offset in a VTIMEZONE shows as a wrong
// instant.

type component struct {
	name     string
	props    []property
	children []*component
}

type property struct {
	name   string
	params map[string]string
	value  string
}

// all returns the properties called name.
func (c *component) all(name string) []property {
	var out []property
	for _, p := range c.props {
		if p.name == name {
			out = append(out, p)
		}
	}
	return out
}

// one returns the only property called name.
func (c *component) one(name string) (property, error) {
	ps := c.all(name)
	if len(ps) != 1 {
		return property{}, fmt.Errorf("%s has %d %s, want 1", c.name, len(ps), name)
	}
	return ps[0], nil
}

func (c *component) sub(name string) []*component {
	var out []*component
	for _, k := range c.children {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

var (
	propName     = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	localTime    = regexp.MustCompile(`^\d{8}T\d{6}$`)
	utcTime      = regexp.MustCompile(`^\d{8}T\d{6}Z$`)
	utcOffset    = regexp.MustCompile(`^[+-]\d{4}(\d{2})?$`)
	textProps    = map[string]bool{"SUMMARY": true, "DESCRIPTION": true, "UID": true, "X-WR-CALNAME": true, "NAME": true, "PRODID": true, "TZNAME": true}
	dateTimeProp = map[string]bool{"DTSTART": true, "DTEND": true, "DTSTAMP": true}
)

// validateICS checks data the way a strict client would and returns the
// parsed VCALENDAR: CRLF line ends only, physical lines of at most 75
// octets that are each valid UTF-8 (so no character was split by
// folding), well-formed content lines, balanced BEGIN/END, the required
// properties of VCALENDAR, VEVENT, VTIMEZONE and its observances, valid
// TEXT escapes, DATE-TIME and UTC-offset syntax, and a VTIMEZONE for every
// TZID referenced.
func validateICS(data []byte) (*component, error) {
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		return nil, errors.New("does not end with CRLF")
	}
	physical := strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n")
	var logical []string
	for i, l := range physical {
		n := i + 1
		if strings.ContainsAny(l, "\r\n") {
			return nil, fmt.Errorf("line %d: bare CR or LF", n)
		}
		if len(l) > 75 {
			return nil, fmt.Errorf("line %d: %d octets, more than 75", n, len(l))
		}
		if !utf8.ValidString(l) {
			return nil, fmt.Errorf("line %d: not valid UTF-8 on its own (a character split by folding?)", n)
		}
		if l == "" {
			return nil, fmt.Errorf("line %d: empty", n)
		}
		if l[0] == ' ' || l[0] == '\t' {
			if len(logical) == 0 {
				return nil, fmt.Errorf("line %d: continuation of nothing", n)
			}
			logical[len(logical)-1] += l[1:]
			continue
		}
		logical = append(logical, l)
	}

	var stack []*component
	var root *component
	uids := map[string]bool{}
	for i, l := range logical {
		p, err := parseLine(l)
		if err != nil {
			return nil, fmt.Errorf("content line %d %q: %w", i+1, l, err)
		}
		if textProps[p.name] {
			if err := checkTextEscapes(p.value); err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
		}
		switch p.name {
		case "BEGIN":
			if root != nil && len(stack) == 0 {
				return nil, fmt.Errorf("BEGIN:%s after the end of the calendar", p.value)
			}
			c := &component{name: p.value}
			if len(stack) == 0 {
				root = c
			} else {
				top := stack[len(stack)-1]
				top.children = append(top.children, c)
			}
			stack = append(stack, c)
		case "END":
			if len(stack) == 0 || stack[len(stack)-1].name != p.value {
				return nil, fmt.Errorf("END:%s does not close the open component", p.value)
			}
			if err := checkComponent(stack[len(stack)-1], uids); err != nil {
				return nil, err
			}
			stack = stack[:len(stack)-1]
		default:
			if len(stack) == 0 {
				return nil, fmt.Errorf("property %s outside any component", p.name)
			}
			top := stack[len(stack)-1]
			top.props = append(top.props, p)
		}
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("%s is never ended", stack[len(stack)-1].name)
	}
	if root == nil || root.name != "VCALENDAR" {
		return nil, errors.New("no VCALENDAR")
	}
	zones := map[string]bool{}
	for _, z := range root.sub("VTIMEZONE") {
		id, _ := z.one("TZID")
		zones[id.value] = true
	}
	for _, e := range root.sub("VEVENT") {
		for _, p := range e.props {
			if id, ok := p.params["TZID"]; ok && !zones[id] {
				return nil, fmt.Errorf("event %s: TZID %q has no VTIMEZONE", e.props[0].value, id)
			}
		}
	}
	return root, nil
}

func parseLine(l string) (property, error) {
	colon := -1
	inQuote := false
	for i, r := range l {
		if r == '"' {
			inQuote = !inQuote
		}
		if r == ':' && !inQuote {
			colon = i
			break
		}
	}
	if colon < 0 {
		return property{}, errors.New("no colon")
	}
	head := strings.Split(l[:colon], ";")
	p := property{name: strings.ToUpper(head[0]), params: map[string]string{}, value: l[colon+1:]}
	if !propName.MatchString(p.name) {
		return property{}, fmt.Errorf("bad property name %q", p.name)
	}
	for _, kv := range head[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !propName.MatchString(k) || v == "" {
			return property{}, fmt.Errorf("bad parameter %q", kv)
		}
		p.params[strings.ToUpper(k)] = v
	}
	for _, r := range p.value {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return property{}, fmt.Errorf("control character %U in value", r)
		}
	}
	return p, nil
}

// checkTextEscapes: in TEXT, "," and ";" are escaped and a backslash
// starts only \\ \; \, \n \N.
func checkTextEscapes(v string) error {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ',', ';':
			return fmt.Errorf("unescaped %q in %q", v[i], v)
		case '\\':
			if i+1 >= len(v) || !strings.ContainsRune(`\;,nN`, rune(v[i+1])) {
				return fmt.Errorf("bad escape in %q", v)
			}
			i++
		}
	}
	return nil
}

func checkComponent(c *component, uids map[string]bool) error {
	for _, p := range c.props {
		if dateTimeProp[p.name] {
			re := utcTime
			if _, ok := p.params["TZID"]; ok {
				re = localTime
			}
			if c.name == "STANDARD" || c.name == "DAYLIGHT" {
				re = localTime // an onset is a local time, RFC 5545 3.6.5
			}
			if p.name == "DTSTAMP" {
				re = utcTime
			}
			if !re.MatchString(p.value) {
				return fmt.Errorf("%s %s: bad DATE-TIME %q", c.name, p.name, p.value)
			}
		}
	}
	need := func(names ...string) error {
		for _, n := range names {
			if _, err := c.one(n); err != nil {
				return err
			}
		}
		return nil
	}
	switch c.name {
	case "VCALENDAR":
		if err := need("VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-TIMEZONE"); err != nil {
			return err
		}
		for name, want := range map[string]string{"VERSION": "2.0", "CALSCALE": "GREGORIAN", "METHOD": "PUBLISH"} {
			if p, _ := c.one(name); p.value != want {
				return fmt.Errorf("%s:%s, want %s", name, p.value, want)
			}
		}
		if len(c.children) == 0 {
			return errors.New("VCALENDAR without components")
		}
	case "VEVENT":
		if err := need("UID", "DTSTAMP", "DTSTART", "DTEND"); err != nil {
			return err
		}
		uid, _ := c.one("UID")
		if uids[uid.value] {
			return fmt.Errorf("UID %q twice", uid.value)
		}
		uids[uid.value] = true
	case "VTIMEZONE":
		if err := need("TZID"); err != nil {
			return err
		}
		if len(c.sub("STANDARD"))+len(c.sub("DAYLIGHT")) == 0 {
			return errors.New("VTIMEZONE without STANDARD or DAYLIGHT")
		}
	case "STANDARD", "DAYLIGHT":
		if err := need("DTSTART", "TZOFFSETFROM", "TZOFFSETTO"); err != nil {
			return err
		}
		for _, n := range []string{"TZOFFSETFROM", "TZOFFSETTO"} {
			p, _ := c.one(n)
			if !utcOffset.MatchString(p.value) || strings.Trim(p.value, "-0") == "" {
				return fmt.Errorf("%s %s: bad UTC offset %q", c.name, n, p.value)
			}
		}
	}
	return nil
}

// parseOffset reads ±hhmm[ss] as seconds.
func parseOffset(s string) int {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	h, _ := strconv.Atoi(s[1:3])
	m, _ := strconv.Atoi(s[3:5])
	sec := 0
	if len(s) == 7 {
		sec, _ = strconv.Atoi(s[5:7])
	}
	return sign * (h*3600 + m*60 + sec)
}

// zoneRule is one observance of a parsed VTIMEZONE.
type zoneRule struct {
	onset time.Time // as an instant
	to    int
	kind  string
	name  string
}

func zoneRules(z *component) []zoneRule {
	var rules []zoneRule
	for _, o := range z.children {
		start, _ := o.one("DTSTART")
		from, _ := o.one("TZOFFSETFROM")
		to, _ := o.one("TZOFFSETTO")
		name, _ := o.one("TZNAME")
		wall, _ := time.Parse(localLayout, start.value)
		rules = append(rules, zoneRule{
			onset: wall.Add(-time.Duration(parseOffset(from.value)) * time.Second),
			to:    parseOffset(to.value),
			kind:  o.name,
			name:  name.value,
		})
	}
	return rules
}

// ruleAt is the observance in force at instant u: the latest onset not
// after it.
func ruleAt(rules []zoneRule, u time.Time) (zoneRule, bool) {
	var best zoneRule
	found := false
	for _, r := range rules {
		if !r.onset.After(u) && (!found || r.onset.After(best.onset)) {
			best, found = r, true
		}
	}
	return best, found
}

// instant is the moment a DTSTART or DTEND names, read with the
// calendar's own VTIMEZONE; a wall time that occurs twice is its first
// occurrence (RFC 5545 3.3.5).
func instant(cal *component, p property) (time.Time, error) {
	if strings.HasSuffix(p.value, "Z") {
		return time.Parse(utcLayout, p.value)
	}
	id, ok := p.params["TZID"]
	if !ok {
		return time.Time{}, fmt.Errorf("%s:%s is a floating time", p.name, p.value)
	}
	wall, err := time.Parse(localLayout, p.value)
	if err != nil {
		return time.Time{}, err
	}
	for _, z := range cal.sub("VTIMEZONE") {
		if tz, _ := z.one("TZID"); tz.value != id {
			continue
		}
		rules := zoneRules(z)
		var first time.Time
		for _, r := range rules {
			u := wall.Add(-time.Duration(r.to) * time.Second)
			if at, ok := ruleAt(rules, u); ok && at.to == r.to && (first.IsZero() || u.Before(first)) {
				first = u
			}
		}
		if first.IsZero() {
			return time.Time{}, fmt.Errorf("%s %s does not exist in %s's VTIMEZONE (or lies before it)", p.name, p.value, id)
		}
		return first, nil
	}
	return time.Time{}, fmt.Errorf("no VTIMEZONE %q", id)
}
