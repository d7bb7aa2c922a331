package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/redistest"
)

// SIGTERM while a delivery is half sent: the server stops accepting new
// connections, finishes the delivery, commits it, answers 200, and exits 0.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	_, prefix := redistest.New(t)
	g := startGate(t, gateOptions{prefix: prefix})
	body := amWebhook(t, "Drain", firingAlerts("Drain", 3, time.Now()))
	half := len(body) / 2

	pr, pw := io.Pipe()
	type result struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		hdr := jsonHeader(amToken)
		// The client sends the body only after the server's "100
		// Continue", which it sends when the handler starts reading: so
		// once the first half is written, the request is in the handler.
		hdr.Set("Expect", "100-continue")
		status, _, b, err := g.try(http.MethodPost, "/hooks/am", hdr, pr)
		done <- result{status, b, err}
	}()
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}

	if err := g.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(g.URL, "http://")
	eventually(t, 10*time.Second, "the listener to close after SIGTERM", func() (bool, string) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return true, ""
		}
		_ = c.Close()
		return false, "still accepting connections"
	})
	if g.proc.exited() {
		t.Fatal("alertgate exited with a request in flight")
	}

	if _, err := pw.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	r := <-done
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("in-flight delivery: status %d, err %v, body %s; want 200", r.status, r.err, r.body)
	}
	var resp ingestResponse
	if err := json.Unmarshal(r.body, &resp); err != nil || resp.Alerts != 3 || len(resp.Incidents) != 1 {
		t.Fatalf("in-flight delivery answered %s (%v), want 3 alerts committed to one incident", r.body, err)
	}
	// g.stop (cleanup) checks the exit code is 0 and the logs are clean.
}
