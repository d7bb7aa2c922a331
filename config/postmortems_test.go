package config

import (
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
)

func TestPostmortemRules(t *testing.T) {
	c, err := Load([]byte(`
notifiers:
  - {id: status, type: webhook, url: "https://status.example.com/hook"}
status_updates:
  notifiers: [status, console]
  services:
    - {service: payments, notifiers: [status, console]}
postmortems:
  required:
    - {severity: error, due: 72h}
    - {service: payments, due: 120h}
`), "pm.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sev     alertgate.Severity
		service string
		due     time.Duration
		ok      bool
	}{
		{alertgate.SeverityCritical, "", 72 * time.Hour, true}, // error or worse
		{alertgate.SeverityError, "web", 72 * time.Hour, true},
		{alertgate.SeverityWarning, "payments", 120 * time.Hour, true},
		{alertgate.SeverityWarning, "web", 0, false},
	} {
		r, _, ok := c.Postmortems.Rule(tc.sev, tc.service)
		if ok != tc.ok || r.Due != tc.due {
			t.Errorf("Rule(%s, %q) = %v %v, want %v %v", tc.sev, tc.service, r.Due, ok, tc.due, tc.ok)
		}
	}
	if got := c.StatusUpdates.For("payments"); strings.Join(got, ",") != "status,console" {
		t.Errorf("For(payments) = %v, each once", got)
	}
}

func TestPostmortemRulesInvalid(t *testing.T) {
	_, err := Load([]byte(`
status_updates:
  notifiers: [nope]
  services:
    - {notifiers: []}
postmortems:
  required:
    - {due: 72h}
    - {severity: sev1, due: 72h}
    - {service: payments}
`), "pm.yml")
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{
		`pm.yml:3: status_updates.notifiers[0]: "nope" is not a notifier`,
		`status_updates.services[0].service: required`,
		`status_updates.services[0].notifiers: required`,
		`postmortems.required[0]: name a severity, a service or both`,
		`postmortems.required[1].severity: "sev1" is not one of`,
		`postmortems.required[2].due: required`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
