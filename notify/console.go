package notify

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// ConsoleName is the name pages give the built-in console notifier.
const ConsoleName = "console"

// Console is the built-in "console" notifier: it writes each message for a
// person watching `alertgate serve --dev` in a terminal. A page is one
// line, then its links, one a line, indented, so a newcomer can click
// through:
//
//	PAGE alice | incident 42 [critical] "Disk full on db-1" | service db, 3 alerts | policy payments step 1 repeat 0 | on call in rotation payments-primary | key=42.1.0.0.alice
//	  acknowledge: http://127.0.0.1:8080/a/…
//	  resolve: http://127.0.0.1:8080/a/…
//	  open: http://127.0.0.1:8080/incidents/42
//
// A resolution notice is a RESOLVED line and its open link; a digest is a
// DIGEST line and one indented line per item (every item: a terminal has
// no length limit), each ending in the item's key=:
//
//	RESOLVED alice | incident 42 [critical] "Disk full on db-1" | service db, 3 alerts | lasted 1h 35m | key=…
//	DIGEST alice | 12 incidents [critical] | key=…
//	  incident 42 [critical] "Disk full on db-1" | service db, 3 alerts | ack http://… | open http://… | key=42.1.0.0.alice
//
// The first line ends with key=<message key>, so a test can count
// deliveries per key; link lines start with two spaces. Text that came
// from senders (the title) is quoted, and control characters elsewhere
// are replaced, so an alert cannot break a line or send escape sequences
// to the terminal. Console is safe for concurrent use: each message is
// one write.
type Console struct {
	mu sync.Mutex
	w  io.Writer
}

// NewConsole returns a console notifier writing to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w} }

// Notify writes the message's lines. It fails only when the write fails, and
// then retryably: a terminal or pipe may take writes again.
func (c *Console) Notify(_ context.Context, p Page) (retry bool, err error) {
	line := ConsoleLine(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.w, line); err != nil {
		return true, fmt.Errorf("notify: console: %w", err)
	}
	return false, nil
}

// ConsoleLine is what Console writes for p, every line ending in a
// newline: the PAGE, RESOLVED or DIGEST line, then the indented lines.
func ConsoleLine(p Page) string {
	switch p.Kind {
	case KindResolved:
		return consoleResolved(p)
	case KindDigest:
		return consoleDigest(p)
	}
	var b strings.Builder
	b.WriteString("PAGE ")
	b.WriteString(consoleWho(p))
	b.WriteString(" | " + consoleIncident(p) + " | " + consoleAbout(p))

	b.WriteString(" | ")
	if p.Policy != "" {
		b.WriteString("policy " + oneLine(p.Policy) + " ")
	}
	if p.Step > 0 {
		fmt.Fprintf(&b, "step %d repeat %d", p.Step, p.Repeat)
	} else {
		b.WriteString("not a policy step")
	}
	if p.Reason != "" {
		b.WriteString(" | " + oneLine(p.Reason))
	}
	b.WriteString(" | key=" + oneLine(p.Key) + "\n")
	consoleLink(&b, "acknowledge", p.Links.Acknowledge)
	consoleLink(&b, "resolve", p.Links.Resolve)
	consoleLink(&b, "open", p.Links.Open)
	return b.String()
}

// consoleResolved: the notice's line and its open link (a notice asks
// nothing of anyone, so no acknowledge or resolve link).
func consoleResolved(p Page) string {
	var b strings.Builder
	b.WriteString("RESOLVED " + consoleWho(p) + " | " + consoleIncident(p) + " | " + consoleAbout(p) + " | ")
	if d, ok := Lasted(p); ok {
		b.WriteString("lasted " + Duration(d))
	} else {
		b.WriteString("resolved")
	}
	b.WriteString(" | key=" + oneLine(p.Key) + "\n")
	consoleLink(&b, "open", p.Links.Open)
	return b.String()
}

// consoleDigest: the digest's line, then each item on its own line with
// its links and its own key.
func consoleDigest(p Page) string {
	var b strings.Builder
	fmt.Fprintf(&b, "DIGEST %s | %s [%s] | key=%s\n", consoleWho(p), incidentCount(DigestIncidents(p)), oneLine(string(DigestSeverity(p))), oneLine(p.Key))
	for _, it := range p.Items {
		b.WriteString("  " + consoleIncident(it) + " | " + consoleAbout(it))
		if it.Links.Acknowledge != "" {
			b.WriteString(" | ack " + oneLine(it.Links.Acknowledge))
		}
		if it.Links.Open != "" {
			b.WriteString(" | open " + oneLine(it.Links.Open))
		}
		b.WriteString(" | key=" + oneLine(it.Key) + "\n")
	}
	return b.String()
}

func consoleWho(p Page) string { return oneLine(cmp.Or(p.User, p.Address, "(nobody)")) }

// consoleIncident is `incident 42 [critical] "Disk full on db-1"`.
func consoleIncident(p Page) string {
	return fmt.Sprintf("incident %s [%s] %s", oneLine(p.Incident), oneLine(string(p.Severity)), strconv.QuoteToGraphic(p.Title))
}

// consoleAbout is "service db, 3 alerts".
func consoleAbout(p Page) string {
	var about []string
	if p.Service != "" {
		about = append(about, "service "+oneLine(p.Service))
	}
	return strings.Join(append(about, alertCount(p.AlertCount)), ", ")
}

// consoleLink writes one indented link line, when there is a link.
func consoleLink(b *strings.Builder, label, url string) {
	if url != "" {
		b.WriteString("  " + label + ": " + oneLine(url) + "\n")
	}
}

// oneLine replaces control and other non-printing characters, so a value
// stays on its line and cannot drive the terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if !unicode.IsGraphic(r) {
			return '?'
		}
		return r
	}, s)
}
