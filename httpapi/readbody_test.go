package httpapi_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/snapshot"
)

const readBodyConfig = `
ingest:
  max_body_bytes: 4096
  retry_after: 7s
integrations:
  - name: am
    type: alertmanager
    tokens: [am-token]
`

// newBodyServer is the API without Redis: every request here fails before
// anything would be committed.
func newBodyServer(t *testing.T) (http.Handler, *metrics.Metrics, *testlog.Log) {
	t.Helper()
	snap, err := snapshot.Load([]byte(readBodyConfig), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)
	log := testlog.NewLog(t)
	m := metrics.New(nil)
	return httpapi.NewServer(httpapi.Deps{Logger: log.Logger(), Snapshot: current.Load, Metrics: m}), m, log
}

// checkReadFailed checks that one delivery was counted and logged as an
// unreadable body, and nowhere as a malformed one.
func checkReadFailed(t *testing.T, m *metrics.Metrics, log *testlog.Log, integration, cause string) {
	t.Helper()
	outcome := func(o string) float64 {
		return counterValue(t, m, "alertgate_alerts_received_total", "integration", integration, "outcome", o)
	}
	if got := outcome(metrics.OutcomeReadFailed); got != 1 {
		t.Errorf("alerts_received{outcome=read_failed} = %v, want 1", got)
	}
	if got := outcome(metrics.OutcomeInvalid); got != 0 {
		t.Errorf("alerts_received{outcome=invalid} = %v, want 0", got)
	}
	if got := counterValue(t, m, "alertgate_requests_rejected_total", "integration", integration, "code", "400"); got != 0 {
		t.Errorf("requests_rejected{code=400} = %v, want 0", got)
	}
	if got := counterValue(t, m, "alertgate_requests_rejected_total", "integration", integration, "code", "503"); got != 1 {
		t.Errorf("requests_rejected{code=503} = %v, want 1", got)
	}
	var found bool
	for _, e := range log.Entries() {
		switch e.Message {
		case "ingest body unreadable":
			found = true
			if e.Level != slog.LevelWarn || !strings.Contains(e.Attrs["err"], cause) || e.Attrs["status"] != "503" {
				t.Errorf("logged %+v, want WARN with status 503 and the cause %q", e, cause)
			}
		case "ingest rejected":
			t.Errorf("a read failure was logged as a rejection: %+v", e)
		}
	}
	if !found {
		t.Errorf("no %q record; logged %+v", "ingest body unreadable", log.Entries())
	}
}

// Defect 9, at the handler: a body reader that fails is a 503 with
// Retry-After (the sender retries), not a 400 (the sender drops the alerts).
func TestUnreadableBodyIs503(t *testing.T) {
	for _, tt := range []struct {
		name, path, integration string
		wantInBody              string
	}{
		{"hook", "/hooks/am", "am", `"code":"incomplete"`},
		{"pagerduty", "/v2/enqueue", "", `"status":"incomplete"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, m, log := newBodyServer(t)
			cause := errors.New("read tcp 127.0.0.1:8080->127.0.0.1:9: i/o timeout")
			req := httptest.NewRequest("POST", tt.path, io.MultiReader(strings.NewReader(`{"version":`), iotest.ErrReader(cause)))
			req.ContentLength = 1000
			req.Header.Set("Authorization", "Bearer am-token")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "7" || !strings.Contains(rec.Body.String(), tt.wantInBody) {
				t.Fatalf("got %d Retry-After %q %s, want 503, Retry-After 7 and %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body, tt.wantInBody)
			}
			checkReadFailed(t, m, log, tt.integration, "i/o timeout")
		})
	}
}

// What readBody refused before stays refused the same way.
func TestBodyLimitsUnchanged(t *testing.T) {
	h, m, _ := newBodyServer(t)
	for _, tt := range []struct {
		name     string
		body     io.Reader
		length   int64
		encoding string
		want     int
	}{
		{"declared over the limit", strings.NewReader(strings.Repeat(" ", 5000)), 5000, "", 413},
		{"chunked over the limit", io.MultiReader(strings.NewReader(strings.Repeat(" ", 5000))), -1, "", 413},
		{"compressed", strings.NewReader("x"), 1, "gzip", 415},
	} {
		req := httptest.NewRequest("POST", "/hooks/am", tt.body)
		req.ContentLength = tt.length
		req.Header.Set("Authorization", "Bearer am-token")
		if tt.encoding != "" {
			req.Header.Set("Content-Encoding", tt.encoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, rec.Code, rec.Body, tt.want)
		}
	}
	if got := counterValue(t, m, "alertgate_alerts_received_total", "integration", "am", "outcome", metrics.OutcomeReadFailed); got != 0 {
		t.Errorf("a refused body counted as read_failed (%v)", got)
	}
}

// Defect 9, over a real connection: a sender that declares 1000 bytes,
// sends 10 and then hangs up, or stalls past the read timeout.
func TestSenderThatStopsSending(t *testing.T) {
	for _, tt := range []struct {
		name   string
		hangUp bool
		cause  string
	}{
		{"hangs up", true, "unexpected EOF"},
		{"stalls past the read timeout", false, "i/o timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, m, log := newBodyServer(t)
			srv := httptest.NewUnstartedServer(h)
			srv.Config.ReadTimeout = 200 * time.Millisecond
			srv.Start()
			t.Cleanup(srv.Close)

			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Bounds the test, not a wait: the answer comes at once on a
			// hang-up and after the 200ms read timeout on a stall.
			_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
			fmt.Fprintf(conn, "POST /hooks/am HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer am-token\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n%s", `{"version"`)
			if tt.hangUp {
				// Half-close: the server reads EOF, and we can still read its answer.
				if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "7" {
				t.Fatalf("got %d Retry-After %q %s, want 503 with Retry-After 7", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			srv.Close() // waits for the handler, and so for its log line and counts
			checkReadFailed(t, m, log, "am", tt.cause)
		})
	}
}

// counterValue reads one counter from m's registry; 0 if it has no such
// series yet. labels are name, value pairs.
func counterValue(t *testing.T, m *metrics.Metrics, name string, labels ...string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range s.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue series
				}
			}
			return s.GetCounter().GetValue()
		}
	}
	return 0
}
