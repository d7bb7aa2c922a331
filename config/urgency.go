package config

import (
	"fmt"
	"time"

	"github.com/alertgate/alertgate/schedule"
)

// Route urgencies.
const (
	UrgencyHigh = "high"
	UrgencyLow  = "low"
)

// SupportHours are when a low-urgency route's incidents page: a weekly
// window in an IANA zone, like a maintenance window's.
type SupportHours struct {
	TimeZone string   `yaml:"time_zone"`
	Days     []string `yaml:"days"`
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
}

// Weekly converts the support hours for package schedule. Hours that
// passed Validate always convert.
func (s *SupportHours) Weekly() (schedule.Weekly, error) {
	loc, err := LoadZone(s.TimeZone)
	if err != nil {
		return schedule.Weekly{}, fmt.Errorf("time_zone: %w", err)
	}
	r, err := (&Window{Days: s.Days, From: s.From, To: s.To}).Restriction()
	if err != nil {
		return schedule.Weekly{}, err
	}
	return schedule.Weekly{Location: loc, Windows: []schedule.Restriction{r}}, nil
}

// Flap detects flapping on a route: an alert that changes state (fires,
// resolves) more than Transitions times within Window marks its incident
// flapping: one flapping page, then quiet (the incident stays open) until
// the alert has been stable for Window.
type Flap struct {
	Transitions int           `yaml:"transitions"`
	Window      time.Duration `yaml:"window"`
}

// Bounds of flap detection.
const (
	minFlapWindow = time.Minute
	maxFlapWindow = 7 * 24 * time.Hour
)

// validateUrgency checks every route's urgency, support_hours and flap.
func (c *Config) validateUrgency(ps *problems) {
	for _, ra := range c.AllRoutes() {
		r, p := ra.Route, ra.Path
		switch r.Urgency {
		case "", UrgencyHigh, UrgencyLow:
		default:
			ps.add(p+".urgency", "%q is not an urgency: use high (pages at once, day and night) or low (pages in support_hours)", r.Urgency)
		}
		if h := r.SupportHours; h != nil {
			if h.TimeZone == "" {
				ps.add(p+".support_hours.time_zone", `required: the IANA zone the days and times are in, such as "Europe/London"`)
			} else {
				checkZone(ps, p+".support_hours.time_zone", h.TimeZone)
			}
			checkWindow(ps, p+".support_hours", &Window{Days: h.Days, From: h.From, To: h.To})
		}
		if f := r.Flap; f != nil {
			if f.Transitions < 1 {
				ps.add(p+".flap.transitions", "must be at least 1: an alert changing state more often than this within window flaps")
			}
			if f.Window < minFlapWindow || f.Window > maxFlapWindow {
				ps.add(p+".flap.window", "must be between %v and %v", minFlapWindow, maxFlapWindow)
			}
		}
	}
	// A low-urgency route needs its hours, from itself or an ancestor.
	for _, ra := range c.AllRoutes() {
		if urgencyOf(ra) == UrgencyLow && supportHoursOf(ra) == nil {
			ps.add(ra.Path+".support_hours", "required with urgency low (here or on a parent route): when its incidents may page")
		}
	}
}

// urgencyOf is a route's urgency, inherited from its ancestors.
func urgencyOf(ra *RouteAt) string {
	for ; ra != nil; ra = ra.Parent {
		if ra.Route.Urgency != "" {
			return ra.Route.Urgency
		}
	}
	return UrgencyHigh
}

func supportHoursOf(ra *RouteAt) *SupportHours {
	for ; ra != nil; ra = ra.Parent {
		if ra.Route.SupportHours != nil {
			return ra.Route.SupportHours
		}
	}
	return nil
}
