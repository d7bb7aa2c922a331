package httpapi

import (
	"context"
	"net/http"

	"github.com/alertgate/alertgate/snapshot"
)

type snapshotKey struct{}

// withSnapshot hands the request's snapshot down to the handlers behind a
// middleware that loaded it, so that the request loads it only once.
func withSnapshot(r *http.Request, snap *snapshot.Snapshot) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), snapshotKey{}, snap))
}

// requestSnapshot is the snapshot withSnapshot handed down.
func requestSnapshot(r *http.Request) *snapshot.Snapshot {
	snap, _ := r.Context().Value(snapshotKey{}).(*snapshot.Snapshot)
	if snap == nil {
		// Every API route is behind requireAPIToken, which sets it.
		panic("httpapi: request without its snapshot")
	}
	return snap
}
