// Package matchers parses and evaluates Alertmanager's label matchers:
// name="value", name!="value", name=~"regexp", name!~"regexp", with
// Alertmanager's quoting and escapes, regular expressions anchored at both
// ends, and a missing label read as the empty string. It is pure.
//
// The syntax is what Alertmanager accepts in its configuration (its
// "fallback" parser: the classic parser's reading wherever that one
// accepts the input, UTF-8 label names where it does not):
//
//	severity="critical"       equal
//	team!=dba                 not equal; the value may be unquoted
//	service=~"api|web"        regular expression, anchored: ^(?:api|web)$
//	env !~ "dev.*"            spaces around the operator are ignored
//	"service.name"="checkout" a label name with reserved characters is quoted
//	{a="b", c=~"d",}          a list: optional braces, commas, a trailing comma
//
// In a quoted value (or name) \" is a double quote, \\ a backslash and \n a
// line feed; any other backslash stays as written, so "\d+" is the regular
// expression \d+. An unquoted value runs to the next comma (or the end),
// trailing spaces trimmed; it must not contain an unescaped double quote.
// docs/routing.md lists the rules and where alertgate is stricter than
// Alertmanager.
package matchers

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Type is a matcher's operator.
type Type int

const (
	Equal     Type = iota // =
	NotEqual              // !=
	Regexp                // =~
	NotRegexp             // !~
)

// String is the operator as written: "=", "!=", "=~" or "!~".
func (t Type) String() string {
	switch t {
	case Equal:
		return "="
	case NotEqual:
		return "!="
	case Regexp:
		return "=~"
	case NotRegexp:
		return "!~"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Matcher is one label matcher. Build it with New or Parse: they compile
// a regular expression once. A Matcher is immutable and safe for
// concurrent use.
type Matcher struct {
	Name  string
	Type  Type
	Value string

	re *regexp.Regexp // Regexp and NotRegexp only
}

// Matchers is a conjunction: all must match.
type Matchers []*Matcher

// Error is a matcher that does not parse or does not compile. Offset is
// the byte in Input where the problem is; Column counts characters from 1.
type Error struct {
	Input  string
	Offset int
	Msg    string
}

// Column is the 1-based character position of the problem in Input.
func (e *Error) Column() int {
	return utf8.RuneCountInString(e.Input[:min(max(e.Offset, 0), len(e.Input))]) + 1
}

func (e *Error) Error() string {
	return fmt.Sprintf("column %d: %s", e.Column(), e.Msg)
}

// Parse reads one matcher, e.g. `severity=~"critical|error"`, `team!=dba`.
// An unquoted value runs to the end of s, commas included, as in
// Alertmanager's classic parser; braces are for lists (ParseSet).
func Parse(s string) (*Matcher, error) {
	p := &parser{in: s}
	start, end := p.trim(0, len(s))
	if start == end {
		return nil, p.fail(start, "empty matcher: want name, operator and value, such as severity=\"critical\"")
	}
	if s[start] == '{' || s[end-1] == '}' {
		return nil, p.fail(start, "braces are for a list of matchers; one matcher is written without them")
	}
	m, next, err := p.matcher(start, end, false)
	if err != nil {
		return nil, err
	}
	if next, _ = p.trim(next, end); next != end {
		return nil, p.fail(next, "unexpected %q after the matcher", s[next:end])
	}
	return m, nil
}

// ParseSet reads a list as amtool and the API accept it:
// `{a="b", c=~"d"}` or `a=b,c=~d`. Braces are optional but must pair; a
// trailing comma is allowed; "" and "{}" are the empty list.
func ParseSet(s string) (Matchers, error) {
	p := &parser{in: s}
	start, end := p.trim(0, len(s))
	switch {
	case start < end && s[start] == '{':
		if end-start < 2 || s[end-1] != '}' {
			return nil, p.fail(end, "missing closing brace \"}\"")
		}
		start, end = start+1, end-1
	case start < end && s[end-1] == '}':
		return nil, p.fail(end-1, "closing brace \"}\" without an opening one")
	}
	ms := Matchers{}
	pos := start
	for {
		pos, _ = p.trim(pos, end)
		if pos == end {
			return ms, nil
		}
		if s[pos] == ',' {
			return nil, p.fail(pos, "empty matcher before the comma")
		}
		m, next, err := p.matcher(pos, end, true)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
		pos, _ = p.trim(next, end)
		switch {
		case pos == end:
			return ms, nil
		case s[pos] == ',':
			pos++
		default:
			return nil, p.fail(pos, "unexpected %q: matchers are separated by commas", s[pos:end])
		}
	}
}

// New makes a matcher, compiling a regular expression. The name must be
// non-empty; name and value must be valid UTF-8. A regular expression is
// anchored at both ends, ^(?:value)$, and must compile on its own too: "a)|(b"
// would otherwise close the group early and escape the anchors
// (Alertmanager accepts it, with the anchors escaped; alertgate refuses).
func New(name string, t Type, value string) (*Matcher, error) {
	switch {
	case name == "":
		return nil, fmt.Errorf("matcher: empty label name")
	case !utf8.ValidString(name):
		return nil, fmt.Errorf("matcher: label name is not valid UTF-8")
	case !utf8.ValidString(value):
		return nil, fmt.Errorf("matcher %s: value is not valid UTF-8", name)
	case t < Equal || t > NotRegexp:
		return nil, fmt.Errorf("matcher %s: unknown operator %d", name, int(t))
	}
	m := &Matcher{Name: name, Type: t, Value: value}
	if t == Regexp || t == NotRegexp {
		re, err := compileAnchored(value)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %w", value, err)
		}
		m.re = re
	}
	return m, nil
}

// MustParse is Parse that panics; for tests and constants.
func MustParse(s string) *Matcher {
	m, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return m
}

func compileAnchored(expr string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(expr); err != nil {
		return nil, err
	}
	return regexp.Compile("^(?:" + expr + ")$")
}

// Matches reports whether the label value v (empty when the label is
// absent) satisfies m.
func (m *Matcher) Matches(v string) bool {
	switch m.Type {
	case Equal:
		return v == m.Value
	case NotEqual:
		return v != m.Value
	case Regexp:
		return m.regexp().MatchString(v)
	case NotRegexp:
		return !m.regexp().MatchString(v)
	}
	return false
}

// regexp is the compiled expression. A Matcher built as a literal, not by
// New, has none; it is compiled here each time rather than cached, which
// would race. An expression that does not compile matches nothing.
func (m *Matcher) regexp() *regexp.Regexp {
	if m.re != nil {
		return m.re
	}
	re, err := compileAnchored(m.Value)
	if err != nil {
		return matchNothing
	}
	return re
}

var matchNothing = regexp.MustCompile(`[^\x00-\x{10FFFF}]`)

// String is m in Alertmanager's canonical form: name="value" with the
// value quoted and escapes \\, \" and \n; a name with reserved characters
// (space, {}!=~,\"'`) is quoted the same way. Parse reads it back to m.
func (m *Matcher) String() string {
	var b strings.Builder
	if needsQuotes(m.Name) {
		quote(&b, m.Name)
	} else {
		b.WriteString(m.Name)
	}
	b.WriteString(m.Type.String())
	quote(&b, m.Value)
	return b.String()
}

// MarshalText writes m as String does, so a matcher is a plain string in
// JSON and YAML.
func (m *Matcher) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads m as Parse does.
func (m *Matcher) UnmarshalText(text []byte) error {
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*m = *p
	return nil
}

// Matches reports whether labels satisfy every matcher; a missing label is
// the empty string.
func (ms Matchers) Matches(labels map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(labels[m.Name]) {
			return false
		}
	}
	return true
}

// String is the list in braces, as Alertmanager prints it: {a="b",c=~"d"}.
func (ms Matchers) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.String())
	}
	b.WriteByte('}')
	return b.String()
}

// isReserved reports the runes that end an unquoted label name, as in
// Alertmanager's UTF-8 matcher syntax.
func isReserved(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("{}!=~,\\\"'`", r)
}

func needsQuotes(name string) bool {
	return name == "" || strings.ContainsFunc(name, isReserved)
}

func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// unescape applies Alertmanager's escapes: \n, \" and \\; any other
// backslash, and one at the very end, is a literal backslash.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i == len(s)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case '"', '\\':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// parser reads matchers out of in; positions are byte offsets into in, so
// that errors point at the original text.
type parser struct {
	in string
}

func (p *parser) fail(at int, format string, args ...any) error {
	return &Error{Input: p.in, Offset: at, Msg: fmt.Sprintf(format, args...)}
}

// trim narrows [start, end) to leave out white space at both ends.
func (p *parser) trim(start, end int) (int, int) {
	for start < end {
		r, n := utf8.DecodeRuneInString(p.in[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		start += n
	}
	for end > start {
		r, n := utf8.DecodeLastRuneInString(p.in[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= n
	}
	return start, end
}

// matcher reads one matcher starting at pos and returns it with the offset
// just after it. In a list an unquoted value stops at a comma.
func (p *parser) matcher(pos, end int, inList bool) (*Matcher, int, error) {
	in := p.in
	nameAt := pos
	var name string
	if in[pos] == '"' {
		raw, next, err := p.quoted(pos, end)
		if err != nil {
			return nil, 0, err
		}
		name, pos = unescape(raw), next
		if name == "" {
			return nil, 0, p.fail(nameAt, "empty label name")
		}
	} else {
		for pos < end {
			r, n := utf8.DecodeRuneInString(in[pos:end])
			if isReserved(r) {
				break
			}
			pos += n
		}
		name = in[nameAt:pos]
		if name == "" {
			return nil, 0, p.fail(nameAt, "expected a label name, found %q", firstRune(in[pos:end]))
		}
	}
	if !utf8.ValidString(name) {
		return nil, 0, p.fail(nameAt, "label name is not valid UTF-8")
	}

	pos, _ = p.trim(pos, end)
	opAt := pos
	var t Type
	switch rest := in[pos:end]; {
	case strings.HasPrefix(rest, "=~"):
		t, pos = Regexp, pos+2
	case strings.HasPrefix(rest, "!="):
		t, pos = NotEqual, pos+2
	case strings.HasPrefix(rest, "!~"):
		t, pos = NotRegexp, pos+2
	case strings.HasPrefix(rest, "="):
		t, pos = Equal, pos+1
	case rest == "":
		return nil, 0, p.fail(opAt, "expected an operator (=, !=, =~ or !~) after label name %q, found the end", name)
	default:
		return nil, 0, p.fail(opAt, "expected an operator (=, !=, =~ or !~) after label name %q, found %q", name, firstRune(rest))
	}

	pos, _ = p.trim(pos, end)
	valueAt := pos
	var value string
	if pos < end && in[pos] == '"' {
		raw, next, err := p.quoted(pos, end)
		if err != nil {
			return nil, 0, err
		}
		value, pos = unescape(raw), next
	} else {
		escaped := false
		for ; pos < end; pos++ {
			c := in[pos]
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == ',' && inList:
				goto done
			case c == '"':
				return nil, 0, p.fail(pos, "unescaped double quote in the value: quote the whole value, \"like this\", and write a quote inside it as \\\"")
			}
		}
	done:
		_, stop := p.trim(valueAt, pos)
		value = unescape(in[valueAt:stop])
	}
	if !utf8.ValidString(value) {
		return nil, 0, p.fail(valueAt, "value is not valid UTF-8")
	}
	m, err := New(name, t, value)
	if err != nil {
		return nil, 0, p.fail(valueAt, "%v", err)
	}
	return m, pos, nil
}

// quoted reads a double-quoted string at pos and returns its raw content
// (escapes not yet applied) and the offset after the closing quote.
func (p *parser) quoted(pos, end int) (string, int, error) {
	for i := pos + 1; i < end; i++ {
		switch p.in[i] {
		case '\\':
			i++
		case '"':
			return p.in[pos+1 : i], i + 1, nil
		}
	}
	return "", 0, p.fail(pos, "missing closing double quote")
}

func firstRune(s string) string {
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}
