package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// addRoutes is the whole HTTP surface on one screen.
func addRoutes(r *mux.Router, d Deps) {
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", handleReadyz(d)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{})).Methods(http.MethodGet)

	r.Handle("/hooks/{integration}", handleIngest(d)).Methods(http.MethodPost)
	r.Handle("/v2/enqueue", handlePagerDuty(d)).Methods(http.MethodPost)

	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(requireAPIToken(d))
	api.Handle("/incidents", handleListIncidents(d)).Methods(http.MethodGet)
	api.Handle("/incidents/{id}", handleGetIncident(d)).Methods(http.MethodGet)
	api.Handle("/incidents/{id}/acknowledge", handleAcknowledge(d)).Methods(http.MethodPost)
	api.Handle("/incidents/{id}/resolve", handleResolve(d)).Methods(http.MethodPost)
	api.Handle("/incidents/{id}/notes", handleAddNote(d)).Methods(http.MethodPost)
}
