package httpapi

import (
	"net/http"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/receivers"
)

// handlePagerDuty serves POST /v2/enqueue, PagerDuty's Events API v2: the
// routing_key in the body selects the integration, and responses have
// PagerDuty's shapes, so any tool that pages PagerDuty can page alertgate.
func handlePagerDuty(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := d.Snapshot() // once: the whole request uses this config
		fail := func(integration string, err error) {
			status := alertgate.ErrorCode(err)
			code := HTTPStatus(err)
			if code == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", retryAfterSeconds(snap.Config.Ingest.RetryAfter))
			}
			resp := receivers.PagerDutyInvalid(alertgate.ErrorMessage(err))
			if status != alertgate.EINVALID {
				resp = receivers.PagerDutyResponse{Status: status, Message: alertgate.ErrorMessage(err)}
			}
			encode(w, code, resp)
			logRejection(d.Logger, r, integration, code, err)
			d.Metrics.Rejected(integration, code)
			countInternal(d, "pagerduty", code)
		}
		body, err := readBody(w, r, snap.Config.Ingest.MaxBodyBytes)
		if err != nil {
			countReadFailure(d.Metrics, "", err)
			fail("", err)
			return
		}
		key, err := receivers.PagerDutyRoutingKey(body)
		if err != nil {
			fail("", err)
			return
		}
		recv, in, ok := snap.Receivers.ByRoutingKey(key)
		if !ok {
			// PagerDuty answers an unknown key with 400 too; it can never succeed.
			fail("", alertgate.FieldErrorf("routing_key", "not a routing key of any integration"))
			return
		}
		batch, err := recv.Parse(r.Context(), receivers.Request{Body: body, Header: r.Header, Now: d.Now()})
		if err != nil {
			fail(in.Name, err)
			return
		}
		if _, err := d.Incidents.Accept(r.Context(), snap.Routes, in.Name, batch, true); err != nil {
			d.Metrics.AlertsReceived(in.Name, notCommitted(err), len(batch.Alerts))
			fail(in.Name, err)
			return
		}
		d.Metrics.AlertsReceived(in.Name, metrics.OutcomeAccepted, len(batch.Alerts))
		encode(w, http.StatusAccepted, receivers.PagerDutyAccepted(dedupKey(batch)))
	})
}

func dedupKey(b alertgate.Batch) string {
	if len(b.Alerts) > 0 {
		return b.Alerts[0].Fingerprint
	}
	if len(b.Acknowledge) > 0 {
		return b.Acknowledge[0]
	}
	return ""
}
