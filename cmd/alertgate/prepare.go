package main

import (
	"context"

	"github.com/alertgate/alertgate/notify"
)

// preparePage completes a page just before its delivery: the signed
// action links (links.go) and, for SMS, the reply code (smsreply.go).
// Neither is kept in the outbox: both are per recipient and expire.
func (s *server) preparePage(ctx context.Context, p *notify.Page) error {
	if err := s.pageLinks(p); err != nil {
		return err
	}
	return s.replyCode(ctx, p)
}
