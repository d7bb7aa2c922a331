package main

import (
	"context"

	"github.com/alertgate/alertgate/notify"
)

// replyCode fills in p.ReplyCode for SMS pages. (Stub: the SMS-reply work
// fills it in.)
func (s *server) replyCode(ctx context.Context, p *notify.Page) error { return nil }
