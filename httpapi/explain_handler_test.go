package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/alertgate/alertgate/explain"
)

func TestExplainAPIErrors(t *testing.T) {
	f := newExplainFixture(t)
	good := amPayload("firing", labels("alertname", "X", "team", "web"))
	for _, tc := range []struct {
		name, token, body string
		status            int
		field             string
	}{
		{"no token", "", `{"integration":"am","payload":` + good + `}`, 401, ""},
		{"not JSON", "api-token", `{`, 400, "body"},
		{"unknown field", "api-token", `{"integration":"am","payload":{},"extra":1}`, 400, "body"},
		{"trailing data", "api-token", `{"integration":"am","payload":` + good + `} {}`, 400, "body"},
		{"no integration", "api-token", `{"payload":` + good + `}`, 400, "integration"},
		{"unknown integration", "api-token", `{"integration":"nope","payload":` + good + `}`, 404, "integration"},
		{"no payload", "api-token", `{"integration":"am"}`, 400, "payload"},
		{"null payload", "api-token", `{"integration":"am","payload":null}`, 400, "payload"},
		{"number payload", "api-token", `{"integration":"am","payload":42}`, 400, "payload"},
		{"bad at", "api-token", `{"integration":"am","payload":` + good + `,"at":"tomorrow"}`, 400, "at"},
		// The receiver's own error, passed through, naming its field.
		{"bad alert", "api-token", `{"integration":"am","payload":{"version":"4","alerts":[{"status":"burning","labels":{"a":"b"}}]}}`, 400, "alerts[0].status"},
		{"payload string not alerts", "api-token", `{"integration":"am","payload":"not json"}`, 400, "body"},
		{"payload too large", "api-token", `{"integration":"am","payload":"` + strings.Repeat("x", 65537) + `"}`, 413, ""},
		{"body too large", "api-token", `{"integration":"am","payload":"` + strings.Repeat("x", 2*65536+5000) + `"}`, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(t, "POST", "/api/v1/explain", tc.token, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var e struct {
				Error struct{ Code, Message, Field string }
			}
			mustJSON(t, body, &e)
			if e.Error.Message == "" || e.Error.Field != tc.field {
				t.Errorf("error %+v, want field %q", e.Error, tc.field)
			}
		})
	}
	if resp, _ := f.do(t, "GET", "/api/v1/explain", "api-token", ""); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

// A payload given as a string is the raw body: the same report as the
// JSON value.
func TestExplainPayloadAsString(t *testing.T) {
	f := newExplainFixture(t)
	payload := amPayload("firing", labels("alertname", "X", "team", "web"))
	quoted, _ := json.Marshal(payload)
	_, asValue := f.do(t, "POST", "/api/v1/explain", "api-token", `{"integration":"am","payload":`+payload+`,"at":"2026-03-03T22:00:00Z"}`)
	resp, asString := f.do(t, "POST", "/api/v1/explain", "api-token", `{"integration":"am","payload":`+string(quoted)+`,"at":"2026-03-03T22:00:00Z"}`)
	if resp.StatusCode != http.StatusOK || string(asValue) != string(asString) {
		t.Fatalf("as a string: %d %s\nas a value: %s", resp.StatusCode, asString, asValue)
	}
	var rep explain.Report
	mustJSON(t, asString, &rep)
	if rep.Integration != "am" || len(rep.Alerts) != 1 || rep.Alerts[0].Routes[0].Route != "web" {
		t.Errorf("report %s", asString)
	}
}

// FuzzExplainBody: whatever the body, the answer is 200 or a 4xx with
// a JSON error, never a 500 or a panic, and Redis is left as it was.
func FuzzExplainBody(f *testing.F) {
	for _, seed := range []string{
		`{"integration":"am","payload":` + amPayload("firing", labels("alertname", "X", "team", "web")) + `}`,
		`{"integration":"am","payload":"{\"alerts\":[]}"}`,
		`{"integration":"am","payload":[1,2]}`,
		`{"integration":"am","payload":{"alerts":[{"status":"firing","labels":{}}]},"at":"2026-03-03T22:00:00Z"}`,
		`{"integration":"am","payload":{"alerts":[{"status":"resolved","fingerprint":"x"}]},"at":"0001-01-01T00:00:00Z"}`,
		`{"integration":"","payload":{}}`,
		`[]`, `null`, `"x"`, ``,
	} {
		f.Add(seed)
	}
	ef := newExplainFixture(f)
	f.Fuzz(func(t *testing.T, body string) {
		before := dumpKeys(t, ef.rdb, ef.prefix)
		resp, out := ef.do(t, "POST", "/api/v1/explain", "api-token", body)
		switch {
		case resp.StatusCode == http.StatusOK:
			var rep explain.Report
			mustJSON(t, out, &rep)
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			var e struct{ Error struct{ Message string } }
			mustJSON(t, out, &e)
			if e.Error.Message == "" {
				t.Fatalf("%d without a message: %s", resp.StatusCode, out)
			}
		default:
			t.Fatalf("status %d for %q: %s", resp.StatusCode, body, out)
		}
		if after := dumpKeys(t, ef.rdb, ef.prefix); !mapsEqual(before, after) {
			t.Fatalf("explain changed Redis")
		}
	})
}
