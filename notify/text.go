package notify

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
)

// What every message says, whatever the channel: what is wrong, where,
// since when, how many alerts, and (in the channel's own form) the links.
// A resolution notice says what was wrong and for how long; a digest says
// how many incidents, the worst severity among them, and lists them.

// DigestMaxItems is how many of a digest's items a message lists; the
// rest are "and N more". Ten keeps every channel's message short enough
// to read on a phone and within every format's limits (Discord: 10
// embeds).
const DigestMaxItems = 10

// Headline is the one line that says what the message is about:
//
//	[CRITICAL] Disk full on web-1                a page
//	[RESOLVED] Disk full on web-1                a resolution notice
//	[FLAPPING] Disk full on web-1                a flapping incident's one page
//	[CRITICAL] 37 incidents need attention       a digest (worst severity)
func Headline(p Page) string {
	switch p.Kind {
	case KindResolved:
		return "[RESOLVED] " + pageTitle(p)
	case KindFlapping:
		return "[FLAPPING] " + pageTitle(p)
	case KindStatusUpdate:
		return "[UPDATE] " + pageTitle(p)
	case KindReminder:
		return "[REMINDER] " + pageTitle(p)
	case KindDigest:
		n := DigestIncidents(p)
		verb := " need attention"
		if n == 1 {
			verb = " needs attention"
		}
		return "[" + strings.ToUpper(string(DigestSeverity(p))) + "] " + incidentCount(n) + verb
	}
	return "[" + strings.ToUpper(string(p.Severity)) + "] " + pageTitle(p)
}

func pageTitle(p Page) string {
	if p.Title == "" {
		return "incident " + p.Incident
	}
	return p.Title
}

// Facts are the details under the headline, each "label: value", in
// order. A page: service, alerts, since, incident, why this person. A
// notice: service, alerts, since, resolved, lasted, incident. A digest:
// how many incidents, by severity.
func Facts(p Page) [][2]string {
	var f [][2]string
	switch p.Kind {
	case KindDigest:
		return [][2]string{{"Incidents", digestBreakdown(p)}}
	case KindResolved:
		if p.Service != "" {
			f = append(f, [2]string{"Service", p.Service})
		}
		f = append(f, [2]string{"Alerts", alertCount(p.AlertCount)})
		if !p.Since.IsZero() {
			f = append(f, [2]string{"Since", factTime(p.Since)})
		}
		if !p.At.IsZero() {
			f = append(f, [2]string{"Resolved", factTime(p.At)})
		}
		if d, ok := Lasted(p); ok {
			f = append(f, [2]string{"Lasted", Duration(d)})
		}
		return append(f, [2]string{"Incident", p.Incident})
	}
	if p.Service != "" {
		f = append(f, [2]string{"Service", p.Service})
	}
	f = append(f, [2]string{"Alerts", alertCount(p.AlertCount)})
	if !p.Since.IsZero() {
		f = append(f, [2]string{"Since", factTime(p.Since)})
	}
	f = append(f, [2]string{"Incident", p.Incident})
	if p.Reason != "" {
		f = append(f, [2]string{reasonLabel(p), p.Reason})
	}
	return f
}

func factTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func alertCount(n int) string {
	if n == 1 {
		return "1 alert"
	}
	return fmt.Sprintf("%d alerts", n)
}

func incidentCount(n int) string {
	if n == 1 {
		return "1 incident"
	}
	return strconv.Itoa(n) + " incidents"
}

// Lasted is how long a resolved incident lasted: from Since to At (the
// notice is made when the incident resolves; the resolve time itself is
// not carried). ok is false when either is unknown, or they are out of
// order, so no channel shows a made-up duration.
func Lasted(p Page) (d time.Duration, ok bool) {
	if p.Since.IsZero() || p.At.IsZero() || p.At.Before(p.Since) {
		return 0, false
	}
	return p.At.Sub(p.Since), true
}

// Resolution is a notice's one-line verdict: "Resolved after 1h 35m", or
// "Resolved" when the duration is unknown.
func Resolution(p Page) string {
	if d, ok := Lasted(p); ok {
		return "Resolved after " + Duration(d)
	}
	return "Resolved"
}

// Duration is a human duration precise enough for how long an incident
// lasted: "45s", "12m", "1h 35m", "3d 4h".
func Duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days, h := int(d.Hours())/24, int(d.Hours())%24
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// DigestSeverity is the worst severity of a digest's items (and of the
// digest itself, should the deliverer have set one).
func DigestSeverity(p Page) alertgate.Severity {
	worst := p.Severity
	for _, it := range p.Items {
		if it.Severity.Rank() > worst.Rank() {
			worst = it.Severity
		}
	}
	return worst
}

// DigestIncidents counts the distinct incidents of a digest's items (two
// pages about one incident, made as it gained alerts, are one incident
// needing attention).
func DigestIncidents(p Page) int {
	seen := make(map[string]bool, len(p.Items))
	for _, it := range p.Items {
		seen[it.Incident] = true
	}
	return len(seen)
}

// DigestShown are the items a digest's message lists (the first
// DigestMaxItems, most urgent first as the deliverer ordered them), and
// how many it leaves out.
func DigestShown(p Page) (shown []Page, more int) {
	if len(p.Items) <= DigestMaxItems {
		return p.Items, 0
	}
	return p.Items[:DigestMaxItems], len(p.Items) - DigestMaxItems
}

// More is the line after a digest's list: "and 27 more" ("" for none).
func More(n int) string {
	if n <= 0 {
		return ""
	}
	return "and " + strconv.Itoa(n) + " more"
}

// digestBreakdown is "37 (2 critical, 35 warning)": the digest's
// incidents by severity, worst first.
func digestBreakdown(p Page) string {
	n := DigestIncidents(p)
	counted := map[string]bool{}
	bySeverity := map[alertgate.Severity]int{}
	for _, it := range p.Items {
		if !counted[it.Incident] {
			counted[it.Incident] = true
			bySeverity[it.Severity]++
		}
	}
	var parts []string
	for _, s := range alertgate.Severities {
		if c := bySeverity[s]; c > 0 {
			parts = append(parts, strconv.Itoa(c)+" "+string(s))
		}
	}
	if len(parts) < 2 {
		return strconv.Itoa(n)
	}
	return strconv.Itoa(n) + " (" + strings.Join(parts, ", ") + ")"
}

// ItemLine is what a digest says under an item's headline, with no clock
// needed: "db · 3 alerts · since 2026-12-01 09:55 UTC · #42".
func ItemLine(p Page) string {
	var parts []string
	if p.Service != "" {
		parts = append(parts, p.Service)
	}
	parts = append(parts, alertCount(p.AlertCount))
	if !p.Since.IsZero() {
		parts = append(parts, "since "+factTime(p.Since))
	}
	parts = append(parts, "#"+p.Incident)
	return strings.Join(parts, " · ")
}

// Short is the message in at most max characters, for SMS, push
// notifications and chat fallbacks: as much as fits of
//
//	[CRITICAL] Disk full on web-1 · storage · 3 alerts · for 12m · #20     a page
//	[RESOLVED] Disk full on web-1 · storage · lasted 1h 35m · #20          a notice
//	37 incidents need you: [CRITICAL] Disk full on web-1 and 36 more       a digest
//
// A digest's first item's headline is what gets cut, so the count and
// "and N more" always show.
func Short(p Page, now time.Time, max int) string {
	if p.Kind == KindDigest && max > 0 {
		prefix, first, suffix := DigestShortParts(p)
		room := max - runeLen(prefix) - runeLen(suffix)
		if room < 2 {
			return cutRunes(prefix+first+suffix, max)
		}
		return prefix + cutRunes(first, room) + suffix
	}
	if max < 1 {
		return ""
	}
	head, tail := shortParts(p, now)
	return cutRunes(head+tail, max)
}

// shortParts are a page's or notice's short text in two: the headline,
// which a channel short of room cuts first, and the rest (" · db · 3
// alerts · for 12m · #42").
func shortParts(p Page, now time.Time) (head, tail string) {
	var parts []string
	if p.Service != "" {
		parts = append(parts, p.Service)
	}
	if p.Kind == KindResolved {
		if d, ok := Lasted(p); ok {
			parts = append(parts, "lasted "+Duration(d))
		}
	} else {
		parts = append(parts, alertCount(p.AlertCount))
		if !p.Since.IsZero() {
			parts = append(parts, "for "+age(now.Sub(p.Since)))
		}
	}
	parts = append(parts, "#"+p.Incident)
	return Headline(p), " · " + strings.Join(parts, " · ")
}

// DigestShortParts are the three parts of a digest's short text: "37
// incidents need you: ", the first item's headline, " and 36 more".
// Channels that count length their own way (SMS) cut the middle one.
func DigestShortParts(p Page) (prefix, first, suffix string) {
	n := DigestIncidents(p)
	verb := " need you: "
	if n == 1 {
		verb = " needs you: "
	}
	prefix = incidentCount(n) + verb
	if len(p.Items) == 0 {
		return strings.TrimSuffix(prefix, ": "), "", ""
	}
	first = Headline(p.Items[0])
	if n > 1 {
		suffix = " " + More(n-1)
	}
	return prefix, first, suffix
}

func runeLen(s string) int { return len([]rune(s)) }

// age is a short human duration: "45s", "12m", "3h", "2d".
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
