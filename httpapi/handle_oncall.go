package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/schedule"
	"github.com/alertgate/alertgate/snapshot"
)

const (
	// defaultShiftsWindow is what GET …/shifts shows without "to".
	defaultShiftsWindow = 14 * 24 * time.Hour
	// maxShiftsWindow bounds one GET …/shifts: a year and a month of
	// hourly shifts is some 10,000 spans.
	maxShiftsWindow = 400 * 24 * time.Hour
)

// Times the API takes lie between these: JSON cannot encode a year past
// 9999, and the schedule looks up to a year beyond a time it is asked
// about.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9998, 1, 1, 0, 0, 0, 0, time.UTC)
)

// handleOnCall serves GET /api/v1/oncall?at=TIME: who is on call in every
// rotation at TIME (default now), overrides included.
func handleOnCall(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := requestSnapshot(r)
		at, err := timeParam(r, "at", d.Now())
		if err != nil {
			writeError(w, err, 0)
			return
		}
		overrides, err := d.Overrides.ByRotation(r.Context())
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		encode(w, http.StatusOK, schedule.Now(snap.RotationList(), at, overrides))
	})
}

// handleShifts serves GET /api/v1/rotations/{id}/shifts?from=&to=.
func handleShifts(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rot, err := rotationOf(requestSnapshot(r), mux.Vars(r)["id"])
		if err != nil {
			writeError(w, err, 0)
			return
		}
		from, to, err := rangeParams(r, d.Now(), defaultShiftsWindow)
		if err != nil {
			writeError(w, err, 0)
			return
		}
		overrides, err := d.Overrides.List(r.Context(), rot.ID, from, to)
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		encode(w, http.StatusOK, schedule.List(rot, from, to, overrides))
	})
}

// rotationOf is the rotation called id, or a 404 naming it.
func rotationOf(snap *snapshot.Snapshot, id string) (*schedule.Rotation, error) {
	rot, ok := snap.Rotations[id]
	if !ok {
		return nil, alertgate.Errorf(alertgate.ENOTFOUND, "no rotation %q", alertgate.Truncate(id, 64))
	}
	return rot, nil
}

// timeParam reads the RFC 3339 time in query parameter name, or dflt
// when it is absent.
func timeParam(r *http.Request, name string, dflt time.Time) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return dflt, nil
	}
	return parseTime(name, s)
}

// parseTime reads an RFC 3339 time given as field.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, alertgate.FieldErrorf(field, "%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", alertgate.Truncate(s, 64))
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return t, alertgate.FieldErrorf(field, "%s is not between %s and %s", s, minTime.Format(time.RFC3339), maxTime.Format(time.RFC3339))
	}
	return t, nil
}

// rangeParams reads from (default now) and to (default from + window),
// refusing an empty range and one longer than maxShiftsWindow.
func rangeParams(r *http.Request, now time.Time, window time.Duration) (from, to time.Time, err error) {
	if from, err = timeParam(r, "from", now); err != nil {
		return from, to, err
	}
	if to, err = timeParam(r, "to", from.Add(window)); err != nil {
		return from, to, err
	}
	if !to.After(from) {
		return from, to, alertgate.FieldErrorf("to", "must be after from (%s)", from.Format(time.RFC3339))
	}
	if to.Sub(from) > maxShiftsWindow {
		return from, to, alertgate.FieldErrorf("to", "the range is longer than %d days; ask for less at a time", int(maxShiftsWindow/(24*time.Hour)))
	}
	return from, to, nil
}

type rotationsResponse struct {
	Rotations []rotationInfo `json:"rotations"`
}

// rotationInfo describes one rotation as the config has it.
type rotationInfo struct {
	ID       string      `json:"id"`
	Team     string      `json:"team,omitempty"`
	TimeZone string      `json:"time_zone"`
	Layers   []layerInfo `json:"layers"`
	// CalendarURL is the rotation's iCal feed, its token included; absent
	// when feeds are off (no api.feed_secret).
	CalendarURL string `json:"calendar_url,omitempty"`
}

type layerInfo struct {
	Name         string       `json:"name,omitempty"`
	Participants []string     `json:"participants"`
	Start        string       `json:"start"`
	Shift        string       `json:"shift"`
	Restrictions []windowInfo `json:"restrictions,omitempty"`
}

type windowInfo struct {
	Days []string `json:"days"`
	From string   `json:"from"`
	To   string   `json:"to"`
}

// handleRotations serves GET /api/v1/rotations: every rotation in the
// config's order, with its feed URL when feeds are on.
func handleRotations(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := requestSnapshot(r)
		cfg := snap.Config
		out := rotationsResponse{Rotations: make([]rotationInfo, 0, len(cfg.Rotations))}
		for _, rot := range cfg.Rotations {
			info := rotationInfo{ID: rot.ID, Team: rot.Team, TimeZone: rot.TimeZone, Layers: make([]layerInfo, 0, len(rot.Layers))}
			for _, l := range rot.Layers {
				li := layerInfo{Name: l.Name, Participants: l.Participants, Start: l.Start, Shift: l.Shift}
				for _, w := range l.Restrictions {
					li.Restrictions = append(li.Restrictions, windowInfo{Days: w.Days, From: w.From, To: w.To})
				}
				info.Layers = append(info.Layers, li)
			}
			if len(feedKey(snap)) > 0 {
				info.CalendarURL = publicURL(cfg.PublicURL, oncall.FeedPath(feedKey(snap), oncall.FeedRotation, rot.ID))
			}
			out.Rotations = append(out.Rotations, info)
		}
		encode(w, http.StatusOK, out)
	})
}

// publicURL puts path under the configured public URL; without one the
// path alone, for the client to resolve against the URL it called.
func publicURL(base, path string) string {
	if base == "" {
		return path
	}
	u, err := url.Parse(base)
	if err != nil { // config.Validate checked it
		return path
	}
	return strings.TrimSuffix(u.String(), "/") + path
}
