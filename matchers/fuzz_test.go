package matchers_test

import (
	"testing"

	"github.com/alertgate/alertgate/matchers"
)

// uglyInputs seed the fuzzers: quotes, escapes, braces, commas and
// operators where they do not belong, invalid UTF-8, regexps that escape
// their anchors.
var uglyInputs = []string{
	``, `{`, `}`, `{}`, `{,}`, `,`, `,,`, `=`, `!=`, `=~`, `!~`, `~`, `!`,
	`a`, `a=`, `a=b`, `a="b"`, `{a="b",}`, `{a="b",,}`, `a="b" c`,
	`a=~"("`, `a=~"a)|(b"`, `a=~"\\"`, `a="\"`, `a="\\"`, `a="\\\""`,
	`"a"="b"`, `""=""`, `"a\"b"=~"c\nd"`, `a=b\`, `a=\"`, `a="`, `a=""""`,
	`{a=b}}`, `{{a=b}}`, `{a=b`, `a=b}`, "a=\"\xff\"", "\xff=b", "a\x00=b",
	"a=\u00a0b\u00a0", "\u2028a\u2028=\u2028b", `Προμηθεύς!~"🙂+"`,
	`foo = "bar", dings != "bums", `, `tricky=~~~`, `trickier==\\=\=\"`,
	`q="She said: \"Hi, ladies!\""`, `a=~"[[:alpha:]]+"`, `a!~"(?s).*"`,
	`x= "a,b" , y=~'c'`, `a\=b`, `a=b,c=d,e!=f,g=~h,i!~j`,
}

func FuzzParseSet(f *testing.F) {
	for _, s := range uglyInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := matchers.ParseSet(s)
		if err != nil {
			return
		}
		back, err := matchers.ParseSet(ms.String())
		if err != nil {
			t.Fatalf("ParseSet(%q) = %s, which does not parse: %v", s, ms, err)
		}
		if len(back) != len(ms) {
			t.Fatalf("ParseSet(%q) = %s, read back as %s", s, ms, back)
		}
		for i := range ms {
			if *withoutRegexp(ms[i]) != *withoutRegexp(back[i]) {
				t.Fatalf("ParseSet(%q)[%d] = %#v, read back as %#v", s, i, ms[i], back[i])
			}
		}
		// What the analysis proves must hold for any value; the input
		// itself and the matchers' own values are the probes.
		probes := []string{s, ""}
		for _, m := range ms {
			probes = append(probes, m.Value)
		}
		if found, ok := matchers.Contradiction(ms); ok {
			for _, v := range probes {
				if found.Matches(map[string]string{found[0].Name: v}) {
					t.Fatalf("Contradiction(%s) = %s, but %q satisfies it", ms, found, v)
				}
			}
		}
		for _, m := range ms {
			for _, v := range probes {
				if m.MatchesEverything() && !m.Matches(v) || m.MatchesNothing() && m.Matches(v) {
					t.Fatalf("%s: everything %v, nothing %v, but Matches(%q) = %v", m, m.MatchesEverything(), m.MatchesNothing(), v, m.Matches(v))
				}
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range uglyInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := matchers.Parse(s)
		if err != nil {
			return
		}
		back, err := matchers.Parse(m.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, m, err)
		}
		if *withoutRegexp(m) != *withoutRegexp(back) {
			t.Fatalf("Parse(%q) = %#v, read back as %#v", s, m, back)
		}
		_ = m.Matches(s)
	})
}

// withoutRegexp copies the exported fields, for comparison.
func withoutRegexp(m *matchers.Matcher) *matchers.Matcher {
	return &matchers.Matcher{Name: m.Name, Type: m.Type, Value: m.Value}
}
