package config

import (
	"fmt"
	"regexp"
	"time"
)

// Defaults, applied to whatever the file leaves out.
const (
	DefaultListen                 = ":8080"
	DefaultRedisURL               = "redis://127.0.0.1:6379/0"
	DefaultKeyPrefix              = "alertgate"
	DefaultRedisTimeout           = 3 * time.Second
	DefaultMaxBodyBytes           = 1 << 20
	DefaultRetryAfter             = 5 * time.Second
	DefaultGenericSignatureHeader = "X-Alertgate-Signature"
	DefaultGrafanaSignatureHeader = "X-Grafana-Alerting-Signature"
	DefaultMaxSkew                = 5 * time.Minute
	DefaultAutoResolve            = true
	DefaultReopenWindow           = 5 * time.Minute
	DefaultEscalationLease        = 30 * time.Second
	DefaultEscalationPoll         = 250 * time.Millisecond
	DefaultHoldRecheck            = 30 * time.Second
	DefaultDeliveryClaimAfter     = 30 * time.Second
	DefaultDeliveryMaxAttempts    = 5
	DefaultDeliveryPoll           = 250 * time.Millisecond
	DefaultGroupWait              = 30 * time.Second
)

// DefaultRouteName is the built-in catch-all route; no configured route may
// take the name.
const DefaultRouteName = "default"

// BuiltinRoute is the built-in catch-all route that takes every alert no
// configured route matches: every setting at its default (the defaults of
// a configured route that leaves them out), no group_by, so it groups by
// the sender's own group key.
func BuiltinRoute() Route {
	return Route{Name: DefaultRouteName}
}

// ApplyDefaults fills every field left at its zero value with its default.
// Load does this itself; call it on a Config built in code before Validate.
//
// Load treats an explicit zero in the file ("timeout: 0") as a value to be
// validated, not as "use the default"; ApplyDefaults cannot tell the two
// apart and fills both.
func (c *Config) ApplyDefaults() {
	c.applyBaseDefaults()
	for i := range c.Integrations {
		if s := c.Integrations[i].Signature; s != nil && s.MaxSkew == 0 {
			s.MaxSkew = DefaultMaxSkew
		}
	}
	c.applyDerivedDefaults()
}

// applyBaseDefaults sets the defaults of scalar fields. Load calls it on
// the empty Config before decoding, so the file overrides them, explicit
// zeros included.
func (c *Config) applyBaseDefaults() {
	setIfZero(&c.Listen, DefaultListen)
	setIfZero(&c.Redis.KeyPrefix, DefaultKeyPrefix)
	setIfZero(&c.Redis.Timeout, DefaultRedisTimeout)
	setIfZero(&c.Ingest.MaxBodyBytes, DefaultMaxBodyBytes)
	setIfZero(&c.Ingest.RetryAfter, DefaultRetryAfter)
	setIfZero(&c.Escalation.Lease, DefaultEscalationLease)
	setIfZero(&c.Escalation.PollInterval, DefaultEscalationPoll)
	setIfZero(&c.Delivery.ClaimAfter, DefaultDeliveryClaimAfter)
	setIfZero(&c.Delivery.MaxAttempts, DefaultDeliveryMaxAttempts)
	setIfZero(&c.Delivery.PollInterval, DefaultDeliveryPoll)
	setIfZero(&c.Escalation.HoldRecheck, DefaultHoldRecheck)
	setIfZero(&c.Retention.KeepResolved, DefaultKeepResolved)
	c.Delivery.applyDefaults()
	c.applyLinkDefaults()
}

// applyDerivedDefaults sets the defaults that depend on other fields or
// live in list elements, where the zero value can only mean "not set".
func (c *Config) applyDerivedDefaults() {
	if c.Redis.URL == "" && c.Redis.URLFile == "" {
		c.Redis.URL = DefaultRedisURL
	}
	for i := range c.Integrations {
		in := &c.Integrations[i]
		if in.Signature == nil || in.Signature.Header != "" {
			continue
		}
		switch in.Type {
		case TypeGeneric:
			in.Signature.Header = DefaultGenericSignatureHeader
		case TypeGrafana:
			in.Signature.Header = DefaultGrafanaSignatureHeader
		}
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		if r.AutoResolve == nil {
			v := DefaultAutoResolve
			r.AutoResolve = &v
		}
		if r.ReopenWindow == nil {
			v := DefaultReopenWindow
			r.ReopenWindow = &v
		}
		if r.GroupWait == nil {
			v := DefaultGroupWait
			r.GroupWait = &v
		}
	}
}

// newSignature is the Signature the decoder fills: defaults first, so an
// explicit "max_skew: 0" is seen (and refused) rather than replaced.
func newSignature() *Signature {
	return &Signature{MaxSkew: DefaultMaxSkew}
}

func setIfZero[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// AutoResolveOn reports whether the route resolves an incident once all its
// alerts resolved (default true).
func (r Route) AutoResolveOn() bool {
	if r.AutoResolve == nil {
		return DefaultAutoResolve
	}
	return *r.AutoResolve
}

// Reopen is the route's reopen window (default 5m; 0 disables reopening).
func (r Route) Reopen() time.Duration {
	if r.ReopenWindow == nil {
		return DefaultReopenWindow
	}
	return *r.ReopenWindow
}

// FirstPageDelay is the route's group_wait: how long after an incident
// opens its first escalation step waits, so that alerts arriving together
// make one page (default 30s; 0 pages at once).
func (r Route) FirstPageDelay() time.Duration {
	if r.GroupWait == nil {
		return DefaultGroupWait
	}
	return *r.GroupWait
}

// PolicyOf is the id of the escalation policy of r's incidents: the route's
// own, or else default_escalation_policy. The built-in default route names
// none, so it takes the default. "" means the incidents page nobody.
func (c *Config) PolicyOf(r Route) string {
	if r.EscalationPolicy != "" {
		return r.EscalationPolicy
	}
	return c.DefaultEscalationPolicy
}

// Regexps compiles MatchRE, each expression anchored at both ends: "db.*"
// must match the whole label value. Validate has already checked that they
// compile; callers compile once per config, not per alert.
func (r Route) Regexps() (map[string]*regexp.Regexp, error) {
	if len(r.MatchRE) == 0 {
		return nil, nil
	}
	res := make(map[string]*regexp.Regexp, len(r.MatchRE))
	for label, expr := range r.MatchRE {
		re, err := CompileAnchored(expr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyPath("match_re", label), err)
		}
		res[label] = re
	}
	return res, nil
}

// CompileAnchored compiles a match_re expression anchored at both ends,
// "^(?:expr)$", so that it must match the whole label value. The bare
// expression is compiled first: "a)|(b" would otherwise close the group
// early and escape the anchors. Validate and routing both compile through
// it.
func CompileAnchored(expr string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(expr); err != nil {
		return nil, err
	}
	return regexp.Compile("^(?:" + expr + ")$")
}
