package config

import (
	"errors"
	"strings"
	"testing"
)

// treeConfig is a config around the routes block given, which starts on
// line 9 of the file.
func treeConfig(routes string) []byte {
	return []byte(`integrations:
  - name: am
    type: alertmanager
    tokens: [t]
  - name: dd
    type: datadog
    tokens: [t]
teams: []
` + routes)
}

func TestRouteTreeLoads(t *testing.T) {
	c, err := Load(treeConfig(`routes:
  - name: db
    matchers: ['team="db"', 'severity=~"critical|error", env!~"dev.*"']
    group_by: [cluster]
    group_wait: 1m
    routes:
      - name: db-backups
        match: {kind: backup}
        continue: true
      - name: db-primary
        matchers: [role=primary]
        auto_resolve: false
        routes:
          - name: db-primary-eu
            match_re: {region: eu-.*}
  - name: web
    matchers: ['team="web"']
`), "tree.yml")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, ra := range c.AllRoutes() {
		paths = append(paths, ra.Path+"="+ra.Route.Name)
	}
	want := "routes[0]=db routes[0].routes[0]=db-backups routes[0].routes[1]=db-primary routes[0].routes[1].routes[0]=db-primary-eu routes[1]=web"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("AllRoutes = %s\nwant        %s", got, want)
	}
	db := c.Routes[0]
	ms, err := db.ParsedMatchers()
	if err != nil || ms.String() != `{team="db",severity=~"critical|error",env!~"dev.*"}` {
		t.Errorf("db matchers = %v, %v", ms, err)
	}
	if !db.Routes[0].Continue || db.Routes[1].Continue {
		t.Error("continue not read")
	}
	// Defaults go to top-level routes only: a child's unset settings stay
	// unset, to be inherited (routing.New).
	child := db.Routes[1]
	if child.GroupWait != nil || child.ReopenWindow != nil || child.GroupBy != nil {
		t.Errorf("child settings = group_wait %v reopen %v group_by %v, want all unset", child.GroupWait, child.ReopenWindow, child.GroupBy)
	}
	if db.GroupWait == nil || db.ReopenWindow == nil || db.AutoResolve == nil {
		t.Error("top-level defaults not applied")
	}
}

// TestRouteTreeInvalid checks the problems of the tree, each with its
// line: ":LINE: field: message".
func TestRouteTreeInvalid(t *testing.T) {
	tests := []struct {
		name, routes string
		want         []string
	}{
		{"bad matcher", `routes:
  - name: a
    matchers: ['severity=~"critical|error"', 'team=="x"', 'x=~"("']
`, []string{
			`:11: routes[0].matchers[1]: invalid matcher "team==\"x\"": column 7: unescaped double quote`,
			`:11: routes[0].matchers[2]: invalid matcher "x=~\"(\"": column 4: invalid regular expression "(": error parsing regexp: missing closing )`,
		}},
		{"empty matcher", `routes:
  - name: a
    matchers:
      - ""
`, []string{`:12: routes[0].matchers[0]: must not be empty`}},
		{"nested: unknown integration, bad name, negative wait", `routes:
  - name: a
    routes:
      - name: B
        integrations: [nope]
        group_wait: -1s
`, []string{
			`:12: routes[0].routes[0].name: "B" is not a valid name`,
			`:13: routes[0].routes[0].integrations[0]: unknown integration "nope"`,
			`:14: routes[0].routes[0].group_wait: must not be negative`,
		}},
		{"names unique over the tree", `routes:
  - name: a
    match: {x: "1"}
    routes:
      - name: b
  - name: b
`, []string{`:14: routes[1].name: duplicate name "b" (also routes[0].routes[0].name)`}},
		{"default reserved when nested", `routes:
  - name: a
    routes:
      - name: default
`, []string{`:12: routes[0].routes[0].name: "default" is reserved`}},
		{"shadowed by a catch-all", `routes:
  - name: all
    group_by: [alertname]
  - name: db
    match: {team: db}
`, []string{`:12: routes[1]: the route can never match: routes[0] ("all") before it matches every alert and has no continue: true`}},
		{"shadowed by a catch-all regexp", `routes:
  - name: all
    matchers: ['anything=~"(?s).*"']
  - name: db
    match: {team: db}
`, []string{`:12: routes[1]: the route can never match: routes[0] ("all") takes every alert it would`}},
		{"shadowed by broader conditions", `routes:
  - name: db
    matchers: [team=db]
    integrations: [am, dd]
  - name: db-critical
    integrations: [am]
    match: {team: db, severity: critical}
`, []string{`:13: routes[1]: the route can never match: routes[0] ("db") takes every alert it would`}},
		{"shadowed nested", `routes:
  - name: db
    match: {team: db}
    routes:
      - name: db-all
      - name: db-crit
        match: {severity: critical}
`, []string{`:14: routes[0].routes[1]: the route can never match: routes[0].routes[0] ("db-all") before it matches every alert`}},
		{"contradictory matchers", `routes:
  - name: a
    matchers: ['a="x"', 'a="y"']
`, []string{`:11: routes[0].matchers[1]: the route can never match: no value satisfies a="x" and a="y" together`}},
		{"contradictory match and matcher", `routes:
  - name: a
    match: {a: x}
    matchers: ['a!="x"']
`, []string{`:12: routes[0].matchers[0]: the route can never match: no value satisfies a="x" and a!="x" together`}},
		{"contradictory regexps", `routes:
  - name: a
    match_re: {a: x}
    matchers: ['a!~"x"']
`, []string{`:12: routes[0].matchers[0]: the route can never match: no value satisfies a=~"x" and a!~"x" together`}},
		{"contradicts its parent", `routes:
  - name: crit
    match: {severity: critical}
    routes:
      - name: warn
        matchers: ['severity=~"warning|info"']
`, []string{`:14: routes[0].routes[0].matchers[0]: the route can never match: no value satisfies severity="critical" (routes[0].match.severity) and severity=~"warning|info" together`}},
		{"matches no value", `routes:
  - name: a
    matchers: ['a!~"(?s).*"']
`, []string{`:11: routes[0].matchers[0]: the route can never match: a!~"(?s).*" matches no value`}},
		{"nested references", `routes:
  - name: a
    routes:
      - name: b
        escalation_policy: nope
        team: nobody
`, []string{
			`:13: routes[0].routes[0].escalation_policy: unknown escalation policy "nope"`,
			`:14: routes[0].routes[0].team: unknown team "nobody"`,
		}},
		{"integrations disjoint from the parent's", `routes:
  - name: a
    integrations: [am]
    routes:
      - name: b
        integrations: [dd]
`, []string{`:14: routes[0].routes[0].integrations: the route can never match: none of its integrations is in routes[0].integrations`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(treeConfig(tt.routes), "tree.yml")
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load: %v, want a *LoadError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), "tree.yml"+w) {
					t.Errorf("problems:\n%v\nwant one starting tree.yml%s", err, w)
				}
			}
			if len(le.Problems) != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%v", len(le.Problems), len(tt.want), err)
			}
		})
	}
}

// Conservative: what cannot be proven impossible is accepted.
func TestRouteTreeNotProven(t *testing.T) {
	for _, routes := range []string{
		`routes:
  - name: a
    matchers: ['a=~"x.*"', 'a!~"x.+"']
`, `routes:
  - name: all
    continue: true
  - name: b
`, `routes:
  - name: dotstar
    matchers: ['a=~".*"']
  - name: b
`, `routes:
  - name: db-am
    integrations: [am]
    match: {team: db}
  - name: db
    match: {team: db}
`, `routes:
  - name: never
    matchers: ['a="1"', 'a="2"']
  - name: after-never
`, `routes:
  - name: empty-match
    match: {team: ""}
  - name: empty-matcher
    matchers: ['team=""']
`} {
		_, err := Load(treeConfig(routes), "tree.yml")
		if err != nil && !strings.Contains(err.Error(), "never") {
			t.Errorf("Load(%s): %v", routes, err)
		}
		if err != nil && strings.Contains(routes, "after-never") && strings.Contains(err.Error(), "routes[1]") {
			t.Errorf("a route that never matches shadows nothing: %v", err)
		}
		if err != nil && !strings.Contains(routes, "after-never") {
			t.Errorf("Load(%s): %v, want no problem", routes, err)
		}
	}
}
