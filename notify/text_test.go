package notify

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
)

func TestTexts(t *testing.T) {
	since := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	p := Page{Incident: "20", Title: "Disk full on web-1", Severity: "critical", Service: "storage",
		AlertCount: 3, Since: since, Reason: "on call in rotation ops"}
	if got := Headline(p); got != "[CRITICAL] Disk full on web-1" {
		t.Errorf("Headline = %q", got)
	}
	facts := Facts(p)
	if len(facts) != 5 || facts[0] != [2]string{"Service", "storage"} || facts[1][1] != "3 alerts" ||
		facts[2][1] != "2026-12-01 09:00 UTC" || facts[3][1] != "20" || facts[4][1] != "on call in rotation ops" {
		t.Errorf("Facts = %v", facts)
	}
	if got, want := Short(p, since.Add(90*time.Minute), 160), "[CRITICAL] Disk full on web-1 · storage · 3 alerts · for 1h · #20"; got != want {
		t.Errorf("Short = %q, want %q", got, want)
	}
	p.Title = strings.Repeat("é", 300)
	if got := Short(p, since, 160); utf8.RuneCountInString(got) != 160 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("a long title: %d runes %q", utf8.RuneCountInString(got), got)
	}
	if got := Headline(Page{Incident: "7", Severity: "info"}); got != "[INFO] incident 7" {
		t.Errorf("untitled Headline = %q", got)
	}
}

func TestTextsOfNoticesAndDigests(t *testing.T) {
	since := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	n := Page{Kind: KindResolved, Incident: "20", Title: "Disk full on web-1", Severity: "critical", Service: "storage",
		AlertCount: 3, Since: since, At: since.Add(95 * time.Minute)}
	if got := Headline(n); got != "[RESOLVED] Disk full on web-1" {
		t.Errorf("notice Headline = %q", got)
	}
	if got := Resolution(n); got != "Resolved after 1h 35m" {
		t.Errorf("Resolution = %q", got)
	}
	if got, want := Short(n, since.Add(time.Hour), 160), "[RESOLVED] Disk full on web-1 · storage · lasted 1h 35m · #20"; got != want {
		t.Errorf("notice Short = %q, want %q", got, want)
	}
	facts := Facts(n)
	if len(facts) != 6 || facts[3] != [2]string{"Resolved", "2026-12-01 10:35 UTC"} || facts[4] != [2]string{"Lasted", "1h 35m"} {
		t.Errorf("notice Facts = %v", facts)
	}
	// Unknown start, or a clock out of order: no made-up duration.
	for _, bad := range []Page{{Kind: KindResolved, Incident: "20", At: since}, {Kind: KindResolved, Incident: "20", Since: since, At: since.Add(-time.Minute)}} {
		if _, ok := Lasted(bad); ok || Resolution(bad) != "Resolved" || strings.Contains(Short(bad, since, 160), "lasted") {
			t.Errorf("%+v: Resolution %q, Short %q", bad, Resolution(bad), Short(bad, since, 160))
		}
		for _, f := range Facts(bad) {
			if f[0] == "Lasted" {
				t.Errorf("a Lasted fact without a duration: %v", Facts(bad))
			}
		}
	}
	for d, want := range map[time.Duration]string{45 * time.Second: "45s", 12 * time.Minute: "12m", 2 * time.Hour: "2h",
		25*time.Hour + 59*time.Minute: "1d 1h", 72 * time.Hour: "3d", -time.Second: "0s"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}

	d := Page{Kind: KindDigest, Severity: "info"}
	for i, sev := range []string{"warning", "critical", "warning", "info"} {
		// Two items about incident 3: it counts once.
		id := []string{"1", "2", "3", "3"}[i]
		d.Items = append(d.Items, Page{Incident: id, Title: "Problem " + id, Severity: alertgate.Severity(sev)})
	}
	if got := Headline(d); got != "[CRITICAL] 3 incidents need attention" {
		t.Errorf("digest Headline = %q (the worst severity, distinct incidents)", got)
	}
	if got := Facts(d); len(got) != 1 || got[0][1] != "3 (1 critical, 2 warning)" {
		t.Errorf("digest Facts = %v", got)
	}
	if got := Short(d, since, 160); got != "3 incidents need you: [WARNING] Problem 1 and 2 more" {
		t.Errorf("digest Short = %q", got)
	}
	d.Items[0].Title = strings.Repeat("x", 300)
	if got := Short(d, since, 60); utf8.RuneCountInString(got) != 60 || !strings.HasPrefix(got, "3 incidents need you: [WARNING] xxx") || !strings.HasSuffix(got, "x… and 2 more") {
		t.Errorf("a digest's long first title is what is cut: %q", got)
	}
	one := Page{Kind: KindDigest, Items: d.Items[:1]}
	if got := Headline(one); got != "[WARNING] 1 incident needs attention" {
		t.Errorf("one-item digest Headline = %q", got)
	}
	if got := Short(one, since, 40); !strings.HasPrefix(got, "1 incident needs you: [WARNING] x") || strings.Contains(got, "more") {
		t.Errorf("one-item digest Short = %q", got)
	}
	many := Page{Kind: KindDigest}
	for i := range 37 {
		many.Items = append(many.Items, Page{Incident: strconv.Itoa(i), Severity: "error"})
	}
	if shown, more := DigestShown(many); len(shown) != DigestMaxItems || more != 27 || More(more) != "and 27 more" {
		t.Errorf("DigestShown = %d items, %d more", len(shown), more)
	}
	if got := ItemLine(Page{Incident: "7", AlertCount: 1, Since: since}); got != "1 alert · since 2026-12-01 09:00 UTC · #7" {
		t.Errorf("ItemLine = %q", got)
	}
}
