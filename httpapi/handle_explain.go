package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/explain"
)

// explainRequest is the body of POST /api/v1/explain. The payload is
// kept raw: a JSON object or array is the body as a sender would post it,
// a JSON string holds a body that is not JSON (or must stay byte-exact).
type explainRequest struct {
	Integration string          `json:"integration"`
	Payload     json.RawMessage `json:"payload"`
	At          string          `json:"at"`
}

// explainBodyLimit bounds the request: the payload may take up to the
// ingest limit, and as a JSON string its escaping may double it.
func explainBodyLimit(ingestLimit int64) int64 { return 2*ingestLimit + 4<<10 }

// handleExplain serves POST /api/v1/explain: what posting the payload to
// the integration would do, changing nothing (package explain).
func handleExplain(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := requestSnapshot(r)
		in, err := decodeExplain(w, r, snap.Config.Ingest.MaxBodyBytes, d)
		if err != nil {
			writeError(w, err, 0)
			return
		}
		deps := d.Explain
		deps.Snapshot, deps.Now = snap, d.Now
		rep, err := explain.Explain(r.Context(), in, deps)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		encode(w, http.StatusOK, rep)
	})
}

// decodeExplain reads and checks the request; errors name the field.
func decodeExplain(w http.ResponseWriter, r *http.Request, ingestLimit int64, d Deps) (explain.Input, error) {
	body, err := readBody(w, r, explainBodyLimit(ingestLimit))
	if err != nil {
		return explain.Input{}, err
	}
	var req explainRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return explain.Input{}, alertgate.FieldErrorf("body", "not a JSON object of integration, payload and at: %v", err)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return explain.Input{}, alertgate.FieldErrorf("body", "trailing data after the JSON object")
	}
	if req.Integration == "" {
		return explain.Input{}, alertgate.FieldErrorf("integration", "required: the integration that would receive the payload")
	}
	in := explain.Input{Integration: req.Integration}
	raw := bytes.TrimSpace(req.Payload)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return in, alertgate.FieldErrorf("payload", "required: the body the integration would receive, as a JSON object or array, or a string")
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return in, alertgate.FieldErrorf("payload", "not a JSON string: %v", err)
		}
		in.Payload = []byte(s)
	case raw[0] == '{' || raw[0] == '[':
		in.Payload = raw
	default:
		return in, alertgate.FieldErrorf("payload", "want a JSON object or array (the body), or a string holding the body")
	}
	if int64(len(in.Payload)) > ingestLimit {
		return in, alertgate.Errorf(alertgate.ETOOLARGE, "payload of %d bytes is over the ingest limit of %d bytes", len(in.Payload), ingestLimit)
	}
	if req.At != "" {
		at, err := parseTime("at", req.At)
		if err != nil {
			return in, err
		}
		in.At = at
	} else {
		in.At = d.Now()
	}
	return in, nil
}
