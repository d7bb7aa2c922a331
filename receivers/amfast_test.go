package receivers

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// checkFastDecoder asserts that whenever the fast decoder accepts a body,
// encoding/json accepts it too and decodes the same message.
func checkFastDecoder(t *testing.T, body []byte) {
	t.Helper()
	body, kind, err := prepareBody(body)
	if err != nil || kind != '{' {
		return
	}
	for _, grafana := range []bool{false, true} {
		var fast grafanaMessage
		if !decodeAMFast(body, &fast, grafana) {
			continue
		}
		var slow grafanaMessage
		if grafana {
			if err := json.Unmarshal(body, &slow); err != nil {
				t.Fatalf("fast decoder (grafana) accepted %q; encoding/json: %v", body, err)
			}
		} else {
			var am amMessage
			if err := json.Unmarshal(body, &am); err != nil {
				t.Fatalf("fast decoder accepted %q; encoding/json: %v", body, err)
			}
			slow.amEnvelope = am.amEnvelope
			if am.Alerts != nil {
				slow.Alerts = make([]grafanaAlert, len(am.Alerts))
				for i := range am.Alerts {
					slow.Alerts[i].amAlert = am.Alerts[i]
				}
			}
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("grafana=%v: decoders differ on %q:\nfast %#v\nslow %#v", grafana, body, fast, slow)
		}
	}
}

func TestFastDecoderMatchesEncodingJSON(t *testing.T) {
	var bodies []string
	for _, typ := range []string{"alertmanager", "grafana"} {
		for _, f := range payloads(t, typ) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, string(b))
			// Real payloads must take the fast path.
			var m grafanaMessage
			if pb, _, _ := prepareBody(b); !decodeAMFast(pb, &m, typ == "grafana") {
				t.Errorf("%s: the fast decoder gave up", f)
			}
		}
	}
	bodies = append(bodies, uglySeeds...)
	for _, bad := range alertmanagerBad() {
		bodies = append(bodies, bad.body)
	}
	for _, bad := range grafanaBad() {
		bodies = append(bodies, bad.body)
	}
	bodies = append(bodies,
		`{"Version":"4","alerts":[]}`,
		`{"VERSION":"4","version":"4","alerts":[]}`,
		`{"version":"4","alerts":[{"Status":"firing","fingerprint":"x"}]}`,
		`{"version":"4","alerts":[],"alerts":[{"status":"firing","fingerprint":"x"}]}`,
		`{"version":"4","alerts":[{"status":"firing","labels":{"a":"1"},"labels":{"b":"2"},"fingerprint":"x"}]}`,
		`{"version":"4","alerts":[{"status":"firing","labels":{"a":null},"annotations":null,"fingerprint":"x"}]}`,
		`{"version":"4","groupKey":"g","groupKey":null,"alerts":null}`,
		`{"vers\u0069on":"4","alerts":[{"st\u0061tus":"fir\u0069ng","fingerprint":"\ud83d\ude00\ud800"}]}`,
		"{\"version\":\"4\",\"alerts\":[],\"\u212aey\":1}",
		`{"version":"4","truncatedAlerts":-0,"alerts":[]}`,
		`{"version":"1","orgId": 7 ,"alerts":[{"status":"firing","values":{"A": 1.5e3 ,"B":null},"orgId":null}]}`,
		`{"version":"1","alerts":[{"status":"firing","values":{"A":1},"values":{"B":2}}]}`,
		`{"x":[1,-0.5e+7,true,false,null,{"y":"\"\\\/\b\f\n\r\t"}]}`,
		`{"x":01}`, `{"x":1.}`, `{"x":.5}`, `{"x":1e}`, `{"x":-}`, `{"x":tru}`, `{"x":nul}`, `{"x":"a`+"\t"+`"}`,
		`{"x":[1,]}`, `{"x":{"a":1,}}`, `{,}`, `{"a" 1}`, `{"a":1 "b":2}`,
	)
	for _, b := range bodies {
		checkFastDecoder(t, []byte(b))
	}
}

func FuzzFastDecoder(f *testing.F) {
	for _, s := range uglySeeds {
		f.Add([]byte(s))
	}
	for _, typ := range []string{"alertmanager", "grafana"} {
		for _, file := range payloads(f, typ) {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(checkFastDecoder)
}
