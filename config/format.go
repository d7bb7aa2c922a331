package config

import (
	"fmt"
	"io"
)

// fmt calls String only for the verbs %v, %s, %q, %x and %X. For any other
// verb ("%d", "%t") it reports a bad verb, and prints the bad value with
// every method switched off, the underlying string included:
// fmt.Sprintf("%d", Secret("x")) gives "%!d(config.Secret=x)". The same
// happens to a pointer printed with a verb pointers do not take: a
// *Signature inside an Integration printed with "%s" shows its secrets.
//
// So Secret implements fmt.Formatter, which fmt consults for every verb,
// and so does each struct that holds secrets: it prints itself through a
// method-less copy of its type, whose Secret fields then format themselves.

// Format prints "<secret>" whatever the verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// Aliases let each Format method below declare a local type named like the
// original (so "%#v" still says config.Signature) with the same fields and
// no methods (so formatting it does not call Format again).
type (
	configFields      = Config
	redisFields       = Redis
	apiFields         = API
	integrationFields = Integration
	signatureFields   = Signature
)

// Format prints the config as fmt would, with every secret hidden.
func (c Config) Format(f fmt.State, verb rune) {
	type Config configFields
	formatAs(f, verb, Config(c))
}

// Format prints r as fmt would, with the URL hidden.
func (r Redis) Format(f fmt.State, verb rune) {
	type Redis redisFields
	formatAs(f, verb, Redis(r))
}

// Format prints a as fmt would, with the tokens hidden.
func (a API) Format(f fmt.State, verb rune) {
	type API apiFields
	formatAs(f, verb, API(a))
}

// Format prints in as fmt would, with its secrets hidden.
func (in Integration) Format(f fmt.State, verb rune) {
	type Integration integrationFields
	formatAs(f, verb, Integration(in))
}

// Format prints s as fmt would, with the secrets hidden.
func (s Signature) Format(f fmt.State, verb rune) {
	type Signature signatureFields
	formatAs(f, verb, Signature(s))
}

// formatAs prints v with the verb and flags that f was given.
func formatAs(f fmt.State, verb rune, v any) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), v)
}
