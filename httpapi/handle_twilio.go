package httpapi

import (
	"encoding/xml"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/smsreply"
)

// maxTwilioBody bounds an inbound SMS webhook's body (the ingest limit
// applies too when lower): Twilio's form for one message, Body of up to
// 1,600 characters included, is a few kilobytes.
const maxTwilioBody = 64 << 10

// maxFrom bounds the sender's address we accept: an E.164 number is 16
// characters, a channel address ("whatsapp:+…") a few more.
const maxFrom = 64

// handleTwilioSMS serves POST /twilio/{notifier}/sms, the Messaging
// webhook of a twilio notifier's number: a person answers a page's SMS
// with its reply code ("1a", "1r"), and the answer (TwiML) says what
// happened. The request must carry Twilio's X-Twilio-Signature over
// public_url + the request's path and query, made with the notifier's
// auth_token, and name the notifier's account.
func handleTwilioSMS(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := d.Snapshot() // once: the whole request uses this config
		name := mux.Vars(r)["notifier"]
		log := d.Logger.With("notifier", name)
		refuse := func(err error, why string) {
			status := writeError(w, err, snap.Config.Ingest.RetryAfter)
			log.Log(r.Context(), logLevel(status), "sms reply refused", "status", status, "reason", why,
				"err", err.Error(), "remote", r.RemoteAddr)
			countInternal(d, "twilio", status)
		}
		n := twilioNotifier(snap.Config, name)
		switch {
		case n == nil:
			refuse(alertgate.Errorf(alertgate.ENOTFOUND, "no twilio notifier named %q", alertgate.Truncate(name, 64)), "unknown notifier")
			return
		case d.SMSReplies == nil || !n.RepliesOn() || snap.Config.PublicURL == "":
			// Without public_url no page carries a reply code, and the
			// URL Twilio signed cannot be rebuilt.
			refuse(alertgate.Errorf(alertgate.ENOTFOUND, "SMS replies are off for notifier %q (they need public_url, and replies not false)", name), "replies off")
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
			refuse(alertgate.Errorf(alertgate.EUNSUPPORTED, "Content-Type must be application/x-www-form-urlencoded, as Twilio sends"), "content type")
			return
		}
		body, err := readBody(w, r, min(snap.Config.Ingest.MaxBodyBytes, maxTwilioBody))
		if err != nil {
			refuse(err, "body")
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			refuse(alertgate.Errorf(alertgate.EINVALID, "body is not a valid form: %v", err), "form")
			return
		}
		// The URL Twilio called: Twilio signs the URL configured on the
		// number, which must be public_url followed by this path.
		signed := strings.TrimRight(snap.Config.PublicURL, "/") + r.URL.RequestURI()
		if !smsreply.VerifySignature(n.AuthToken.Reveal(), signed, form, r.Header.Get(smsreply.SignatureHeader)) {
			why := "bad signature"
			if r.Header.Get(smsreply.SignatureHeader) == "" {
				why = "no signature"
			}
			status := forbid(w, "missing or wrong "+smsreply.SignatureHeader)
			// The URL is logged (it is public) so an operator can compare
			// it with the one configured in Twilio; the signature and the
			// token are not.
			log.Warn("sms reply refused", "status", status, "reason", why, "signed_url", signed, "remote", r.RemoteAddr)
			return
		}
		if form.Get("AccountSid") != n.AccountSID {
			status := forbid(w, "AccountSid is not the notifier's account")
			log.Warn("sms reply refused", "status", status, "reason", "other account", "account_sid", alertgate.Truncate(form.Get("AccountSid"), 40))
			return
		}
		from := strings.TrimSpace(form.Get("From"))
		if from == "" || len(from) > maxFrom {
			refuse(alertgate.FieldErrorf("From", "required, at most %d characters: the sender's number", maxFrom), "from")
			return
		}
		text, err := answerSMS(d, r, from, form.Get("Body"))
		if err != nil {
			refuse(err, "act")
			return
		}
		writeTwiML(w, text)
		log.Debug("sms reply answered", "message_sid", alertgate.Truncate(form.Get("MessageSid"), 40))
	})
}

// forbid answers 403, as Twilio's own libraries answer a request whose
// signature does not verify: the credentials are not ours to ask for
// (401 would invite a WWW-Authenticate challenge that Twilio cannot meet).
func forbid(w http.ResponseWriter, msg string) int {
	encode(w, http.StatusForbidden, errorBody{Error: errorDetail{Code: alertgate.EUNAUTHORIZED, Message: msg}})
	return http.StatusForbidden
}

// twilioNotifier returns the configured twilio notifier called name.
func twilioNotifier(cfg *config.Config, name string) *config.Notifier {
	for i := range cfg.Notifiers {
		if n := &cfg.Notifiers[i]; n.ID == name && n.Type == config.NotifierTwilio {
			return n
		}
	}
	return nil
}

// answerSMS carries out one reply from a number and returns the SMS that
// answers it ("" for none). Only a failure to reach Redis is an error.
func answerSMS(d Deps, r *http.Request, from, body string) (string, error) {
	ctx := r.Context()
	m, err := d.SMSReplies.Match(ctx, from, body)
	if err != nil {
		return "", err
	}
	switch {
	case m.Reply.Keyword:
		// STOP, HELP, …: Twilio answers these itself.
		return "", nil
	case m.Assignment == nil || m.Reply.Action == "":
		return smsreply.Help(m), nil
	}
	a, action := *m.Assignment, m.Reply.Action
	who := a.User
	if who == "" {
		who = from
	}
	inc, err := d.Incidents.Act(ctx, a.Incident, action, incident.By{Actor: who + " via SMS"},
		smsreply.Verb(action)+" by "+who+" via SMS reply",
		dedupe.Condition{Epoch: a.Epoch, Nonce: a.Nonce(from, action), NonceTTL: d.SMSReplies.TTL()})
	outcome := "done"
	var text string
	switch {
	case err == nil:
		text = smsreply.Done(action, inc)
	case errors.Is(err, dedupe.ErrSuperseded):
		outcome, text = "superseded", smsreply.Superseded(a)
	case errors.Is(err, dedupe.ErrUsed):
		outcome, text = "used", smsreply.Used(a, action)
	case alertgate.ErrorCode(err) == alertgate.ENOTFOUND:
		outcome, text = "gone", smsreply.Gone(a)
	case alertgate.ErrorCode(err) == alertgate.ECONFLICT:
		// Not in the state the page was sent for: someone else acted.
		cur, gerr := d.Incidents.Get(ctx, a.Incident)
		if gerr != nil {
			return "", gerr
		}
		outcome, text = "already", smsreply.Already(a, cur.Status)
	default:
		return "", err
	}
	d.Logger.Info("sms reply", "incident_id", a.Incident, "action", string(action), "code", a.Code,
		"outcome", outcome, "actor", who+" via SMS", "notifier", a.Notifier)
	return text, nil
}

// writeTwiML answers Twilio with a TwiML message, or with an empty
// response (no SMS back) when text is "".
func writeTwiML(w http.ResponseWriter, text string) {
	var b strings.Builder
	b.WriteString(xml.Header)
	if text == "" {
		b.WriteString("<Response/>\n")
	} else {
		b.WriteString("<Response><Message>")
		_ = xml.EscapeText(&b, []byte(text))
		b.WriteString("</Message></Response>\n")
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
}
