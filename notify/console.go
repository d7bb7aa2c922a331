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

// Console is the built-in "console" notifier: it writes one line per page,
// for a person watching `alertgate serve --dev` in a terminal:
//
//	PAGE alice | incident 42 [critical] "Disk full on db-1" | service db, 3 alerts | policy payments step 1 repeat 0 | on call in rotation payments-primary | key=42.1.0.0.alice
//
// The line ends with key=<page key>, so a test can count deliveries per
// key. Text that came from senders (the title) is quoted, and control
// characters elsewhere are replaced, so an alert cannot break the line or
// send escape sequences to the terminal. Console is safe for concurrent
// use: each line is one write.
type Console struct {
	mu sync.Mutex
	w  io.Writer
}

// NewConsole returns a console notifier writing to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w} }

// Notify writes the page's line. It fails only when the write fails, and
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

// ConsoleLine is the line Console writes for p, newline included.
func ConsoleLine(p Page) string {
	var b strings.Builder
	b.WriteString("PAGE ")
	b.WriteString(oneLine(cmp.Or(p.User, p.Address, "(nobody)")))
	fmt.Fprintf(&b, " | incident %s [%s] %s", oneLine(p.Incident), oneLine(string(p.Severity)), strconv.QuoteToGraphic(p.Title))

	var about []string
	if p.Service != "" {
		about = append(about, "service "+oneLine(p.Service))
	}
	alerts := strconv.Itoa(p.AlertCount) + " alerts"
	if p.AlertCount == 1 {
		alerts = "1 alert"
	}
	about = append(about, alerts)
	b.WriteString(" | " + strings.Join(about, ", "))

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
	return b.String()
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
