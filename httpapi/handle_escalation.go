package httpapi

import (
	"net/http"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/escalation"
)

// handleEscalate runs the incident's next escalation step now:
// POST /api/v1/incidents/{id}/escalate with an optional {"actor", "text"}.
func handleEscalate(d Deps) http.Handler {
	return handleAction(d, func(r *http.Request, id string, req actionRequest) (*alertgate.Incident, error) {
		if req.User != "" || req.Rotation != "" {
			return nil, alertgate.FieldErrorf("user", "escalate runs the policy's next step; to page someone, use /reassign")
		}
		if err := checkNote(req.Text); err != nil {
			return nil, err
		}
		return d.Incidents.Escalate(r.Context(), id, by(r, req), req.Text)
	})
}

// handleReassign pages a named user or a rotation's on-call person now:
// POST /api/v1/incidents/{id}/reassign with {"user": ID} or
// {"rotation": ID}, and optionally "actor" and "text".
func handleReassign(d Deps) http.Handler {
	return handleAction(d, func(r *http.Request, id string, req actionRequest) (*alertgate.Incident, error) {
		var t escalation.Target
		switch {
		case req.User != "" && req.Rotation != "":
			return nil, alertgate.FieldErrorf("user", "name a user or a rotation, not both")
		case req.User != "":
			t = escalation.Target{Kind: escalation.User, ID: req.User}
		case req.Rotation != "":
			t = escalation.Target{Kind: escalation.Rotation, ID: req.Rotation}
		default:
			return nil, alertgate.FieldErrorf("user", `name whom to page: {"user": ID} or {"rotation": ID}`)
		}
		if err := checkNote(req.Text); err != nil {
			return nil, err
		}
		return d.Incidents.Reassign(r.Context(), id, t, by(r, req), req.Text)
	})
}

// checkNote bounds the optional note of escalate and reassign.
func checkNote(text string) error {
	if len(text) > maxNoteLen {
		return alertgate.FieldErrorf("text", "longer than %d bytes", maxNoteLen)
	}
	return nil
}
