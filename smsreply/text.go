package smsreply

import (
	"fmt"
	"strings"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
)

// The answers a reply gets, as SMS text. They name the incident ("#42
// Disk full on db-1") so that whoever answers an old message sees what
// the code stood for.

// maxHelpCodes bounds the codes the help text lists, to keep it a few
// segments long.
const maxHelpCodes = 5

// Label names an incident in a reply: "#42 Disk full on db-1".
func Label(id, title string) string {
	title = cut(title, 60)
	if title == "" {
		return "#" + id
	}
	return "#" + id + " " + title
}

// Done is the answer to a reply that acted.
func Done(action dedupe.Action, inc *alertgate.Incident) string {
	return past(action) + " " + Label(inc.ID, inc.Title)
}

// Already is the answer to a reply for an incident that is not in the
// state its page was sent for: someone acknowledged or resolved it.
func Already(a Assignment, status alertgate.IncidentStatus) string {
	return Label(a.Incident, a.Title) + " is already " + string(status) + "."
}

// Superseded is the answer to a code whose page is from an earlier run of
// the incident's escalation: it fired again since.
func Superseded(a Assignment) string {
	return fmt.Sprintf("Code %s no longer works for %s: the incident fired again since that page.", a.Code, Label(a.Incident, a.Title))
}

// Used is the answer to a code that did this once already.
func Used(a Assignment, action dedupe.Action) string {
	return fmt.Sprintf("%s%s was used already for %s.", a.Code, string(action)[:1], Label(a.Incident, a.Title))
}

// Gone is the answer to a code whose incident no longer exists.
func Gone(a Assignment) string {
	return fmt.Sprintf("%s no longer exists.", Label(a.Incident, a.Title))
}

// Help is the answer to a reply that named no live code, or nothing to do
// with one: what was wrong, then how to answer each live code.
func Help(m Match) string {
	var b strings.Builder
	switch {
	case m.Assignment != nil && m.Reply.Action == "":
		// "1": a code and no action; only its own choices.
		b.WriteString(choices(*m.Assignment))
		return b.String()
	case len(m.Live) == 0:
		if m.Reply.Code != "" {
			fmt.Fprintf(&b, "Code %s is unknown or expired. ", m.Reply.Code)
		}
		b.WriteString("alertgate has no open pages for this number.")
		return b.String()
	case !m.Understood:
		b.WriteString("Sorry, that is not a reply alertgate understands.\n")
	case m.Reply.Code != "":
		fmt.Fprintf(&b, "Code %s is unknown or expired.\n", m.Reply.Code)
	default:
		// A bare action with several codes live.
		b.WriteString("Several pages are open; say which.\n")
	}
	for i, a := range m.Live {
		if i == maxHelpCodes {
			fmt.Fprintf(&b, "\n…and %d more", len(m.Live)-i)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(choices(a))
	}
	return b.String()
}

// choices says how to answer one code.
func choices(a Assignment) string {
	return fmt.Sprintf("Reply %sa to acknowledge or %sr to resolve %s", a.Code, a.Code, Label(a.Incident, a.Title))
}

func past(a dedupe.Action) string {
	switch a {
	case dedupe.Acknowledge:
		return "Acknowledged"
	case dedupe.Resolve:
		return "Resolved"
	}
	return string(a)
}

// Verb is the timeline's word for an action: "acknowledged by alice via
// SMS reply".
func Verb(a dedupe.Action) string { return strings.ToLower(past(a)) }
