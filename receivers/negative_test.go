package receivers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

type badInput struct {
	name      string
	body      string
	wantField string
}

// genericBad are inputs that no receiver may accept.
func genericBad() []badInput {
	return []badInput{
		{"empty body", "", "body"},
		{"whitespace body", " \n\t ", "body"},
		{"null", "null", "body"},
		{"string", `"alert"`, "body"},
		{"number", "42", "body"},
		{"boolean", "true", "body"},
		{"invalid UTF-8", "{\"version\":\"4\",\"x\":\"\xff\xfe\"}", "body"},
		{"UTF-16 body", "\xff\xfe{\x00}\x00", "body"},
		{"trailing garbage", `{"version":"4","alerts":[]} x`, "body"},
		{"two documents", `{"version":"4","alerts":[]}{"version":"4","alerts":[]}`, "body"},
		{"truncated JSON", `{"version":"4","alerts":[{"status":"firing"`, "body"},
		{"deep nesting", `{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, "body"},
	}
}

func amAlertJSON(status, fingerprint, extra string) string {
	return fmt.Sprintf(`{"status":%q,"labels":{"alertname":"A"},"fingerprint":%q%s}`, status, fingerprint, extra)
}

func amBody(version string, alerts ...string) string {
	return fmt.Sprintf(`{"version":%q,"groupKey":"{}:{}","alerts":[%s]}`, version, strings.Join(alerts, ","))
}

func manyLabels(n int) string {
	var sb strings.Builder
	sb.WriteString("{")
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `"l%d":"v"`, i)
	}
	sb.WriteString("}")
	return sb.String()
}

func alertmanagerBad() []badInput {
	ok := amAlertJSON("firing", "abc", "")
	return append(genericBad(),
		badInput{"array", "[]", "body"},
		badInput{"version 3", amBody("3", ok), "version"},
		badInput{"version missing", `{"alerts":[]}`, "version"},
		badInput{"version as number", `{"version":4,"alerts":[]}`, "version"},
		badInput{"version 1 (Grafana)", amBody("1", ok), "version"},
		badInput{"alerts missing", `{"version":"4"}`, "alerts"},
		badInput{"alerts null", `{"version":"4","alerts":null}`, "alerts"},
		badInput{"alerts object", `{"version":"4","alerts":{}}`, "alerts"},
		badInput{"alert not object", amBody("4", ok, "1"), "alerts[1]"},
		badInput{"status pending", amBody("4", ok, amAlertJSON("pending", "x", "")), "alerts[1].status"},
		badInput{"status upper case", amBody("4", amAlertJSON("FIRING", "x", "")), "alerts[0].status"},
		badInput{"status missing", amBody("4", `{"labels":{"a":"b"},"fingerprint":"x"}`), "alerts[0].status"},
		badInput{"status number", amBody("4", ok, `{"status":1}`), "alerts[1].status"},
		badInput{"empty fingerprint, no labels", amBody("4", `{"status":"firing","fingerprint":""}`), "alerts[0].fingerprint"},
		badInput{"fingerprint too long", amBody("4", amAlertJSON("firing", strings.Repeat("f", 256), "")), "alerts[0].fingerprint"},
		badInput{"10k labels", amBody("4", ok, `{"status":"firing","fingerprint":"x","labels":`+manyLabels(10000)+`}`), "alerts[1].labels"},
		badInput{"empty label name", amBody("4", `{"status":"firing","labels":{"":"x"}}`), "alerts[0].labels"},
		badInput{"label name too long", amBody("4", `{"status":"firing","labels":{"`+strings.Repeat("n", 257)+`":"x"}}`), "alerts[0].labels"},
		badInput{"label value number", amBody("4", ok, ok, `{"status":"firing","labels":{"a":1}}`), "alerts[2].labels"},
		badInput{"labels array", amBody("4", `{"status":"firing","labels":["a"]}`), "alerts[0].labels"},
		badInput{"too many annotations", amBody("4", amAlertJSON("firing", "x", `,"annotations":`+manyLabels(300))), "alerts[0].annotations"},
		badInput{"startsAt not RFC 3339", amBody("4", amAlertJSON("firing", "x", `,"startsAt":"yesterday"`)), "alerts[0].startsAt"},
		badInput{"startsAt year 0 after UTC", amBody("4", amAlertJSON("firing", "x", `,"startsAt":"0000-01-01T00:00:00+01:00"`)), "alerts[0].startsAt"},
		badInput{"endsAt year 10000 after UTC", amBody("4", amAlertJSON("resolved", "x", `,"endsAt":"9999-12-31T23:00:00-02:00"`)), "alerts[0].endsAt"},
		badInput{"endsAt before startsAt", amBody("4", amAlertJSON("firing", "x", `,"startsAt":"2026-01-02T00:00:00Z","endsAt":"2026-01-01T00:00:00Z"`)), "alerts[0].endsAt"},
		badInput{"truncatedAlerts negative", `{"version":"4","truncatedAlerts":-1,"alerts":[]}`, "truncatedAlerts"},
		badInput{"truncatedAlerts 1e309", `{"version":"4","truncatedAlerts":1e309,"alerts":[]}`, "truncatedAlerts"},
		badInput{"truncatedAlerts fraction", `{"version":"4","truncatedAlerts":1.5,"alerts":[]}`, "truncatedAlerts"},
		badInput{"truncatedAlerts 400 digits", `{"version":"4","truncatedAlerts":` + strings.Repeat("9", 400) + `,"alerts":[]}`, "truncatedAlerts"},
		badInput{"truncatedAlerts string", `{"version":"4","truncatedAlerts":"3","alerts":[]}`, "truncatedAlerts"},
	)
}

func grafanaBad() []badInput {
	alert := func(extra string) string {
		return `{"version":"1","alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":"f"` + extra + `}]}`
	}
	return append(genericBad(),
		badInput{"array", "[]", "body"},
		badInput{"version 2", `{"version":"2","alerts":[]}`, "version"},
		badInput{"version missing", `{"alerts":[]}`, "version"},
		badInput{"alerts missing", `{"version":"1"}`, "alerts"},
		badInput{"status alerting", `{"version":"1","alerts":[{"status":"alerting","fingerprint":"f"}]}`, "alerts[0].status"},
		badInput{"value 1e309", alert(`,"values":{"B":1e309}`), "alerts[0].values.B"},
		badInput{"value string", alert(`,"values":{"B":"high"}`), "alerts[0].values.B"},
		badInput{"orgId array", `{"version":"1","orgId":[1],"alerts":[]}`, "orgId"},
		badInput{"values array", alert(`,"values":[1]`), "alerts[0].values"},
		badInput{"orgId object", alert(`,"orgId":{}`), "alerts[0].orgId"},
		badInput{"silenceURL number", alert(`,"silenceURL":5`), "alerts[0].silenceURL"},
		badInput{"10k labels", `{"version":"1","alerts":[{"status":"firing","labels":` + manyLabels(10000) + `}]}`, "alerts[0].labels"},
	)
}

func ddBody(fields string) string {
	return `{"transition":"Triggered","alert_cycle_key":"c1"` + fields + `}`
}

func datadogBad() []badInput {
	manyTags := make([]string, 300)
	for i := range manyTags {
		manyTags[i] = fmt.Sprintf("t%d:v", i)
	}
	return append(genericBad(),
		badInput{"empty array", "[]", "body"},
		badInput{"array of numbers", "[1]", "[0]"},
		badInput{"array with a bad element", `[` + ddBody("") + `,"x"]`, "[1]"},
		badInput{"transition missing", `{"alert_cycle_key":"c1"}`, "transition"},
		badInput{"transition Acknowledged", `{"transition":"Acknowledged","alert_cycle_key":"c1"}`, "transition"},
		badInput{"transition Null", `{"transition":"Null","alert_cycle_key":"c1"}`, "transition"},
		badInput{"transition unexpanded", `{"transition":"$ALERT_TRANSITION","alert_cycle_key":"c1"}`, "transition"},
		badInput{"transition object", `{"transition":{},"alert_cycle_key":"c1"}`, "transition"},
		badInput{"bad transition in array", `[` + ddBody("") + `,{"transition":"Resolved","alert_cycle_key":"c2"}]`, "[1].transition"},
		badInput{"no keys", `{"transition":"Triggered"}`, "alert_cycle_key"},
		badInput{"only unexpanded keys", `{"transition":"Triggered","alert_cycle_key":"$ALERT_CYCLE_KEY","aggreg_key":"$AGGREG_KEY","alert_id":"$ALERT_ID"}`, "alert_cycle_key"},
		badInput{"cycle key too long", ddBody(`,"alert_cycle_key":"` + strings.Repeat("k", 300) + `"`), "alert_cycle_key"},
		badInput{"aggreg key too long", `{"transition":"Triggered","aggreg_key":"` + strings.Repeat("k", 250) + `"}`, "aggreg_key"},
		badInput{"id fraction", ddBody(`,"id":1.5`), "id"},
		badInput{"alert_id 1e309", ddBody(`,"alert_id":1e309`), "alert_id"},
		badInput{"org_id negative", ddBody(`,"org_id":-3`), "org_id"},
		badInput{"date not a number", ddBody(`,"date":"yesterday"`), "date"},
		badInput{"date 1e309", ddBody(`,"date":1e309`), "date"},
		badInput{"date negative", ddBody(`,"date":"-5"`), "date"},
		badInput{"date past year 9999", ddBody(`,"date":"253402300800000"`), "date"},
		badInput{"tags array", ddBody(`,"tags":["a:b"]`), "tags"},
		badInput{"title object", ddBody(`,"title":{"a":1}`), "title"},
		badInput{"300 tags", ddBody(`,"tags":"` + strings.Join(manyTags, ",") + `"`), "tags"},
		badInput{"tag name too long", ddBody(`,"tags":"` + strings.Repeat("t", 300) + `:v"`), "tags"},
		badInput{"scope tag name too long", ddBody(`,"scope":"` + strings.Repeat("t", 300) + `"`), "scope"},
	)
}

func genericBadInputs() []badInput {
	return append(genericBad(),
		badInput{"array", "[]", "body"},
		badInput{"events missing", `{"id":"x"}`, "events"},
		badInput{"events null", `{"events":null}`, "events"},
		badInput{"events object", `{"events":{"id":"x"}}`, "events"},
		badInput{"dedup key missing", `{"events":[{"id":"a"},{"title":"no id"}]}`, "events[1].id"},
		badInput{"dedup key null", `{"events":[{"id":null}]}`, "events[0].id"},
		badInput{"dedup key empty", `{"events":[{"id":"  "}]}`, "events[0].id"},
		badInput{"dedup key object", `{"events":[{"id":{"a":1}}]}`, "events[0].id"},
		badInput{"dedup key array", `{"events":[{"id":[1]}]}`, "events[0].id"},
		badInput{"dedup key too long", `{"events":[{"id":"` + strings.Repeat("d", 256) + `"}]}`, "events[0].id"},
		badInput{"element a string", `{"events":["x"]}`, "events[0]"},
		badInput{"labels_from not object", `{"events":[{"id":"a","tags":"env:prod"}]}`, "events[0].tags"},
		badInput{"10k labels", `{"events":[{"id":"a","tags":` + manyLabels(10000) + `}]}`, "events[0].tags"},
		badInput{"label name too long", `{"events":[{"id":"a","tags":{"` + strings.Repeat("n", 300) + `":"v"}}]}`, "events[0].tags"},
	)
}

func pdBody(fields string) string {
	return `{"routing_key":"` + testRoutingKey + `"` + fields + `}`
}

func pdTrigger(payload string) string {
	return pdBody(`,"event_action":"trigger","payload":` + payload)
}

func pagerDutyBad() []badInput {
	return append(genericBad(),
		badInput{"array", "[]", "body"},
		badInput{"routing_key missing", `{"event_action":"resolve","dedup_key":"x"}`, "routing_key"},
		badInput{"routing_key number", `{"routing_key":5,"event_action":"resolve","dedup_key":"x"}`, "routing_key"},
		badInput{"event_action missing", pdBody(`,"dedup_key":"x"`), "event_action"},
		badInput{"event_action create", pdBody(`,"event_action":"create","dedup_key":"x"`), "event_action"},
		badInput{"event_action upper case", pdBody(`,"event_action":"Trigger","dedup_key":"x"`), "event_action"},
		badInput{"dedup_key too long", pdBody(`,"event_action":"resolve","dedup_key":"` + strings.Repeat("k", 256) + `"`), "dedup_key"},
		badInput{"dedup_key number", pdBody(`,"event_action":"resolve","dedup_key":5`), "dedup_key"},
		badInput{"acknowledge without dedup_key", pdBody(`,"event_action":"acknowledge"`), "dedup_key"},
		badInput{"resolve without dedup_key", pdBody(`,"event_action":"resolve"`), "dedup_key"},
		badInput{"trigger without payload", pdBody(`,"event_action":"trigger"`), "payload"},
		badInput{"payload null", pdTrigger(`null`), "payload"},
		badInput{"payload array", pdTrigger(`[]`), "payload"},
		badInput{"summary missing", pdTrigger(`{"source":"h","severity":"info"}`), "payload.summary"},
		badInput{"summary blank", pdTrigger(`{"summary":"  ","source":"h","severity":"info"}`), "payload.summary"},
		badInput{"summary 1025 characters", pdTrigger(`{"summary":"` + strings.Repeat("é", 1025) + `","source":"h","severity":"info"}`), "payload.summary"},
		badInput{"source missing", pdTrigger(`{"summary":"s","severity":"info"}`), "payload.source"},
		badInput{"severity missing", pdTrigger(`{"summary":"s","source":"h"}`), "payload.severity"},
		badInput{"severity high", pdTrigger(`{"summary":"s","source":"h","severity":"high"}`), "payload.severity"},
		badInput{"severity upper case", pdTrigger(`{"summary":"s","source":"h","severity":"CRITICAL"}`), "payload.severity"},
		badInput{"timestamp garbage", pdTrigger(`{"summary":"s","source":"h","severity":"info","timestamp":"last tuesday"}`), "payload.timestamp"},
		badInput{"timestamp number", pdTrigger(`{"summary":"s","source":"h","severity":"info","timestamp":1700000000}`), "payload.timestamp"},
		badInput{"links not array", pdTrigger(`{"summary":"s","source":"h","severity":"info"},"links":"x"`), "links"},
		badInput{"links element string", pdTrigger(`{"summary":"s","source":"h","severity":"info"},"links":[{"href":"https://a"},"x"]`), "links[1]"},
		badInput{"image src number", pdTrigger(`{"summary":"s","source":"h","severity":"info"},"images":[{"src":5}]`), "images[0].src"},
	)
}

func TestBadInputs(t *testing.T) {
	for _, tc := range []struct {
		typ    string
		inputs []badInput
	}{
		{config.TypeAlertmanager, alertmanagerBad()},
		{config.TypeGrafana, grafanaBad()},
		{config.TypeDatadog, datadogBad()},
		{config.TypeGeneric, genericBadInputs()},
		{config.TypePagerDuty, pagerDutyBad()},
	} {
		r := mustNew(t, testIntegration(tc.typ))
		for _, bad := range tc.inputs {
			t.Run(tc.typ+"/"+bad.name, func(t *testing.T) {
				b, err := parse(t, r, []byte(bad.body), nil)
				if err == nil {
					t.Fatalf("Parse accepted it: %+v", b)
				}
				ae := checkErr(t, err)
				if got, want := ae.Code, alertgate.EINVALID; got != want {
					t.Fatalf("code = %q, want %q (%s)", got, want, ae.Message)
				}
				if got, want := ae.Field, bad.wantField; got != want {
					t.Fatalf("field = %q, want %q (%s)", got, want, ae.Message)
				}
				if !strings.HasPrefix(ae.Message, bad.wantField+": ") {
					t.Fatalf("message %q does not start with the field", ae.Message)
				}
				t.Log(ae.Message)
			})
		}
	}
}
