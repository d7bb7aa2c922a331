package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/alertgate/alertgate/matchers"
)

// The route tree: routes nest under routes, and Validate checks every one
// of them by the same rules, plus the rules of the tree itself, all in
// docs/routing.md: matchers parse; names are unique in the whole tree; a
// route whose conditions (with its ancestors') provably contradict each
// other can never match; a route after a sibling that takes every alert it
// would (and does not continue) can never match.

// RouteAt is one route of the tree with its field path
// ("routes[0].routes[2]") and its depth (0 for a top-level route).
type RouteAt struct {
	Path   string
	Route  *Route
	Depth  int
	Parent *RouteAt // nil for a top-level route
}

// AllRoutes lists every configured route, nested ones included, in the
// order of the file (a route before its children).
func (c *Config) AllRoutes() []*RouteAt {
	var out []*RouteAt
	var walk func(routes []Route, path string, parent *RouteAt)
	walk = func(routes []Route, path string, parent *RouteAt) {
		for i := range routes {
			ra := &RouteAt{Path: index(path, i), Route: &routes[i], Parent: parent}
			if parent != nil {
				ra.Depth = parent.Depth + 1
			}
			out = append(out, ra)
			walk(routes[i].Routes, ra.Path+".routes", ra)
		}
	}
	walk(c.Routes, "routes", nil)
	return out
}

// ParsedMatchers parses the route's matchers: every entry, each of which
// may hold a comma-separated list. Validate has checked that they parse.
func (r Route) ParsedMatchers() (matchers.Matchers, error) {
	var all matchers.Matchers
	for j, s := range r.Matchers {
		ms, err := matchers.ParseSet(s)
		if err != nil {
			return nil, fmt.Errorf("matchers[%d]: %q: %w", j, s, err)
		}
		all = append(all, ms...)
	}
	return all, nil
}

// condition is one thing a route requires of an alert, as a matcher, with
// the field that says so (for messages) and the key that identifies it
// among its siblings' conditions.
type condition struct {
	m     *matchers.Matcher
	field string
	key   string
}

// conditions are the route's own label conditions. match k: v with v
// non-empty is k="v" (a label equal to a non-empty value is present);
// match k: "" also requires the label present, so it gets a key of its
// own, while it still implies k="" for the contradiction check. match_re
// is exactly k=~"re". Entries that do not parse or compile are left out:
// they are reported on their own.
func (r *Route) conditions(p string) []condition {
	var out []condition
	for _, k := range slices.Sorted(maps.Keys(r.Match)) {
		v := r.Match[k]
		m, err := matchers.New(k, matchers.Equal, v)
		if err != nil {
			continue
		}
		key := m.String()
		if v == "" {
			key = "match:" + strconv.Quote(k)
		}
		out = append(out, condition{m, keyPath(p+".match", k), key})
	}
	for _, k := range slices.Sorted(maps.Keys(r.MatchRE)) {
		m, err := matchers.New(k, matchers.Regexp, r.MatchRE[k])
		if err != nil {
			continue
		}
		out = append(out, condition{m, keyPath(p+".match_re", k), m.String()})
	}
	for j, s := range r.Matchers {
		ms, err := matchers.ParseSet(s)
		if err != nil {
			continue
		}
		for _, m := range ms {
			out = append(out, condition{m, index(p+".matchers", j), m.String()})
		}
	}
	return out
}

// validateRouteTree checks the rules of the tree; validateRoutes has
// checked each route on its own.
func (c *Config) validateRouteTree(ps *problems) {
	all := c.AllRoutes()
	conds := make(map[*RouteAt][]condition, len(all)) // own and ancestors'
	never := make(map[*RouteAt]bool, len(all))        // proven never to match
	for _, ra := range all {
		r, p := ra.Route, ra.Path
		for j, s := range r.Matchers {
			mp := index(p+".matchers", j)
			if strings.TrimSpace(s) == "" {
				ps.add(mp, `must not be empty: a matcher such as 'severity=~"critical|error"'`)
				continue
			}
			if _, err := matchers.ParseSet(s); err != nil {
				ps.add(mp, "invalid matcher %q: %v", s, err)
			}
		}

		own := r.conditions(p)
		var inherited []condition
		if ra.Parent != nil {
			if never[ra.Parent] {
				never[ra] = true // said once, at the ancestor
				continue
			}
			inherited = conds[ra.Parent]
		}
		conds[ra] = append(slices.Clip(inherited), own...)
		if found, ok := contradiction(conds[ra]); ok {
			never[ra] = true
			ps.add(found[len(found)-1].field, "the route can never match: %s", describeContradiction(found, p))
			continue
		}
		if first, ok := disjointIntegrations(ra); ok {
			never[ra] = true
			ps.add(p+".integrations", "the route can never match: none of its integrations is in %s.integrations", first.Path)
		}
	}
	byRoute := make(map[*Route]*RouteAt, len(all))
	for _, ra := range all {
		byRoute[ra.Route] = ra
	}
	checkShadowed(ps, c.Routes, "routes", func(r *Route) bool { return never[byRoute[r]] })
}

// contradiction finds conditions that no alert satisfies together.
func contradiction(conds []condition) ([]condition, bool) {
	ms := make(matchers.Matchers, len(conds))
	for i, c := range conds {
		ms[i] = c.m
	}
	found, ok := matchers.Contradiction(ms)
	if !ok {
		return nil, false
	}
	var out []condition
	for _, m := range found {
		for _, c := range conds {
			if c.m == m {
				out = append(out, c)
				break
			}
		}
	}
	return out, true
}

// describeContradiction says which conditions contradict each other; those of an
// ancestor (outside route path p) are named by their field.
func describeContradiction(found []condition, p string) string {
	parts := make([]string, len(found))
	for i, c := range found {
		parts[i] = c.m.String()
		if !strings.HasPrefix(c.field, p+".") {
			parts[i] += " (" + c.field + ")"
		}
	}
	if len(parts) == 1 {
		return parts[0] + " matches no value"
	}
	return "no value satisfies " + joinAnd(parts) + " together"
}

// disjointIntegrations reports an ancestor whose integrations have none
// in common with the route's own: an alert comes from one integration.
func disjointIntegrations(ra *RouteAt) (*RouteAt, bool) {
	own := ra.Route.Integrations
	if len(own) == 0 {
		return nil, false
	}
	for up := ra.Parent; up != nil; up = up.Parent {
		theirs := up.Route.Integrations
		if len(theirs) > 0 && !slices.ContainsFunc(own, func(n string) bool { return slices.Contains(theirs, n) }) {
			return up, true
		}
	}
	return nil, false
}

// checkShadowed reports each route of siblings (and, recursively, of their
// children) that an earlier sibling without continue always takes first:
// the earlier one's conditions are a subset of the later one's, and its
// integrations, if it names any, include all of the later one's. A
// sibling with no conditions at all is a catch-all.
func checkShadowed(ps *problems, siblings []Route, path string, never func(*Route) bool) {
	// Keys of each sibling's conditions: what may shadow (catch-all
	// matchers left out) and what may be shadowed.
	broad := make([]map[string]bool, len(siblings))
	narrow := make([]map[string]bool, len(siblings))
	for i := range siblings {
		conds := siblings[i].conditions(index(path, i))
		broad[i], narrow[i] = conditionKeys(conds, true), conditionKeys(conds, false)
	}
	for j := range siblings {
		later := &siblings[j]
		lp := index(path, j)
		checkShadowed(ps, later.Routes, lp+".routes", never)
		if never(later) {
			continue
		}
		for i := range j {
			earlier := &siblings[i]
			if earlier.Continue || never(earlier) || !takesAllOf(earlier, later) || !subset(broad[i], narrow[j]) {
				continue
			}
			ep := index(path, i)
			what := fmt.Sprintf("%s (%q) takes every alert it would", ep, earlier.Name)
			if len(earlier.Match)+len(earlier.MatchRE)+len(earlier.Matchers)+len(earlier.Integrations) == 0 {
				what = fmt.Sprintf("%s (%q) before it matches every alert", ep, earlier.Name)
			}
			ps.add(lp, "the route can never match: %s and has no continue: true (move this route before it, or give that one continue: true)", what)
			break
		}
	}
}

func subset(a, b map[string]bool) bool {
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// conditionKeys is the set of keys of conds; dropEverything leaves out
// matchers that hold for every value, which constrain nothing.
func conditionKeys(conds []condition, dropEverything bool) map[string]bool {
	keys := make(map[string]bool, len(conds))
	for _, c := range conds {
		if dropEverything && c.m.MatchesEverything() {
			continue
		}
		keys[c.key] = true
	}
	return keys
}

// takesAllOf reports whether earlier's integrations admit every alert
// later's do.
func takesAllOf(earlier, later *Route) bool {
	if len(earlier.Integrations) == 0 {
		return true
	}
	if len(later.Integrations) == 0 {
		return false
	}
	for _, n := range later.Integrations {
		if !slices.Contains(earlier.Integrations, n) {
			return false
		}
	}
	return true
}
