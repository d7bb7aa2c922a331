package main

import (
	"crypto/rand"
	"encoding/base64"
	"sync"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/notify"
)

// pageLinks fills in p.Links from the serving snapshot's signer and public
// URL (docs/links.md): a page gets acknowledge, resolve and open, a notice
// that the incident resolved only open. Without links configured (no keys
// or no public_url) pages carry none. A digest's own record names no
// incident: the deliverer prepares each of its items, which get theirs.
func (s *server) pageLinks(p *notify.Page) error {
	p.Links = notify.Links{}
	snap := s.current.Load()
	if snap.Links == nil || p.Incident == "" || p.Kind == notify.KindDigest {
		return nil
	}
	links, err := snap.Links.PageLinks(snap.Config.PublicURL, *p)
	if err != nil {
		return err
	}
	p.Links = links
	return nil
}

// devLinkKey is the signing key of --dev when its config has none: made
// once per process, so a SIGHUP reload keeps the links already sent
// working, and a restart (which forgets every incident anyway, with the
// embedded Redis) ends them.
var devLinkKey = sync.OnceValue(func() config.LinkKey {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return config.LinkKey{ID: "dev", Secret: config.Secret(base64.RawURLEncoding.EncodeToString(b))}
})

// withDevLinkKey gives a dev config without link keys the process's own.
func withDevLinkKey(cfg *config.Config) {
	if len(cfg.Links.Keys) == 0 {
		cfg.Links.Keys = []config.LinkKey{devLinkKey()}
	}
}
