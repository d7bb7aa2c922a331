package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate/schedule"
)

func TestLoadMaintenanceWindows(t *testing.T) {
	c, err := Load([]byte(`
maintenance_windows:
  - name: db-backup
    matchers: ['service="db"', 'severity!~"critical|page"']
    time_zone: Europe/London
    days: [mon, tue, wed, thu, fri]
    from: "01:00"
    to: "03:00"
  - name: saturday-night
    matchers: [env=staging]
    time_zone: America/New_York
    days: [sat]
    from: "22:00"
    to: "02:00"
`), "cfg.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.MaintenanceWindows); got != 2 {
		t.Fatalf("%d windows, want 2", got)
	}
	m := c.MaintenanceWindows[0]
	if m.Name != "db-backup" || !reflect.DeepEqual(m.Matchers, []string{`service="db"`, `severity!~"critical|page"`}) {
		t.Errorf("window 0 = %+v", m)
	}
	w, err := m.Weekly()
	if err != nil {
		t.Fatal(err)
	}
	if w.Location.String() != "Europe/London" {
		t.Errorf("zone %s", w.Location)
	}
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	if want := []schedule.Restriction{{Days: weekdays, From: 60, To: 180}}; !reflect.DeepEqual(w.Windows, want) {
		t.Errorf("windows = %+v, want %+v", w.Windows, want)
	}

	// The second wraps past midnight, in New York time: Saturday 7 March
	// 2026 22:00 EST to Sunday 02:00 EST.
	w, err = c.MaintenanceWindows[1].Weekly()
	if err != nil {
		t.Fatal(err)
	}
	sunday1am := time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC)
	if !w.Active(sunday1am) {
		t.Errorf("Sunday 01:00 New York is outside the Saturday-night window")
	}
	if got, want := w.NextChange(sunday1am), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("NextChange = %s, want %s", got, want)
	}
}

func TestMaintenanceWindowProblems(t *testing.T) {
	const head = "maintenance_windows:\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"no name", `
  - matchers: [a=b]
    time_zone: UTC
    days: [mon]
    from: "01:00"
    to: "02:00"`, `cfg.yml:2: maintenance_windows[0].name: required`},
		{"duplicate name", `
  - {name: w, matchers: [a=b], time_zone: UTC, days: [mon], from: "01:00", to: "02:00"}
  - {name: w, matchers: [a=c], time_zone: UTC, days: [mon], from: "01:00", to: "02:00"}`,
			`cfg.yml:3: maintenance_windows[1].name: duplicate name "w" (also maintenance_windows[0].name)`},
		{"no matchers", `
  - name: w
    time_zone: UTC
    days: [mon]
    from: "01:00"
    to: "02:00"`, `cfg.yml:2: maintenance_windows[0].matchers: at least one matcher is required`},
		{"bad matcher", `
  - name: w
    matchers:
      - a=b
      - 'c=~"("'
    time_zone: UTC
    days: [mon]
    from: "01:00"
    to: "02:00"`, `cfg.yml:5: maintenance_windows[0].matchers[1]: "c=~\"(\"" is not a matcher`},
		{"matchers that match every alert", `
  - name: w
    matchers: ['team=~".*"']
    time_zone: UTC
    days: [mon]
    from: "01:00"
    to: "02:00"`, `cfg.yml:3: maintenance_windows[0].matchers: every matcher matches the empty string`},
		{"no zone", `
  - name: w
    matchers: [a=b]
    days: [mon]
    from: "01:00"
    to: "02:00"`, `cfg.yml:2: maintenance_windows[0].time_zone: required: the IANA zone`},
		{"bad zone", `
  - name: w
    matchers: [a=b]
    time_zone: Europe/Londn
    days: [mon]
    from: "01:00"
    to: "02:00"`, `cfg.yml:4: maintenance_windows[0].time_zone: "Europe/Londn" is not an IANA time zone`},
		{"bad day", `
  - name: w
    matchers: [a=b]
    time_zone: UTC
    days: [mon, tues]
    from: "01:00"
    to: "02:00"`, `cfg.yml:5: maintenance_windows[0].days[1]: "tues" is not a day: use mon, tue, wed, thu, fri, sat, sun`},
		{"no days", `
  - name: w
    matchers: [a=b]
    time_zone: UTC
    from: "01:00"
    to: "02:00"`, `cfg.yml:2: maintenance_windows[0].days: at least one day is required`},
		{"bad from", `
  - name: w
    matchers: [a=b]
    time_zone: UTC
    days: [mon]
    from: "1am"
    to: "02:00"`, `cfg.yml:6: maintenance_windows[0].from: "1am" is not a time of day HH:MM`},
		{"missing to", `
  - name: w
    matchers: [a=b]
    time_zone: UTC
    days: [mon]
    from: "01:00"`, `cfg.yml:2: maintenance_windows[0].to: required: a time of day HH:MM`},
		{"unknown field", `
  - name: w
    matchers: [a=b]
    timezone: UTC
    days: [mon]
    from: "01:00"
    to: "02:00"`, `cfg.yml:4: maintenance_windows[0].timezone: unknown field (did you mean "time_zone"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(head+strings.TrimPrefix(tt.yaml, "\n")+"\n"), "cfg.yml")
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load = %v, want a *LoadError", err)
			}
			if got := le.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("problems\n%s\ndo not contain\n%s", got, tt.want)
			}
		})
	}
}
