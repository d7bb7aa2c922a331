// Package notify delivers pages. The escalation engine records each page
// in its incident's shard's outbox stream, in the same atomic step that
// commits the escalation step; a delivery loop reads the outbox with a
// consumer group and hands each page to the Notifier of the contact it is
// for. Delivery is at least once; every page carries an idempotency key so
// a target (and the timeline) can tell a redelivery from a new page.
// docs/delivery.md describes the outbox, the group and the records.
package notify

import (
	"context"
	"time"

	"github.com/alertgate/alertgate"
)

// Page is one page to one person (or channel) about one incident: the
// record the outbox holds, JSON in its stream entry's "page" field.
type Page struct {
	// Key is the idempotency key: the same page delivered twice has the
	// same key. It is "<incident>.<epoch>.<repeat>.<step>.<user>" for
	// escalation steps (epoch counts the incident's (re)starts).
	Key      string `json:"key"`
	Incident string `json:"incident"`
	// Title, Service, Severity and AlertCount describe the incident as it
	// was when the step committed.
	Title      string             `json:"title"`
	Service    string             `json:"service,omitempty"`
	Severity   alertgate.Severity `json:"severity"`
	AlertCount int                `json:"alert_count"`
	Since      time.Time          `json:"since"`
	// Policy, Step (1-based; 0 for a page not made by a policy step, such
	// as a reassignment) and Repeat (0 on the first pass) say where in the
	// escalation the page was made.
	Policy string `json:"policy,omitempty"`
	Step   int    `json:"step"`
	Repeat int    `json:"repeat"`
	// User is the person paged ("" when a step pages a channel).
	User string `json:"user,omitempty"`
	// Notifier and Address are the contact: which notifier, and where to.
	Notifier string `json:"notifier"`
	Address  string `json:"address"`
	// Reason says why this person: "on call in rotation payments-primary",
	// "member of team payments", "covering alice (override ov-…)".
	Reason string `json:"reason"`
	// At is when the step committed the page.
	At time.Time `json:"at"`

	// Links are the page's links for people, filled in by the deliverer
	// just before Notify (they carry per-recipient tokens, so the outbox
	// does not keep them). Empty when alertgate has no public URL.
	Links Links `json:"-"`
}

// Links are where a page's reader acts on its incident.
type Links struct {
	Acknowledge string
	Resolve     string
	Open        string
}

// Notifier delivers one page. retry reports whether a failure is worth
// retrying (timeouts, 5xx, 429); permanent failures (4xx) are not.
type Notifier interface {
	Notify(ctx context.Context, p Page) (retry bool, err error)
}
