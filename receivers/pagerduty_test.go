package receivers

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
)

func TestPagerDutyGeneratedDedupKey(t *testing.T) {
	in := testIntegration(config.TypePagerDuty)
	r := mustNew(t, in)
	body := []byte(pdTrigger(`{"summary":"s","source":"h","severity":"warning"}`))
	seen := map[string]bool{}
	for range 3 {
		ev, err := ParsePagerDuty(body, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !ev.DedupKeyGenerated || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(ev.DedupKey) {
			t.Fatalf("dedup key %q (generated %v), want 32 hex digits", ev.DedupKey, ev.DedupKeyGenerated)
		}
		if seen[ev.DedupKey] {
			t.Fatalf("dedup key %q generated twice", ev.DedupKey)
		}
		seen[ev.DedupKey] = true
		if got, want := ev.Payload.Timestamp, testNow; !got.Equal(want) {
			t.Errorf("timestamp = %v, want now %v", got, want)
		}
	}
	b, err := parse(t, r, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, in, b)
	if got := b.Alerts[0].Fingerprint; len(got) != 32 {
		t.Errorf("fingerprint = %q, want the generated key", got)
	}
}

func TestPagerDutyEvent(t *testing.T) {
	body, err := readTestdata("pagerduty/trigger.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParsePagerDuty(body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ev.RoutingKey, testRoutingKey; got != want {
		t.Errorf("routing key = %q, want %q", got, want)
	}
	if got, want := ev.EventAction, PagerDutyTrigger; got != want {
		t.Errorf("event action = %q, want %q", got, want)
	}
	if got, want := ev.DedupKey, "srv01/HTTP"; got != want || ev.DedupKeyGenerated {
		t.Errorf("dedup key = %q (generated %v), want %q", got, ev.DedupKeyGenerated, want)
	}
	if got, want := ev.Payload.Timestamp, time.Date(2015, 7, 17, 8, 42, 58, 315e6, time.UTC); !got.Equal(want) {
		t.Errorf("timestamp = %v, want %v", got, want)
	}
	if got, want := ev.Payload.CustomDetails["load avg"], "0.75"; got != want {
		t.Errorf("custom_details[load avg] = %q, want %q", got, want)
	}
	if got, want := ev.Client, "Alert Gateway"; got != want {
		t.Errorf("client = %q, want %q", got, want)
	}
}

func TestPagerDutyTimestamps(t *testing.T) {
	want := time.Date(2015, 7, 17, 8, 42, 58, 0, time.UTC)
	for _, ts := range []string{
		"2015-07-17T08:42:58Z",
		"2015-07-17T08:42:58+00:00",
		"2015-07-17T10:42:58+0200",
		"2015-07-17T10:42:58+02",
		"2015-07-17T08:42:58",
		"2015-07-17 08:42:58Z",
		"2015-07-17 06:42:58-0200",
	} {
		got, err := parsePagerDutyTime(ts)
		if err != nil || !got.Equal(want) {
			t.Errorf("parsePagerDutyTime(%q) = %v, %v; want %v", ts, got, err, want)
		}
	}
}

func TestPagerDutyCustomDetails(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want map[string]string
	}{
		{`"disk full"`, map[string]string{"custom_details": "disk full"}},
		{`[1, 2]`, map[string]string{"custom_details": "[1,2]"}},
		{`42`, map[string]string{"custom_details": "42"}},
		{`{"a": {"b": [true, null]}, "c": false}`, map[string]string{"a": `{"b":[true,null]}`, "c": "false"}},
	} {
		body := pdTrigger(`{"summary":"s","source":"h","severity":"info","custom_details":` + tc.raw + `}`)
		ev, err := ParsePagerDuty([]byte(body), testNow)
		if err != nil {
			t.Fatalf("%s: %v", tc.raw, err)
		}
		if got, _ := json.Marshal(ev.Payload.CustomDetails); string(got) != mustJSON(t, tc.want) {
			t.Errorf("%s: details %s, want %s", tc.raw, got, mustJSON(t, tc.want))
		}
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// PagerDuty counts characters: 1024 two-byte characters are accepted, and
// the summary is cut to alertgate's 1024 bytes.
func TestPagerDutySummaryCharacters(t *testing.T) {
	in := testIntegration(config.TypePagerDuty)
	sum := strings.Repeat("é", 1024)
	b, err := parse(t, mustNew(t, in), []byte(pdTrigger(`{"summary":"`+sum+`","source":"h","severity":"info"}`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, in, b)
	if got := b.Alerts[0].Summary; len(got) != 1024 || !utf8.ValidString(got) {
		t.Errorf("summary: %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
}

func TestPagerDutyWrongRoutingKey(t *testing.T) {
	r := mustNew(t, testIntegration(config.TypePagerDuty))
	body := `{"routing_key":"someone-elses-key","event_action":"resolve","dedup_key":"x"}`
	_, err := parse(t, r, []byte(body), nil)
	if got, want := alertgate.ErrorCode(err), alertgate.EUNAUTHORIZED; got != want {
		t.Fatalf("code = %q, want %q (%v)", got, want, err)
	}
	if strings.Contains(err.Error(), testRoutingKey) {
		t.Fatalf("error reveals the routing key: %v", err)
	}
}

func TestPagerDutyRoutingKey(t *testing.T) {
	got, err := PagerDutyRoutingKey([]byte(`{"event_action":"trigger","routing_key":"abc","payload":{"x":[1,2]}}`))
	if err != nil || got != "abc" {
		t.Fatalf("PagerDutyRoutingKey = %q, %v; want abc", got, err)
	}
	for body, wantField := range map[string]string{
		``:                                  "body",
		`[]`:                                "body",
		`null`:                              "body",
		`{"routing_key":""}`:                "routing_key",
		`{"event_action":"trigger"}`:        "routing_key",
		`{"routing_key":32}`:                "routing_key",
		`{"routing_key":"abc"} trailing`:    "body",
		"{\"routing_key\":\"\xff\"}":        "body",
		`{"routing_key":"abc","x":` + `[[[`: "body",
	} {
		_, err := PagerDutyRoutingKey([]byte(body))
		if got := checkErr(t, err).Field; got != wantField {
			t.Errorf("PagerDutyRoutingKey(%q): field %q, want %q (%v)", body, got, wantField, err)
		}
	}
}

func TestPagerDutyResponses(t *testing.T) {
	for _, tc := range []struct {
		resp PagerDutyResponse
		want string
	}{
		{PagerDutyAccepted("srv01/HTTP"), `{"status":"success","message":"Event processed","dedup_key":"srv01/HTTP"}`},
		{PagerDutyInvalid("payload.summary: missing"), `{"status":"invalid event","message":"Event object is invalid","errors":["payload.summary: missing"]}`},
	} {
		if got := mustJSON(t, tc.resp); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	pd1 := testIntegration(config.TypePagerDuty)
	pd1.Name = "pd-one"
	pd1.RoutingKeys = []config.Secret{"key-one-a", "key-one-b"}
	pd2 := testIntegration(config.TypePagerDuty)
	pd2.Name = "pd-two"
	pd2.RoutingKeys = []config.Secret{"key-two"}
	am := testIntegration(config.TypeAlertmanager)
	reg, err := NewRegistry([]config.Integration{am, pd1, pd2, testIntegration(config.TypeGeneric)})
	if err != nil {
		t.Fatal(err)
	}
	r, in, ok := reg.Get(am.Name)
	if !ok || in.Name != am.Name || r.Type() != config.TypeAlertmanager {
		t.Errorf("Get(%q) = %v, %q, %v", am.Name, r, in.Name, ok)
	}
	if _, _, ok := reg.Get("nope"); ok {
		t.Error("Get(nope) found something")
	}
	for key, want := range map[string]string{"key-one-a": "pd-one", "key-one-b": "pd-one", "key-two": "pd-two", "": "", "key-one": "", "key-two ": ""} {
		_, in, ok := reg.ByRoutingKey(key)
		if got := in.Name; got != want || ok != (want != "") {
			t.Errorf("ByRoutingKey(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
	// The receiver found by a routing key accepts events with that key.
	r, _, _ = reg.ByRoutingKey("key-one-b")
	b, err := parse(t, r, []byte(`{"routing_key":"key-one-b","event_action":"acknowledge","dedup_key":"d"}`), nil)
	if err != nil || len(b.Acknowledge) != 1 || b.Acknowledge[0] != "d" {
		t.Errorf("Parse = %+v, %v", b, err)
	}
}

func TestRegistryErrors(t *testing.T) {
	a := testIntegration(config.TypeAlertmanager)
	bad := config.Integration{Name: "bad", Type: "nagios"}
	_, err := NewRegistry([]config.Integration{a, a, bad})
	if err == nil {
		t.Fatal("NewRegistry accepted a duplicate name and an unknown type")
	}
	for _, want := range []string{"used twice", "nagios"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
