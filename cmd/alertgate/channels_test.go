package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/redistest"
)

// A configured channel carries the page: serve with a generic webhook
// notifier as a user's contact posts the page, signed, with its
// idempotency key, to the webhook.
func TestServePagesThroughAConfiguredWebhook(t *testing.T) {
	_, prefix := redistest.New(t) // the keys under prefix are deleted afterwards
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	t.Cleanup(hook.Close)

	cfg := `
redis:
  url: ` + redistest.URL() + `
  key_prefix: "` + prefix + `"
api:
  tokens: [api-token]
integrations:
  - {name: generic, type: generic, tokens: [t], generic: {dedup_key: id, summary: summary, severity: severity}}
notifiers:
  - {id: hook, type: webhook, url: "` + hook.URL + `/page", secrets: [hook-secret]}
users:
  - {id: alice, contacts: [{notifier: hook}]}
escalation_policies:
  - id: p
    steps:
      - {targets: [{user: alice}], delay: 5m}
default_escalation_policy: p
routes:
  - {name: all, group_wait: 0s}
`
	path := filepath.Join(t.TempDir(), "alertgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServe(t, "--config", path)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/hooks/generic",
		strings.NewReader(`{"id":"disk-1","summary":"Disk full on web-1","severity":"critical"}`))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ingest: %d", resp.StatusCode)
	}

	select {
	case r := <-got:
		body := <-bodies
		if r.URL.Path != "/page" || !strings.Contains(string(body), "Disk full on web-1") {
			t.Fatalf("the webhook got %s %s", r.URL.Path, body)
		}
		if key := r.Header.Get("Idempotency-Key"); !strings.HasSuffix(key, ".1.0.1.alice") {
			t.Errorf("Idempotency-Key %q, want the page's key", key)
		}
		ts, sig := r.Header.Get("X-Alertgate-Timestamp"), r.Header.Get("X-Alertgate-Signature")
		mac := hmac.New(sha256.New, []byte("hook-secret"))
		mac.Write([]byte(ts + "." + string(body)))
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); sig != want {
			t.Errorf("signature %q, want %q over the timestamp and body", sig, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the webhook got no page within 15s of the alert")
	}
}
