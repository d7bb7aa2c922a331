package notify

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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
