package config

import (
	"fmt"
	"strings"
)

// expandEnv replaces each ${NAME} in s with getenv(NAME) and each "$$" with
// a single "$". A "$" followed by anything else is kept as it is, so paths
// like "$.alert.id" and passwords like "pa$word" need no escaping.
//
// It returns the names of referenced variables that are unset or empty
// (getenv cannot tell the two apart, and an empty secret is never what the
// operator meant) and an error for a malformed "${". Errors never quote s,
// which may be a secret.
func expandEnv(s string, getenv func(string) string) (out string, unset []string, err error) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", nil, fmt.Errorf(`unterminated "${" at byte %d (write "$$" for a literal "$")`, i)
			}
			name := s[i+2 : i+2+end]
			if !isEnvName(name) {
				return "", nil, fmt.Errorf(`bad variable reference at byte %d: want ${NAME}, NAME made of letters, digits and "_" (write "$$" for a literal "$")`, i)
			}
			v := getenv(name)
			if v == "" {
				unset = append(unset, name)
			}
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), unset, nil
}

// isEnvName reports whether s matches [A-Za-z_][A-Za-z0-9_]*.
func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
