package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/alertgate/alertgate"
)

// handleHealthz answers while the process can serve HTTP at all.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz answers 200 only when a config is loaded and Redis answers,
// so a load balancer stops sending alerts to a replica that cannot commit
// them.
func handleReadyz(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if snap := d.Snapshot(); snap == nil || snap.Config == nil {
			writeError(w, alertgate.Errorf(alertgate.EUNAVAILABLE, "no configuration loaded"), time.Second)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.Ready(ctx); err != nil {
			writeError(w, alertgate.Unavailable("redis unreachable", err), time.Second)
			return
		}
		encode(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
