package main

import (
	"context"

	"github.com/alertgate/alertgate/notify"
)

// replyCode fills in p.ReplyCode for an SMS page, so that its text says
// "reply 1a to acknowledge": a page (not a notice or a digest) that goes
// out through a twilio notifier whose replies are on, while alertgate has
// a public URL for Twilio to call back (docs/channels-sms-push.md,
// "Replies"). The code is remembered per number (smsreply.Store); a
// failure to store it fails the attempt, retryably, like the outbox's own
// Redis failures, rather than send a code that would not work.
func (s *server) replyCode(ctx context.Context, p *notify.Page) error {
	p.ReplyCode = ""
	if s.smsReplies == nil || !p.IsPage() {
		return nil
	}
	snap := s.current.Load()
	if snap.Config.PublicURL == "" {
		return nil
	}
	if _, ok := snap.Notifiers[p.Notifier].(*notify.Twilio); !ok {
		return nil
	}
	on := false
	for i := range snap.Config.Notifiers {
		if n := &snap.Config.Notifiers[i]; n.ID == p.Notifier {
			on = n.RepliesOn()
		}
	}
	if !on || !smsNumber(p.Address) {
		// An address Twilio cannot text fails in Notify, for good.
		return nil
	}
	code, err := s.smsReplies.Assign(ctx, *p)
	if err != nil {
		return err
	}
	p.ReplyCode = code
	return nil
}

// smsNumber reports whether a is an E.164 number, the only address an
// SMS page is sent to.
func smsNumber(a string) bool {
	if len(a) < 3 || len(a) > 16 || a[0] != '+' || a[1] == '0' {
		return false
	}
	for _, c := range a[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
