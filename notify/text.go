package notify

import (
	"fmt"
	"strings"
	"time"
)

// What every message says, whatever the channel: what is wrong, where,
// since when, how many alerts, and (in the channel's own form) the links.

// Headline is the one line that says what is wrong: "[CRITICAL] Disk full
// on web-1".
func Headline(p Page) string {
	title := p.Title
	if title == "" {
		title = "incident " + p.Incident
	}
	return "[" + strings.ToUpper(string(p.Severity)) + "] " + title
}

// Facts are the details under the headline, each "label: value", in
// order: service, alerts, since, incident, why this person.
func Facts(p Page) [][2]string {
	var f [][2]string
	if p.Service != "" {
		f = append(f, [2]string{"Service", p.Service})
	}
	f = append(f, [2]string{"Alerts", alertCount(p.AlertCount)})
	if !p.Since.IsZero() {
		f = append(f, [2]string{"Since", p.Since.UTC().Format("2006-01-02 15:04 UTC")})
	}
	f = append(f, [2]string{"Incident", p.Incident})
	if p.Reason != "" {
		f = append(f, [2]string{"Paged because", p.Reason})
	}
	return f
}

func alertCount(n int) string {
	if n == 1 {
		return "1 alert"
	}
	return fmt.Sprintf("%d alerts", n)
}

// Short is the page in at most max characters, for SMS and push
// notifications: headline, service, alert count and age, as much as fits.
func Short(p Page, now time.Time, max int) string {
	parts := []string{Headline(p)}
	if p.Service != "" {
		parts = append(parts, p.Service)
	}
	parts = append(parts, alertCount(p.AlertCount))
	if !p.Since.IsZero() {
		parts = append(parts, "for "+age(now.Sub(p.Since)))
	}
	parts = append(parts, "#"+p.Incident)
	s := strings.Join(parts, " · ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

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
