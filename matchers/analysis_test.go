package matchers_test

import (
	"testing"

	"github.com/alertgate/alertgate/matchers"
)

func TestMatchesEverything(t *testing.T) {
	tests := []struct {
		m                string
		everything, none bool
	}{
		{`a=~"(?s).*"`, true, false},
		{`a=~"(?s:.*)|x"`, true, false},
		{`a=~".*"`, false, false}, // no line feeds
		{`a=~".+"`, false, false},
		{`a=""`, false, false},
		{`a!=""`, false, false},
		{`a!~"(?s).*"`, false, true},
		{`a=~"x"`, false, false},
		{`a=~"[^\x00-\x{10FFFF}]"`, false, true},
		{`a!~"[^\x00-\x{10FFFF}]"`, true, false},
	}
	for _, tt := range tests {
		m := matchers.MustParse(tt.m)
		if got := m.MatchesEverything(); got != tt.everything {
			t.Errorf("%s.MatchesEverything() = %v, want %v", tt.m, got, tt.everything)
		}
		if got := m.MatchesNothing(); got != tt.none {
			t.Errorf("%s.MatchesNothing() = %v, want %v", tt.m, got, tt.none)
		}
	}
}

func TestContradiction(t *testing.T) {
	tests := []struct {
		set  string
		want bool
	}{
		{`a="x", a="y"`, true},
		{`a="x", a="x"`, false},
		{`a="x", a!="x"`, true},
		{`a!="x", a="x"`, true},
		{`a="x", a!="y"`, false},
		{`a="x", a=~"y|z"`, true},
		{`a="x", a=~"x|z"`, false},
		{`a="x", a=~"x.*"`, false},
		{`a="xy", a=~"x"`, true},
		{`a="x", a!~"x|z"`, true},
		{`a="x", a!~"y.*"`, false},
		{`a=~"x.*", a!~"x.*"`, true},
		{`a=~"x.*", a!~"x.+"`, false}, // "x" satisfies both
		{`a=~"critical|error", a=~"warning|info"`, true},
		{`a=~"critical|error", a=~"error|info"`, false},
		{`a=~"crit|critical", a="critical"`, false},
		{`a=~"crit(ical)?", a="critic"`, true},
		{`a=~"sev[1-3]", a="sev4"`, true},
		{`a=~"sev[1-3]", a="sev2"`, false},
		{`a=~"(?i)x", a="X"`, false}, // case folding is not reasoned about
		{`a=~"x|y", a!="x", a!="y"`, true},
		{`a=~"x|y", a!="x"`, false},
		{`a="", a!=""`, true},
		{`a="x", b="y"`, false},
		{`a="x", b!="x"`, false},
		{`a!~"(?s).*"`, true},
		{`a=~".*", a!=""`, false},
		{`a=~"[a-z]+", a="1"`, true},
		{`a=~"[a-z]+", a!="x"`, false},
		{`a=~"[a-z]+", a!~"[a-y]+"`, false}, // unbounded: not proven (and "z" satisfies both)
		{`a=~"x|y", b="1", a!="y", a!="x"`, true},
	}
	for _, tt := range tests {
		ms, err := matchers.ParseSet(tt.set)
		if err != nil {
			t.Fatal(err)
		}
		found, ok := matchers.Contradiction(ms)
		if ok != tt.want {
			t.Errorf("Contradiction(%s) = %v, %v; want %v", tt.set, found, ok, tt.want)
		}
		if ok && len(found) == 0 {
			t.Errorf("Contradiction(%s): no matcher named", tt.set)
		}
		// Whatever it proves must hold: no probe value satisfies them all.
		for _, v := range []string{"", "x", "y", "z", "X", "1", "critical", "error", "sev2", "sev4", "critic", "xy", "x\n"} {
			if ok && found.Matches(map[string]string{found[0].Name: v}) {
				t.Errorf("Contradiction(%s) names %v, but %q satisfies them", tt.set, found, v)
			}
		}
	}
}
