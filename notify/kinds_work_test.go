package notify

import (
	"slices"
	"testing"
	"time"
)

// A status update and a reminder say what they are and carry their text
// under their own label; neither is a page (no links, failover, notice).
func TestWorkKinds(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		kind           Kind
		headline, fact string
	}{
		{KindStatusUpdate, "[UPDATE] Checkout fails", "Update"},
		{KindReminder, "[REMINDER] Checkout fails", "Overdue"},
	} {
		p := Page{Kind: c.kind, Incident: "33", Title: "Checkout fails", Severity: "critical", Since: at, At: at,
			Notifier: "status", Address: "status", Reason: "Mitigated"}
		if got := Headline(p); got != c.headline {
			t.Errorf("%s: headline %q, want %q", c.kind, got, c.headline)
		}
		if f := Facts(p); !slices.Contains(f, [2]string{c.fact, "Mitigated"}) {
			t.Errorf("%s: facts %v lack %s: Mitigated", c.kind, f, c.fact)
		}
		if p.IsPage() {
			t.Errorf("%s is a page", c.kind)
		}
	}
}

// A webhook receiver is told what a status update or a reminder is.
func TestWebhookCarriesWorkKinds(t *testing.T) {
	for _, k := range []Kind{KindStatusUpdate, KindReminder} {
		p := Page{Key: "k", Incident: "42", Title: "Checkout down", Kind: k, Reason: "rolled back"}
		b := NewWebhookBody(p, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
		if b.Kind != string(k) {
			t.Errorf("kind %s: body kind %q", k, b.Kind)
		}
	}
}
