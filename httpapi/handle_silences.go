package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/silence"
)

// maxSilenceBody bounds the body of POST /api/v1/silences: MaxMatchers
// matchers of MaxMatcherLen bytes with room for escaping, and the rest.
const maxSilenceBody = 256 << 10

// silenceRequest is the body of POST /api/v1/silences. Times are strings
// so that a malformed one gets an error naming its field.
type silenceRequest struct {
	Matchers []string `json:"matchers"`
	// StartsAt is optional: now when absent (or in the past).
	StartsAt  string `json:"starts_at"`
	EndsAt    string `json:"ends_at"`
	Comment   string `json:"comment"`
	CreatedBy string `json:"created_by"`
}

type silencesResponse struct {
	Silences []silence.Silence `json:"silences"`
}

// silencesOff answers when the server has no silence store.
var silencesOff = alertgate.Errorf(alertgate.EUNAVAILABLE, "silences are not available on this server")

// handleCreateSilence serves POST /api/v1/silences: 201 with the silence,
// or 200 with the first one for a retry of the same Idempotency-Key.
func handleCreateSilence(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Silences == nil {
			apiError(d, w, r, silencesOff)
			return
		}
		sl, err := decodeSilence(w, r)
		if err != nil {
			writeError(w, err, 0)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		if len(key) > maxIdempotencyKeyLen || !utf8.ValidString(key) || strings.ContainsFunc(key, unicode.IsControl) {
			writeError(w, alertgate.FieldErrorf("Idempotency-Key", "must be at most %d bytes of printable UTF-8", maxIdempotencyKeyLen), 0)
			return
		}
		sl, created, err := d.Silences.Create(r.Context(), sl, key)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		w.Header().Set("Location", "/api/v1/silences/"+sl.ID)
		status := http.StatusCreated
		if !created {
			status = http.StatusOK // a retry of the same Idempotency-Key: the first request's silence
		}
		if created {
			d.Logger.Info("silence created", "silence", sl.ID, "matchers", sl.Matchers,
				"starts_at", sl.StartsAt, "ends_at", sl.EndsAt, "created_by", sl.CreatedBy)
		}
		encode(w, status, sl)
	})
}

// decodeSilence reads the body into a silence for the store to check;
// errors name the field at fault.
func decodeSilence(w http.ResponseWriter, r *http.Request) (silence.Silence, error) {
	var sl silence.Silence
	body, err := readBody(w, r, maxSilenceBody)
	if err != nil {
		return sl, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return sl, alertgate.FieldErrorf("body", `required: a JSON object such as {"matchers": ["alertname=\"DiskFull\""], "ends_at": "2026-03-04T18:00:00Z", "comment": "disk swap", "created_by": "alice"}`)
	}
	var req silenceRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			field, _, _ := strings.Cut(typeErr.Field, ".")
			return sl, alertgate.FieldErrorf(field, "must be %s, not a JSON %s", jsonKind(field), typeErr.Value)
		}
		return sl, alertgate.FieldErrorf("body", "not valid JSON for this endpoint: %v", err)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return sl, alertgate.FieldErrorf("body", "trailing data after the JSON object")
	}
	sl.Matchers, sl.Comment, sl.CreatedBy = req.Matchers, req.Comment, nameOf(r, req.CreatedBy)
	if req.StartsAt != "" {
		if sl.StartsAt, err = parseTime("starts_at", req.StartsAt); err != nil {
			return sl, err
		}
	}
	if req.EndsAt == "" {
		return sl, alertgate.FieldErrorf("ends_at", "required: when the silence ends, an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	if sl.EndsAt, err = parseTime("ends_at", req.EndsAt); err != nil {
		return sl, err
	}
	return sl, nil
}

// jsonKind says what a field of silenceRequest holds.
func jsonKind(field string) string {
	if field == "matchers" {
		return "a list of strings"
	}
	return "a string"
}

// handleListSilences serves GET /api/v1/silences?state=active|pending|expired.
func handleListSilences(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Silences == nil {
			apiError(d, w, r, silencesOff)
			return
		}
		list, err := d.Silences.List(r.Context(), silence.State(r.URL.Query().Get("state")))
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		encode(w, http.StatusOK, silencesResponse{Silences: list})
	})
}

// handleGetSilence serves GET /api/v1/silences/{id}.
func handleGetSilence(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Silences == nil {
			apiError(d, w, r, silencesOff)
			return
		}
		sl, err := d.Silences.Get(r.Context(), mux.Vars(r)["id"])
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		encode(w, http.StatusOK, sl)
	})
}

// handleExpireSilence serves DELETE /api/v1/silences/{id}: the silence
// ends now and is answered, expired (200); one that has ended already is
// answered as it is, so a retried DELETE succeeds too. 404 when there is
// no such silence (any more).
func handleExpireSilence(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Silences == nil {
			apiError(d, w, r, silencesOff)
			return
		}
		sl, err := d.Silences.Expire(r.Context(), mux.Vars(r)["id"])
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		d.Logger.Info("silence expired", "silence", sl.ID, "ends_at", sl.EndsAt)
		encode(w, http.StatusOK, sl)
	})
}
