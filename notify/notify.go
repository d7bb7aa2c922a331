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

	// Kind says what the message is: a page ("" or KindPage), the notice
	// that a paged incident resolved (KindResolved), or a digest of many
	// pages to one contact (KindDigest, with Items).
	Kind Kind `json:"kind,omitempty"`
	// Epoch is the incident's escalation epoch when the page was made
	// (it counts the incident's (re)starts): a link or reply code of an
	// earlier epoch is superseded.
	Epoch int `json:"epoch,omitempty"`
	// Contact is the index of Notifier/Address in the user's contacts and
	// Next the contacts still to try, in order, when this one fails for
	// good (a failed page fails over to Next[0]).
	Contact int       `json:"contact,omitempty"`
	Next    []Contact `json:"next,omitempty"`

	// Links are the page's links for people, filled in by the deliverer
	// just before Notify (they carry per-recipient tokens, so the outbox
	// does not keep them). Empty when alertgate has no public URL.
	Links Links `json:"-"`
	// ReplyCode, for SMS, is the number the recipient replies with
	// ("1": "1a" acknowledges, "1r" resolves); filled in with Links. ""
	// when replies are off.
	ReplyCode string `json:"-"`
	// Items are the pages a digest stands for (KindDigest only), most
	// urgent first, each with its own Links.
	Items []Page `json:"-"`
}

// Kind is what a message to a person is about.
type Kind string

const (
	KindPage     Kind = "page"
	KindResolved Kind = "resolved"
	KindDigest   Kind = "digest"
	// KindFlapping is the one page a flapping incident sends before it
	// goes quiet: a page (links, failover, a resolution notice), headed
	// as flapping.
	KindFlapping Kind = "flapping"
)

// IsPage reports whether p asks someone to act (a page, not a notice or
// a digest).
func (p *Page) IsPage() bool { return p.Kind == "" || p.Kind == KindPage || p.Kind == KindFlapping }

// Contact is one way to reach a person: a notifier and its address.
type Contact struct {
	Notifier string `json:"notifier"`
	Address  string `json:"address"`
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
