package snapshot

import (
	"github.com/alertgate/alertgate/actionlink"
	"github.com/alertgate/alertgate/config"
)

// buildLinks returns the signer of the config's links, or nil when pages
// carry none (no keys, or no public URL to link to). Each snapshot has its
// own, so a reload that adds or removes a key rotates at once.
func buildLinks(cfg *config.Config) (*actionlink.Signer, error) {
	if !cfg.LinksEnabled() {
		return nil, nil
	}
	keys := make([]actionlink.Key, len(cfg.Links.Keys))
	for i, k := range cfg.Links.Keys {
		keys[i] = actionlink.Key{ID: k.ID, Secret: []byte(k.Secret.Reveal())}
	}
	return actionlink.NewSigner(keys, cfg.Links.TTL, nil)
}
