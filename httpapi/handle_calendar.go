package httpapi

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/calendar"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/schedule"
	"github.com/alertgate/alertgate/snapshot"
)

// A feed shows a month back (last week's shifts stay visible) and half
// a year ahead, and suggests clients come back hourly.
const (
	feedBack    = 30 * 24 * time.Hour
	feedAhead   = 180 * 24 * time.Hour
	feedRefresh = time.Hour
)

// handleRotationCalendar serves GET /api/v1/rotations/{id}/calendar.ics?token=T:
// the rotation's shifts as an iCal feed, written in the rotation's zone.
func handleRotationCalendar(d Deps) http.Handler {
	return handleFeed(d, oncall.FeedRotation, func(r *http.Request, snap *snapshot.Snapshot, id string, from, to time.Time) (calendar.Calendar, error) {
		rot, err := rotationOf(snap, id)
		if err != nil {
			return calendar.Calendar{}, err
		}
		overrides, err := d.Overrides.List(r.Context(), id, from, to)
		if err != nil {
			return calendar.Calendar{}, err
		}
		names := displayNames(snap.Config)
		cal := calendar.Calendar{Name: "On call: " + id, Location: rot.Location}
		for _, s := range wholeShifts(rot, from, to, overrides) {
			cal.Events = append(cal.Events, shiftEvent(snap, id, s, overrides, cmp.Or(names[s.User], s.User)))
		}
		return cal, nil
	})
}

// handleUserCalendar serves GET /api/v1/users/{id}/calendar.ics?token=T:
// the user's shifts in every rotation, written in the user's zone (UTC
// when the user has none).
func handleUserCalendar(d Deps) http.Handler {
	return handleFeed(d, oncall.FeedUser, func(r *http.Request, snap *snapshot.Snapshot, id string, from, to time.Time) (calendar.Calendar, error) {
		i := slices.IndexFunc(snap.Config.Users, func(u config.User) bool { return u.ID == id })
		if i < 0 {
			return calendar.Calendar{}, alertgate.Errorf(alertgate.ENOTFOUND, "no user %q", alertgate.Truncate(id, 64))
		}
		user := snap.Config.Users[i]
		cal := calendar.Calendar{Name: "On call: " + user.DisplayName(), Location: time.UTC}
		if user.TimeZone != "" {
			if loc, err := config.LoadZone(user.TimeZone); err == nil { // config.Validate checked it
				cal.Location = loc
			}
		}
		byRotation, err := d.Overrides.ByRotation(r.Context())
		if err != nil {
			return calendar.Calendar{}, err
		}
		for _, rot := range snap.RotationList() {
			for _, s := range wholeShifts(rot, from, to, byRotation[rot.ID]) {
				if s.User == id {
					cal.Events = append(cal.Events, shiftEvent(snap, rot.ID, s, byRotation[rot.ID], rot.ID))
				}
			}
		}
		slices.SortStableFunc(cal.Events, func(a, b calendar.Event) int { return a.Start.Compare(b.Start) })
		return cal, nil
	})
}

// handleFeed checks the feed token of kind for the path's id, then builds
// the feed's calendar over the feed window and writes it. Calendar apps
// cannot send headers, so a per-feed token in the URL (oncall.FeedToken)
// stands in for the bearer token.
func handleFeed(d Deps, kind oncall.FeedKind, build func(r *http.Request, snap *snapshot.Snapshot, id string, from, to time.Time) (calendar.Calendar, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := d.Snapshot() // once: the whole request uses this config
		r = withSnapshot(r, snap)
		if len(feedKey(snap)) == 0 {
			writeError(w, alertgate.Errorf(alertgate.ENOTFOUND, "calendar feeds are off; set api.feed_secret in the config to turn them on"), 0)
			return
		}
		id := mux.Vars(r)["id"]
		// The token first: without it, nobody learns which ids exist.
		if !oncall.FeedTokenOK(feedKey(snap), kind, id, r.URL.Query().Get("token")) {
			writeError(w, alertgate.Errorf(alertgate.EUNAUTHORIZED, "missing or wrong feed token; GET /api/v1/rotations gives each rotation's feed URL"), 0)
			return
		}
		now := d.Now()
		cal, err := build(r, snap, id, now.Add(-feedBack), now.Add(feedAhead))
		if err != nil {
			apiError(d, w, r, err)
			return
		}
		cal.Stamp = now
		cal.Refresh = feedRefresh
		var buf bytes.Buffer
		if err := calendar.Write(&buf, cal); err != nil {
			apiError(d, w, r, &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error", Err: fmt.Errorf("calendar %s %s: %w", kind, id, err)})
			return
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Header().Set("Content-Disposition", `inline; filename="`+string(kind)+"-"+id+`.ics"`)
		w.Header().Set("Cache-Control", "private, max-age=300")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	})
}

// wholeShifts is rot's shifts in [from, to), the first and the last not
// cut at the window's edges: the window moves with every fetch, and an
// event whose start (and so its UID) moved would be deleted and added
// again by calendar apps each time.
func wholeShifts(rot *schedule.Rotation, from, to time.Time, overrides []schedule.Override) []schedule.Span {
	spans := rot.Shifts(from, to, overrides)
	if len(spans) == 0 {
		return spans
	}
	if first := &spans[0]; first.Start.Equal(from) {
		if now, _, _ := rot.OnCall(from, overrides); now.User == first.User && now.Override == first.Override {
			first.Start = now.Start
		}
	}
	if last := &spans[len(spans)-1]; last.End.Equal(to) {
		if now, _, _ := rot.OnCall(to.Add(-time.Nanosecond), overrides); now.User == last.User && now.Override == last.Override {
			last.End = now.End
		}
	}
	return spans
}

// shiftEvent is one span of a rotation as a calendar event. Its UID is
// the rotation, the user and the start, so a shift keeps its UID from one
// fetch to the next and a client updates it in place.
func shiftEvent(snap *snapshot.Snapshot, rotation string, s schedule.Span, overrides []schedule.Override, summary string) calendar.Event {
	desc := "Rotation " + rotation + ", " + s.User + " on call."
	if s.Override != "" {
		desc += " Override " + s.Override
		if i := slices.IndexFunc(overrides, func(o schedule.Override) bool { return o.ID == s.Override }); i >= 0 {
			o := overrides[i]
			if o.Replaces != "" {
				desc += ", covering " + o.Replaces
			}
			if o.Comment != "" {
				desc += ": " + o.Comment
			}
		}
		desc += "."
	}
	return calendar.Event{
		UID:         fmt.Sprintf("%s/%s/%d@%s", rotation, s.User, s.Start.Unix(), uidHost(snap.Config.PublicURL)),
		Summary:     "On call: " + summary,
		Description: desc,
		Start:       s.Start,
		End:         s.End,
	}
}

// uidHost makes event UIDs unique in the world, as RFC 5545 asks: the
// public host when there is one.
func uidHost(public string) string {
	if u, err := url.Parse(public); err == nil && u.Host != "" {
		return strings.ToLower(u.Host)
	}
	return "alertgate"
}

// displayNames maps user ids to the names pages use.
func displayNames(cfg *config.Config) map[string]string {
	names := make(map[string]string, len(cfg.Users))
	for _, u := range cfg.Users {
		names[u.ID] = u.DisplayName()
	}
	return names
}

// feedKey is the key of the iCal feeds in snap's config (api.feed_secret),
// nil when they are off. Read with the request's snapshot, a reload that
// changes the secret applies to the next request.
func feedKey(snap *snapshot.Snapshot) []byte {
	if secret := snap.Config.API.FeedSecret.Reveal(); secret != "" {
		return []byte(secret)
	}
	return nil
}
