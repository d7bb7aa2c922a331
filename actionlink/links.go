package actionlink

import (
	"strings"

	"github.com/alertgate/alertgate/notify"
)

// Path is where links live under the public URL: <public_url>/a/<token>.
const Path = "/a/"

// Person is who acts through p's links: its user, or "#<notifier>" for a
// page to a channel (a Slack channel's message is for whoever reads it;
// the timeline then says "acknowledged by #ops-slack via link").
func Person(p notify.Page) string {
	if p.User != "" {
		return p.User
	}
	return "#" + p.Notifier
}

// PageLinks returns the links of one page's recipient. A page gets all
// three; a notice that the incident resolved gets only Open (there is
// nothing left to do). Every token has its own nonce.
func (s *Signer) PageLinks(publicURL string, p notify.Page) (notify.Links, error) {
	base := strings.TrimRight(publicURL, "/") + Path
	c := Claims{Incident: p.Incident, User: Person(p), Epoch: p.Epoch, Step: p.Step}
	link := func(a Action) (string, error) {
		c.Action, c.Nonce = a, ""
		tok, err := s.Sign(c)
		return base + tok, err
	}
	var l notify.Links
	var err error
	if l.Open, err = link(Open); err != nil {
		return notify.Links{}, err
	}
	if !p.IsPage() {
		// A notice, a status update, a reminder: nothing to act on from
		// the message itself, only the way to look.
		return l, nil
	}
	if l.Acknowledge, err = link(Acknowledge); err != nil {
		return notify.Links{}, err
	}
	if l.Resolve, err = link(Resolve); err != nil {
		return notify.Links{}, err
	}
	return l, nil
}
