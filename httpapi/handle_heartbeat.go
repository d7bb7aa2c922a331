package httpapi

import (
	"net/http"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/heartbeat"
	"github.com/alertgate/alertgate/snapshot"
)

// pingResponse is what a heartbeat's sender gets (docs/heartbeats.md).
type pingResponse struct {
	// Status is heartbeat.StatusOK, StatusResolved or StatusRecovering.
	Status string `json:"status"`
	// NextDeadline is when the next ping is due at the latest.
	NextDeadline time.Time `json:"next_deadline"`
}

// servePing answers a ping of heartbeat integration in: POST
// /hooks/{integration}, dispatched by handleIngest once the token is
// checked and the body read (and bounded). The body is ignored: any POST
// is a ping. 200 once the ping is recorded; 202 when it came after a miss
// and the miss's alert is still to be resolved (by another replica, or by
// the next check); 503 when Redis did not take the ping.
func servePing(d Deps, w http.ResponseWriter, r *http.Request, snap *snapshot.Snapshot, in config.Integration) {
	if d.Heartbeats == nil {
		reject(d, w, r, in.Name, alertgate.Errorf(alertgate.EUNAVAILABLE, "heartbeats are not running on this replica"), snap)
		return
	}
	res, err := d.Heartbeats.Ping(r.Context(), snap, in)
	if err != nil {
		reject(d, w, r, in.Name, err, snap)
		return
	}
	status := http.StatusOK
	if res.Status == heartbeat.StatusRecovering {
		status = http.StatusAccepted
	}
	encode(w, status, pingResponse{Status: res.Status, NextDeadline: res.NextDeadline})
}
