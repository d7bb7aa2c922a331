package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
)

func noEnv(string) string { return "" }

func TestVersionAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"alertgate", "version"}, noEnv, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "alertgate ") {
		t.Errorf("version printed %q", out.String())
	}
	for _, args := range [][]string{
		{"alertgate"},
		{"alertgate", "frobnicate"},
		{"alertgate", "serve"}, // neither --config nor --dev
		{"alertgate", "serve", "--dev", "--config", "x.yaml"},  // both
		{"alertgate", "serve", "--dev", "--log-level", "loud"}, // bad level
		{"alertgate", "check-config"},                          // no file
		{"alertgate", "serve", "--dev", "--no-such-flag"},      // unknown flag
	} {
		err := run(t.Context(), args, noEnv, io.Discard, io.Discard)
		if got := exitCode(err); err == nil || got != 2 {
			t.Errorf("%v: err %v exit %d, want a usage error (exit 2)", args, err, got)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, good, "integrations:\n  - name: am\n    type: alertmanager\n    tokens: [x]\n")
	writeFile(t, bad, "integrations:\n  - name: am\n    type: alertmanagr\n    tokens: [x]\n    colour: blue\n")

	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"alertgate", "check-config", good}, noEnv, &out, &errb); err != nil {
		t.Fatalf("good config: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "OK") {
		t.Errorf("good config printed %q", out.String())
	}
	errb.Reset()
	err := run(t.Context(), []string{"alertgate", "check-config", bad}, noEnv, io.Discard, &errb)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("bad config: err %v, want exit 1", err)
	}
	for _, want := range []string{"bad.yaml:3:", "alertmanagr", "bad.yaml:5:", "colour"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check-config output lacks %q:\n%s", want, errb.String())
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startServe runs `alertgate serve` in-process and returns its base URL;
// cancelling the test's context stops it, and the test checks it stopped
// cleanly.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	base, _ := startServeOutput(t, args...)
	return base
}

// startServeOutput is startServe that also hands over every line serve
// prints on stdout after it listens (pages from the console notifier).
func startServeOutput(t *testing.T, args ...string) (base string, lines <-chan string) {
	t.Helper()
	out := make(chan string, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	stderr := testlog.NewLog(t) // fails the test on any ERROR line
	go func() {
		done <- run(ctx, append([]string{"alertgate", "serve", "--listen", "127.0.0.1:0", "--log-level", "warn", "--log-format", "json"}, args...), noEnv, pw, stderr)
		_ = pw.Close()
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "alertgate listening on "); ok {
				urls <- u
			}
			select {
			case out <- sc.Text():
			default: // nobody reads them: drop rather than stall serve
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after shutdown", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s of cancellation")
		}
	})
	select {
	case u := <-urls:
		return u, out
	case err := <-done:
		t.Fatalf("serve exited early: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start listening within 20s")
	}
	return "", out
}

func TestServeDev(t *testing.T) {
	base := startServe(t, "--dev")
	body := `{"id":"disk-full-web-1","summary":"Disk full on web-1","severity":"critical","status":"firing","labels":{"host":"web-1"}}`
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/hooks/generic", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer dev")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("dev ingest: %d", resp.StatusCode)
	}
	req, _ = http.NewRequestWithContext(t.Context(), "GET", base+"/api/v1/incidents", nil)
	req.Header.Set("Authorization", "Bearer dev")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(got), "Disk full on web-1") {
		t.Fatalf("incidents after the dev curl line: %s", got)
	}
}

// --dev --redis runs the dev config against a real Redis.
func TestServeDevRealRedis(t *testing.T) {
	redistest.New(t) // skips (or fails in CI) without Redis
	base := startServe(t, "--dev", "--redis", redistest.URL())
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("readyz with a real Redis: %d", resp.StatusCode)
	}
}
