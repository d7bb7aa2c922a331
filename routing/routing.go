// Package routing decides, for each alert, which routes it takes and which
// group (and so which incident) it joins on each. It is pure: no I/O, no
// clock. Escalation policies and on-call rotations will live here too.
//
// Routes form a tree, as in Alertmanager (docs/routing.md): the built-in
// route "default" is the root, the configured top-level routes are its
// children, and each route's routes are its own. An alert enters at the
// root and descends depth first: at each level the children are tried in
// order; the first that matches takes the alert (it or one of its
// descendants), and the siblings after it are tried only if it has
// continue. A route none of whose children match takes the alert itself,
// so an alert no top-level route matches lands on "default".
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
	"github.com/alertgate/alertgate/matchers"
	"github.com/alertgate/alertgate/schedule"
)

// Route is a compiled route, its settings already merged with those it
// inherits from its ancestors.
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
	// Continue: after this route took an alert, its later siblings are
	// tried too.
	Continue bool
	// Urgency is config.UrgencyHigh or config.UrgencyLow; a low-urgency
	// route's incidents page only in SupportHours (nil for high).
	Urgency      string
	SupportHours *schedule.Weekly
	// FlapTransitions and FlapWindow detect flapping (0: off).
	FlapTransitions int
	FlapWindow      time.Duration

	parent       *Route // nil for the root, "default"
	children     []*Route
	integrations map[string]bool
	match        map[string]string
	matchRE      map[string]*regexp.Regexp
	matchers     matchers.Matchers
	groupBy      []string // sorted
	groupAll     bool
}

// Tree is the compiled route tree.
type Tree struct {
	root *Route // the built-in "default"; its children the top-level routes
}

// New compiles routes into a tree under the built-in catch-all route
// (config.BuiltinRoute). It trusts a config that passed config.Validate,
// where the rules of a route live: an error (a regular expression or a
// matcher that does not compile) means it was not validated.
// defaultPolicy serves every route that names no escalation policy and
// inherits none, the built-in one included.
func New(routes []config.Route, defaultPolicy string) (*Tree, error) {
	root, err := compile(config.BuiltinRoute(), nil, defaultPolicy)
	if err != nil {
		return nil, fmt.Errorf("routing: the built-in route: %w", err)
	}
	if err := compileChildren(root, routes, "routes", defaultPolicy); err != nil {
		return nil, err
	}
	return &Tree{root: root}, nil
}

func compileChildren(parent *Route, routes []config.Route, path, defaultPolicy string) error {
	for i, rc := range routes {
		p := path + "[" + strconv.Itoa(i) + "]"
		r, err := compile(rc, parent, defaultPolicy)
		if err != nil {
			return fmt.Errorf("routing: %s.%w", p, err)
		}
		parent.children = append(parent.children, r)
		if err := compileChildren(r, rc.Routes, p+".routes", defaultPolicy); err != nil {
			return err
		}
	}
	return nil
}

// compile compiles one route. A setting it leaves out is its parent's
// (the root's are config's defaults); conditions are not inherited as
// settings: the parent's hold already, as the alert got here through it.
func compile(rc config.Route, parent *Route, defaultPolicy string) (*Route, error) {
	r := &Route{Name: rc.Name, Continue: rc.Continue, parent: parent, match: rc.Match}
	if parent == nil {
		r.Service = rc.Service
		r.AutoResolve = rc.AutoResolveOn()
		r.ReopenWindow = rc.Reopen()
		r.Policy = cmp.Or(rc.EscalationPolicy, defaultPolicy)
		r.GroupWait = rc.FirstPageDelay()
		r.Team = rc.Team
	} else {
		r.Service = cmp.Or(rc.Service, parent.Service)
		r.AutoResolve = deref(rc.AutoResolve, parent.AutoResolve)
		r.ReopenWindow = deref(rc.ReopenWindow, parent.ReopenWindow)
		r.Policy = cmp.Or(rc.EscalationPolicy, parent.Policy)
		r.GroupWait = deref(rc.GroupWait, parent.GroupWait)
		r.Team = cmp.Or(rc.Team, parent.Team)
	}
	if err := r.compileUrgency(rc, parent); err != nil {
		return nil, err
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
	if r.matchers, err = rc.ParsedMatchers(); err != nil {
		return nil, err
	}
	switch {
	case rc.GroupBy == nil && parent != nil:
		// As in Alertmanager, group_by left out (not "[]") is inherited.
		r.groupBy, r.groupAll = parent.groupBy, parent.groupAll
	case len(rc.GroupBy) == 1 && rc.GroupBy[0] == "...":
		r.groupAll = true
	default:
		r.groupBy = slices.Sorted(slices.Values(rc.GroupBy))
	}
	return r, nil
}

// compileUrgency sets urgency, support hours and flap detection, each
// inherited when the route leaves it out.
func (r *Route) compileUrgency(rc config.Route, parent *Route) error {
	r.Urgency = config.UrgencyHigh
	if parent != nil {
		r.Urgency, r.SupportHours = parent.Urgency, parent.SupportHours
		r.FlapTransitions, r.FlapWindow = parent.FlapTransitions, parent.FlapWindow
	}
	if rc.Urgency != "" {
		r.Urgency = rc.Urgency
	}
	if rc.SupportHours != nil {
		w, err := rc.SupportHours.Weekly()
		if err != nil {
			return fmt.Errorf("support_hours: %w", err)
		}
		r.SupportHours = &w
	}
	if rc.Flap != nil {
		r.FlapTransitions, r.FlapWindow = rc.Flap.Transitions, rc.Flap.Window
	}
	return nil
}

func deref[T any](p *T, inherited T) T {
	if p == nil {
		return inherited
	}
	return *p
}

// Route returns the route called name, or nil: what an incident's route
// (its hash's "route" field) is in the serving config.
func (t *Tree) Route(name string) *Route {
	var find func(r *Route) *Route
	find = func(r *Route) *Route {
		if r.Name == name {
			return r
		}
		for _, c := range r.children {
			if f := find(c); f != nil {
				return f
			}
		}
		return nil
	}
	return find(t.root)
}

// Routes returns every route a takes, in the order of the tree: one, or
// more when routes with continue match. Never empty: an alert no route
// matches takes the built-in "default". Each route opens its own group.
func (t *Tree) Routes(a *alertgate.Alert) []*Route {
	if got := t.root.descend(a); len(got) > 0 {
		return got
	}
	return []*Route{t.root}
}

// Match returns the first route a takes (Routes has them all).
func (t *Tree) Match(a *alertgate.Alert) *Route {
	return t.Routes(a)[0]
}

// Explain returns the way a takes to each of its routes: per route, the
// names from the root ("default") down to the route itself, e.g.
// [default databases databases-primary]; [default] alone when no
// configured route matches. What an explain command or API shows.
func (t *Tree) Explain(a *alertgate.Alert) [][]string {
	routes := t.Routes(a)
	out := make([][]string, len(routes))
	for i, r := range routes {
		out[i] = r.Path()
	}
	return out
}

// Path is the names from the root ("default") down to r.
func (r *Route) Path() []string {
	var names []string
	for x := r; x != nil; x = x.parent {
		names = append(names, x.Name)
	}
	slices.Reverse(names)
	return names
}

// descend tries r's children on a, which matched r: the routes they
// take, or r itself when none matches (the root excepted: nil).
func (r *Route) descend(a *alertgate.Alert) []*Route {
	var all []*Route
	for _, c := range r.children {
		if !c.matches(a) {
			continue
		}
		all = append(all, c.descend(a)...)
		if !c.Continue {
			break
		}
	}
	if len(all) == 0 && r.parent != nil {
		all = []*Route{r}
	}
	return all
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
	return r.matchers.Matches(a.Labels)
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
