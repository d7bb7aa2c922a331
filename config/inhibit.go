package config

import (
	"strings"

	"github.com/alertgate/alertgate/matchers"
)

// InhibitRule mutes the pages of alerts that match TargetMatchers while
// an alert that matches SourceMatchers fires, when both carry the same
// values of the Equal labels (a label missing from both counts as equal),
// as in Alertmanager. Only pages are muted: the target's incident opens,
// gathers alerts and resolves as ever (docs/silences.md).
type InhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

func (c *Config) validateInhibitRules(ps *problems) {
	for i := range c.InhibitRules {
		r := &c.InhibitRules[i]
		p := index("inhibit_rules", i)
		if len(r.SourceMatchers) == 0 {
			ps.add(p+".source_matchers", `required: which alerts inhibit, for example ['severity="critical"']`)
		}
		if len(r.TargetMatchers) == 0 {
			ps.add(p+".target_matchers", `required: which alerts are inhibited, for example ['severity="warning"']`)
		}
		for _, list := range []struct {
			field string
			ms    []string
		}{{".source_matchers", r.SourceMatchers}, {".target_matchers", r.TargetMatchers}} {
			for j, m := range list.ms {
				if _, err := matchers.Parse(m); err != nil {
					ps.add(index(p+list.field, j), "%v", err)
				}
			}
		}
		seen := map[string]bool{}
		for j, l := range r.Equal {
			switch {
			case strings.TrimSpace(l) == "":
				ps.add(index(p+".equal", j), "must not be empty")
			case seen[l]:
				ps.add(index(p+".equal", j), "duplicate label %q", l)
			}
			seen[l] = true
		}
	}
}

// Compiled returns the rule's matchers; the rule must have passed
// validation.
func (r *InhibitRule) Compiled() (source, target matchers.Matchers) {
	parse := func(list []string) matchers.Matchers {
		out := make(matchers.Matchers, 0, len(list))
		for _, s := range list {
			if m, err := matchers.Parse(s); err == nil {
				out = append(out, m)
			}
		}
		return out
	}
	return parse(r.SourceMatchers), parse(r.TargetMatchers)
}
