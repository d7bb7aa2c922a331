package incident

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/notify"
)

// PostmortemMarkdown drafts the postmortem skeleton of an incident from its
// timeline: the facts, the impact window, who was paged when and through
// what, the acknowledgements, roles, status updates, notes and follow-ups,
// then the sections the team writes. It is computed on request (from
// inc, as GetWork returns it), never stored: the team's document lives
// where the postmortem's link points.
func PostmortemMarkdown(inc *alertgate.Incident) string {
	var b strings.Builder
	title := inc.Title
	if title == "" {
		title = "incident " + inc.ID
	}
	fmt.Fprintf(&b, "# Postmortem: %s\n\n", mdLine(title))
	fmt.Fprintf(&b, "_Drafted by alertgate from the timeline of incident %s; finish it and link it from the incident._\n\n", inc.ID)

	b.WriteString("## Summary\n\n")
	fact := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "- **%s:** %s\n", k, v)
		}
	}
	fact("Severity", string(inc.Severity))
	fact("Service", mdLine(inc.Service))
	fact("Status", string(inc.Status))
	opened := "Triggered"
	if inc.Declared {
		opened = "Declared"
	}
	fact(opened, mdTime(inc.TriggeredAt))
	fact("Acknowledged", mdTime(inc.AcknowledgedAt))
	fact("Resolved", mdTime(inc.ResolvedAt))
	if !inc.ResolvedAt.IsZero() {
		fact("Duration", notify.Duration(inc.ResolvedAt.Sub(inc.TriggeredAt)))
	}
	roles := make([]string, 0, len(inc.Roles))
	for role := range inc.Roles {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	for _, role := range roles {
		fact(strings.ToUpper(role[:1])+role[1:], mdLine(inc.Roles[role]))
	}
	if pm := inc.Postmortem; pm != nil && !pm.Due.IsZero() {
		fact("Postmortem due", mdTime(pm.Due))
	}

	b.WriteString("\n## Customer impact\n\n")
	switch im := inc.Impact; {
	case im == nil:
		b.WriteString("Unknown.\n")
	default:
		end := "ongoing"
		if !im.End.IsZero() {
			end = mdTime(im.End) + " (" + notify.Duration(im.End.Sub(im.Start)) + ")"
		}
		fmt.Fprintf(&b, "From %s to %s", mdTime(im.Start), end)
		if im.Set {
			b.WriteString(", as set on the incident.\n")
		} else {
			b.WriteString(": the default, from the first alert to the resolve; set it on the incident if customers saw otherwise.\n")
		}
	}

	var paged, acks, notes, updates, timeline []string
	for _, e := range inc.Timeline {
		at := e.At.UTC().Format("2006-01-02 15:04:05")
		switch e.Type {
		case alertgate.EventPaged:
			if p := e.Page; p != nil {
				who := p.User
				if who == "" {
					who = "#" + p.Notifier
				}
				line := fmt.Sprintf("- %s: %s via %s", at, mdLine(who), mdLine(p.Notifier))
				if p.Step > 0 {
					line += fmt.Sprintf(" (step %d", p.Step)
					if p.Repeat > 0 {
						line += fmt.Sprintf(", repeat %d", p.Repeat)
					}
					line += ")"
				}
				if p.Reason != "" {
					line += ": " + mdLine(p.Reason)
				}
				paged = append(paged, line)
			}
		case alertgate.EventAcknowledged:
			acks = append(acks, fmt.Sprintf("- %s: %s%s", at, mdLine(e.Actor), colon(e.Message)))
		case alertgate.EventNote:
			notes = append(notes, fmt.Sprintf("- %s, %s: %s", at, mdLine(e.Actor), mdLine(e.Message)))
		case alertgate.EventStatusUpdate:
			updates = append(updates, fmt.Sprintf("- %s, %s: %s", at, mdLine(e.Actor), mdLine(e.Message)))
		}
		if timelineWorthy(e.Type) {
			timeline = append(timeline, fmt.Sprintf("| %s | %s | %s | %s |", at, e.Type, mdCell(e.Actor), mdCell(e.Message)))
		}
	}
	section := func(name string, lines []string, none string) {
		fmt.Fprintf(&b, "\n## %s\n\n", name)
		if len(lines) == 0 {
			b.WriteString(none + "\n")
			return
		}
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	section("Who was paged", paged, "Nobody was paged.")
	section("Acknowledgements", acks, "Nobody acknowledged the incident.")
	section("Status updates", updates, "None.")
	section("Notes", notes, "None.")
	var fus []string
	for _, f := range inc.FollowUps {
		box := " "
		if f.Done {
			box = "x"
		}
		line := fmt.Sprintf("- [%s] %s", box, mdLine(f.Title))
		var extra []string
		if f.Owner != "" {
			extra = append(extra, "owner "+mdLine(f.Owner))
		}
		if !f.Due.IsZero() {
			extra = append(extra, "due "+mdTime(f.Due))
		}
		if f.Link != "" {
			extra = append(extra, mdLine(f.Link))
		}
		if len(extra) > 0 {
			line += " (" + strings.Join(extra, ", ") + ")"
		}
		fus = append(fus, line)
	}
	section("Follow-up actions", fus, "None yet.")
	section("Timeline", append([]string{"| Time (UTC) | Event | Who | Details |", "|---|---|---|---|"}, timeline...), "")
	for _, s := range []string{"What happened", "Why it happened", "What went well", "What we change"} {
		fmt.Fprintf(&b, "\n## %s\n\n_To be written._\n", s)
	}
	return b.String()
}

// timelineWorthy leaves delivery chatter (waiting, delivered) out of the
// skeleton's timeline table: the paged list says who was reached.
func timelineWorthy(typ string) bool {
	switch typ {
	case alertgate.EventPageDelivered, alertgate.EventPageWaiting, alertgate.EventPaged:
		return false
	}
	return true
}

func colon(s string) string {
	if s == "" {
		return ""
	}
	return ": " + mdLine(s)
}

func mdTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// mdLine keeps text on one line and defuses the markdown that could
// restructure the document (headings, HTML).
func mdLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
}

// mdCell is mdLine inside a table cell.
func mdCell(s string) string { return strings.ReplaceAll(mdLine(s), "|", `\|`) }
