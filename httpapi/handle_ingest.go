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
		st := d.State.Load()
		name := mux.Vars(r)["integration"]
		recv, in, ok := st.Receivers.Get(name)
		if !ok {
			reject(d, w, r, "", alertgate.Errorf(alertgate.ENOTFOUND, "no integration named %q", alertgate.Truncate(name, 64)), st)
			return
		}
		if in.Type == config.TypePagerDuty {
			reject(d, w, r, name, alertgate.Errorf(alertgate.ENOTFOUND, "integration %q speaks the PagerDuty Events API: POST /v2/enqueue", name), st)
			return
		}
		if !tokenOK(r, in.Tokens) {
			reject(d, w, r, name, alertgate.Errorf(alertgate.EUNAUTHORIZED, "missing or wrong token for integration %q", name), st)
			return
		}
		body, err := readBody(w, r, st.Config.Ingest.MaxBodyBytes)
		if err != nil {
			reject(d, w, r, name, err, st)
			return
		}
		batch, err := recv.Parse(r.Context(), receivers.Request{Body: body, Header: r.Header, Now: d.Now()})
		if err != nil {
			reject(d, w, r, name, err, st)
			return
		}
		acc, err := d.Incidents.Accept(r.Context(), name, batch, false)
		if err != nil {
			d.Metrics.AlertsReceived(name, metrics.OutcomeUnavailable, len(batch.Alerts))
			reject(d, w, r, name, err, st)
			return
		}
		d.Metrics.AlertsReceived(name, metrics.OutcomeAccepted, len(batch.Alerts))
		encode(w, http.StatusOK, ingestResponse{Status: "ok", Alerts: acc.Alerts, Duplicates: acc.Duplicates, Incidents: acc.Incidents})
	})
}

// reject answers an ingest request with an error, and logs and counts it:
// a refused delivery may be a lost alert, so the operator must see why.
func reject(d Deps, w http.ResponseWriter, r *http.Request, integration string, err error, st *State) {
	status := writeError(w, err, st.Config.Ingest.RetryAfter)
	logRejection(d.Logger, r, integration, status, err)
	d.Metrics.Rejected(integration, status)
}

func logRejection(logger *slog.Logger, r *http.Request, integration string, status int, err error) {
	logger.Log(r.Context(), logLevel(status), "ingest rejected",
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
// encodings we cannot read (415).
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
		return nil, &alertgate.Error{Code: alertgate.EINVALID, Message: "body: could not be read", Err: err}
	}
	return body, nil
}
