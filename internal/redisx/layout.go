// Package redisx is alertgate's one way of using Redis: the key layout of
// every package (layout.go), the script kit whose shared Lua prelude every
// script starts with (script.go, prelude.lua), and the classes of Redis
// errors (errors.go).
//
// # Key layout
//
// Every key starts with the configured prefix and the layout version, then
// a hash tag naming one of Shards shards:
//
//	B = <prefix>:v1:{s<shard>}:
//
// Redis Cluster hashes only the text between the braces, so every key of a
// shard lives in one slot and a Lua script may touch any of them. A group,
// its incidents and everything about them (alerts, timeline, escalation
// steps, pages) live in the shard of the group, so every state change is one
// script on one slot. The families, after B:
//
//	seq                     string  incident id counter of the shard
//	group:<ghash>           hash    open, last (incident ids)
//	inc:<id>                hash    the incident's fields; reqs
//	inc:<id>:alerts         hash    alert key → alert JSON
//	inc:<id>:ameta          hash    alert key → "status|first|last|count|digest|req"
//	inc:<id>:timeline       list    timeline entry JSON, oldest first
//	inc:<id>:pages          hash    page key → delivery result (delivered, failed)
//	incidents               zset    incident id by triggered_at (ms)
//	status:<status>         zset    incident id by triggered_at, one per status
//	alertidx                hash    alert key → incident id (PagerDuty acks)
//	due                     zset    incident id by the time of its next escalation step (ms)
//	flapdue                 zset    flapping incident id by when it will have been stable long enough (ms)
//	outbox                  stream  pages waiting for delivery
//	later                   zset    page key by when its next attempt is due (ms): retries, throttled, circuit open
//	later:pages             hash    page key → the waiting page and its delivery state (JSON)
//	dead                    stream  pages given up on, with their last error (capped)
//	inc:<id>:notified       hash    contact → the resolution notice due to it (a page JSON), once paged
//	link:<nonce>            string  a used action link or reply code (expires with it)
//
// A few keys are not about one incident and have hash tags of their own,
// so that a script touching them names one slot:
//
//	<prefix>:v1:{oncall}:…        the on-call overrides (oncall.KeyBase)
//	<prefix>:v1:{rate:<hash>}     a notifier target's rate limit (notify, throttle.lua)
//	<prefix>:v1:{sms:<hash>}:codes  the live SMS reply codes of one phone number (smsreply)
//	<prefix>:v1:{silences}:…      the silences (silence)
//	<prefix>:v1:{hb}:…            the heartbeats' deadlines and state (heartbeat)
//
// ghash is a hash of the route and group key (GroupShard), so no label value
// can shape a key. An incident id is seq×Shards+shard (IncidentID), so the
// shard of an incident follows from its id without a lookup. The alert
// index is spread by a hash of the alert key (AlertShard).
//
// An incident's "reqs" field is the short memory of request ids that makes
// a repeated script call a no-op (see prelude.lua).
//
// Go builds keys only with Shard.Key and Shard.KeyOf. Lua scripts get the
// keys they know before the call in KEYS; keys named by an id the script
// reads or allocates itself (a new incident's) come from the prelude's K
// table, which is generated from the families below, so Go and Lua cannot
// disagree on a name.
package redisx

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Shards is how many hash tags alertgate's state is spread over: sixteen
// spread the load over a cluster's masters. The number is part of the v1
// layout: changing it would move groups, so it changes only with Version.
const Shards = 16

// Version is bumped whenever the layout changes incompatibly.
const Version = "v1"

// Family is one kind of key. Its pattern follows the shard base; "%s" in it
// stands for the id that names one key of the family.
type Family struct {
	name    string // the prelude's K.<name>
	pattern string
}

// The key families, in the order of the package doc.
var (
	Seq            = Family{"seq", "seq"}
	Group          = Family{"group", "group:%s"}
	Incident       = Family{"incident", "inc:%s"}
	IncidentAlerts = Family{"alerts", "inc:%s:alerts"}
	AlertMeta      = Family{"ameta", "inc:%s:ameta"}
	Timeline       = Family{"timeline", "inc:%s:timeline"}
	Pages          = Family{"pages", "inc:%s:pages"}
	Incidents      = Family{"incidents", "incidents"}
	Status         = Family{"status", "status:%s"}
	AlertIndex     = Family{"alertidx", "alertidx"}
	Due            = Family{"due", "due"}
	FlapDue        = Family{"flapdue", "flapdue"}
	Outbox         = Family{"outbox", "outbox"}
	Later          = Family{"later", "later"}
	LaterPages     = Family{"laterpages", "later:pages"}
	Dead           = Family{"dead", "dead"}
	Notified       = Family{"notified", "inc:%s:notified"}
	Link           = Family{"link", "link:%s"}
)

// Families lists every family; the prelude is generated from it.
var Families = []Family{
	Seq, Group, Incident, IncidentAlerts, AlertMeta, Timeline, Pages, Incidents, Status, AlertIndex, Due, Outbox,
	Later, LaterPages, Dead, Notified, Link, FlapDue,
}

// Name is the family's name in the prelude's K table.
func (f Family) Name() string { return f.name }

// HasID reports whether keys of the family are named by an id.
func (f Family) HasID() bool { return strings.Contains(f.pattern, "%s") }

// Layout is the key space of one deployment: everything under one prefix.
type Layout struct{ prefix string }

// NewLayout returns the layout of keys under prefix (redis.key_prefix).
func NewLayout(prefix string) Layout { return Layout{prefix: prefix} }

// Shard returns shard n of the layout; n must be in [0, Shards).
func (l Layout) Shard(n int) Shard {
	return Shard{n: n, base: l.prefix + ":" + Version + ":{s" + strconv.Itoa(n) + "}:"}
}

// Shard is one hash tag's part of the key space.
type Shard struct {
	n    int
	base string
}

// N is the shard's number.
func (s Shard) N() int { return s.n }

// Base is the prefix of every key of the shard, hash tag included. Scripts
// get it in their header; the prelude's K functions build on it.
func (s Shard) Base() string { return s.base }

// Key returns the key of a family that has no id (seq, incidents, …).
func (s Shard) Key(f Family) string { return s.base + f.pattern }

// KeyOf returns the key of a family named by id (group, incident, …).
func (s Shard) KeyOf(f Family, id string) string {
	before, after, _ := strings.Cut(f.pattern, "%s")
	return s.base + before + id + after
}

// GroupShard names a group and picks its shard: route and group key are
// hashed so that no label value (with '{', ':' or newlines in it) can shape
// a key.
func GroupShard(route, groupKey string) (ghash string, shard int) {
	sum := sha256.Sum256([]byte(route + "\x00" + groupKey))
	return hex.EncodeToString(sum[:16]), int(sum[0]) % Shards
}

// AlertShard picks the shard of the alert index entry of one alert key.
func AlertShard(alertKey string) int {
	sum := sha256.Sum256([]byte(alertKey))
	return int(sum[0]) % Shards
}

// IncidentShard recovers the shard from an incident id; ok is false for
// anything that is not an id alertgate could have made.
func IncidentShard(id string) (shard int, ok bool) {
	n, err := strconv.ParseUint(id, 10, 63)
	if err != nil || n == 0 || id[0] == '0' {
		return 0, false
	}
	return int(n % Shards), true
}
