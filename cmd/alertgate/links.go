package main

import "github.com/alertgate/alertgate/notify"

// pageLinks fills in p.Links. (Stub: the action-link work fills it in.)
func (s *server) pageLinks(p *notify.Page) error { return nil }
