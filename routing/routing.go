// Package routing decides, for each alert, which route it takes and which
// group (and so which incident) it joins. It is pure: no I/O, no clock.
// Escalation policies and on-call rotations will live here too.
package routing

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// DefaultRoute is the name of the built-in catch-all route.
const DefaultRoute = "default"

// Default settings of the built-in route (the same defaults as a route
// in the config file that leaves them out).
const (
	defaultAutoResolve  = true
	defaultReopenWindow = 5 * time.Minute
)

// Route is a compiled route.
type Route struct {
	Name string
	// Service, when set, names the service of the route's incidents.
	Service      string
	AutoResolve  bool
	ReopenWindow time.Duration

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

// New compiles routes. The config has been validated, but regular
// expressions are compiled here again, so an error is still possible.
func New(routes []config.Route) (*Tree, error) {
	t := &Tree{dflt: &Route{Name: DefaultRoute, AutoResolve: defaultAutoResolve, ReopenWindow: defaultReopenWindow}}
	for _, rc := range routes {
		r := &Route{
			Name:         rc.Name,
			Service:      rc.Service,
			AutoResolve:  rc.AutoResolveOn(),
			ReopenWindow: rc.Reopen(),
			match:        rc.Match,
		}
		if len(rc.Integrations) > 0 {
			r.integrations = make(map[string]bool, len(rc.Integrations))
			for _, n := range rc.Integrations {
				r.integrations[n] = true
			}
		}
		if len(rc.MatchRE) > 0 {
			r.matchRE = make(map[string]*regexp.Regexp, len(rc.MatchRE))
			for name, expr := range rc.MatchRE {
				re, err := regexp.Compile("^(?:" + expr + ")$")
				if err != nil {
					return nil, alertgate.FieldErrorf("routes."+rc.Name+".match_re."+name, "%v", err)
				}
				r.matchRE[name] = re
			}
		}
		if len(rc.GroupBy) == 1 && rc.GroupBy[0] == "..." {
			r.groupAll = true
		} else {
			r.groupBy = slices.Sorted(slices.Values(rc.GroupBy))
		}
		t.routes = append(t.routes, r)
	}
	return t, nil
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
