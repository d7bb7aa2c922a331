package matchers_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/alertgate/alertgate/matchers"
)

type want struct {
	name  string
	typ   matchers.Type
	value string
}

func got(ms matchers.Matchers) []want {
	out := []want{}
	for _, m := range ms {
		out = append(out, want{m.Name, m.Type, m.Value})
	}
	return out
}

// TestParseSet runs the examples of Alertmanager's docs ("Label matchers",
// configuration.md) and the edge cases its classic parser settles, which
// its default fallback mode keeps.
func TestParseSet(t *testing.T) {
	eq, ne, re, nre := matchers.Equal, matchers.NotEqual, matchers.Regexp, matchers.NotRegexp
	tests := []struct {
		in   string
		want []want
	}{
		// The documentation's examples.
		{`{alertname="Watchdog", severity=~"warning|critical"}`, []want{{"alertname", eq, "Watchdog"}, {"severity", re, "warning|critical"}}},
		{`{alertname="Watchdog", severity=~"warning|critical",}`, []want{{"alertname", eq, "Watchdog"}, {"severity", re, "warning|critical"}}},
		{`alertname="Watchdog", severity=~"warning|critical"`, []want{{"alertname", eq, "Watchdog"}, {"severity", re, "warning|critical"}}},
		{`alertname = Watchdog`, []want{{"alertname", eq, "Watchdog"}}},
		{`severity =~ "warning|critical"`, []want{{"severity", re, "warning|critical"}}},
		{`env !~ preprod`, []want{{"env", nre, "preprod"}}},
		{`env =~ "prod|staging"`, []want{{"env", re, "prod|staging"}}},
		{`env !~ "uat"`, []want{{"env", nre, "uat"}}},
		{`Προμηθεύς=~[a-zA-Z]+`, []want{{"Προμηθεύς", re, "[a-zA-Z]+"}}},
		{`foo="foo!", bar="bar,baz", baz="\"baz qux\""`, []want{{"foo", eq, "foo!"}, {"bar", eq, "bar,baz"}, {"baz", eq, `"baz qux"`}}},
		{`foo=`, []want{{"foo", eq, ""}}},
		// Fallback mode settles the documented disagreement the classic
		// way: \x is no escape, the backslashes stay.
		{`qux="\xf0\x9f\x99\x82"`, []want{{"qux", eq, `\xf0\x9f\x99\x82`}}},
		{`qux="🙂"`, []want{{"qux", eq, "🙂"}}},
		// Lists.
		{``, []want{}},
		{`  `, []want{}},
		{`{}`, []want{}},
		{`{ }`, []want{}},
		{`{foo = "bar", dings != "bums", }`, []want{{"foo", eq, "bar"}, {"dings", ne, "bums"}}},
		{`foo=bar,dings!=bums`, []want{{"foo", eq, "bar"}, {"dings", ne, "bums"}}},
		{`{foo="bar,quux", job="job1"}`, []want{{"foo", eq, "bar,quux"}, {"job", eq, "job1"}}},
		{`{quote="She said: \"Hi, ladies! That's gender-neutral…\""}`, []want{{"quote", eq, `She said: "Hi, ladies! That's gender-neutral…"`}}},
		{`statuscode=~"5.."`, []want{{"statuscode", re, "5.."}}},
		{`contains_quote != "\"" , contains_comma !~ "foo,bar" , `, []want{{"contains_quote", ne, `"`}, {"contains_comma", nre, "foo,bar"}}},
		{`{foo=~bar.*}`, []want{{"foo", re, "bar.*"}}},
		{`{foo!~"bar.*"}`, []want{{"foo", nre, "bar.*"}}},
		// Operators and unquoted oddities, read as Alertmanager reads them.
		{`tricky=~~~`, []want{{"tricky", re, "~~"}}},
		{`trickier==\\=\=\"`, []want{{"trickier", eq, `=\=\="`}}},
		{`{foo='}`, []want{{"foo", eq, "'"}}},
		{"{foo=`}", []want{{"foo", eq, "`"}}},
		{`{foo=\"}`, []want{{"foo", eq, `"`}}},
		{`{foo=bar}}`, []want{{"foo", eq, "bar}"}}},
		{`{foo=bar}},}`, []want{{"foo", eq, "bar}}"}}},
		{`{foo=,bar=}}`, []want{{"foo", eq, ""}, {"bar", eq, "}"}}},
		{`alertname=Disk Full, team=db`, []want{{"alertname", eq, "Disk Full"}, {"team", eq, "db"}}},
		// Escapes: \n, \" and \\; any other backslash is literal.
		{`{foo=bar\t}`, []want{{"foo", eq, `bar\t`}}},
		{`{foo=bar\n}`, []want{{"foo", eq, "bar\n"}}},
		{`{foo=bar\}`, []want{{"foo", eq, `bar\`}}},
		{`{foo=bar\\}`, []want{{"foo", eq, `bar\`}}},
		{`{foo=bar\"}`, []want{{"foo", eq, `bar"`}}},
		{`path="C:\\temp\\x"`, []want{{"path", eq, `C:\temp\x`}}},
		{`n=~"\d+"`, []want{{"n", re, `\d+`}}},
		{`n=~"\\d+"`, []want{{"n", re, `\d+`}}},
		{"multi=\"a\nb\"", []want{{"multi", eq, "a\nb"}}},
		// UTF-8 label names: unquoted without reserved characters, or quoted.
		{`invalid-name = "valid label"`, []want{{"invalid-name", eq, "valid label"}}},
		{`service.name="checkout"`, []want{{"service.name", eq, "checkout"}}},
		{`"foo bar"!="x", "a=b"=~"c"`, []want{{"foo bar", ne, "x"}, {"a=b", re, "c"}}},
		{`"quo\"te"="1"`, []want{{`quo"te`, eq, "1"}}},
		{`__name__:x=1`, []want{{"__name__:x", eq, "1"}}},
	}
	for _, tt := range tests {
		ms, err := matchers.ParseSet(tt.in)
		if err != nil {
			t.Errorf("ParseSet(%q): %v", tt.in, err)
			continue
		}
		if g := got(ms); !reflect.DeepEqual(g, tt.want) {
			t.Errorf("ParseSet(%q) = %+v, want %+v", tt.in, g, tt.want)
		}
	}
}

func TestParseSetErrors(t *testing.T) {
	tests := []struct {
		in      string
		column  int
		message string
	}{
		{`,`, 1, "empty matcher"},
		{`{,}`, 2, "empty matcher"},
		{`a=b,,c=d`, 5, "empty matcher"},
		{`a=b, ,`, 6, "empty matcher"},
		{`{foo=`, 6, "missing closing brace"},
		{`{foo=}b`, 8, "missing closing brace"},
		{`{{foo=`, 7, "missing closing brace"},
		{`alertname="Watchdog", severity=~"warning|critical"}`, 51, "without an opening"},
		{`job="value`, 5, "missing closing double quote"},
		{`job=value"`, 10, "unescaped double quote"},
		{`trickier==\\=\=\""`, 18, "unescaped double quote"},
		{`contains_unescaped_quote = foo"bar`, 31, "unescaped double quote"},
		{`a="b" c`, 7, `unexpected "c"`},
		{`a="b"x,c=d`, 6, `unexpected "x,c=d"`},
		{`"foo=\"bar"`, 12, "expected an operator"},
		{`"foo="bar""`, 7, "expected an operator"},
		{`"{foo=\"bar\"}"`, 16, "expected an operator"},
		{`foo`, 4, "expected an operator"},
		{`foo bar=baz`, 5, `found "b"`},
		{`foo!bar`, 4, "expected an operator"},
		{`=bar`, 1, "expected a label name"},
		{`!=bar`, 1, "expected a label name"},
		{`""=x`, 1, "empty label name"},
		{`{foo=~"invalid[regexp"}`, 7, "invalid regular expression"},
		{`x=~"("`, 4, "missing closing )"},
		{`a="x", b=~"a)|(b"`, 11, "invalid regular expression"},
		{`café=~"(", b=c`, 7, "invalid regular expression"},
		{"v=\"\xff\"", 3, "not valid UTF-8"},
	}
	for _, tt := range tests {
		_, err := matchers.ParseSet(tt.in)
		var me *matchers.Error
		if !errors.As(err, &me) {
			t.Errorf("ParseSet(%q): %v, want a *matchers.Error", tt.in, err)
			continue
		}
		if me.Column() != tt.column || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("ParseSet(%q): %v (column %d), want column %d and %q", tt.in, err, me.Column(), tt.column, tt.message)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want want
	}{
		{`severity=~"critical|error"`, want{"severity", matchers.Regexp, "critical|error"}},
		{`team!="dba"`, want{"team", matchers.NotEqual, "dba"}},
		{`team!=dba`, want{"team", matchers.NotEqual, "dba"}},
		{`  env  !~  "dev.*"  `, want{"env", matchers.NotRegexp, "dev.*"}},
		// One matcher: an unquoted value runs to the end, commas included,
		// as Alertmanager's single-matcher parser reads it.
		{`a=b,c`, want{"a", matchers.Equal, "b,c"}},
	}
	for _, tt := range tests {
		m, err := matchers.Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if g := (want{m.Name, m.Type, m.Value}); g != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, g, tt.want)
		}
	}
	for _, in := range []string{``, `{a="b"}`, `a="b"}`, `a="b",c="d"`, `a`, `a=~"["`} {
		if m, err := matchers.Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, m)
		}
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		matcher string
		value   string
		present bool
		want    bool
	}{
		{`a="x"`, "x", true, true},
		{`a="x"`, "xy", true, false},
		{`a="x"`, "", false, false},
		{`a=""`, "", false, true}, // a missing label is ""
		{`a=""`, "", true, true},
		{`a!="x"`, "", false, true}, // so != holds for a missing label
		{`a!="x"`, "x", true, false},
		{`a!=""`, "", false, false},
		{`a!=""`, "y", true, true},
		{`a=~"x|y"`, "y", true, true},
		{`a=~"x|y"`, "xy", true, false}, // anchored
		{`a=~"crit"`, "critical", true, false},
		{`a=~"crit.*"`, "critical", true, true},
		{`a=~".*"`, "", false, true},
		{`a=~".+"`, "", false, false},
		{`a=~".*"`, "a\nb", true, false}, // "." is no line feed
		{`a=~"(?s).*"`, "a\nb", true, true},
		{`a!~"x|y"`, "", false, true},
		{`a!~"x|y"`, "x", true, false},
		{`a!~".+"`, "", false, true},
		{`a!~".+"`, "z", true, false},
		{`a=~"^x$"`, "x", true, true},
		{`a=~"(?i)CRIT"`, "crit", true, true},
	}
	for _, tt := range tests {
		m := matchers.MustParse(tt.matcher)
		labels := map[string]string{"other": "x"}
		if tt.present {
			labels["a"] = tt.value
		}
		if got := (matchers.Matchers{m}).Matches(labels); got != tt.want {
			t.Errorf("%s on %v: %v, want %v", tt.matcher, labels, got, tt.want)
		}
		if got := m.Matches(tt.value); got != tt.want {
			t.Errorf("%s.Matches(%q): %v, want %v", tt.matcher, tt.value, got, tt.want)
		}
	}
	ms, err := matchers.ParseSet(`severity=~"critical|error", team!="dba"`)
	if err != nil {
		t.Fatal(err)
	}
	for labels, want := range map[*map[string]string]bool{
		{"severity": "critical"}:              true,
		{"severity": "error", "team": "web"}:  true,
		{"severity": "error", "team": "dba"}:  false,
		{"severity": "warning", "team": "db"}: false,
		{}:                                    false,
	} {
		if got := ms.Matches(*labels); got != want {
			t.Errorf("%s on %v: %v, want %v", ms, *labels, got, want)
		}
	}
	if !(matchers.Matchers{}).Matches(nil) {
		t.Error("the empty list must match everything")
	}
}

// A Matcher written as a literal (not by New) still matches correctly.
func TestLiteralMatcher(t *testing.T) {
	m := &matchers.Matcher{Name: "a", Type: matchers.Regexp, Value: "x|y"}
	if !m.Matches("y") || m.Matches("xy") {
		t.Error("a literal regexp matcher must compile anchored")
	}
	bad := &matchers.Matcher{Name: "a", Type: matchers.Regexp, Value: "("}
	if bad.Matches("(") {
		t.Error("a regexp that does not compile must match nothing")
	}
}

func TestNew(t *testing.T) {
	if _, err := matchers.New("", matchers.Equal, "x"); err == nil {
		t.Error("New with an empty name: no error")
	}
	if _, err := matchers.New("a", matchers.Type(9), "x"); err == nil {
		t.Error("New with an unknown type: no error")
	}
	_, err := matchers.New("a", matchers.NotRegexp, "a)|(b")
	if err == nil || !strings.Contains(err.Error(), "invalid regular expression") {
		t.Errorf(`New(a!~"a)|(b"): %v, want an invalid regular expression`, err)
	}
}

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`severity=~critical|error`, `severity=~"critical|error"`},
		{`team != dba`, `team!="dba"`},
		{`q="a\"b\\c\nd"`, `q="a\"b\\c\nd"`},
		{`n=~"\d+"`, `n=~"\\d+"`},
		{`"foo bar"="x"`, `"foo bar"="x"`},
		{`service.name=x`, `service.name="x"`},
		{`Προμηθεύς=x`, `Προμηθεύς="x"`},
		{`e=`, `e=""`},
	}
	for _, tt := range tests {
		if got := matchers.MustParse(tt.in).String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %s, want %s", tt.in, got, tt.want)
		}
	}
	ms, _ := matchers.ParseSet(`a=b, c=~"d|e"`)
	if got := ms.String(); got != `{a="b",c=~"d|e"}` {
		t.Errorf("Matchers.String() = %s", got)
	}
	if got := matchers.Type(7).String(); got != "Type(7)" {
		t.Errorf("Type(7).String() = %s", got)
	}
}

func TestJSON(t *testing.T) {
	ms, _ := matchers.ParseSet(`a=b, c=~"d|e"`)
	b, err := json.Marshal(ms)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `["a=\"b\"","c=~\"d|e\""]` {
		t.Errorf("JSON %s", b)
	}
	var back matchers.Matchers
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.String() != ms.String() || !back.Matches(map[string]string{"a": "b", "c": "e"}) {
		t.Errorf("JSON round trip: %s", back)
	}
	if err := json.Unmarshal([]byte(`["a=~\"(\""]`), &back); err == nil {
		t.Error("JSON with a bad regexp: no error")
	}
}
