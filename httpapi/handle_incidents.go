package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/incident"
)

// requireAPIToken guards an /api/v1 route: a token or a login with the
// scope of the method (access.go).
func requireAPIToken(d Deps) func(http.Handler) http.Handler { return requireScope(d, "") }

type listResponse struct {
	Incidents  []alertgate.Incident `json:"incidents"`
	NextCursor string               `json:"next_cursor,omitempty"`
}

// handleListIncidents serves GET /api/v1/incidents?status=&service=&since=&until=&limit=&cursor=
func handleListIncidents(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := parseFilter(r)
		if err != nil {
			writeError(w, err, 0)
			return
		}
		page, err := d.Incidents.List(r.Context(), f)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		if page.Incidents == nil {
			page.Incidents = []alertgate.Incident{}
		}
		encode(w, http.StatusOK, listResponse{Incidents: page.Incidents, NextCursor: page.NextCursor})
	})
}

func parseFilter(r *http.Request) (alertgate.IncidentFilter, error) {
	q := r.URL.Query()
	f := alertgate.IncidentFilter{Service: q.Get("service"), Cursor: q.Get("cursor")}
	if s := q.Get("status"); s != "" {
		f.Status = alertgate.IncidentStatus(s)
		if !f.Status.Valid() {
			return f, alertgate.FieldErrorf("status", "%q is not one of triggered, acknowledged, resolved", alertgate.Truncate(s, 32))
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if s := q.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return f, alertgate.FieldErrorf(p.name, "%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", alertgate.Truncate(s, 64))
			}
			*p.dst = t
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > alertgate.MaxListLimit {
			return f, alertgate.FieldErrorf("limit", "must be a number from 1 to %d", alertgate.MaxListLimit)
		}
		f.Limit = n
	}
	return f, nil
}

// handleGetIncident serves GET /api/v1/incidents/{id}.
func handleGetIncident(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inc, err := d.Incidents.GetWork(r.Context(), mux.Vars(r)["id"], &requestSnapshot(r).Config.Postmortems)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		encode(w, http.StatusOK, inc)
	})
}

// actionRequest is the optional body of acknowledge and resolve, and the
// body of notes.
type actionRequest struct {
	// Actor names who acts, for the timeline; "api" when absent.
	Actor string `json:"actor"`
	// Text is the note (notes; optional on escalate and reassign).
	Text string `json:"text"`
	// User or Rotation is whom a reassign pages (reassign only).
	User     string `json:"user"`
	Rotation string `json:"rotation"`
}

const (
	maxActorLen = 128
	maxNoteLen  = 16 << 10
)

func handleAcknowledge(d Deps) http.Handler {
	return handleAction(d, func(r *http.Request, id string, req actionRequest) (*alertgate.Incident, error) {
		return d.Incidents.Acknowledge(r.Context(), id, by(r, req))
	})
}

func handleResolve(d Deps) http.Handler {
	return handleAction(d, func(r *http.Request, id string, req actionRequest) (*alertgate.Incident, error) {
		return d.Incidents.Resolve(r.Context(), id, by(r, req))
	})
}

func handleAddNote(d Deps) http.Handler {
	return handleAction(d, func(r *http.Request, id string, req actionRequest) (*alertgate.Incident, error) {
		if strings.TrimSpace(req.Text) == "" {
			return nil, alertgate.FieldErrorf("text", "a note needs text")
		}
		if len(req.Text) > maxNoteLen {
			return nil, alertgate.FieldErrorf("text", "longer than %d bytes", maxNoteLen)
		}
		return d.Incidents.AddNote(r.Context(), id, by(r, req), req.Text)
	})
}

// maxIdempotencyKeyLen bounds the Idempotency-Key header, which Redis
// keeps for a while.
const maxIdempotencyKeyLen = 128

// by names who acts and the request: a client that retries an action with
// the same Idempotency-Key header gets it done once.
func by(r *http.Request, req actionRequest) incident.By {
	// The caller, not the body, names who acts (actorOf).
	return incident.By{Actor: actorOf(r, req.Actor), RequestID: r.Header.Get("Idempotency-Key")}
}

// handleAction decodes the optional JSON body and runs one incident action.
func handleAction(d Deps, act func(*http.Request, string, actionRequest) (*alertgate.Incident, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req actionRequest
		if err := decodeOptional(w, r, &req); err != nil {
			writeError(w, err, 0)
			return
		}
		if len(req.Actor) > maxActorLen || !utf8.ValidString(req.Actor) || strings.ContainsAny(req.Actor, "\r\n") {
			writeError(w, alertgate.FieldErrorf("actor", "must be at most %d bytes of one line of UTF-8", maxActorLen), 0)
			return
		}
		// The scripts' request memory separates ids with control characters.
		if key := r.Header.Get("Idempotency-Key"); len(key) > maxIdempotencyKeyLen || !utf8.ValidString(key) || strings.ContainsFunc(key, unicode.IsControl) {
			writeError(w, alertgate.FieldErrorf("Idempotency-Key", "must be at most %d bytes of printable UTF-8", maxIdempotencyKeyLen), 0)
			return
		}
		inc, err := act(r, mux.Vars(r)["id"], req)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		encode(w, http.StatusOK, inc)
	})
}

// decodeOptional decodes a JSON body into v; an empty body leaves v alone.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r, 64<<10)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
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

// apiError answers an API error, logging what is not the client's fault.
func apiError(d Deps, w http.ResponseWriter, r *http.Request, err error) {
	status := writeError(w, err, requestSnapshot(r).Config.Ingest.RetryAfter)
	if status >= 500 {
		d.Logger.Log(r.Context(), logLevel(status), "api request failed", "path", r.URL.Path, "status", status, "err", err.Error())
	}
	countInternal(d, "api", status)
}
