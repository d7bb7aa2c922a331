package config

import (
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alertgate/alertgate"
)

// Validate checks the whole config and returns every problem it finds as a
// *LoadError, or nil. Load calls it, and adds each problem's line; on a
// Config built in code the problems have no line. Call ApplyDefaults first
// on such a Config.
//
// Validate is the only place the rules of a config live: a Config that
// passes it builds (receivers.NewRegistry, routing.New, snapshot.Build), and
// those trust it rather than check the rules again.
func (c *Config) Validate() error {
	var ps problems
	c.validate(&ps)
	return ps.err(c.Path)
}

const typeList = "alertmanager, grafana, datadog, generic, pagerduty, heartbeat"

func (c *Config) validate(ps *problems) {
	switch {
	case c.Listen == "":
		ps.add("listen", "must not be empty")
	default:
		if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
			ps.add("listen", `%q is not host:port (for example ":8080")`, c.Listen)
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// Not quoted: a URL may carry a password.
			ps.add("public_url", "must be an absolute http:// or https:// URL")
		}
	}
	c.Redis.validate(ps)
	nonEmptySecrets(ps, "api.tokens", c.API.Tokens)
	if c.Ingest.MaxBodyBytes <= 0 {
		ps.add("ingest.max_body_bytes", "must be greater than 0")
	}
	if c.Ingest.RetryAfter <= 0 {
		ps.add("ingest.retry_after", "must be greater than 0")
	}
	c.validateEngine(ps)
	c.validateLinks(ps)
	c.validateNotifiers(ps)
	if n := len(c.API.FeedSecret.Reveal()); n > 0 && n < minFeedSecret {
		ps.add("api.feed_secret", "must be at least %d characters: anyone holding one feed URL could guess a short one and forge the rest", minFeedSecret)
	}
	c.validateIntegrations(ps)
	c.validateRoutes(ps)
	c.validateInhibitRules(ps)
	c.validateUrgency(ps)
	c.validateRetention(ps)
	c.validateOnCall(ps)
	c.validateMaintenance(ps)
	c.validateWork(ps) // postmortems.go
	c.validateAccess(ps)
}

func (r *Redis) validate(ps *problems) {
	switch {
	case r.URL == "":
		// Only a Config built in code gets here: Load sets the default.
		ps.add("redis.url", "must not be empty")
	default:
		if _, err := ParseRedisURL(r.URL.Reveal()); err != nil {
			ps.add("redis.url", "%v", err)
		}
	}
	switch {
	case r.KeyPrefix == "":
		ps.add("redis.key_prefix", "must not be empty")
	case strings.ContainsAny(r.KeyPrefix, "{}"):
		// alertgate puts its own {hash tags} into keys for Redis Cluster;
		// braces in the prefix would become the hash tag instead.
		ps.add("redis.key_prefix", `must not contain "{" or "}"`)
	case strings.ContainsFunc(r.KeyPrefix, unicode.IsSpace):
		ps.add("redis.key_prefix", "must not contain white space")
	}
	if r.Timeout <= 0 {
		ps.add("redis.timeout", "must be greater than 0")
	}
}

func (c *Config) validateIntegrations(ps *problems) {
	names := make(map[string]string)       // name → path of its first use
	routingKeys := make(map[string]string) // key → path of its first use
	for i := range c.Integrations {
		in := &c.Integrations[i]
		p := "integrations[" + strconv.Itoa(i) + "]"

		validateName(ps, p+".name", in.Name, names)
		typeOK := false
		switch in.Type {
		case TypeAlertmanager, TypeGrafana, TypeDatadog, TypeGeneric, TypePagerDuty, TypeHeartbeat:
			typeOK = true
		case "":
			ps.add(p+".type", "required: one of %s", typeList)
		default:
			ps.add(p+".type", "%q is not one of %s", in.Type, typeList)
		}
		nonEmptySecrets(ps, p+".tokens", in.Tokens)
		nonEmptySecrets(ps, p+".routing_keys", in.RoutingKeys)
		nonEmptyKeys(ps, p+".labels", in.Labels)
		checkLabels(ps, p+".labels", "labels", in.Labels, alertgate.MaxLabelValueLen)

		if in.Signature != nil {
			in.Signature.validate(ps, p+".signature")
		}
		if in.Generic != nil {
			in.Generic.validate(ps, p+".generic")
		}
		if !typeOK {
			continue // the remaining rules depend on the type
		}
		in.validateHeartbeat(ps, p) // heartbeat.go

		if in.Type == TypePagerDuty {
			if len(in.Tokens) > 0 {
				ps.add(p+".tokens", "not used by type pagerduty: senders authenticate with a routing key")
			}
			if len(in.RoutingKeys) == 0 {
				ps.add(p+".routing_keys", "type pagerduty needs at least one routing key (routing_keys or routing_keys_file)")
			}
			for j, k := range in.RoutingKeys {
				kp := p + ".routing_keys[" + strconv.Itoa(j) + "]"
				if k == "" {
					continue
				}
				// A routing key selects the integration at /v2/enqueue, so
				// it must name exactly one. Never quote the key itself.
				if first, dup := routingKeys[k.Reveal()]; dup {
					ps.add(kp, "duplicate routing key (also %s)", first)
					continue
				}
				routingKeys[k.Reveal()] = kp
			}
		} else {
			if len(in.Tokens) == 0 {
				ps.add(p+".tokens", "at least one token is required (tokens or tokens_file)")
			}
			if len(in.RoutingKeys) > 0 {
				ps.add(p+".routing_keys", "only for type pagerduty")
			}
		}

		if in.Signature != nil && !VerifiesSignatures(in.Type) {
			ps.add(p+".signature", "only for types grafana and generic")
		}
		switch {
		case in.Type == TypeGeneric && in.Generic == nil:
			ps.add(p+".generic", "required for type generic: it says where the alert fields are")
		case in.Type != TypeGeneric && in.Generic != nil:
			ps.add(p+".generic", "only for type generic")
		}
	}
}

func (s *Signature) validate(ps *problems, p string) {
	if len(s.Secrets) == 0 {
		ps.add(p+".secrets", "at least one secret is required (secrets or secrets_file)")
	}
	nonEmptySecrets(ps, p+".secrets", s.Secrets)
	// An empty header is filled in by type during loading.
	if s.Header != "" && !isHeaderName(s.Header) {
		ps.add(p+".header", "%q is not a valid HTTP header name", s.Header)
	}
	if s.TimestampHeader != "" && !isHeaderName(s.TimestampHeader) {
		ps.add(p+".timestamp_header", "%q is not a valid HTTP header name", s.TimestampHeader)
	}
	if s.MaxSkew <= 0 {
		ps.add(p+".max_skew", "must be greater than 0")
	}
}

func (g *GenericMapping) validate(ps *problems, p string) {
	if g.DedupKey == "" {
		ps.add(p+".dedup_key", "required: the path of the value that identifies an alert")
	}
	for _, f := range []struct{ name, path string }{
		{"alerts", g.Alerts},
		{"dedup_key", g.DedupKey},
		{"summary", g.Summary},
		{"severity", g.Severity},
		{"status", g.Status},
		{"labels_from", g.LabelsFrom},
		{"group_key", g.GroupKey},
		{"link", g.Link},
	} {
		if f.path == "" {
			continue
		}
		if _, err := ParsePath(f.path); err != nil {
			ps.add(p+"."+f.name, "%v", err)
		}
	}
	for _, m := range []struct {
		name  string
		paths map[string]string
	}{{"labels", g.Labels}, {"annotations", g.Annotations}} {
		nonEmptyKeys(ps, p+"."+m.name, m.paths)
		checkLabels(ps, p+"."+m.name, m.name, m.paths, 0)
		for _, k := range slices.Sorted(maps.Keys(m.paths)) {
			if _, err := ParsePath(m.paths[k]); err != nil {
				ps.add(keyPath(p+"."+m.name, k), "%v", err)
			}
		}
	}
	if len(g.ResolvedValues) > 0 && g.Status == "" {
		ps.add(p+".resolved_values", "set status too: it says where the value is")
	}
}

func (c *Config) validateRoutes(ps *problems) {
	integrations := make(map[string]bool, len(c.Integrations))
	for _, in := range c.Integrations {
		integrations[in.Name] = true
	}
	names := map[string]string{} // over the whole tree: names identify groups
	for _, ra := range c.AllRoutes() {
		r, p := ra.Route, ra.Path

		if r.Name == DefaultRouteName {
			ps.add(p+".name", "%q is reserved for the built-in catch-all route", r.Name)
		} else {
			validateName(ps, p+".name", r.Name, names)
		}

		listed := make(map[string]bool, len(r.Integrations))
		for j, name := range r.Integrations {
			ip := p + ".integrations[" + strconv.Itoa(j) + "]"
			switch {
			case !integrations[name]:
				ps.add(ip, "unknown integration %q", name)
			case listed[name]:
				ps.add(ip, "%q is listed twice", name)
			}
			listed[name] = true
		}

		nonEmptyKeys(ps, p+".match", r.Match)
		nonEmptyKeys(ps, p+".match_re", r.MatchRE)
		for _, label := range slices.Sorted(maps.Keys(r.MatchRE)) {
			if _, err := CompileAnchored(r.MatchRE[label]); err != nil {
				ps.add(keyPath(p+".match_re", label), "invalid regular expression: %v", err)
			}
		}

		if r.ReopenWindow != nil && *r.ReopenWindow < 0 {
			ps.add(p+".reopen_window", "must not be negative (0 disables reopening)")
		}
		if r.GroupWait != nil && *r.GroupWait < 0 {
			ps.add(p+".group_wait", "must not be negative (0 pages at once)")
		}

		seen := make(map[string]bool, len(r.GroupBy))
		for j, label := range r.GroupBy {
			gp := p + ".group_by[" + strconv.Itoa(j) + "]"
			switch {
			case label == "":
				ps.add(gp, "must not be empty")
			case seen[label]:
				ps.add(gp, "duplicate label %q", label)
			}
			seen[label] = true
		}
		if seen["..."] && len(r.GroupBy) > 1 {
			ps.add(p+".group_by", `"..." (all labels) must be the only entry`)
		}
	}
	c.validateRouteTree(ps)
}

// validateName checks an integration or route name and that it is unique
// among names (name → path of first use).
func validateName(ps *problems, p, name string, names map[string]string) {
	switch {
	case name == "":
		ps.add(p, "required")
	case !isName(name):
		ps.add(p, `%q is not a valid name: 1 to 63 lower-case letters, digits, "_" and "-", starting with a letter or digit`, name)
	default:
		if first, dup := names[name]; dup {
			ps.add(p, "duplicate name %q (also %s)", name, first)
			return
		}
		names[name] = p
	}
}

// isName reports whether s matches ^[a-z0-9][a-z0-9_-]{0,62}$.
func isName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// isHeaderName reports whether s is an RFC 9110 token.
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

func nonEmptySecrets(ps *problems, p string, secrets []Secret) {
	for i, s := range secrets {
		if s == "" {
			ps.add(p+"["+strconv.Itoa(i)+"]", "must not be empty")
		}
	}
}

// VerifiesSignatures reports whether integrations of type typ check body
// signatures, and so may have a signature block.
func VerifiesSignatures(typ string) bool {
	return typ == TypeGrafana || typ == TypeGeneric
}

// checkLabels holds names the config adds to every alert (labels, or the
// labels and annotations a generic mapping extracts) to the limits of
// alertgate.Alert.Validate, so that the config alone can never make every
// alert of an integration invalid: at most alertgate.MaxLabels names, each
// at most alertgate.MaxLabelNameLen bytes, and, when valueLimit > 0, each
// value valid UTF-8 of at most valueLimit bytes. what names the entries in
// messages ("labels").
func checkLabels(ps *problems, p, what string, m map[string]string, valueLimit int) {
	if len(m) > alertgate.MaxLabels {
		ps.add(p, "%d %s, more than the limit of %d", len(m), what, alertgate.MaxLabels)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		kp := keyPath(p, k)
		if len(k) > alertgate.MaxLabelNameLen {
			ps.add(kp, "name is %d bytes, longer than the limit of %d", len(k), alertgate.MaxLabelNameLen)
		}
		if valueLimit <= 0 {
			continue
		}
		// Never quote the value: it may come from a secret's variable.
		switch v := m[k]; {
		case len(v) > valueLimit:
			ps.add(kp, "value is %d bytes, longer than the limit of %d", len(v), valueLimit)
		case !utf8.ValidString(v):
			ps.add(kp, "value is not valid UTF-8")
		}
	}
}

func nonEmptyKeys(ps *problems, p string, m map[string]string) {
	if _, ok := m[""]; ok {
		ps.add(keyPath(p, ""), "names must not be empty")
	}
}

// Bounds of the engine settings: a lease shorter than a pass could take
// would let two replicas run one step's claim at once (the fencing check
// still commits it once, but both would work it out); polling faster
// than every 10ms only burns Redis.
const (
	minLease = 100 * time.Millisecond
	minPoll  = 10 * time.Millisecond
)

// minFeedSecret bounds api.feed_secret from below.
const minFeedSecret = 16

func (c *Config) validateEngine(ps *problems) {
	if c.Escalation.Lease < minLease {
		ps.add("escalation.lease", "must be at least %v (default %v)", minLease, DefaultEscalationLease)
	}
	if c.Escalation.PollInterval < minPoll {
		ps.add("escalation.poll_interval", "must be at least %v (default %v)", minPoll, DefaultEscalationPoll)
	} else if c.Escalation.PollInterval >= c.Escalation.Lease && c.Escalation.Lease >= minLease {
		ps.add("escalation.poll_interval", "must be shorter than escalation.lease (%v)", c.Escalation.Lease)
	}
	if c.Escalation.HoldRecheck < time.Second || c.Escalation.HoldRecheck > time.Hour {
		ps.add("escalation.hold_recheck", "must be between 1s and 1h (default %v)", DefaultHoldRecheck)
	}
	if c.Delivery.ClaimAfter < minLease {
		ps.add("delivery.claim_after", "must be at least %v (default %v)", minLease, DefaultDeliveryClaimAfter)
	}
	if c.Delivery.MaxAttempts < 1 {
		ps.add("delivery.max_attempts", "must be at least 1 (default %d)", DefaultDeliveryMaxAttempts)
	}
	if c.Delivery.PollInterval < minPoll {
		ps.add("delivery.poll_interval", "must be at least %v (default %v)", minPoll, DefaultDeliveryPoll)
	}
	c.Delivery.validateRetries(ps)
}
