package config

import (
	"path/filepath"
	"strconv"
	"time"
)

// Links configures the signed links every page carries: acknowledge,
// resolve and open its incident (docs/links.md). They need PublicURL and
// at least one key; without either, pages carry no links.
type Links struct {
	// Keys sign and verify the links' tokens: the first signs, all
	// verify, so a rotation puts the new key first and keeps the old one
	// until its links have expired (TTL).
	Keys []LinkKey `yaml:"keys"`
	// TTL is how long a link works after its page was sent.
	TTL time.Duration `yaml:"ttl"`
}

// LinkKey is one signing key of links.
type LinkKey struct {
	// ID names the key in every token (so it is short, and URL-safe):
	// a date such as "2026-12" makes rotations easy to follow.
	ID         string `yaml:"id"`
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

// Bounds of links.
const (
	DefaultLinkTTL = 24 * time.Hour
	MinLinkTTL     = time.Minute
	MaxLinkTTL     = 30 * 24 * time.Hour
	// MinLinkSecret is the shortest key secret: the HMAC-SHA256 output's
	// size, so the key is never the weak part. (actionlink.MinSecret; the
	// config cannot import it.)
	MinLinkSecret = 32
	// MaxLinkKeyID bounds a key id (actionlink.MaxKeyID).
	MaxLinkKeyID = 32
)

// LinksEnabled reports whether pages carry links: keys and a public URL.
func (c *Config) LinksEnabled() bool {
	return len(c.Links.Keys) > 0 && c.PublicURL != ""
}

func (c *Config) applyLinkDefaults() {
	setIfZero(&c.Links.TTL, DefaultLinkTTL)
}

// readLinkSecrets reads the secret_file twins of the link keys.
func (l *loader) readLinkSecrets(c *Config, configPath string) {
	dir := filepath.Dir(configPath)
	for i := range c.Links.Keys {
		k := &c.Links.Keys[i]
		l.readSecret(&k.Secret, k.SecretFile, "links.keys["+strconv.Itoa(i)+"].secret", dir)
	}
}

func (c *Config) validateLinks(ps *problems) {
	ids := make(map[string]string)
	for i := range c.Links.Keys {
		k := &c.Links.Keys[i]
		p := "links.keys[" + strconv.Itoa(i) + "]"
		switch {
		case k.ID == "":
			ps.add(p+".id", "required")
		case !isLinkKeyID(k.ID):
			ps.add(p+".id", "%q is not a key id: 1 to %d letters, digits, \"-\" and \"_\" (it goes into every link)", k.ID, MaxLinkKeyID)
		default:
			if first, dup := ids[k.ID]; dup {
				ps.add(p+".id", "duplicate key id %q (also %s)", k.ID, first)
			} else {
				ids[k.ID] = p + ".id"
			}
		}
		switch n := len(k.Secret.Reveal()); {
		case n == 0 && k.SecretFile == "":
			ps.add(p+".secret", "required (or secret_file): at least %d random bytes, e.g. from `openssl rand -base64 48`", MinLinkSecret)
		case n > 0 && n < MinLinkSecret:
			ps.add(p+".secret", "must be at least %d bytes: whoever guesses it can acknowledge and resolve any incident", MinLinkSecret)
		}
	}
	if len(c.Links.Keys) == 0 {
		return // links are off: their ttl does not matter
	}
	switch t := c.Links.TTL; {
	case t < MinLinkTTL:
		ps.add("links.ttl", "must be at least %s", MinLinkTTL)
	case t > MaxLinkTTL:
		ps.add("links.ttl", "must be at most 720h (30 days): a link in an old mail should not work forever")
	}
}

// isLinkKeyID reports whether id matches ^[A-Za-z0-9_-]{1,32}$.
func isLinkKeyID(id string) bool {
	if id == "" || len(id) > MaxLinkKeyID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
