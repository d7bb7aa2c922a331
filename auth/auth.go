// Package auth decides who is calling alertgate and what they may do
// (docs/access.md): API tokens with scopes and an owner, people logged in
// with a password from the config (bcrypt) into a session kept in Redis,
// and people named by a trusted authenticating proxy.
//
// Policy is one config's rules (built per snapshot); Store keeps the
// sessions and the login counters in Redis, shared by every replica.
// httpapi resolves each request to a Principal with them.
package auth

import (
	"context"
	"slices"

	"github.com/alertgate/alertgate/config"
)

// Kind is how a caller proved who they are.
type Kind string

const (
	// KindToken: a bearer API token.
	KindToken Kind = "token"
	// KindSession: a session cookie from a password login (or a login
	// through the proxy).
	KindSession Kind = "session"
	// KindProxy: the trusted proxy's header, without a session.
	KindProxy Kind = "proxy"
)

// Principal is the caller of one request.
type Principal struct {
	Kind Kind
	// Name is the user id; "" for a token without an owner.
	Name string
	// Scopes are what the caller may do (config.ScopeRead …); Has
	// applies the implications.
	Scopes []string
	// CSRF is the token that the unsafe requests of this session must
	// carry (a form field or the X-CSRF-Token header); "" unless Kind is
	// KindSession.
	CSRF string
}

// Has reports whether p may do what scope allows: admin includes every
// scope, write includes read.
func (p Principal) Has(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope || s == config.ScopeAdmin || (s == config.ScopeWrite && scope == config.ScopeRead) {
			return true
		}
	}
	return false
}

// Actor is how the timeline names the caller: "user:<id>", or "api" for a
// token without an owner.
func (p Principal) Actor() string {
	if p.Name == "" {
		return "api"
	}
	return "user:" + p.Name
}

// personScopes are the scopes of a logged-in person.
func personScopes(admin bool) []string {
	s := []string{config.ScopeRead, config.ScopeWrite}
	if admin {
		s = append(s, config.ScopeAdmin)
	}
	return s
}

// fullAccess are the scopes of a plain api.tokens string.
var fullAccess = slices.Clone(config.Scopes)

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal WithPrincipal put in ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
