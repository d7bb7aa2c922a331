package redisx

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// NewID returns prefix and 96 random bits in hex: the id of a new record
// (an override, a silence) that no one can guess or shape.
func NewID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// IDFromKey returns the id a client's idempotency key stands for: prefix
// and a hash of the key within kind, so the same key makes the same
// record and no key can shape an id.
func IDFromKey(prefix, kind, key string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + key))
	return prefix + hex.EncodeToString(sum[:12])
}
