package config

import (
	"strings"
	"testing"
)

func TestInhibitRuleProblems(t *testing.T) {
	for _, c := range []struct {
		rule InhibitRule
		want string
	}{
		{InhibitRule{TargetMatchers: []string{`a="b"`}}, "inhibit_rules[0].source_matchers: required"},
		{InhibitRule{SourceMatchers: []string{`a="b"`}}, "inhibit_rules[0].target_matchers: required"},
		{InhibitRule{SourceMatchers: []string{`a=~"("`}, TargetMatchers: []string{`a="b"`}}, "inhibit_rules[0].source_matchers[0]: "},
		{InhibitRule{SourceMatchers: []string{`a="b"`}, TargetMatchers: []string{`a=="b"`}}, "inhibit_rules[0].target_matchers[0]: "},
		{InhibitRule{SourceMatchers: []string{`a="b"`}, TargetMatchers: []string{`c="d"`}, Equal: []string{"x", "x"}}, `inhibit_rules[0].equal[1]: duplicate label "x"`},
		{InhibitRule{SourceMatchers: []string{`a="b"`}, TargetMatchers: []string{`c="d"`}, Equal: []string{" "}}, "inhibit_rules[0].equal[0]: must not be empty"},
	} {
		cfg := &Config{InhibitRules: []InhibitRule{c.rule}}
		var ps problems
		cfg.validateInhibitRules(&ps)
		if len(ps.list) != 1 || !strings.HasPrefix(ps.list[0].String(), c.want) {
			t.Errorf("%+v: problems %v, want one starting %q", c.rule, ps.list, c.want)
		}
	}
	ok := &Config{InhibitRules: []InhibitRule{{SourceMatchers: []string{`severity="critical"`},
		TargetMatchers: []string{`severity=~"warning|info"`}, Equal: []string{"cluster"}}}}
	var ps problems
	ok.validateInhibitRules(&ps)
	if len(ps.list) != 0 {
		t.Errorf("a good rule: %v", ps.list)
	}
	src, tgt := ok.InhibitRules[0].Compiled()
	if !src.Matches(map[string]string{"severity": "critical"}) || !tgt.Matches(map[string]string{"severity": "info"}) || tgt.Matches(map[string]string{"severity": "critical"}) {
		t.Errorf("compiled matchers %v / %v do not match as written", src, tgt)
	}
}
