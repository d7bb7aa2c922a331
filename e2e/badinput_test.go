package e2e

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/redistest"
)

// TestBadInputNever500 sends ugly requests to one running server. Each
// gets its exact status, nothing gets a 5xx, and every error body is JSON
// that names the problem (PagerDuty's shape on /v2/enqueue).
func TestBadInputNever500(t *testing.T) {
	t.Parallel()
	needBinary(t)
	_, prefix := redistest.New(t)
	g := startGate(t, gateOptions{prefix: prefix})

	valid := string(amWebhook(t, "E2EBadInput", firingAlerts("E2EBadInput", 1, time.Now().Add(-time.Minute))))
	withVersion := strings.Replace(valid, `"version":"4"`, `"version":"3"`, 1)
	badUTF8 := strings.Replace(valid, `"instance":"i0"`, "\"instance\":\"i\xff\xfe0\"", 1)
	deep := `{"version":"4","alerts":[],"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	big := `{"version":"4","alerts":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(valid))
	_ = zw.Close()

	pdTrigger := func(mutate func(m map[string]any)) string {
		m := map[string]any{
			"routing_key":  pdRoutingKey,
			"event_action": "trigger",
			"dedup_key":    "e2e-bad-input",
			"payload":      map[string]any{"summary": "disk full", "source": "web-1", "severity": "critical"},
		}
		if mutate != nil {
			mutate(m)
		}
		return string(mustJSON(t, m))
	}

	type request struct {
		name    string
		method  string // POST when empty
		path    string // /hooks/am when empty
		auth    string // Authorization header; "-" for none
		header  map[string]string
		body    string
		chunked bool // hide the length: the server must stop reading itself
		want    int
		// mention must appear in the error message or field (case-insensitive).
		mention string
		// pagerDuty: the error body has PagerDuty's shape.
		pagerDuty bool
	}
	bearerAM, bearerAPI := "Bearer "+amToken, "Bearer "+apiToken
	cases := []request{
		// Alertmanager webhook bodies.
		{name: "valid", body: valid, want: 200},
		{name: "empty body", body: "", want: 400, mention: "empty"},
		{name: "only whitespace", body: " \n\t", want: 400, mention: "empty"},
		{name: "null", body: "null", want: 400, mention: "null"},
		{name: "empty array", body: "[]", want: 400, mention: "array"},
		{name: "string", body: `"hello"`, want: 400, mention: "string"},
		{name: "empty object", body: "{}", want: 400, mention: "version"},
		{name: "trailing garbage", body: valid + "garbage", want: 400, mention: "invalid JSON"},
		{name: "two objects", body: valid + valid, want: 400, mention: "invalid JSON"},
		{name: "truncated", body: valid[:len(valid)/2], want: 400, mention: "JSON"},
		{name: "wrong version", body: withVersion, want: 400, mention: "version"},
		{name: "alerts not an array", body: `{"version":"4","alerts":{}}`, want: 400, mention: "alerts"},
		{name: "alerts missing", body: `{"version":"4"}`, want: 400, mention: "alerts"},
		{name: "alert status unknown", body: strings.Replace(valid, `"status":"firing","labels"`, `"status":"burning","labels"`, 1), want: 400, mention: "alerts[0].status"},
		{name: "alert startsAt garbage", body: strings.Replace(valid, `"startsAt":"`, `"startsAt":"yesterday`, 1), want: 400, mention: "startsAt"},
		{name: "labels of wrong type", body: `{"version":"4","alerts":[{"status":"firing","labels":["a"]}]}`, want: 400, mention: "alerts[0]"},
		{name: "invalid UTF-8", body: badUTF8, want: 400, mention: "UTF-8"},
		{name: "deeply nested JSON", body: deep, want: 400, mention: "JSON"},
		{name: "2 MiB body", body: big, want: 413, mention: "limit"},
		{name: "2 MiB body chunked", body: big, chunked: true, want: 413, mention: "limit"},
		{name: "gzip", header: map[string]string{"Content-Encoding": "gzip"}, body: gz.String(), want: 415, mention: "Content-Encoding"},
		// Methods, paths and tokens.
		{name: "GET on a hook", method: "GET", want: 405, mention: "GET"},
		{name: "PUT on a hook", method: "PUT", body: valid, want: 405, mention: "PUT"},
		{name: "unknown integration", path: "/hooks/nope", body: valid, want: 404, mention: "nope"},
		{name: "pagerduty integration on /hooks", path: "/hooks/pd", body: valid, want: 404, mention: "/v2/enqueue"},
		{name: "unknown path", path: "/nope", method: "GET", want: 404, mention: "endpoint"},
		{name: "no token", auth: "-", body: valid, want: 401, mention: "token"},
		{name: "wrong token", auth: "Bearer t-wrong", body: valid, want: 401, mention: "token"},
		{name: "api token on a hook", auth: bearerAPI, body: valid, want: 401, mention: "token"},
		{name: "basic auth", auth: "Basic dC1hbTp0LWFt", body: valid, want: 401, mention: "token"},
		{name: "bearer without token", auth: "Bearer", body: valid, want: 401, mention: "token"},
		{name: "bearer with trailing space", auth: bearerAM + " ", body: valid, want: 200},
		{name: "bearer scheme in lower case", auth: "bearer " + amToken, body: valid, want: 200},
		{name: "token in query", auth: "-", path: "/hooks/am?token=" + amToken, body: valid, want: 200},
		{name: "wrong token in query", auth: "-", path: "/hooks/am?token=t-wrong", body: valid, want: 401, mention: "token"},
		// PagerDuty Events API v2.
		{name: "pd valid trigger", path: "/v2/enqueue", auth: "-", body: pdTrigger(nil), want: 202},
		{name: "pd missing payload fields", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "payload.summary",
			body: pdTrigger(func(m map[string]any) { m["payload"] = map[string]any{} })},
		{name: "pd missing severity", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "payload.severity",
			body: pdTrigger(func(m map[string]any) { delete(m["payload"].(map[string]any), "severity") })},
		{name: "pd missing payload", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "payload",
			body: pdTrigger(func(m map[string]any) { delete(m, "payload") })},
		{name: "pd missing event_action", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "event_action",
			body: pdTrigger(func(m map[string]any) { delete(m, "event_action") })},
		{name: "pd unknown event_action", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "event_action",
			body: pdTrigger(func(m map[string]any) { m["event_action"] = "explode" })},
		{name: "pd resolve without dedup_key", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "dedup_key",
			body: `{"routing_key":"` + pdRoutingKey + `","event_action":"resolve"}`},
		{name: "pd missing routing_key", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "routing_key",
			body: pdTrigger(func(m map[string]any) { delete(m, "routing_key") })},
		{name: "pd unknown routing_key", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "routing_key",
			body: pdTrigger(func(m map[string]any) { m["routing_key"] = "ffffffffffffffffffffffffffffffff" })},
		{name: "pd empty body", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "empty", body: ""},
		{name: "pd null", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "null", body: "null"},
		{name: "pd invalid UTF-8", path: "/v2/enqueue", auth: "-", pagerDuty: true, want: 400, mention: "UTF-8",
			body: strings.Replace(pdTrigger(nil), "disk full", "disk \xff full", 1)},
		{name: "pd 2 MiB body", path: "/v2/enqueue", auth: "-", want: 413, body: big},
		{name: "pd GET", path: "/v2/enqueue", method: "GET", auth: "-", want: 405},
		// The API.
		{name: "api without token", path: "/api/v1/incidents", method: "GET", auth: "-", want: 401, mention: "token"},
		{name: "api with a hook token", path: "/api/v1/incidents", method: "GET", auth: bearerAM, want: 401, mention: "token"},
		{name: "api list", path: "/api/v1/incidents", method: "GET", auth: bearerAPI, want: 200},
		{name: "api bad status", path: "/api/v1/incidents?status=exploded", method: "GET", auth: bearerAPI, want: 400, mention: "status"},
		{name: "api limit 0", path: "/api/v1/incidents?limit=0", method: "GET", auth: bearerAPI, want: 400, mention: "limit"},
		{name: "api limit huge", path: "/api/v1/incidents?limit=99999999999999999999", method: "GET", auth: bearerAPI, want: 400, mention: "limit"},
		{name: "api bad cursor", path: "/api/v1/incidents?cursor=%00%ff", method: "GET", auth: bearerAPI, want: 400, mention: "cursor"},
		{name: "api bad since", path: "/api/v1/incidents?since=yesterday", method: "GET", auth: bearerAPI, want: 400, mention: "since"},
		{name: "api unknown incident", path: "/api/v1/incidents/999999999", method: "GET", auth: bearerAPI, want: 404, mention: "999999999"},
		{name: "api non-numeric incident", path: "/api/v1/incidents/abc", method: "GET", auth: bearerAPI, want: 404, mention: "abc"},
		{name: "api incident 0", path: "/api/v1/incidents/0", method: "GET", auth: bearerAPI, want: 404},
		{name: "api huge incident id", path: "/api/v1/incidents/99999999999999999999999", method: "GET", auth: bearerAPI, want: 404},
		{name: "api acknowledge unknown", path: "/api/v1/incidents/abc/acknowledge", auth: bearerAPI, want: 404},
		{name: "api acknowledge with garbage", path: "/api/v1/incidents/16/acknowledge", auth: bearerAPI, body: "{nope", want: 400, mention: "body"},
		{name: "api note without text", path: "/api/v1/incidents/16/notes", auth: bearerAPI, body: `{"text":" "}`, want: 400, mention: "text"},
		{name: "api DELETE", path: "/api/v1/incidents", method: "DELETE", auth: bearerAPI, want: 405},
		{name: "api GET on acknowledge", path: "/api/v1/incidents/16/acknowledge", method: "GET", auth: bearerAPI, want: 405},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method, path := c.method, c.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/hooks/am"
			}
			var body io.Reader
			if c.body != "" || method == http.MethodPost {
				body = strings.NewReader(c.body)
				if c.chunked {
					body = io.MultiReader(body) // no length known: chunked
				}
			}
			hdr := http.Header{"Content-Type": {"application/json"}}
			switch c.auth {
			case "":
				hdr.Set("Authorization", bearerAM)
			case "-":
			default:
				hdr["Authorization"] = []string{c.auth}
			}
			for k, v := range c.header {
				hdr.Set(k, v)
			}
			status, h, resp, err := g.try(method, path, hdr, body)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			if status >= 500 {
				t.Fatalf("%s %s: %d %s: a 5xx for bad input", method, path, status, truncate(resp, 500))
			}
			if status != c.want {
				t.Fatalf("%s %s: %d %s, want %d", method, path, status, truncate(resp, 500), c.want)
			}
			if status < 400 {
				return
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("error Content-Type %q, want application/json", ct)
			}
			var text string
			if c.pagerDuty {
				var pd struct {
					Status  string   `json:"status"`
					Message string   `json:"message"`
					Errors  []string `json:"errors"`
				}
				decodeJSON(t, resp, &pd)
				if pd.Status != "invalid event" || pd.Message == "" || len(pd.Errors) == 0 {
					t.Errorf("PagerDuty error body %s: want status \"invalid event\", a message and errors[]", resp)
				}
				text = strings.Join(pd.Errors, "\n")
			} else if strings.HasPrefix(path, "/v2/") && method == http.MethodPost {
				var pd map[string]any
				decodeJSON(t, resp, &pd)
				if pd["status"] == nil || pd["message"] == nil {
					t.Errorf("PagerDuty error body %s: want status and message", resp)
				}
				text, _ = pd["message"].(string)
			} else {
				var e errorResponse
				decodeJSON(t, resp, &e)
				if e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("error body %s: want error.code and error.message", resp)
				}
				text = e.Error.Message + "\n" + e.Error.Field
			}
			if !strings.Contains(strings.ToLower(text), strings.ToLower(c.mention)) {
				t.Errorf("error %q does not mention %q", text, c.mention)
			}
			if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}

	// The server took all that without falling over or losing state.
	g.waitReady(t, 5*time.Second)
	list := g.incidents(t)
	if len(list) != 2 {
		t.Fatalf("%d incidents after the bad inputs, want 2 (the valid webhook and the valid PagerDuty trigger): %+v", len(list), list)
	}
	// Paging walks the same two, one at a time, newest first.
	var paged []string
	cursor := ""
	for range 3 {
		page, next := g.incidentPage(t, 1, cursor)
		for _, inc := range page {
			paged = append(paged, inc.ID)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(paged) != 2 || paged[0] != list[0].ID || paged[1] != list[1].ID {
		t.Errorf("paging with limit=1 gave %v, want %s then %s", paged, list[0].ID, list[1].ID)
	}
}
