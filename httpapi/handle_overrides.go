package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/schedule"
	"github.com/alertgate/alertgate/snapshot"
)

const (
	// maxOverrideLen bounds one override: longer cover is a change of
	// the rotation, which belongs in the config.
	maxOverrideLen = 366 * 24 * time.Hour
	// maxCommentLen bounds an override's comment.
	maxCommentLen = 1024
)

// overrideRequest is the body of POST /api/v1/overrides. Times are
// strings so that a malformed one gets an error naming its field.
type overrideRequest struct {
	Rotation string `json:"rotation"`
	User     string `json:"user"`
	// Replaces, optional, is the user covered; empty covers the whole
	// rotation.
	Replaces string `json:"replaces"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Comment  string `json:"comment"`
	// Actor names who creates it, as for incident actions; "api" when absent.
	Actor string `json:"actor"`
}

// handleCreateOverride serves POST /api/v1/overrides.
func handleCreateOverride(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req overrideRequest
		if err := decodeOptional(w, r, &req); err != nil {
			writeError(w, err, 0)
			return
		}
		now := d.Now()
		o, err := req.override(requestSnapshot(r), now)
		if err != nil {
			writeError(w, err, 0)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		if len(key) > maxIdempotencyKeyLen || !utf8.ValidString(key) || strings.ContainsFunc(key, unicode.IsControl) {
			writeError(w, alertgate.FieldErrorf("Idempotency-Key", "must be at most %d bytes of printable UTF-8", maxIdempotencyKeyLen), 0)
			return
		}
		o.CreatedBy = by(r, actionRequest{Actor: req.Actor}).Actor
		o.CreatedAt = now
		o, created, err := d.Overrides.CreateOnce(r.Context(), o, key)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		w.Header().Set("Location", "/api/v1/overrides/"+o.ID)
		status := http.StatusCreated
		if !created {
			status = http.StatusOK // a retry of the same Idempotency-Key: the first request's override
		}
		encode(w, status, o)
	})
}

// override checks the request against the config of snap and the time now.
func (req *overrideRequest) override(snap *snapshot.Snapshot, now time.Time) (schedule.Override, error) {
	var o schedule.Override
	if req.Rotation == "" {
		return o, alertgate.FieldErrorf("rotation", "required")
	}
	rot, ok := snap.Rotations[req.Rotation]
	if !ok {
		return o, notFoundField("rotation", "rotation", req.Rotation)
	}
	if req.User == "" {
		return o, alertgate.FieldErrorf("user", "required: who goes on call")
	}
	if !hasUser(snap.Config, req.User) {
		return o, notFoundField("user", "user", req.User)
	}
	if req.Replaces != "" {
		switch {
		case !hasUser(snap.Config, req.Replaces):
			return o, notFoundField("replaces", "user", req.Replaces)
		case !participates(rot, req.Replaces):
			return o, alertgate.FieldErrorf("replaces", "%q is in no layer of rotation %q; leave replaces out to cover the whole rotation", req.Replaces, rot.ID)
		case req.Replaces == req.User:
			return o, alertgate.FieldErrorf("replaces", "is the user themselves")
		}
	}
	if req.Start == "" {
		return o, alertgate.FieldErrorf("start", "required")
	}
	start, err := parseTime("start", req.Start)
	if err != nil {
		return o, err
	}
	if req.End == "" {
		return o, alertgate.FieldErrorf("end", "required")
	}
	end, err := parseTime("end", req.End)
	if err != nil {
		return o, err
	}
	switch {
	case !end.After(start):
		return o, alertgate.FieldErrorf("end", "must be after start")
	case !end.After(now):
		return o, alertgate.FieldErrorf("end", "is in the past (now is %s)", now.UTC().Format(time.RFC3339))
	case end.Sub(start) > maxOverrideLen:
		return o, alertgate.FieldErrorf("end", "an override lasts at most %d days; change the rotation for longer", int(maxOverrideLen/(24*time.Hour)))
	}
	if len(req.Comment) > maxCommentLen || strings.ContainsFunc(req.Comment, func(c rune) bool { return unicode.IsControl(c) && c != '\n' && c != '\t' }) {
		return o, alertgate.FieldErrorf("comment", "must be at most %d bytes of text", maxCommentLen)
	}
	if len(req.Actor) > maxActorLen || !utf8.ValidString(req.Actor) || strings.ContainsAny(req.Actor, "\r\n") {
		return o, alertgate.FieldErrorf("actor", "must be at most %d bytes of one line of UTF-8", maxActorLen)
	}
	return schedule.Override{
		Rotation: rot.ID,
		User:     req.User,
		Replaces: req.Replaces,
		Start:    start,
		End:      end,
		Comment:  req.Comment,
	}, nil
}

// notFoundField is a 404 about the thing (a rotation, a user) that field
// of the body names.
func notFoundField(field, thing, id string) error {
	return &alertgate.Error{Code: alertgate.ENOTFOUND, Field: field,
		Message: fmt.Sprintf("%s: no %s %q", field, thing, alertgate.Truncate(id, 64))}
}

func hasUser(cfg *config.Config, id string) bool {
	return slices.ContainsFunc(cfg.Users, func(u config.User) bool { return u.ID == id })
}

func participates(rot *schedule.Rotation, user string) bool {
	return slices.ContainsFunc(rot.Layers, func(l schedule.Layer) bool { return slices.Contains(l.Participants, user) })
}

type overridesResponse struct {
	Overrides []schedule.Override `json:"overrides"`
}

// handleListOverrides serves GET /api/v1/overrides?rotation=&from=&to=:
// the overrides that overlap [from, to); from defaults to now, and without
// "to" everything after from.
func handleListOverrides(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rotation := r.URL.Query().Get("rotation")
		if rotation != "" {
			if _, err := rotationOf(requestSnapshot(r), rotation); err != nil {
				writeError(w, err, 0)
				return
			}
		}
		from, err := timeParam(r, "from", d.Now())
		if err != nil {
			writeError(w, err, 0)
			return
		}
		to, err := timeParam(r, "to", time.Time{})
		if err != nil {
			writeError(w, err, 0)
			return
		}
		if !to.IsZero() && !to.After(from) {
			writeError(w, alertgate.FieldErrorf("to", "must be after from (%s)", from.Format(time.RFC3339)), 0)
			return
		}
		list, err := d.Overrides.List(r.Context(), rotation, from, to)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		encode(w, http.StatusOK, overridesResponse{Overrides: list})
	})
}

// handleGetOverride serves GET /api/v1/overrides/{id}.
func handleGetOverride(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := d.Overrides.Get(r.Context(), mux.Vars(r)["id"])
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		encode(w, http.StatusOK, o)
	})
}

// handleDeleteOverride serves DELETE /api/v1/overrides/{id}: 204, or 404
// when there is no such override (any more).
func handleDeleteOverride(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := d.Overrides.Delete(r.Context(), mux.Vars(r)["id"]); err != nil {
			apiError(d, w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
