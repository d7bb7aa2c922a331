package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Dev mode takes what production takes: a delivery of 3,500 alerts in one
// group used to fail forever with 503 in dev mode, the embedded Redis's Lua
// having a smaller stack than real Redis.
func TestServeDevBigDelivery(t *testing.T) {
	base := startServe(t, "--dev")
	const n = 3500
	type amAlert struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    string            `json:"startsAt"`
		EndsAt      string            `json:"endsAt"`
		Fingerprint string            `json:"fingerprint"`
	}
	alerts := make([]amAlert, n)
	for i := range alerts {
		alerts[i] = amAlert{
			Status:      "firing",
			Labels:      map[string]string{"alertname": "Big", "i": fmt.Sprint(i)},
			Annotations: map[string]string{},
			StartsAt:    "2026-12-01T08:00:00Z",
			EndsAt:      "0001-01-01T00:00:00Z",
			Fingerprint: fmt.Sprintf("%016x", i+1),
		}
	}
	body, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": `{}:{alertname="Big"}`, "status": "firing", "receiver": "alertgate",
		"groupLabels": map[string]string{"alertname": "Big"}, "commonLabels": map[string]string{"alertname": "Big"},
		"commonAnnotations": map[string]string{}, "externalURL": "http://am:9093", "alerts": alerts,
	})
	if err != nil {
		t.Fatal(err)
	}
	status, got := post(t, base+"/hooks/alertmanager", body)
	if status != http.StatusOK {
		t.Fatalf("%d-alert webhook in dev mode: %d %s", n, status, got)
	}
	var res struct {
		Alerts    int      `json:"alerts"`
		Incidents []string `json:"incidents"`
	}
	if err := json.Unmarshal(got, &res); err != nil || res.Alerts != n || len(res.Incidents) != 1 {
		t.Fatalf("answer %s (%v), want %d alerts in one incident", got, err, n)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/api/v1/incidents/"+res.Incidents[0], nil)
	req.Header.Set("Authorization", "Bearer dev")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var inc struct {
		AlertCount int `json:"alert_count"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&inc); err != nil || inc.AlertCount != n {
		t.Fatalf("incident has %d alerts (%v), want %d", inc.AlertCount, err, n)
	}
}

// serve --dev and the curl its banner prints show the whole path: the
// alert opens an incident, the policy's first step pages the person on
// call, and the console notifier prints the page.
func TestServeDevPagesOnCall(t *testing.T) {
	base, lines := startServeOutput(t, "--dev")
	status, got := post(t, base+"/hooks/generic",
		[]byte(`{"id":"disk-full-web-1","summary":"Disk full on web-1","severity":"critical","status":"firing","labels":{"host":"web-1"}}`))
	var res struct{ Incidents []string }
	if status != http.StatusOK || json.Unmarshal(got, &res) != nil || len(res.Incidents) != 1 {
		t.Fatalf("the banner's alert: %d %s", status, got)
	}
	deadline := time.After(15 * time.Second)
	for {
		select {
		case line := <-lines:
			if strings.HasPrefix(line, "PAGE ") && strings.Contains(line, "incident "+res.Incidents[0]+" ") {
				if !strings.Contains(line, "Disk full on web-1") || !strings.Contains(line, "rotation dev-weekly") ||
					!strings.Contains(line, "key="+res.Incidents[0]+".1.0.1.") {
					t.Errorf("page line %q lacks the title, the reason or the key", line)
				}
				return
			}
		case <-deadline:
			t.Fatal("no PAGE line on stdout within 15s of the alert")
		}
	}
}

func post(t *testing.T, url string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer dev")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, got
}

func TestDevPublicURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:18080": "http://127.0.0.1:18080",
		":9000":           "http://127.0.0.1:9000",
		"0.0.0.0:9000":    "http://127.0.0.1:9000",
		"[::1]:9000":      "http://[::1]:9000",
		"127.0.0.1:0":     "",
		"nonsense":        "",
	} {
		if got := devPublicURL(addr); got != want {
			t.Errorf("devPublicURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
