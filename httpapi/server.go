// Package httpapi is alertgate's HTTP surface: ingest hooks, the PagerDuty
// Events API v2 endpoint, the JSON API, health and metrics.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/auth"
	"github.com/alertgate/alertgate/explain"
	"github.com/alertgate/alertgate/heartbeat"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/smsreply"
	"github.com/alertgate/alertgate/snapshot"
)

// Deps are what the server needs.
type Deps struct {
	Logger *slog.Logger
	// Snapshot returns the config that serves; a reload swaps what it
	// returns (an atomic.Pointer's Load). Every request calls it once, at
	// its start, and uses that snapshot to the end, passing down what it
	// needs, so a request never sees parts of two configs.
	Snapshot  func() *snapshot.Snapshot
	Incidents *incident.Service
	Metrics   *metrics.Metrics
	// Ready reports whether dependencies (Redis) answer.
	Ready func(context.Context) error
	// Now is the clock for signature checks and of the on-call API's
	// "now"; time.Now if nil.
	Now func() time.Time
	// Overrides stores the on-call overrides.
	Overrides *oncall.Store
	// Delivery reports the outbox and this replica's breakers; nil: the
	// delivery endpoints answer 503.
	Delivery Delivery
	// LinkState, when set, lets a link's confirmation page say up front
	// that the link was used or superseded (dedupe.Store.LinkState).
	LinkState func(ctx context.Context, incidentID, nonce string) (epoch int, used bool, err error)
	// SMSReplies stores SMS reply codes; nil: replies are off.
	SMSReplies *smsreply.Store
	// Silences stores the silences; nil: the silence endpoints answer 503.
	Silences *silence.Store
	// Heartbeats records the pings of heartbeat integrations; nil: pings
	// answer 503.
	Heartbeats *heartbeat.Checker
	// Explain is where POST /api/v1/explain reads (its Snapshot and Now
	// are the request's); zero: from the config alone.
	Explain explain.Deps
	// Sessions keeps the logins (access.go); nil: logins are off and
	// session cookies are ignored.
	Sessions *auth.Store
	// Console serves the web console's paths (console.New, console.Paths);
	// nil: no console.
	Console http.Handler
}

// NewServer returns the whole HTTP API as one handler.
func NewServer(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	r := mux.NewRouter()
	addRoutes(r, d)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, alertgate.Errorf(alertgate.ENOTFOUND, "no such endpoint"), 0)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, alertgate.Errorf(alertgate.EMETHOD, "method %s not allowed here", r.Method), 0)
	})
	return recoverPanics(d, r)
}

// recoverPanics turns a handler panic into a logged 500 instead of a
// dropped connection. It should never fire; when it does, it is our bug.
func recoverPanics(d Deps, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value
					panic(v)
				}
				d.Logger.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				d.Metrics.InternalError("panic")
				writeError(w, alertgate.Errorf(alertgate.EINTERNAL, "internal error"), 0)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
