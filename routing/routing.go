// Package routing decides, for each alert, which route it takes and which
// group (and so which incident) it joins. It is pure: no I/O, no clock.
// Escalation policies and on-call rotations will live here too.
package routing

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// Route is a compiled route.
type Route struct {
	Name string
	// Service, when set, names the service of the route's incidents.
	Service      string
	AutoResolve  bool
	ReopenWindow time.Duration
	// Policy is the escalation policy of the route's incidents ("" for
	// none), GroupWait how long the first page waits after one opens, and
	// Team the team that owns them.
	Policy    string
	GroupWait time.Duration
	Team      string

	integrations map[string]bool
	match        map[string]string
	matchRE      map[string]*regexp.Regexp
	groupBy      []string // sorted
	groupAll     bool
}

// Tree holds the routes in order; the first match wins.
type Tree struct {
	routes []*Route
	dflt   *Route
}

// New compiles routes, and the built-in catch-all route
// (config.BuiltinRoute) after them. It trusts a config that passed
// config.Validate, where the rules of a route live: an error (a regular
// expression that does not compile) means it was not validated.
// defaultPolicy serves every route that names no escalation policy, the
// built-in one included.
func New(routes []config.Route, defaultPolicy string) (*Tree, error) {
	t := &Tree{}
	for i, rc := range routes {
		r, err := compile(rc, defaultPolicy)
		if err != nil {
			return nil, fmt.Errorf("routing: routes[%d].%w", i, err)
		}
		t.routes = append(t.routes, r)
	}
	var err error
	if t.dflt, err = compile(config.BuiltinRoute(), defaultPolicy); err != nil {
		return nil, fmt.Errorf("routing: the built-in route: %w", err)
	}
	return t, nil
}

// compile compiles one route; settings left out take config's defaults.
func compile(rc config.Route, defaultPolicy string) (*Route, error) {
	r := &Route{
		Name:         rc.Name,
		Service:      rc.Service,
		AutoResolve:  rc.AutoResolveOn(),
		ReopenWindow: rc.Reopen(),
		Policy:       cmp.Or(rc.EscalationPolicy, defaultPolicy),
		GroupWait:    rc.FirstPageDelay(),
		Team:         rc.Team,
		match:        rc.Match,
	}
	if len(rc.Integrations) > 0 {
		r.integrations = make(map[string]bool, len(rc.Integrations))
		for _, n := range rc.Integrations {
			r.integrations[n] = true
		}
	}
	var err error
	if r.matchRE, err = rc.Regexps(); err != nil {
		return nil, err
	}
	if len(rc.GroupBy) == 1 && rc.GroupBy[0] == "..." {
		r.groupAll = true
	} else {
		r.groupBy = slices.Sorted(slices.Values(rc.GroupBy))
	}
	return r, nil
}

// Match returns the first route that matches a, or the default route.
func (t *Tree) Match(a *alertgate.Alert) *Route {
	for _, r := range t.routes {
		if r.matches(a) {
			return r
		}
	}
	return t.dflt
}

func (r *Route) matches(a *alertgate.Alert) bool {
	if r.integrations != nil && !r.integrations[a.Source] {
		return false
	}
	for name, want := range r.match {
		if got, ok := a.Labels[name]; !ok || got != want {
			return false
		}
	}
	for name, re := range r.matchRE {
		if !re.MatchString(a.Labels[name]) {
			return false
		}
	}
	return true
}

// GroupKey says which group of the route a joins: the values of the
// route's group_by labels; without group_by, the sender's own group key;
// without that, the alert alone. Values are quoted so that no label value
// can imitate another label set.
func (r *Route) GroupKey(a *alertgate.Alert) string {
	switch {
	case r.groupAll:
		return labelSet(a.Labels, slices.Sorted(maps.Keys(a.Labels)))
	case len(r.groupBy) > 0:
		return labelSet(a.Labels, r.groupBy)
	case a.GroupKey != "":
		return a.Source + "|" + a.GroupKey
	default:
		return a.Source + "|alert|" + a.Fingerprint
	}
}

func labelSet(labels map[string]string, names []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labels[n]))
	}
	b.WriteByte('}')
	return b.String()
}
