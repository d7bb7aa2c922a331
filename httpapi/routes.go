package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/console"
)

// addRoutes is the whole HTTP surface on one screen.
func addRoutes(r *mux.Router, d Deps) {
	r.Handle("/healthz", handleHealthz()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", handleReadyz(d)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{})).Methods(http.MethodGet)

	r.Handle("/hooks/{integration}", handleIngest(d)).Methods(http.MethodPost)
	r.Handle("/v2/enqueue", handlePagerDuty(d)).Methods(http.MethodPost)

	// The links in pages (docs/links.md): GET and HEAD only show, POST acts.
	r.Handle("/a/{token}", handleLinkPage(d)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/a/{token}", handleLinkAction(d)).Methods(http.MethodPost)
	r.Handle("/twilio/{notifier}/sms", handleTwilioSMS(d)).Methods(http.MethodPost)

	// People log in (docs/access.md); POSTs need their form's token.
	r.Handle("/login", handleLoginPage(d)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/login", handleLogin(d)).Methods(http.MethodPost)
	r.Handle("/logout", handleLogout(d)).Methods(http.MethodPost)

	// The API routes sit on the root router, each wrapped in the token
	// check: with a gorilla/mux subrouter a wrong method would answer 404
	// instead of 405 (gorilla/mux#751).
	// api takes the scope from the method (GET read, POST and DELETE
	// write); read and write say it where the method does not.
	api := requireAPIToken(d)
	read := requireScope(d, config.ScopeRead)
	r.Handle("/api/v1/incidents", api(handleListIncidents(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/incidents/{id}", api(handleGetIncident(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/incidents/{id}/acknowledge", api(handleAcknowledge(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/resolve", api(handleResolve(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/notes", api(handleAddNote(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/escalate", api(handleEscalate(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/reassign", api(handleReassign(d))).Methods(http.MethodPost)
	// People's work on incidents (handle_work.go, docs/incidents-work.md).
	r.Handle("/api/v1/incidents", api(handleDeclare(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/roles", api(handleAssignRole(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/status_updates", api(handleStatusUpdate(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/impact", api(handleSetImpact(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/postmortem", api(handleSetPostmortem(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/postmortem.md", api(handlePostmortemMarkdown(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/incidents/{id}/follow_ups", api(handleAddFollowUp(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/incidents/{id}/follow_ups/{fu}", api(handleUpdateFollowUp(d))).Methods(http.MethodPatch, http.MethodPost)

	r.Handle("/api/v1/outbox", api(handleOutbox(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/notifiers", api(handleNotifiers(d))).Methods(http.MethodGet)

	r.Handle("/api/v1/oncall", api(handleOnCall(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/rotations", api(handleRotations(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/rotations/{id}/shifts", api(handleShifts(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/overrides", api(handleListOverrides(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/overrides", api(handleCreateOverride(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/overrides/{id}", api(handleGetOverride(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/overrides/{id}", api(handleDeleteOverride(d))).Methods(http.MethodDelete)
	r.Handle("/api/v1/silences", api(handleListSilences(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/silences", api(handleCreateSilence(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/silences/{id}", api(handleGetSilence(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/silences/{id}", api(handleExpireSilence(d))).Methods(http.MethodDelete)
	r.Handle("/api/v1/explain", read(handleExplain(d))).Methods(http.MethodPost)
	r.Handle("/api/v1/reports", api(handleReports(d))).Methods(http.MethodGet)
	r.Handle("/api/v1/export", api(handleExport(d))).Methods(http.MethodGet)
	// Calendar apps cannot send a bearer token: each feed has its own in
	// the URL (oncall.FeedToken), checked by the handler.
	r.Handle("/api/v1/rotations/{id}/calendar.ics", handleRotationCalendar(d)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/v1/users/{id}/calendar.ics", handleUserCalendar(d)).Methods(http.MethodGet, http.MethodHead)

	// The web console for people (docs/console.md): it checks the login
	// and the forms' CSRF tokens itself, and sends nobody to /login.
	if d.Console != nil {
		r.Handle("/", d.Console)
		for _, p := range console.Paths {
			r.PathPrefix(p).Handler(d.Console)
		}
	}
}
