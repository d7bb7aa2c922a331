package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/receivers"
	"github.com/alertgate/alertgate/snapshot"
)

// ingestResponse is what a sender gets once its alerts are committed.
type ingestResponse struct {
	Status     string   `json:"status"`
	Alerts     int      `json:"alerts"`
	Duplicates int      `json:"duplicates"`
	Incidents  []string `json:"incidents"`
}

// handleIngest serves POST /hooks/{integration}.
func handleIngest(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := d.Snapshot() // once: the whole request uses this config
		name := mux.Vars(r)["integration"]
		recv, in, ok := snap.Receivers.Get(name)
		if !ok {
			reject(d, w, r, "", alertgate.Errorf(alertgate.ENOTFOUND, "no integration named %q", alertgate.Truncate(name, 64)), snap)
			return
		}
		if in.Type == config.TypePagerDuty {
			reject(d, w, r, name, alertgate.Errorf(alertgate.ENOTFOUND, "integration %q speaks the PagerDuty Events API: POST /v2/enqueue", name), snap)
			return
		}
		if !tokenOK(r, in.Tokens) {
			reject(d, w, r, name, alertgate.Errorf(alertgate.EUNAUTHORIZED, "missing or wrong token for integration %q", name), snap)
			return
		}
		body, err := readBody(w, r, snap.Config.Ingest.MaxBodyBytes)
		if err != nil {
			countReadFailure(d.Metrics, name, err)
			reject(d, w, r, name, err, snap)
			return
		}
		if in.Type == config.TypeHeartbeat {
			servePing(d, w, r, snap, in) // handle_heartbeat.go: any body is a ping
			return
		}
		batch, err := recv.Parse(r.Context(), receivers.Request{Body: body, Header: r.Header, Now: d.Now()})
		if err != nil {
			reject(d, w, r, name, err, snap)
			return
		}
		acc, err := d.Incidents.Accept(r.Context(), snap.Routes, name, batch, false)
		if err != nil {
			d.Metrics.AlertsReceived(name, notCommitted(err), len(batch.Alerts))
			reject(d, w, r, name, err, snap)
			return
		}
		d.Metrics.AlertsReceived(name, metrics.OutcomeAccepted, len(batch.Alerts))
		encode(w, http.StatusOK, ingestResponse{Status: "ok", Alerts: acc.Alerts, Duplicates: acc.Duplicates, Incidents: acc.Incidents})
	})
}

// reject answers an ingest request with an error, and logs and counts it:
// a refused delivery may be a lost alert, so the operator must see why.
func reject(d Deps, w http.ResponseWriter, r *http.Request, integration string, err error, snap *snapshot.Snapshot) {
	status := writeError(w, err, snap.Config.Ingest.RetryAfter)
	logRejection(d.Logger, r, integration, status, err)
	d.Metrics.Rejected(integration, status)
	countInternal(d, "ingest", status)
}

// notCommitted is the outcome of alerts whose commit failed: unavailable
// (503, Redis could not answer) or failed (500, our bug).
func notCommitted(err error) string {
	if HTTPStatus(err) == http.StatusServiceUnavailable {
		return metrics.OutcomeUnavailable
	}
	return metrics.OutcomeFailed
}

// countInternal counts a 500 answer, where it happened.
func countInternal(d Deps, where string, status int) {
	if status == http.StatusInternalServerError {
		d.Metrics.InternalError(where)
	}
}

func logRejection(logger *slog.Logger, r *http.Request, integration string, status int, err error) {
	msg := "ingest rejected"
	if alertgate.ErrorCode(err) == alertgate.EINCOMPLETE {
		msg = "ingest body unreadable" // the sender stalled or hung up: not a bad payload
	}
	logger.Log(r.Context(), logLevel(status), msg,
		"integration", integration, "status", status, "err", err.Error(),
		"remote", r.RemoteAddr, "user_agent", r.UserAgent(), "content_length", r.ContentLength)
}

// tokenOK checks "Authorization: Bearer <token>" or "?token=<token>"
// against every configured token, in constant time.
func tokenOK(r *http.Request, tokens []config.Secret) bool {
	got := bearer(r)
	if got == "" {
		got = r.URL.Query().Get("token")
	}
	return config.MatchAny(tokens, got)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// readBody reads the whole body, refusing more than limit bytes (413) and
// encodings we cannot read (415). A body that cannot be read whole is
// EINCOMPLETE (503), never EINVALID: see below.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return nil, alertgate.Errorf(alertgate.EUNSUPPORTED, "Content-Encoding %q is not supported; send the body uncompressed", alertgate.Truncate(enc, 32))
	}
	if r.ContentLength > limit {
		return nil, alertgate.Errorf(alertgate.ETOOLARGE, "body of %d bytes is over the limit of %d bytes", r.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, alertgate.Errorf(alertgate.ETOOLARGE, "body is over the limit of %d bytes", limit)
	case err != nil:
		// The body never arrived whole: the sender stalled past the read
		// timeout, hung up early, or the connection broke. That says
		// nothing about the payload, and a 4xx would make Alertmanager
		// and Datadog drop the alerts for good; a sender still listening
		// gets 503 with Retry-After and sends it again.
		return nil, &alertgate.Error{Code: alertgate.EINCOMPLETE, Message: "body: could not be read whole; send it again", Err: err}
	}
	return body, nil
}

// countReadFailure counts a delivery whose body could not be read (see
// readBody) as its own outcome, so operators do not take stalled or broken
// connections for malformed payloads. Its alerts are unknown: it counts
// once.
func countReadFailure(m *metrics.Metrics, integration string, err error) {
	if alertgate.ErrorCode(err) == alertgate.EINCOMPLETE {
		m.AlertsReceived(integration, metrics.OutcomeReadFailed, 1)
	}
}
