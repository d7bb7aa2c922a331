package config

import (
	"strings"
	"testing"
	"time"
)

func TestUrgencyProblems(t *testing.T) {
	hours := &SupportHours{TimeZone: "Europe/London", Days: []string{"mon"}, From: "09:00", To: "17:00"}
	for _, c := range []struct {
		routes []Route
		want   string
	}{
		{[]Route{{Name: "a", Urgency: "medium"}}, `routes[0].urgency: "medium" is not an urgency`},
		{[]Route{{Name: "a", Urgency: UrgencyLow}}, "routes[0].support_hours: required with urgency low"},
		{[]Route{{Name: "a", Urgency: UrgencyLow, SupportHours: &SupportHours{Days: []string{"mon"}, From: "09:00", To: "17:00"}}},
			"routes[0].support_hours.time_zone: required"},
		{[]Route{{Name: "a", Urgency: UrgencyLow, SupportHours: &SupportHours{TimeZone: "Mars/Olympus", Days: []string{"mon"}, From: "09:00", To: "17:00"}}},
			"routes[0].support_hours.time_zone: "},
		{[]Route{{Name: "a", Urgency: UrgencyLow, SupportHours: &SupportHours{TimeZone: "UTC", Days: []string{"someday"}, From: "09:00", To: "17:00"}}},
			"routes[0].support_hours.days"},
		{[]Route{{Name: "a", Flap: &Flap{Transitions: 0, Window: time.Hour}}}, "routes[0].flap.transitions: must be at least 1"},
		{[]Route{{Name: "a", Flap: &Flap{Transitions: 3, Window: time.Second}}}, "routes[0].flap.window: must be between 1m0s and 168h0m0s"},
		// A child inherits urgency and hours: a low parent with hours is fine,
		// a low child under a parent without hours is not.
		{[]Route{{Name: "a", Routes: []Route{{Name: "b", Urgency: UrgencyLow}}}}, "routes[0].routes[0].support_hours: required with urgency low"},
	} {
		cfg := &Config{Routes: c.routes}
		var ps problems
		cfg.validateUrgency(&ps)
		if len(ps.list) == 0 || !strings.HasPrefix(ps.list[0].String(), c.want) {
			t.Errorf("%+v: problems %v, want one starting %q", c.routes, ps.list, c.want)
		}
	}
	ok := &Config{Routes: []Route{{Name: "a", Urgency: UrgencyLow, SupportHours: hours, Routes: []Route{{Name: "b"}}}}}
	var ps problems
	ok.validateUrgency(&ps)
	if len(ps.list) != 0 {
		t.Errorf("low urgency with hours, inherited by a child: %v", ps.list)
	}
}
