package config

import (
	"crypto/subtle"
	"log/slog"
)

// Secret is a string that never prints: String, LogValue and the JSON and
// YAML marshallers all give "<secret>". Reveal is the only way out.
type Secret string

const redacted = "<secret>"

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Secret) MarshalYAML() (any, error)    { return redacted, nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (s Secret) Reveal() string             { return string(s) }

// Equal compares in constant time (for equal lengths).
func (s Secret) Equal(other string) bool {
	return subtle.ConstantTimeCompare([]byte(s), []byte(other)) == 1
}

// MatchAny reports whether candidate equals one of secrets. Every secret is
// compared, so the time taken does not tell which one matched.
func MatchAny(secrets []Secret, candidate string) bool {
	found := 0
	for _, s := range secrets {
		found |= subtle.ConstantTimeCompare([]byte(s), []byte(candidate))
	}
	return found == 1 && candidate != ""
}
