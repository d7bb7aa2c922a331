package console

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/explain"
)

// The explain view of an incident's first alert: GET
// /incidents/{id}/explain asks package explain what the alert would do
// if it arrived now (routes, group, the incident it joins, holds, who
// each step pages), changing nothing. Explain reads payloads as an
// integration receives them, so the view rebuilds the alert's delivery:
// for Alertmanager integrations, whose webhook carries everything the
// alert keeps (labels, annotations, times, fingerprint, group key). For
// other senders the page says so and points to alertgate explain.

type explainBody struct {
	Inc    *alertgate.Incident
	Alert  *alertgate.IncidentAlert
	Report *explain.Report
	// Unsupported says why there is no report.
	Unsupported string
}

func (c *Console) explainPage(w http.ResponseWriter, r *http.Request, q *request) {
	if c.d.Explain == nil {
		c.problem(w, q, http.StatusNotFound, "The explain view is not available on this server.")
		return
	}
	inc, err := c.d.Incidents.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.failed(w, r, q, err)
		return
	}
	b := &explainBody{Inc: inc}
	render := func() {
		c.render(w, q, http.StatusOK, "explain", view{Title: "Explain #" + inc.ID, Nav: "incidents", Body: b})
	}
	if len(inc.Alerts) == 0 {
		b.Unsupported = "This incident has no alerts (it was declared by hand)."
		render()
		return
	}
	first := &inc.Alerts[0]
	for i := range inc.Alerts {
		if inc.Alerts[i].FirstSeen.Before(first.FirstSeen) {
			first = &inc.Alerts[i]
		}
	}
	b.Alert = first
	integ := integrationOf(q, first.Source)
	if integ == nil || integ.Type != config.TypeAlertmanager {
		b.Unsupported = "The explain view rebuilds Alertmanager deliveries only; this alert came from " + quote(first.Source) +
			". Run alertgate explain (or POST /api/v1/explain) with the payload the sender posts."
		render()
		return
	}
	payload, err := alertmanagerPayload(first)
	if err != nil {
		c.failed(w, r, q, err)
		return
	}
	deps := *c.d.Explain
	deps.Snapshot, deps.Now = q.snap, func() time.Time { return q.now }
	rep, err := explain.Explain(r.Context(), explain.Input{Integration: first.Source, Payload: payload, At: q.now}, deps)
	if err != nil {
		if statusOf(err) >= 500 {
			c.failed(w, r, q, err)
			return
		}
		// A stored alert the receiver refuses now (a changed config):
		// say so rather than fail the page.
		b.Unsupported = "The alert cannot be explained against the current config: " + messageOf(err)
		render()
		return
	}
	b.Report = &rep
	render()
}

func integrationOf(q *request, name string) *config.Integration {
	for i := range q.snap.Config.Integrations {
		if q.snap.Config.Integrations[i].Name == name {
			return &q.snap.Config.Integrations[i]
		}
	}
	return nil
}

// alertmanagerPayload is the Alertmanager webhook (version 4) that
// delivers a as firing again.
func alertmanagerPayload(a *alertgate.IncidentAlert) ([]byte, error) {
	type amAlert struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     string            `json:"startsAt"`
		EndsAt       string            `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL,omitempty"`
		Fingerprint  string            `json:"fingerprint"`
	}
	generator := ""
	for _, l := range a.Links {
		if l.Text == "source" {
			generator = l.Href
		}
	}
	startsAt := a.StartsAt
	if startsAt.IsZero() {
		startsAt = a.FirstSeen
	}
	return json.Marshal(map[string]any{
		"version":           "4",
		"groupKey":          a.GroupKey,
		"status":            "firing",
		"receiver":          a.Details["receiver"],
		"groupLabels":       map[string]string{},
		"commonLabels":      map[string]string{},
		"commonAnnotations": map[string]string{},
		"externalURL":       a.Details["external_url"],
		"alerts": []amAlert{{Status: "firing", Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: startsAt.UTC().Format(time.RFC3339Nano), EndsAt: "0001-01-01T00:00:00Z",
			GeneratorURL: generator, Fingerprint: a.Fingerprint}},
	})
}
