package config

import (
	"fmt"

	"github.com/alertgate/alertgate/matchers"
	"github.com/alertgate/alertgate/schedule"
)

// MaintenanceWindow is a recurring time when the alerts its matchers match
// page nobody (docs/silences.md): a weekly window like a rotation layer's
// restrictions, from From to To (past midnight when To is not after From)
// starting on each of Days, in the IANA zone TimeZone. Like a silence it
// holds back pages, never state.
type MaintenanceWindow struct {
	// Name follows the rules of integration names; the incident's timeline
	// names the window.
	Name string `yaml:"name"`
	// Matchers are Alertmanager matchers, all of which must match:
	// `service="db"`, `severity!~"critical|page"`.
	Matchers []string `yaml:"matchers"`
	TimeZone string   `yaml:"time_zone"`
	Days     []string `yaml:"days"`
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
}

// Limits of a maintenance window's matchers, as of a silence's.
const (
	maxWindowMatchers   = 64
	maxWindowMatcherLen = 1024
)

// window is the weekly part, in the form restrictions and working hours
// have, so the three share their checks and their arithmetic.
func (m *MaintenanceWindow) window() *Window {
	return &Window{Days: m.Days, From: m.From, To: m.To}
}

// Weekly converts the window for package schedule: its zone loaded, its
// days and times parsed. A window that passed Validate always converts.
func (m *MaintenanceWindow) Weekly() (schedule.Weekly, error) {
	loc, err := LoadZone(m.TimeZone)
	if err != nil {
		return schedule.Weekly{}, fmt.Errorf("time_zone: %w", err)
	}
	r, err := m.window().Restriction()
	if err != nil {
		return schedule.Weekly{}, err
	}
	return schedule.Weekly{Location: loc, Windows: []schedule.Restriction{r}}, nil
}

// validateMaintenance checks maintenance_windows; docs/silences.md lists
// the rules.
func (c *Config) validateMaintenance(ps *problems) {
	names := make(map[string]string, len(c.MaintenanceWindows))
	for i := range c.MaintenanceWindows {
		m, p := &c.MaintenanceWindows[i], index("maintenance_windows", i)
		validateName(ps, p+".name", m.Name, names)
		checkWindowMatchers(ps, p+".matchers", m.Matchers)
		if m.TimeZone == "" {
			ps.add(p+".time_zone", `required: the IANA zone the days and times are in, such as "Europe/London" or "UTC"`)
		} else {
			checkZone(ps, p+".time_zone", m.TimeZone)
		}
		checkWindow(ps, p, m.window())
	}
}

// checkWindowMatchers applies a silence's rules to a window's matchers:
// at least one, each one that parses, and one at least that does not
// match the empty string (a label an alert lacks reads as "", so
// `team=~".*"` alone would hold back every page).
func checkWindowMatchers(ps *problems, p string, list []string) {
	switch {
	case len(list) == 0:
		ps.add(p, `at least one matcher is required, such as ['service="db"']`)
		return
	case len(list) > maxWindowMatchers:
		ps.add(p, "%d matchers; a window has at most %d", len(list), maxWindowMatchers)
		return
	}
	selective, parsed := false, true
	for j, s := range list {
		mp := index(p, j)
		if len(s) > maxWindowMatcherLen {
			ps.add(mp, "longer than %d bytes", maxWindowMatcherLen)
			parsed = false
			continue
		}
		m, err := matchers.Parse(s)
		if err != nil {
			ps.add(mp, `%q is not a matcher such as service="db" or severity=~"warning|info": %v`, s, err)
			parsed = false
			continue
		}
		selective = selective || !m.Matches("")
	}
	if parsed && !selective {
		ps.add(p, `every matcher matches the empty string, so together they would match every alert; add one that needs a label, such as alertname=~".+"`)
	}
}
