package routing_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/routing"
)

func names(routes []*routing.Route) []string {
	var out []string
	for _, r := range routes {
		out = append(out, r.Name)
	}
	return out
}

func TestTreeDescendsAndContinues(t *testing.T) {
	tree := mustTree(t, []config.Route{
		{Name: "audit", Matchers: []string{`severity="critical"`}, Continue: true},
		{Name: "db", Match: map[string]string{"team": "db"}, Routes: []config.Route{
			{Name: "db-backup", Matchers: []string{`alertname=~"Backup.*"`}, Continue: true},
			{Name: "db-primary", Matchers: []string{`role="primary"`}, Routes: []config.Route{
				{Name: "db-primary-eu", MatchRE: map[string]string{"region": "eu-.*"}},
			}},
			{Name: "db-any"},
		}},
		{Name: "web", Matchers: []string{`team="web"`, `env!~"dev|test"`}},
		{Name: "dd", Integrations: []string{"datadog"}},
	})
	tests := []struct {
		source string
		labels map[string]string
		want   string // route paths, ";" between routes
	}{
		{"am", map[string]string{"team": "db"}, "default/db/db-any"},
		{"am", map[string]string{"team": "db", "role": "primary"}, "default/db/db-primary"},
		{"am", map[string]string{"team": "db", "role": "primary", "region": "eu-west"}, "default/db/db-primary/db-primary-eu"},
		{"am", map[string]string{"team": "db", "alertname": "BackupFailed", "role": "primary"}, "default/db/db-backup;default/db/db-primary"},
		{"am", map[string]string{"team": "db", "alertname": "BackupFailed"}, "default/db/db-backup;default/db/db-any"},
		{"am", map[string]string{"team": "db", "severity": "critical"}, "default/audit;default/db/db-any"},
		{"am", map[string]string{"severity": "critical"}, "default/audit"},
		{"am", map[string]string{"team": "web"}, "default/web"},
		{"am", map[string]string{"team": "web", "env": "dev"}, "default"},
		{"datadog", map[string]string{"team": "web", "env": "dev"}, "default/dd"},
		{"am", nil, "default"},
	}
	for _, tt := range tests {
		a := &alertgate.Alert{Source: tt.source, Labels: tt.labels}
		var paths []string
		for _, p := range tree.Explain(a) {
			paths = append(paths, strings.Join(p, "/"))
		}
		if got := strings.Join(paths, ";"); got != tt.want {
			t.Errorf("Explain(%s %v) = %s, want %s", tt.source, tt.labels, got, tt.want)
		}
		routes := tree.Routes(a)
		if tree.Match(a) != routes[0] || len(routes) != len(paths) {
			t.Errorf("Match and Routes disagree with Explain for %v", tt.labels)
		}
	}
}

// A node with children but no match among them takes the alert itself;
// a top-level route whose children do not match is no different from a
// flat one.
func TestTreeParentTakesWhatChildrenDoNot(t *testing.T) {
	tree := mustTree(t, []config.Route{
		{Name: "db", Match: map[string]string{"team": "db"}, Routes: []config.Route{
			{Name: "db-crit", Match: map[string]string{"severity": "critical"}},
		}},
	})
	if got := names(tree.Routes(&alertgate.Alert{Labels: map[string]string{"team": "db", "severity": "warning"}})); !slices.Equal(got, []string{"db"}) {
		t.Errorf("routes %v, want [db]", got)
	}
}

func TestTreeInheritance(t *testing.T) {
	tree, err := routing.New([]config.Route{{
		Name: "parent", Match: map[string]string{"team": "db"},
		GroupBy: []string{"cluster"}, Service: "database", AutoResolve: ptr(false), ReopenWindow: ptr(time.Hour),
		EscalationPolicy: "dba", GroupWait: ptr(time.Minute), Team: "dba",
		Routes: []config.Route{
			{Name: "inherits", Match: map[string]string{"kind": "a"}},
			{Name: "overrides", Match: map[string]string{"kind": "b"}, GroupBy: []string{"host"}, Service: "db2",
				AutoResolve: ptr(true), ReopenWindow: ptr(time.Duration(0)), EscalationPolicy: "other", GroupWait: ptr(time.Duration(0)), Team: "other",
				Routes: []config.Route{{Name: "grandchild", Match: map[string]string{"x": "1"}}}},
			{Name: "resets-group-by", Match: map[string]string{"kind": "c"}, GroupBy: []string{}},
		},
	}, {Name: "top", Match: map[string]string{"team": "web"}}}, "fallback")
	if err != nil {
		t.Fatal(err)
	}
	route := func(labels map[string]string) *routing.Route {
		return tree.Match(&alertgate.Alert{Source: "am", Fingerprint: "f", Labels: labels})
	}
	type settings struct {
		service      string
		autoResolve  bool
		reopenWindow time.Duration
		policy       string
		groupWait    time.Duration
		team         string
	}
	get := func(r *routing.Route) settings {
		return settings{r.Service, r.AutoResolve, r.ReopenWindow, r.Policy, r.GroupWait, r.Team}
	}
	parent := settings{"database", false, time.Hour, "dba", time.Minute, "dba"}
	over := settings{"db2", true, 0, "other", 0, "other"}
	defaults := settings{"", true, config.DefaultReopenWindow, "fallback", config.DefaultGroupWait, ""}
	for _, tt := range []struct {
		labels map[string]string
		name   string
		want   settings
	}{
		{map[string]string{"team": "db"}, "parent", parent},
		{map[string]string{"team": "db", "kind": "a"}, "inherits", parent},
		{map[string]string{"team": "db", "kind": "b"}, "overrides", over},
		{map[string]string{"team": "db", "kind": "b", "x": "1"}, "grandchild", over},
		{map[string]string{"team": "web"}, "top", defaults},
		{nil, "default", defaults},
	} {
		r := route(tt.labels)
		if r.Name != tt.name || get(r) != tt.want {
			t.Errorf("%v: route %s %+v, want %s %+v", tt.labels, r.Name, get(r), tt.name, tt.want)
		}
	}

	// group_by: left out inherits; set replaces; [] resets to the
	// sender's group key.
	key := func(labels map[string]string) string {
		a := &alertgate.Alert{Source: "am", Fingerprint: "f", GroupKey: "sender", Labels: labels}
		return tree.Match(a).GroupKey(a)
	}
	if got := key(map[string]string{"team": "db", "kind": "a", "cluster": "c1", "host": "h"}); got != `{cluster="c1"}` {
		t.Errorf("inherited group_by: key %s", got)
	}
	if got := key(map[string]string{"team": "db", "kind": "b", "x": "1", "cluster": "c1", "host": "h"}); got != `{host="h"}` {
		t.Errorf("grandchild of an override: key %s", got)
	}
	if got := key(map[string]string{"team": "db", "kind": "c", "cluster": "c1"}); got != "am|sender" {
		t.Errorf("group_by: []: key %s, want the sender's", got)
	}
}

// The loader keeps "group_by: []" apart from a group_by left out, which
// the inheritance above relies on.
func TestLoadedEmptyGroupBy(t *testing.T) {
	c, err := config.Load([]byte(`integrations: [{name: am, type: alertmanager, tokens: [t]}]
routes:
  - name: p
    group_by: [a]
    match: {x: "1"}
    routes:
      - {name: empty, match: {k: e}, group_by: []}
      - {name: unset, match: {k: u}}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	kids := c.Routes[0].Routes
	if kids[0].GroupBy == nil || kids[1].GroupBy != nil {
		t.Errorf("group_by: [] read as %#v, left out as %#v", kids[0].GroupBy, kids[1].GroupBy)
	}
}

func TestNewRejectsBadMatcher(t *testing.T) {
	_, err := routing.New([]config.Route{{Name: "a", Routes: []config.Route{{Name: "b", Matchers: []string{`x=~"("`}}}}}, "")
	if err == nil || !strings.Contains(err.Error(), "routes[0].routes[0].matchers[0]") {
		t.Errorf("New: %v, want an error naming routes[0].routes[0].matchers[0]", err)
	}
}

// Urgency, support hours and flap detection are inherited like the other
// settings, and Route finds a route by name anywhere in the tree.
func TestUrgencyIsInherited(t *testing.T) {
	hours := &config.SupportHours{TimeZone: "Europe/London", Days: []string{"mon"}, From: "09:00", To: "17:00"}
	tree, err := routing.New([]config.Route{{Name: "low", Urgency: config.UrgencyLow, SupportHours: hours,
		Flap:   &config.Flap{Transitions: 3, Window: time.Hour},
		Routes: []config.Route{{Name: "child"}, {Name: "loud", Urgency: config.UrgencyHigh}}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	child, loud := tree.Route("child"), tree.Route("loud")
	if child == nil || child.Urgency != config.UrgencyLow || child.SupportHours == nil || child.FlapTransitions != 3 || child.FlapWindow != time.Hour {
		t.Errorf("child %+v, want low urgency, the parent's hours and flap settings", child)
	}
	if loud == nil || loud.Urgency != config.UrgencyHigh {
		t.Errorf("loud %+v, want its own high urgency", loud)
	}
	if d := tree.Route("default"); d == nil || d.Urgency != config.UrgencyHigh || d.SupportHours != nil {
		t.Errorf("default %+v, want high urgency", d)
	}
	if tree.Route("nope") != nil {
		t.Error("Route found a route that does not exist")
	}
}
