// Package config reads alertgate's one YAML file: integrations, routes,
// Redis, the HTTP API, and who is on call (users, teams, rotations,
// escalation policies; docs/oncall.md). Loading is strict (unknown keys are errors) and
// reports every problem at once, each with the file and line.
//
// LoadFile (or Load for bytes) applies the defaults, decodes the file over
// them, expands ${NAME} from the environment in values, reads the *_file
// twins of secret fields and calls Validate. Problems come back in one
// *LoadError, one per line, formatted "FILE:LINE: field.path: message".
// A Config built in code takes ApplyDefaults and then Validate.
//
// Secrets are of type Secret, which never prints, marshals or logs its
// value; Reveal is the only way to it.
package config

import (
	"time"
)

// Config is the whole file.
type Config struct {
	// Listen is the HTTP listen address, e.g. ":8080".
	Listen string `yaml:"listen"`
	// PublicURL is how people and senders reach alertgate; used in links.
	PublicURL string `yaml:"public_url"`
	Redis     Redis  `yaml:"redis"`
	API       API    `yaml:"api"`
	Ingest    Ingest `yaml:"ingest"`
	// Escalation tunes the escalation engine every replica runs.
	Escalation Escalation `yaml:"escalation"`
	// Delivery tunes the loop that hands pages to notifiers.
	Delivery Delivery `yaml:"delivery"`
	Links    Links    `yaml:"links"`

	// Auth configures logins, sessions and SSO behind a proxy (access.go).
	Auth Auth `yaml:"auth"`

	Integrations []Integration `yaml:"integrations"`
	Routes       []Route       `yaml:"routes"`
	// InhibitRules mute the pages of some alerts while others fire.
	InhibitRules []InhibitRule `yaml:"inhibit_rules"`
	// Retention says how long resolved incidents are kept whole.
	Retention Retention `yaml:"retention"`

	// Notifiers are the outbound channels (Slack, e-mail, SMS, …);
	// "console" is built in.
	Notifiers []Notifier `yaml:"notifiers"`

	Users              []User             `yaml:"users"`
	Teams              []Team             `yaml:"teams"`
	Rotations          []Rotation         `yaml:"rotations"`
	EscalationPolicies []EscalationPolicy `yaml:"escalation_policies"`
	// DefaultEscalationPolicy serves the built-in default route and every
	// route that names no policy. Empty: such incidents page nobody (the
	// timeline and metrics say so).
	DefaultEscalationPolicy string `yaml:"default_escalation_policy"`
	// MaintenanceWindows hold back the pages of matching alerts at
	// recurring times (docs/silences.md).
	MaintenanceWindows []MaintenanceWindow `yaml:"maintenance_windows"`
	// Reports tunes the reports API (docs/measures.md).
	Reports Reports `yaml:"reports"`
	// StatusUpdates and Postmortems: people's work on incidents (postmortems.go).
	StatusUpdates StatusUpdates `yaml:"status_updates"`
	Postmortems   Postmortems   `yaml:"postmortems"`

	// Path is the file the config came from ("" when loaded from bytes).
	Path string `yaml:"-"`
	// lineOf finds the line of a field path in the file (nil for a config
	// built in code), for problems found after loading (Problems).
	lineOf func(field string) int
}

// Redis says where state lives.
type Redis struct {
	// URL is one of
	//   redis://[user:password@]host:port[/db]    single server (rediss:// for TLS)
	//   redis+sentinel://[user:password@]host:port[,host:port…]/master[/db]
	//   redis+cluster://[user:password@]host:port[,host:port…]
	// (rediss+sentinel:// and rediss+cluster:// for TLS); see ParseRedisURL.
	// It is a Secret because it may carry a password.
	URL     Secret `yaml:"url"`
	URLFile string `yaml:"url_file"`
	// KeyPrefix starts every key alertgate writes, so several deployments
	// can share one Redis. Must not contain '{' or '}'.
	KeyPrefix string `yaml:"key_prefix"`
	// Timeout bounds each Redis command (dial, read, write).
	Timeout time.Duration `yaml:"timeout"`
}

// API configures the JSON API under /api/v1.
type API struct {
	// Tokens are the bearer tokens accepted by the API; several allow rotation.
	Tokens     []Secret `yaml:"tokens"`
	TokensFile string   `yaml:"tokens_file"`
	// ScopedTokens are the api.tokens entries written as mappings, with
	// scopes and an owner (access.go); the plain ones above have full access.
	ScopedTokens []APIToken `yaml:"-"`
	// FeedSecret signs the tokens in iCal feed URLs (calendar apps cannot
	// send a bearer token). Empty: the feeds are off. Changing it revokes
	// every feed URL handed out.
	FeedSecret     Secret `yaml:"feed_secret"`
	FeedSecretFile string `yaml:"feed_secret_file"`
}

// Ingest holds limits shared by every receiver.
type Ingest struct {
	// MaxBodyBytes caps a request body; larger bodies get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// RetryAfter is what a 503 tells senders to wait.
	RetryAfter time.Duration `yaml:"retry_after"`
}

// Escalation tunes the escalation engine.
type Escalation struct {
	// Lease is how long a replica holds a step it claimed. A replica that
	// dies holding one delays that step by at most this long.
	Lease time.Duration `yaml:"lease"`
	// PollInterval is how often each replica looks for due steps: steps
	// run at most this late (plus the time a pass takes).
	PollInterval time.Duration `yaml:"poll_interval"`
	// HoldRecheck is how soon a step held back (by inhibition, or a hold
	// that may end early: a silence expired by hand) is looked at again.
	HoldRecheck time.Duration `yaml:"hold_recheck"`
}

// Delivery tunes page delivery from the outbox.
type Delivery struct {
	// ClaimAfter: a page read by a replica that then died or stalled is
	// taken over by any replica after this long.
	ClaimAfter time.Duration `yaml:"claim_after"`
	// MaxAttempts caps deliveries of one page before it is recorded failed.
	MaxAttempts int `yaml:"max_attempts"`
	// PollInterval is how often each replica looks for pages to deliver.
	PollInterval time.Duration `yaml:"poll_interval"`
	// RetryInitial is the pause after a first failed attempt, doubling
	// per attempt up to RetryMax, jittered, never shorter than a target's
	// Retry-After.
	RetryInitial time.Duration `yaml:"retry_initial"`
	RetryMax     time.Duration `yaml:"retry_max"`
	// GiveUpAfter bounds how long a page waits for one contact (retries,
	// throttling, an open breaker) before it is dead-lettered and fails
	// over to the next contact, then the next step.
	GiveUpAfter time.Duration `yaml:"give_up_after"`
	// BreakerFailures failures in a row open a target's breaker for
	// BreakerOpenFor, then one probe decides.
	BreakerFailures int           `yaml:"breaker_failures"`
	BreakerOpenFor  time.Duration `yaml:"breaker_open_for"`
	// PerTarget bounds the deliveries to one target at once.
	PerTarget int `yaml:"per_target"`
}

// Integration types.
const (
	TypeAlertmanager = "alertmanager"
	TypeGrafana      = "grafana"
	TypeDatadog      = "datadog"
	TypeGeneric      = "generic"
	TypePagerDuty    = "pagerduty"
	TypeHeartbeat    = "heartbeat"
)

// Integration is one sender endpoint: POST /hooks/{name}, or for type
// pagerduty, POST /v2/enqueue with one of its routing keys.
type Integration struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// Tokens authenticate requests (Authorization: Bearer, or ?token=).
	// Several allow rotation. Not used by type pagerduty.
	Tokens     []Secret `yaml:"tokens"`
	TokensFile string   `yaml:"tokens_file"`
	// RoutingKeys select this integration at /v2/enqueue (type pagerduty only).
	RoutingKeys     []Secret `yaml:"routing_keys"`
	RoutingKeysFile string   `yaml:"routing_keys_file"`
	// Service is the default service of alerts that carry none.
	Service string `yaml:"service"`
	// Labels are added to every alert that lacks them.
	Labels map[string]string `yaml:"labels"`
	// Signature, when set, requires an HMAC-SHA256 signature of the body
	// (types grafana and generic).
	Signature *Signature `yaml:"signature"`
	// Generic maps a JSON body onto alerts (type generic only).
	Generic *GenericMapping `yaml:"generic"`
	// Interval, Grace and Severity make a heartbeat (type heartbeat only;
	// heartbeat.go): a ping missing for Interval + Grace opens an incident
	// of Severity (default critical).
	Interval time.Duration `yaml:"interval"`
	Grace    time.Duration `yaml:"grace"`
	Severity string        `yaml:"severity"`
}

// Signature configures HMAC-SHA256 body signatures:
// hex(HMAC-SHA256(secret, [timestamp + ":"] + body)), as Grafana sends them.
type Signature struct {
	// Secrets: any one may sign (rotation).
	Secrets     []Secret `yaml:"secrets"`
	SecretsFile string   `yaml:"secrets_file"`
	// Header carries the signature; a "sha256=" prefix is accepted.
	Header string `yaml:"header"`
	// TimestampHeader, when set, carries Unix seconds that are part of the MAC.
	TimestampHeader string `yaml:"timestamp_header"`
	// MaxSkew is the replay window for the timestamp.
	MaxSkew time.Duration `yaml:"max_skew"`
}

// GenericMapping says where a generic JSON body keeps each alert field.
// Paths are dot-separated ("alert.labels.host", "items[0].id"); a leading
// "$." is allowed.
type GenericMapping struct {
	// Alerts, when set, points at an array; each element is one alert and
	// the other paths are relative to it. Otherwise the body is one alert.
	Alerts string `yaml:"alerts"`
	// DedupKey is required: it becomes the fingerprint.
	DedupKey string `yaml:"dedup_key"`
	Summary  string `yaml:"summary"`
	Severity string `yaml:"severity"`
	Status   string `yaml:"status"`
	// ResolvedValues are the status values that mean resolved; anything
	// else fires.
	ResolvedValues []string `yaml:"resolved_values"`
	// Labels maps a label name to a path.
	Labels map[string]string `yaml:"labels"`
	// LabelsFrom points at an object whose string values all become labels.
	LabelsFrom string `yaml:"labels_from"`
	// Annotations maps an annotation name to a path.
	Annotations map[string]string `yaml:"annotations"`
	// GroupKey optionally points at the sender's group key.
	GroupKey string `yaml:"group_key"`
	// Link optionally points at a URL about the alert.
	Link string `yaml:"link"`
}

// Route decides how matching alerts group into incidents. Routes are tried
// in order; the first match wins, unless it has Continue. A route's Routes
// are tried once it matches, and inherit every setting they leave out;
// docs/routing.md has the rules. An alert no route matches goes to the
// built-in route "default", which groups by the sender's group key.
type Route struct {
	Name string `yaml:"name"`
	// Integrations, when set, limits the route to alerts from these.
	Integrations []string `yaml:"integrations"`
	// Match requires labels to equal these values.
	Match map[string]string `yaml:"match"`
	// MatchRE requires labels to match these anchored regular expressions.
	MatchRE map[string]string `yaml:"match_re"`
	// Matchers are Alertmanager matchers (package matchers), such as
	// `severity=~"critical|error"`; each entry may hold a comma-separated
	// list. All must hold, besides Match and MatchRE.
	Matchers []string `yaml:"matchers"`
	// Continue: after this route matched, its later siblings are tried
	// too, so an alert may open incidents on several routes.
	Continue bool `yaml:"continue"`
	// Routes are tried, in order, on alerts this route matched; when none
	// matches, this route takes the alert itself.
	Routes []Route `yaml:"routes"`
	// GroupBy lists the labels whose values make the group key. Empty:
	// the sender's group key, or else each alert is its own group.
	// ["..."] groups by all labels.
	GroupBy []string `yaml:"group_by"`
	// Service overrides the incident's service.
	Service string `yaml:"service"`
	// AutoResolve resolves the incident when all its alerts resolved.
	// Default true.
	AutoResolve *bool `yaml:"auto_resolve"`
	// ReopenWindow: an alert that fires again within this long after its
	// incident resolved reopens it instead of opening a new one. 0 disables.
	ReopenWindow *time.Duration `yaml:"reopen_window"`
	// EscalationPolicy names the policy of the route's incidents; empty
	// takes default_escalation_policy.
	EscalationPolicy string `yaml:"escalation_policy"`
	// GroupWait delays the first page after an incident opens, so alerts
	// arriving together give one page. Default 30s; 0 pages at once.
	GroupWait *time.Duration `yaml:"group_wait"`
	// Team owns the route's incidents.
	Team string `yaml:"team"`
	// Urgency is high (default: pages at once, day and night) or low: a
	// low-urgency incident outside SupportHours is recorded and starts
	// paging when support hours begin (urgency.go).
	Urgency      string        `yaml:"urgency"`
	SupportHours *SupportHours `yaml:"support_hours"`
	// Flap detects flapping alerts (urgency.go).
	Flap *Flap `yaml:"flap"`
}
