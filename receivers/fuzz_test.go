package receivers

import (
	"os"
	"strings"
	"testing"

	"github.com/alertgate/alertgate/config"
)

// uglySeeds are bodies from reliability.md §9 that every fuzz target starts
// from, besides its testdata payloads.
var uglySeeds = []string{
	"",
	"null",
	"[]",
	`"string"`,
	"42",
	"-0",
	"1e309",
	"{}",
	"{} trailing",
	"{}{}",
	"\xef\xbb\xbf{}",
	"\xff\xfe{\x00}\x00",
	"{\"a\":\"\xff\"}",
	`{"a":"\ud800"}`,
	`{"status":"firing","status":"resolved"}`,
	strings.Repeat("[", 200) + strings.Repeat("]", 200),
	`{"version":"4","alerts":[{"status":"firing","labels":{"":"x"}}]}`,
	`{"version":"4","truncatedAlerts":-1,"alerts":[]}`,
	`{"version":"4","alerts":[{"status":"firing","startsAt":"0000-01-01T00:00:00+01:00"}]}`,
	`{"version":"1","alerts":[{"status":"firing","fingerprint":"x","values":{"A":1e308,"B":-1e-320}}]}`,
	`[{"transition":"Triggered","alert_cycle_key":"$ALERT_CYCLE_KEY","aggreg_key":"a","tags":"a,b:c,:d,*"}]`,
	`{"transition":"Recovered","alert_id":1e3,"date":1.5e12,"title":"[P1] [Triggered]"}`,
	`{"events":[{"id":1e309,"tags":{"a":{"b":1}},"level":"P1","state":"OK"}]}`,
	`{"routing_key":"` + testRoutingKey + `","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","timestamp":"2015-07-17T08:42:58+0000","custom_details":[1]},"links":[null,{"href":"https://a"}]}`,
}

func fuzzReceiver(f *testing.F, typ string) {
	in := testIntegration(typ)
	r := mustNew(f, in)
	for _, file := range payloads(f, typ) {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, s := range uglySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := r.Parse(t.Context(), Request{Body: body, Now: testNow})
		if err != nil {
			_ = checkErr(t, err)
			return
		}
		checkBatch(t, in, b)
	})
}

func FuzzAlertmanager(f *testing.F) { fuzzReceiver(f, config.TypeAlertmanager) }
func FuzzGrafana(f *testing.F)      { fuzzReceiver(f, config.TypeGrafana) }
func FuzzDatadog(f *testing.F)      { fuzzReceiver(f, config.TypeDatadog) }
func FuzzGeneric(f *testing.F)      { fuzzReceiver(f, config.TypeGeneric) }
func FuzzPagerDuty(f *testing.F)    { fuzzReceiver(f, config.TypePagerDuty) }
