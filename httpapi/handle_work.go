package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/incident"
)

// People's work on incidents (docs/incidents-work.md): declare, roles,
// status updates, impact, postmortem, follow-ups.

// Bounds of what people write.
const (
	maxTitleLen = 512
	maxNameLen  = 128
	maxLinkLen  = 2048
)

// declareRequest is the body of POST /api/v1/incidents.
type declareRequest struct {
	Title            string `json:"title"`
	Severity         string `json:"severity"`
	Service          string `json:"service"`
	Commander        string `json:"commander"`
	EscalationPolicy string `json:"escalation_policy"`
	Rotation         string `json:"rotation"`
	Actor            string `json:"actor"`
}

// decodeDeclare reads and checks a declare body against the directory of
// policies and rotations (nil: none exist).
func decodeDeclare(body []byte, dir *escalation.Directory) (declareRequest, incident.Declaration, error) {
	var req declareRequest
	if err := decodeStrict(body, &req); err != nil {
		return req, incident.Declaration{}, err
	}
	d := incident.Declaration{
		Title: strings.TrimSpace(req.Title), Service: req.Service, Severity: alertgate.Severity(req.Severity),
		Commander: req.Commander, Policy: req.EscalationPolicy, Rotation: req.Rotation,
	}
	switch {
	case d.Title == "":
		return req, d, alertgate.FieldErrorf("title", "required: what is wrong, in one line")
	case !oneLine(d.Title, maxTitleLen):
		return req, d, alertgate.FieldErrorf("title", "must be at most %d bytes of one line of UTF-8", maxTitleLen)
	case d.Severity == "":
		return req, d, alertgate.FieldErrorf("severity", "required: one of critical, error, warning, info")
	case d.Severity.Rank() == 0:
		return req, d, alertgate.FieldErrorf("severity", "%q is not one of critical, error, warning, info", alertgate.Truncate(req.Severity, 32))
	case !oneLine(d.Service, maxNameLen):
		return req, d, alertgate.FieldErrorf("service", "must be at most %d bytes of one line of UTF-8", maxNameLen)
	case !oneLine(d.Commander, maxNameLen):
		return req, d, alertgate.FieldErrorf("commander", "must be at most %d bytes of one line of UTF-8", maxNameLen)
	case d.Policy != "" && d.Rotation != "":
		return req, d, alertgate.FieldErrorf("rotation", "name an escalation_policy or a rotation, not both")
	}
	if d.Policy != "" && (dir == nil || dir.Policies[d.Policy] == nil) {
		return req, d, alertgate.FieldErrorf("escalation_policy", "no escalation policy %q in the config", alertgate.Truncate(d.Policy, 64))
	}
	if d.Rotation != "" && (dir == nil || dir.Rotations[d.Rotation] == nil) {
		return req, d, alertgate.FieldErrorf("rotation", "no rotation %q in the config", alertgate.Truncate(d.Rotation, 64))
	}
	return req, d, nil
}

// handleDeclare serves POST /api/v1/incidents: 201 with the declared
// incident, or 200 with it when the request (its Idempotency-Key) declared
// it before.
func handleDeclare(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r, 64<<10)
		if err != nil {
			writeError(w, err, 0)
			return
		}
		snap := requestSnapshot(r)
		req, decl, err := decodeDeclare(body, snap.Escalation)
		if err != nil {
			writeError(w, err, 0)
			return
		}
		b, err := workBy(r, req.Actor)
		if err != nil {
			writeError(w, err, 0)
			return
		}
		inc, created, err := d.Incidents.Declare(r.Context(), decl, b)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		incident.ApplyPostmortemRule(inc, &snap.Config.Postmortems, d.Now())
		status := http.StatusOK
		if created {
			status = http.StatusCreated
			w.Header().Set("Location", "/api/v1/incidents/"+inc.ID)
		}
		encode(w, status, inc)
	})
}

// roleRequest is the body of POST /api/v1/incidents/{id}/roles.
type roleRequest struct {
	Role  string `json:"role"`
	User  string `json:"user"`
	Actor string `json:"actor"`
}

func handleAssignRole(d Deps) http.Handler {
	return handleWork(d, func(r *http.Request, id string, body []byte) (*alertgate.Incident, int, error) {
		var req roleRequest
		if err := decodeStrict(body, &req); err != nil {
			return nil, 0, err
		}
		if !alertgate.ValidRole(req.Role) {
			return nil, 0, alertgate.FieldErrorf("role", "%q is not a role: use one of %s", alertgate.Truncate(req.Role, 32), strings.Join(alertgate.Roles, ", "))
		}
		if !oneLine(req.User, maxNameLen) {
			return nil, 0, alertgate.FieldErrorf("user", "must be at most %d bytes of one line of UTF-8 (\"\" takes the role from whoever holds it)", maxNameLen)
		}
		b, err := workBy(r, req.Actor)
		if err != nil {
			return nil, 0, err
		}
		inc, err := d.Incidents.AssignRole(r.Context(), id, req.Role, req.User, b)
		return inc, 0, err
	})
}

// statusUpdateRequest is the body of POST /api/v1/incidents/{id}/status_updates.
type statusUpdateRequest struct {
	Text  string `json:"text"`
	Actor string `json:"actor"`
}

func handleStatusUpdate(d Deps) http.Handler {
	return handleWork(d, func(r *http.Request, id string, body []byte) (*alertgate.Incident, int, error) {
		var req statusUpdateRequest
		if err := decodeStrict(body, &req); err != nil {
			return nil, 0, err
		}
		if strings.TrimSpace(req.Text) == "" {
			return nil, 0, alertgate.FieldErrorf("text", "a status update needs text")
		}
		if len(req.Text) > maxNoteLen || !utf8.ValidString(req.Text) {
			return nil, 0, alertgate.FieldErrorf("text", "must be at most %d bytes of UTF-8", maxNoteLen)
		}
		b, err := workBy(r, req.Actor)
		if err != nil {
			return nil, 0, err
		}
		inc, _, err := d.Incidents.PostStatusUpdate(r.Context(), id, req.Text, &requestSnapshot(r).Config.StatusUpdates, b)
		return inc, 0, err
	})
}

// impactRequest is the body of POST /api/v1/incidents/{id}/impact.
type impactRequest struct {
	Start string `json:"start"`
	End   string `json:"end"`
	Actor string `json:"actor"`
}

func handleSetImpact(d Deps) http.Handler {
	return handleWork(d, func(r *http.Request, id string, body []byte) (*alertgate.Incident, int, error) {
		var req impactRequest
		if err := decodeStrict(body, &req); err != nil {
			return nil, 0, err
		}
		if req.Start == "" {
			return nil, 0, alertgate.FieldErrorf("start", "required: when customers were first affected (RFC 3339)")
		}
		start, err := parseWorkTime("start", req.Start)
		if err != nil {
			return nil, 0, err
		}
		end, err := parseWorkTime("end", req.End)
		if err != nil {
			return nil, 0, err
		}
		b, err := workBy(r, req.Actor)
		if err != nil {
			return nil, 0, err
		}
		inc, err := d.Incidents.SetImpact(r.Context(), id, start, end, b)
		return inc, 0, err
	})
}

// postmortemRequest is the body of POST /api/v1/incidents/{id}/postmortem;
// absent fields stay as they are.
type postmortemRequest struct {
	Status *string `json:"status"`
	Link   *string `json:"link"`
	Due    *string `json:"due"`
	Actor  string  `json:"actor"`
}

func handleSetPostmortem(d Deps) http.Handler {
	return handleWork(d, func(r *http.Request, id string, body []byte) (*alertgate.Incident, int, error) {
		var req postmortemRequest
		if err := decodeStrict(body, &req); err != nil {
			return nil, 0, err
		}
		var c incident.PostmortemChange
		if s := req.Status; s != nil {
			switch *s {
			case alertgate.PostmortemRequired, alertgate.PostmortemDraft, alertgate.PostmortemDone:
			default:
				return nil, 0, alertgate.FieldErrorf("status", "%q is not one of required, draft, done", alertgate.Truncate(*s, 32))
			}
			c.Status = s
		}
		if req.Link != nil {
			if err := checkLink("link", *req.Link); err != nil {
				return nil, 0, err
			}
			c.Link = req.Link
		}
		if req.Due != nil {
			due, err := parseWorkTime("due", *req.Due)
			if err != nil {
				return nil, 0, err
			}
			c.Due = &due
		}
		if c.Status == nil && c.Link == nil && c.Due == nil {
			return nil, 0, alertgate.FieldErrorf("body", "nothing to change: send status, link or due")
		}
		b, err := workBy(r, req.Actor)
		if err != nil {
			return nil, 0, err
		}
		inc, err := d.Incidents.SetPostmortem(r.Context(), id, c, &requestSnapshot(r).Config.Postmortems, b)
		return inc, 0, err
	})
}

// handlePostmortemMarkdown serves GET /api/v1/incidents/{id}/postmortem.md:
// the postmortem skeleton drafted from the timeline.
func handlePostmortemMarkdown(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["id"]
		inc, err := d.Incidents.GetWork(r.Context(), id, &requestSnapshot(r).Config.Postmortems)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="postmortem-`+inc.ID+`.md"`)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, incident.PostmortemMarkdown(inc))
	})
}

// followUpRequest is the body of POST /api/v1/incidents/{id}/follow_ups
// (title required) and of a change to one (absent fields stay; "" clears
// owner, due and link).
type followUpRequest struct {
	Title *string `json:"title"`
	Owner *string `json:"owner"`
	Due   *string `json:"due"`
	Link  *string `json:"link"`
	Done  *bool   `json:"done"`
	Actor string  `json:"actor"`
}

func (req *followUpRequest) change() (incident.FollowUpChange, error) {
	c := incident.FollowUpChange{Title: req.Title, Owner: req.Owner, Link: req.Link, Done: req.Done}
	if req.Title != nil {
		t := strings.TrimSpace(*req.Title)
		if t == "" || !oneLine(t, maxTitleLen) {
			return c, alertgate.FieldErrorf("title", "must be 1 to %d bytes of one line of UTF-8", maxTitleLen)
		}
		c.Title = &t
	}
	if req.Owner != nil && !oneLine(*req.Owner, maxNameLen) {
		return c, alertgate.FieldErrorf("owner", "must be at most %d bytes of one line of UTF-8", maxNameLen)
	}
	if req.Link != nil {
		if err := checkLink("link", *req.Link); err != nil {
			return c, err
		}
	}
	if req.Due != nil {
		due, err := parseWorkTime("due", *req.Due)
		if err != nil {
			return c, err
		}
		c.Due = &due
	}
	return c, nil
}

func handleAddFollowUp(d Deps) http.Handler {
	return handleWork(d, func(r *http.Request, id string, body []byte) (*alertgate.Incident, int, error) {
		var req followUpRequest
		if err := decodeStrict(body, &req); err != nil {
			return nil, 0, err
		}
		if req.Title == nil {
			return nil, 0, alertgate.FieldErrorf("title", "required: what is to be done")
		}
		c, err := req.change()
		if err != nil {
			return nil, 0, err
		}
		b, err := workBy(r, req.Actor)
		if err != nil {
			return nil, 0, err
		}
		inc, _, err := d.Incidents.AddFollowUp(r.Context(), id, c, b)
		return inc, http.StatusCreated, err
	})
}

func handleUpdateFollowUp(d Deps) http.Handler {
	return handleWork(d, func(r *http.Request, id string, body []byte) (*alertgate.Incident, int, error) {
		var req followUpRequest
		if err := decodeStrict(body, &req); err != nil {
			return nil, 0, err
		}
		c, err := req.change()
		if err != nil {
			return nil, 0, err
		}
		if c == (incident.FollowUpChange{}) {
			return nil, 0, alertgate.FieldErrorf("body", "nothing to change: send title, owner, due, link or done")
		}
		b, err := workBy(r, req.Actor)
		if err != nil {
			return nil, 0, err
		}
		inc, err := d.Incidents.UpdateFollowUp(r.Context(), id, mux.Vars(r)["fu"], c, b)
		return inc, 0, err
	})
}

// handleWork reads the body and runs one change; the answer is the
// incident with the postmortem rule applied, 200 unless act says.
func handleWork(d Deps, act func(r *http.Request, id string, body []byte) (*alertgate.Incident, int, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r, 64<<10)
		if err != nil {
			writeError(w, err, 0)
			return
		}
		inc, status, err := act(r, mux.Vars(r)["id"], body)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		incident.ApplyPostmortemRule(inc, &requestSnapshot(r).Config.Postmortems, d.Now())
		if status == 0 {
			status = http.StatusOK
		}
		encode(w, status, inc)
	})
}

// workBy names who acts: by (handle_incidents.go) decides, so whatever
// names API callers names these too; this checks the body's actor and the
// Idempotency-Key first.
func workBy(r *http.Request, actor string) (incident.By, error) {
	if !oneLine(actor, maxActorLen) {
		return incident.By{}, alertgate.FieldErrorf("actor", "must be at most %d bytes of one line of UTF-8", maxActorLen)
	}
	if key := r.Header.Get("Idempotency-Key"); len(key) > maxIdempotencyKeyLen || !utf8.ValidString(key) || strings.ContainsFunc(key, unicode.IsControl) {
		return incident.By{}, alertgate.FieldErrorf("Idempotency-Key", "must be at most %d bytes of printable UTF-8", maxIdempotencyKeyLen)
	}
	return by(r, actionRequest{Actor: actor}), nil
}

// decodeStrict decodes one JSON object into v: unknown fields, trailing
// data and an empty body are errors naming the problem.
func decodeStrict(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return alertgate.FieldErrorf("body", "empty: send a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return alertgate.FieldErrorf("body", "not valid JSON for this endpoint: %v", err)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return alertgate.FieldErrorf("body", "trailing data after the JSON object")
	}
	return nil
}

// oneLine reports whether s is valid UTF-8 of at most n bytes with no
// control characters.
func oneLine(s string, n int) bool {
	return len(s) <= n && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// parseWorkTime reads an RFC 3339 time; "" is the zero time (none).
func parseWorkTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, alertgate.FieldErrorf(field, "%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", alertgate.Truncate(s, 64))
	}
	return t.UTC(), nil
}

// checkLink accepts "" (no link) or an absolute http(s) URL.
func checkLink(field, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || len(s) > maxLinkLen || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !oneLine(s, maxLinkLen) {
		return alertgate.FieldErrorf(field, "must be an absolute http:// or https:// URL of at most %d bytes", maxLinkLen)
	}
	return nil
}
