package httpapi

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/actionlink"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/snapshot"
)

// The pages of the links in pages (docs/links.md): GET and HEAD
// /a/{token} show what the link would do and change nothing, whoever
// asks; POST /a/{token} acts. Mail scanners, chat unfurlers and link
// previews fetch (and sometimes render, scripts and all) every URL in a
// message, so nothing but a POST may act, and a POST acts only when
//   - the browser does not say it is cross-site (http.CrossOriginProtection:
//     Sec-Fetch-Site, else Origin against Host and public_url), and
//   - it carries the confirmation page's hidden field, an HMAC of the token
//     under a key derived from the signing key (actionlink.FormToken), so
//     a robot that POSTs the URL without loading the page cannot act.
// The pages load nothing from elsewhere, run no script, and forbid both
// in their Content-Security-Policy.

var (
	//go:embed templates
	templateFiles embed.FS
	linkTemplates = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

	// linkCSS is inlined into every page; its hash is the only style the
	// pages' policy allows.
	linkCSS = template.CSS(strings.TrimSpace(mustRead("templates/link.css")))
	linkCSP = "default-src 'none'; style-src 'sha256-" + cssHash(string(linkCSS)) + "'; img-src 'none'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

func mustRead(name string) string {
	b, err := templateFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func cssHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// maxLinkForm bounds a link POST's body: one hidden field.
const maxLinkForm = 4 << 10

// linkPage is what the template shows.
type linkPage struct {
	status   int
	Heading  string
	Lead     string
	Hint     string
	Problem  bool
	Done     bool
	Incident *incidentView
	Forms    []linkForm
	Person   string
	Expires  string
	CSS      template.CSS
}

type incidentView struct {
	ID, Title, Service, Status, Since, Escalation string
	Severity                                      alertgate.Severity
	AlertCount, Firing                            int
}

type linkForm struct {
	Action, Confirm, Label, Class string
}

func viewOf(inc *alertgate.Incident) *incidentView {
	if inc == nil {
		return nil
	}
	v := &incidentView{
		ID: inc.ID, Title: inc.Title, Service: inc.Service, Status: string(inc.Status), Severity: inc.Severity,
		AlertCount: inc.AlertCount, Firing: inc.Firing, Since: inc.TriggeredAt.UTC().Format("2 Jan 2006 15:04 MST"),
	}
	switch e := inc.Escalation; {
	case e == nil:
	case e.NextStep > 0:
		v.Escalation = "step " + strconv.Itoa(e.NextStep) + " due " + e.NextAt.UTC().Format("15:04:05 MST")
	default:
		v.Escalation = "stopped"
	}
	return v
}

// writeLinkPage renders p with the pages' headers; HEAD gets them without
// the body (net/http drops it).
func writeLinkPage(w http.ResponseWriter, p linkPage) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", linkCSP)
	if p.status == 0 {
		p.status = http.StatusOK
	}
	p.CSS = linkCSS
	w.WriteHeader(p.status)
	_ = linkTemplates.ExecuteTemplate(w, "link", p)
}

func problemPage(status int, heading, lead, hint string) linkPage {
	return linkPage{status: status, Heading: heading, Lead: lead, Hint: hint, Problem: true}
}

// verifyLink checks the request's token; ok is false when a page was
// written instead.
func verifyLink(w http.ResponseWriter, r *http.Request, snap *snapshot.Snapshot) (token string, c actionlink.Claims, ok bool) {
	if snap.Links == nil {
		writeLinkPage(w, problemPage(http.StatusNotFound, "Links are off",
			"This alertgate does not sign links (no links.keys or no public_url in its config).", ""))
		return "", c, false
	}
	token = mux.Vars(r)["token"]
	c, err := snap.Links.Verify(token)
	switch {
	case err == nil:
		return token, c, true
	case errors.Is(err, actionlink.ErrExpired):
		writeLinkPage(w, problemPage(http.StatusGone, "This link has expired",
			"Links in pages work for "+snap.Links.TTL().String()+". This one ran out at "+c.Expires.UTC().Format("2 Jan 2006 15:04 MST")+".",
			"Open the incident from a newer page or the API."))
	case errors.Is(err, actionlink.ErrUnknownKey):
		writeLinkPage(w, problemPage(http.StatusBadRequest, "This link is no longer valid",
			"It was signed with a key this alertgate no longer has (keys rotate).", "Use a link from a newer page."))
	case errors.Is(err, actionlink.ErrBadSignature):
		writeLinkPage(w, problemPage(http.StatusBadRequest, "This link is not genuine",
			"Its signature does not match: it was changed, or cut short by a mail or chat program.", "Copy the whole link from the page again."))
	default:
		writeLinkPage(w, problemPage(http.StatusBadRequest, "This is not a valid link",
			"The address is malformed, perhaps cut short by a mail or chat program.", "Copy the whole link from the page again."))
	}
	return "", c, false
}

// linkFailure renders the page of an error from Redis or the service.
func linkFailure(d Deps, w http.ResponseWriter, r *http.Request, err error, c actionlink.Claims, inc *alertgate.Incident) {
	switch code := alertgate.ErrorCode(err); {
	case code == alertgate.ENOTFOUND:
		writeLinkPage(w, problemPage(http.StatusNotFound, "Incident not found",
			"Incident #"+alertgate.Truncate(c.Incident, 64)+" is gone (incidents expire after a while).", ""))
	case errors.Is(err, dedupe.ErrUsed):
		p := problemPage(http.StatusConflict, "This link has been used already", "Each link works once.", "")
		p.Incident = viewOf(inc)
		writeLinkPage(w, p)
	case errors.Is(err, dedupe.ErrSuperseded):
		p := problemPage(http.StatusConflict, "This link is out of date",
			"The incident fired again after this page was sent; the newer pages carry their own links.", "")
		p.Incident = viewOf(inc)
		writeLinkPage(w, p)
	case code == alertgate.ECONFLICT:
		p := problemPage(http.StatusConflict, "Nothing to do", alertgate.ErrorMessage(err)+".", "")
		p.Incident = viewOf(inc)
		writeLinkPage(w, p)
	default:
		status := HTTPStatus(err)
		if status < 500 {
			status = http.StatusServiceUnavailable
		}
		d.Logger.Log(r.Context(), logLevel(status), "link request failed", "incident_id", c.Incident, "status", status, "err", err.Error())
		countInternal(d, "links", status)
		w.Header().Set("Retry-After", "5")
		writeLinkPage(w, problemPage(status, "Try again in a moment",
			"alertgate cannot reach its store right now. Nothing was changed.", ""))
	}
}

// handleLinkPage serves GET and HEAD /a/{token}: the confirmation page of
// an acknowledge or resolve link, the incident's page for an open link.
// It reads and never writes.
func handleLinkPage(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := d.Snapshot()
		token, c, ok := verifyLink(w, r, snap)
		if !ok {
			return
		}
		inc, err := d.Incidents.Get(r.Context(), c.Incident)
		if err != nil {
			linkFailure(d, w, r, err, c, nil)
			return
		}
		epoch, used := 0, false
		if d.LinkState != nil {
			nonce := c.Nonce
			if c.Action == actionlink.Open {
				nonce = "" // open links are never used up
			}
			if epoch, used, err = d.LinkState(r.Context(), c.Incident, nonce); err != nil {
				linkFailure(d, w, r, err, c, inc)
				return
			}
		}
		superseded := c.Epoch > 0 && d.LinkState != nil && epoch != c.Epoch
		if c.Action == actionlink.Open {
			writeLinkPage(w, openPage(snap, c, inc, superseded))
			return
		}
		switch {
		case used:
			linkFailure(d, w, r, dedupe.ErrUsed, c, inc)
			return
		case superseded:
			linkFailure(d, w, r, dedupe.ErrSuperseded, c, inc)
			return
		case !actionable(c.Action, inc.Status):
			linkFailure(d, w, r, alertgate.Errorf(alertgate.ECONFLICT, "incident %s is %s already", inc.ID, inc.Status), c, inc)
			return
		}
		verb := "Acknowledge"
		lead := "Acknowledging tells everyone you are on it and stops the incident's escalation: nobody else is paged."
		class := "acknowledge"
		if c.Action == actionlink.Resolve {
			verb, class = "Resolve", "resolve"
			lead = "Resolving closes the incident and stops its escalation. It opens again if its alerts fire again."
		}
		writeLinkPage(w, linkPage{
			Heading:  verb + " incident #" + inc.ID + "?",
			Lead:     lead,
			Incident: viewOf(inc),
			Forms:    []linkForm{{Action: token, Confirm: snap.Links.FormToken(token), Label: verb + " as " + c.User, Class: class}},
			Person:   c.User,
			Expires:  c.Expires.UTC().Format("2 Jan 15:04 MST"),
		})
	})
}

// openPage shows the incident, with buttons to acknowledge and resolve it
// under fresh tokens for the same person and epoch (what the console of a
// later issue replaces).
func openPage(snap *snapshot.Snapshot, c actionlink.Claims, inc *alertgate.Incident, superseded bool) linkPage {
	p := linkPage{Heading: "Incident #" + inc.ID, Incident: viewOf(inc), Person: c.User}
	if superseded {
		p.Lead = "This page is from an earlier escalation of the incident: use the links of the newest page to act."
		return p
	}
	for _, a := range []actionlink.Action{actionlink.Acknowledge, actionlink.Resolve} {
		if !actionable(a, inc.Status) {
			continue
		}
		tok, err := snap.Links.Sign(actionlink.Claims{Incident: c.Incident, Action: a, User: c.User, Epoch: c.Epoch, Step: c.Step})
		if err != nil {
			continue // the claims came from a valid token: cannot happen
		}
		label, class := "Acknowledge as "+c.User, "acknowledge"
		if a == actionlink.Resolve {
			label, class = "Resolve as "+c.User, "resolve"
		}
		p.Forms = append(p.Forms, linkForm{Action: tok, Confirm: snap.Links.FormToken(tok), Label: label, Class: class})
	}
	return p
}

// actionable reports whether a link's action applies to an incident in
// status s (what transition.lua's conditional change enforces).
func actionable(a actionlink.Action, s alertgate.IncidentStatus) bool {
	switch a {
	case actionlink.Acknowledge:
		return s == alertgate.Triggered
	case actionlink.Resolve:
		return s != alertgate.IncidentResolved
	}
	return false
}

// handleLinkAction serves POST /a/{token}: the confirmation page's button.
func handleLinkAction(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := d.Snapshot()
		token, c, ok := verifyLink(w, r, snap)
		if !ok {
			return
		}
		if err := crossOrigin(snap).Check(r); err != nil {
			writeLinkPage(w, problemPage(http.StatusForbidden, "Refused: cross-site request",
				"This button works only from alertgate's own confirmation page.", "Open the link itself and press the button there."))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxLinkForm)
		if err := r.ParseForm(); err != nil || !snap.Links.CheckFormToken(token, r.PostForm.Get("confirm")) {
			writeLinkPage(w, problemPage(http.StatusForbidden, "Please confirm on the page",
				"Links act only when you press the button on their confirmation page.", "Open the link and press the button there."))
			return
		}
		var action dedupe.Action
		switch c.Action {
		case actionlink.Acknowledge:
			action = dedupe.Acknowledge
		case actionlink.Resolve:
			action = dedupe.Resolve
		default:
			writeLinkPage(w, problemPage(http.StatusMethodNotAllowed, "Nothing to do",
				"This link only shows the incident.", ""))
			return
		}
		by := incident.By{Actor: c.User + " via link"}
		// The nonce's mark outlives the token by a margin, so a token is
		// refused as expired before its mark goes.
		only := dedupe.Condition{Epoch: c.Epoch, Nonce: c.Nonce, NonceTTL: c.Expires.Sub(snap.Links.Now()) + time.Minute}
		inc, err := d.Incidents.Act(r.Context(), c.Incident, action, by, string(action)+"d by "+by.Actor, only)
		if err != nil {
			cur, _ := d.Incidents.Get(r.Context(), c.Incident)
			linkFailure(d, w, r, err, c, cur)
			return
		}
		heading := "Acknowledged"
		if action == dedupe.Resolve {
			heading = "Resolved"
		}
		writeLinkPage(w, linkPage{
			Heading:  heading + ": incident #" + inc.ID,
			Lead:     string(action) + "d by " + by.Actor + ". Escalation stopped: nobody else is paged about it.",
			Done:     true,
			Incident: viewOf(inc),
		})
	})
}

// crossOrigin is the CSRF check of link POSTs: the public URL's origin is
// trusted besides the request's own host (a proxy may rewrite Host).
func crossOrigin(snap *snapshot.Snapshot) *http.CrossOriginProtection {
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(snap.Config.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	return cop
}
