package receivers

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

// TestNewErrors: every rule of an integration lives in config.Validate,
// which refuses all of these; New trusts a validated config and refuses
// only those that would make it panic, or leave a signature unchecked.
func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         config.Integration
		newRefuses bool
	}{
		{"no name", config.Integration{Type: config.TypeAlertmanager}, false},
		{"unknown type", config.Integration{Name: "x", Type: "nagios"}, true},
		{"no type", config.Integration{Name: "x"}, true},
		{"empty label name", config.Integration{Name: "x", Type: config.TypeAlertmanager, Labels: map[string]string{"": "v"}}, false},
		{"label name too long", config.Integration{Name: "x", Type: config.TypeAlertmanager, Labels: map[string]string{strings.Repeat("n", alertgate.MaxLabelNameLen+1): "v"}}, false},
		{"generic without mapping", config.Integration{Name: "x", Type: config.TypeGeneric}, true},
		{"generic without dedup_key", config.Integration{Name: "x", Type: config.TypeGeneric, Generic: &config.GenericMapping{Summary: "s"}}, true},
		{"generic bad path", config.Integration{Name: "x", Type: config.TypeGeneric, Generic: &config.GenericMapping{DedupKey: "a..b"}}, true},
		{"generic bad label path", config.Integration{Name: "x", Type: config.TypeGeneric, Generic: &config.GenericMapping{DedupKey: "id", Labels: map[string]string{"host": "a[x]"}}}, true},
		{"generic empty label path", config.Integration{Name: "x", Type: config.TypeGeneric, Generic: &config.GenericMapping{DedupKey: "id", Labels: map[string]string{"host": ""}}}, true},
		{"generic empty label name", config.Integration{Name: "x", Type: config.TypeGeneric, Generic: &config.GenericMapping{DedupKey: "id", Labels: map[string]string{"": "a"}}}, false},
		{"mapping on alertmanager", config.Integration{Name: "x", Type: config.TypeAlertmanager, Generic: &config.GenericMapping{DedupKey: "id"}}, false},
		{"pagerduty without routing keys", config.Integration{Name: "x", Type: config.TypePagerDuty}, false},
		{"pagerduty empty routing key", config.Integration{Name: "x", Type: config.TypePagerDuty, RoutingKeys: []config.Secret{""}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Config{Integrations: []config.Integration{tc.in}}
			cfg.ApplyDefaults()
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "integrations[0]") {
				t.Errorf("config.Validate = %v, want a problem in integrations[0]", err)
			}
			r, err := New(tc.in)
			if tc.newRefuses && err == nil {
				t.Fatalf("New accepted it: %T", r)
			}
			if !tc.newRefuses && err != nil {
				t.Fatalf("New: %v; it should trust config.Validate with this rule", err)
			}
		})
	}
}

func TestType(t *testing.T) {
	for _, typ := range receiverTypes {
		if got, want := mustNew(t, testIntegration(typ)).Type(), typ; got != want {
			t.Errorf("Type() = %q, want %q", got, want)
		}
	}
}

func TestIntegrationDefaults(t *testing.T) {
	in := testIntegration(config.TypeAlertmanager)
	r := mustNew(t, in)
	body := amBody("4",
		`{"status":"firing","fingerprint":"a","labels":{"alertname":"A","env":"prod"}}`,
		`{"status":"firing","fingerprint":"b","labels":{"alertname":"B","service":"db"}}`,
		`{"status":"firing","fingerprint":"c"}`,
	)
	b, err := parse(t, r, []byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, in, b)
	for i, want := range []struct {
		env, service string
	}{
		{"prod", "default-service"},                // the alert's label wins
		{"integration-default", "db"},              // the alert's service wins
		{"integration-default", "default-service"}, // no labels at all
	} {
		a := b.Alerts[i]
		if got := a.Labels["env"]; got != want.env {
			t.Errorf("alerts[%d] env = %q, want %q", i, got, want.env)
		}
		if got := a.Labels["gateway"]; got != "alertgate" {
			t.Errorf("alerts[%d] gateway = %q, want alertgate", i, got)
		}
		if got := a.Service; got != want.service {
			t.Errorf("alerts[%d] service = %q, want %q", i, got, want.service)
		}
	}
}

// Integration labels must not change a fingerprint computed from labels.
func TestComputedFingerprintIgnoresIntegrationLabels(t *testing.T) {
	labels := `{"alertname":"ProbeFailure","cluster":"eu1","instance":"https://api.example.org","severity":"critical"}`
	body := amBody("4", `{"status":"firing","labels":`+labels+`}`)
	for _, extra := range []map[string]string{nil, {"zzz": "1", "aaa": "2"}} {
		in := testIntegration(config.TypeAlertmanager)
		in.Labels = extra
		b, err := parse(t, mustNew(t, in), []byte(body), nil)
		if err != nil {
			t.Fatal(err)
		}
		// Alertmanager 0.25 sent fingerprint a0db60e31ef2af83 for this label
		// set (testdata/alertmanager/firing_nested_groupkey.json).
		if got, want := b.Alerts[0].Fingerprint, "a0db60e31ef2af83"; got != want {
			t.Errorf("fingerprint = %q, want %q", got, want)
		}
	}
}

func TestAlertmanagerAccepts(t *testing.T) {
	in := testIntegration(config.TypeAlertmanager)
	r := mustNew(t, in)
	long := strings.Repeat("é", 3000) // 6000 bytes
	for _, tc := range []struct {
		name  string
		body  string
		check func(t *testing.T, b alertgate.Batch)
	}{
		{"empty alerts", `{"version":"4","alerts":[]}`, func(t *testing.T, b alertgate.Batch) {
			if len(b.Alerts) != 0 {
				t.Errorf("got %d alerts", len(b.Alerts))
			}
		}},
		{"UTF-8 BOM", "\xef\xbb\xbf" + amBody("4", amAlertJSON("firing", "x", "")), nil},
		{"lone surrogate escape", amBody("4", amAlertJSON("firing", "x", `,"annotations":{"summary":"a\ud800b"}`)), func(t *testing.T, b alertgate.Batch) {
			if got, want := b.Alerts[0].Summary, "a\uFFFDb"; got != want {
				t.Errorf("summary = %q, want %q", got, want)
			}
		}},
		{"duplicate keys: last wins", amBody("4", `{"status":"resolved","status":"firing","fingerprint":"x"}`), func(t *testing.T, b alertgate.Batch) {
			if got, want := b.Alerts[0].Status, alertgate.Firing; got != want {
				t.Errorf("status = %q, want %q", got, want)
			}
		}},
		{"label values kept as sent", amBody("4", amAlertJSON("firing", "x", `,"labels":{"a":"line1\r\nline2","b":"{hash}","c":"x:y"}`)), func(t *testing.T, b alertgate.Batch) {
			if got, want := b.Alerts[0].Labels["a"], "line1\r\nline2"; got != want {
				t.Errorf("label a = %q, want %q", got, want)
			}
		}},
		{"long strings truncated", amBody("4", amAlertJSON("firing", "x", `,"labels":{"big":"`+long+`"},"annotations":{"summary":"`+long+`"}`)), func(t *testing.T, b alertgate.Batch) {
			a := b.Alerts[0]
			if len(a.Summary) > alertgate.MaxSummaryLen || !utf8.ValidString(a.Summary) {
				t.Errorf("summary: %d bytes, valid UTF-8 %v", len(a.Summary), utf8.ValidString(a.Summary))
			}
			if len(a.Labels["big"]) > alertgate.MaxLabelValueLen || !utf8.ValidString(a.Labels["big"]) {
				t.Errorf("label: %d bytes", len(a.Labels["big"]))
			}
		}},
		{"long group key hashed", `{"version":"4","groupKey":"` + strings.Repeat("g", 2000) + `","alerts":[` + amAlertJSON("firing", "x", "") + `]}`, func(t *testing.T, b alertgate.Batch) {
			if got := b.Alerts[0].GroupKey; !strings.HasPrefix(got, "sha256:") || len(got) != 7+64 {
				t.Errorf("group key = %q", got)
			}
		}},
		{"huge truncatedAlerts", `{"version":"4","truncatedAlerts":9000000000000,"alerts":[]}`, func(t *testing.T, b alertgate.Batch) {
			if b.Truncated <= 0 {
				t.Errorf("Truncated = %d", b.Truncated)
			}
		}},
		{"far-future startsAt", amBody("4", amAlertJSON("firing", "x", `,"startsAt":"9999-01-01T00:00:00Z"`)), nil},
		{"resolved with endsAt before startsAt", amBody("4", amAlertJSON("resolved", "x", `,"startsAt":"2026-01-02T00:00:00Z","endsAt":"2026-01-01T00:00:00Z"`)), nil},
		{"same fingerprint, different labels", amBody("4", amAlertJSON("firing", "x", ""), `{"status":"firing","fingerprint":"x","labels":{"other":"1"}}`), func(t *testing.T, b alertgate.Batch) {
			if len(b.Alerts) != 2 {
				t.Errorf("got %d alerts, want both (dedupe decides)", len(b.Alerts))
			}
		}},
		{"summary fallbacks", amBody("4",
			`{"status":"firing","fingerprint":"f1","labels":{"alertname":"Name"},"annotations":{"summary":"  ","description":"Desc"}}`,
			`{"status":"firing","fingerprint":"f2","labels":{"alertname":"Name"}}`,
			`{"status":"firing","fingerprint":"f3"}`,
		), func(t *testing.T, b alertgate.Batch) {
			for i, want := range []string{"Desc", "Name", "f3"} {
				if got := b.Alerts[i].Summary; got != want {
					t.Errorf("alerts[%d] summary = %q, want %q", i, got, want)
				}
			}
		}},
		{"severity words", amBody("4",
			amAlertJSON("firing", "f1", `,"labels":{"severity":"Sev-1"}`),
			amAlertJSON("firing", "f2", `,"labels":{"severity":"page-me"}`),
			amAlertJSON("firing", "f3", ""),
			amAlertJSON("firing", "f4", `,"labels":{"severity":"info"}`),
		), func(t *testing.T, b alertgate.Batch) {
			for i, want := range []struct {
				sev alertgate.Severity
				raw string
			}{{"critical", ""}, {"error", "page-me"}, {"error", ""}, {"info", ""}} {
				if got := b.Alerts[i].Severity; got != want.sev {
					t.Errorf("alerts[%d] severity = %q, want %q", i, got, want.sev)
				}
				if got := b.Alerts[i].Details["severity_raw"]; got != want.raw {
					t.Errorf("alerts[%d] severity_raw = %q, want %q", i, got, want.raw)
				}
			}
		}},
		{"javascript: and huge URLs are not links", `{"version":"4","externalURL":"javascript:alert(1)","alerts":[` +
			amAlertJSON("firing", "x", `,"generatorURL":"https://x.example/`+strings.Repeat("a", 10<<10)+`"`) + `]}`, func(t *testing.T, b alertgate.Batch) {
			if got := b.Alerts[0].Links; len(got) != 0 {
				t.Errorf("links = %v, want none", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := parse(t, r, []byte(tc.body), nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkBatch(t, in, b)
			if tc.check != nil {
				tc.check(t, b)
			}
		})
	}
}

func TestGrafanaAcceptsBothVersions(t *testing.T) {
	in := testIntegration(config.TypeGrafana)
	r := mustNew(t, in)
	for _, v := range []string{"1", "4"} {
		b, err := parse(t, r, []byte(amBody(v, amAlertJSON("firing", "x", `,"values":{"A":null,"B":-0}`))), nil)
		if err != nil {
			t.Fatalf("version %s: %v", v, err)
		}
		checkBatch(t, in, b)
		if got, want := b.Alerts[0].Details["values"], "B=-0"; got != want {
			t.Errorf("values = %q, want %q", got, want)
		}
	}
}

func TestParseTags(t *testing.T) {
	for _, tc := range []struct {
		tags string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"env:prod", map[string]string{"env": "prod"}},
		{" env : prod , team:sre ", map[string]string{"env": "prod", "team": "sre"}},
		{"role:a,role:b,role:a", map[string]string{"role": "a,b"}},
		{"canary", map[string]string{"canary": "true"}},
		{"canary,canary:no", map[string]string{"canary": "no"}},
		{"url:https://x.example:8443/a", map[string]string{"url": "https://x.example:8443/a"}},
		{"empty:", map[string]string{"empty": ""}},
		{":orphan,,*, ", map[string]string{}},
	} {
		got, err := parseTags(tc.tags, "tags")
		if err != nil {
			t.Errorf("parseTags(%q): %v", tc.tags, err)
			continue
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("parseTags(%q) = %v, want %v", tc.tags, got, tc.want)
		}
	}
}

func TestStripTitlePrefix(t *testing.T) {
	for _, tc := range []struct{ title, want string }{
		{"[Triggered on {host:web-1}] CPU high", "CPU high"},
		{"[P1] [Re-Triggered] CPU high", "CPU high"},
		{"[Recovered] [Memory Alert]", "[Memory Alert]"},
		{"[No Data on {host:a}] Lag", "Lag"},
		{"[Renotify] x", "x"},
		{"[Memory Alert] is firing", "[Memory Alert] is firing"},
		{"[Triggered]", "[Triggered]"},
		{"Plain", "Plain"},
		{"[unclosed", "[unclosed"},
		{"", ""},
	} {
		if got := stripTitlePrefix(tc.title); got != tc.want {
			t.Errorf("stripTitlePrefix(%q) = %q, want %q", tc.title, got, tc.want)
		}
	}
}

func TestDatadogSeverity(t *testing.T) {
	for _, tc := range []struct {
		priority, alertType string
		want                alertgate.Severity
	}{
		{"P1", "info", alertgate.SeverityCritical},
		{"p2", "", alertgate.SeverityError},
		{"P3", "", alertgate.SeverityWarning},
		{"P4", "", alertgate.SeverityInfo},
		{"P5", "error", alertgate.SeverityInfo},
		{"", "error", alertgate.SeverityError},
		{"", "warning", alertgate.SeverityWarning},
		{"", "info", alertgate.SeverityInfo},
		{"", "success", alertgate.SeverityInfo},
		{"P9", "", alertgate.SeverityError},
		{"", "", alertgate.SeverityError},
	} {
		if got := ddSeverity(tc.priority, tc.alertType); got != tc.want {
			t.Errorf("ddSeverity(%q, %q) = %q, want %q", tc.priority, tc.alertType, got, tc.want)
		}
	}
}

func TestDatadogFingerprint(t *testing.T) {
	in := testIntegration(config.TypeDatadog)
	r := mustNew(t, in)
	fp := func(fields string) string {
		t.Helper()
		b, err := parse(t, r, []byte(`{"transition":"Triggered"`+fields+`}`), nil)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		checkBatch(t, in, b)
		return b.Alerts[0].Fingerprint
	}
	if got, want := fp(`,"alert_cycle_key":"c1","aggreg_key":"agg"`), "c1"; got != want {
		t.Errorf("with cycle key: %q, want %q", got, want)
	}
	if fp(`,"alert_cycle_key":"c1"`) == fp(`,"alert_cycle_key":"c2"`) {
		t.Error("two cycles gave one fingerprint")
	}
	a := fp(`,"aggreg_key":"agg","scope":"host:a, env:prod"`)
	if b := fp(`,"aggreg_key":"agg","scope":"env:prod,host:a"`); a != b {
		t.Errorf("scope order changed the fingerprint: %q vs %q", a, b)
	}
	if b := fp(`,"aggreg_key":"agg","scope":"host:b,env:prod"`); a == b {
		t.Error("two scopes gave one fingerprint")
	}
	if got := fp(`,"alert_cycle_key":"$ALERT_CYCLE_KEY","aggreg_key":"agg","scope":"host:a,env:prod"`); got != a {
		t.Errorf("unexpanded cycle key: %q, want the aggreg_key fallback %q", got, a)
	}
	if got := fp(`,"alert_id":123,"scope":"host:a"`); !strings.HasPrefix(got, "123/") {
		t.Errorf("alert_id fallback: %q", got)
	}
}

func TestGenericMappings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mapping config.GenericMapping
		body    string
		want    []string // fingerprint/status/severity/summary per alert
	}{
		{"single body",
			config.GenericMapping{DedupKey: "$.alert.id", Summary: "alert.text", Severity: "alert.prio", Status: "alert.state", ResolvedValues: []string{"CLEARED"}},
			`{"alert":{"id":"x1","text":"Fan failure","prio":"P1","state":"cleared"}}`,
			[]string{"x1/resolved/critical/Fan failure"}},
		{"top-level array",
			config.GenericMapping{Alerts: "$", DedupKey: "id"},
			`[{"id":1},{"id":false}]`,
			[]string{"1/firing/error/1", "false/firing/error/false"}},
		{"nested array with index paths",
			config.GenericMapping{Alerts: "data[0].items", DedupKey: "keys[1]", Summary: `meta["display.name"]`},
			`{"data":[{"items":[{"keys":["a","b"],"meta":{"display.name":"Dotted"}}]}]}`,
			[]string{"b/firing/error/Dotted"}},
		{"status path missing fires",
			config.GenericMapping{Alerts: "items", DedupKey: "id", Status: "state", ResolvedValues: []string{"ok"}},
			`{"items":[{"id":"a"},{"id":"b","state":"OK"},{"id":"c","state":{"nested":"ok"}}]}`,
			[]string{"a/firing/error/a", "b/resolved/error/b", "c/firing/error/c"}},
		{"empty alerts array",
			config.GenericMapping{Alerts: "items", DedupKey: "id"},
			`{"items":[]}`,
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := testIntegration(config.TypeGeneric)
			in.Generic = &tc.mapping
			b, err := parse(t, mustNew(t, in), []byte(tc.body), nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkBatch(t, in, b)
			var got []string
			for _, a := range b.Alerts {
				got = append(got, fmt.Sprintf("%s/%s/%s/%s", a.Fingerprint, a.Status, a.Severity, a.Summary))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// A single-body mapping names fields without an alerts prefix.
func TestGenericSingleBodyErrors(t *testing.T) {
	in := testIntegration(config.TypeGeneric)
	in.Generic = &config.GenericMapping{DedupKey: "alert.id"}
	_, err := parse(t, mustNew(t, in), []byte(`{"alert":{}}`), nil)
	if got, want := checkErr(t, err).Field, "alert.id"; got != want {
		t.Errorf("field = %q, want %q", got, want)
	}
	_, err = parse(t, mustNew(t, in), []byte(`[]`), nil)
	if got, want := checkErr(t, err).Field, "body"; got != want {
		t.Errorf("field = %q, want %q", got, want)
	}
}
