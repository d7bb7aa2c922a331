// Package dedupe keeps alert groups and incidents in Redis. Every state
// change is one Lua script whose keys share one hash tag, so several
// alertgate replicas over one Redis (or a Redis Cluster) behave like one.
package dedupe

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
)

var (
	//go:embed ingest.lua
	ingestSource string
	ingestScript = redisx.NewScript("dedupe: ingest", ingestSource)

	//go:embed transition.lua
	transitionSource string
	transitionScript = redisx.NewScript("dedupe: transition", transitionSource)

	//go:embed alertidx.lua
	alertIndexSource string
	alertIndexScript = redisx.NewScript("dedupe: alert index", alertIndexSource)
)

// Store is the Redis store of groups and incidents.
type Store struct {
	rdb    redis.UniversalClient
	layout redisx.Layout
}

// NewStore returns a store whose keys all start with prefix.
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, layout: redisx.NewLayout(prefix)}
}

// Check loads the store's scripts, so a script that does not compile (or a
// Redis that refuses scripts) shows at start, not at the first alert.
func (s *Store) Check(ctx context.Context) error {
	for _, sc := range []*redisx.Script{ingestScript, transitionScript, alertIndexScript} {
		if err := sc.Load(ctx, s.rdb); err != nil {
			return err
		}
	}
	return nil
}

// Group says where a batch of alerts goes and how its incident behaves.
type Group struct {
	Route    string
	Key      string
	Service  string // for a new incident; "" takes the first alert's
	Settings Settings
}

// Settings are the per-route incident rules.
type Settings struct {
	AutoResolve  bool
	ReopenWindow time.Duration
	// Policy is the escalation policy a new or reopened incident starts
	// ("" for none: the incident is recorded and pages nobody), and
	// GroupWait how long after it opens the first step falls due.
	Policy    string
	GroupWait time.Duration
	// FlapTransitions and FlapWindow detect flapping: an alert that
	// changes state (fires, resolves) more than FlapTransitions times
	// within FlapWindow marks its incident flapping. A flapping incident
	// stays open (it is not auto-resolved) until it has been stable for
	// FlapWindow; the escalation gate pages it once, then holds it.
	// FlapTransitions 0: no flap detection.
	FlapTransitions int
	FlapWindow      time.Duration
}

// Outcome is what a batch did to its group's incident.
type Outcome string

const (
	Opened   Outcome = "opened"   // a new incident
	Reopened Outcome = "reopened" // a resolved incident fired again within the reopen window
	Updated  Outcome = "updated"  // joined or refreshed an open incident
	Resolved Outcome = "resolved" // the batch resolved the incident's last firing alert
	Stale    Outcome = "stale"    // only resolutions, for no open incident
)

// Result reports what one Ingest committed.
type Result struct {
	IncidentID string
	Outcome    Outcome
	Status     alertgate.IncidentStatus
	New        int // alerts the incident had not seen
	Duplicates int // same alert, same status, same content
	Changed    int // status or content changed
	Stale      int // resolutions of alerts no incident knows
}

// Delivery is what one Ingest commits: alerts of one group.
type Delivery struct {
	Alerts []alertgate.Alert
	// Truncated counts alerts the sender dropped (reported on the timeline).
	Truncated int
	// Actor is who sent them, for the timeline ("integration:am").
	Actor string
	// RequestID names the delivery: a repeated Ingest with the same id
	// changes nothing and returns the first result. "" gets a fresh one.
	RequestID string
	Now       time.Time
}

// Ingest applies a delivery of alerts, all of one group, in one atomic
// step. It returns only after Redis committed them.
func (s *Store) Ingest(ctx context.Context, g Group, d Delivery) (Result, error) {
	if len(d.Alerts) == 0 && d.Truncated == 0 {
		return Result{Outcome: Stale}, nil
	}
	ghash, n := redisx.GroupShard(g.Route, g.Key)
	shard := s.layout.Shard(n)
	service, title := g.Service, ""
	for i := range d.Alerts {
		if d.Alerts[i].Status == alertgate.Firing {
			if service == "" {
				service = d.Alerts[i].Service
			}
			title = d.Alerts[i].Summary
			break
		}
	}
	// The named arguments of ingest.lua, then what it needs only to open
	// an incident, then the alerts.
	h := header(shard, d.Now, d.RequestID, d.Actor).
		Int("shard", int64(n)).
		Bool("auto_resolve", g.Settings.AutoResolve).
		Int("reopen_ms", g.Settings.ReopenWindow.Milliseconds()).
		Int("truncated", int64(d.Truncated)).
		Str("policy", g.Settings.Policy).
		Int("group_wait_ms", g.Settings.GroupWait.Milliseconds()).
		Int("flap_n", int64(g.Settings.FlapTransitions)).
		Int("flap_ms", g.Settings.FlapWindow.Milliseconds())
	opening := redisx.NewObject().Str("route", g.Route).Str("group_key", g.Key).Str("ghash", ghash).
		Str("service", service).Str("title", title).Bytes()
	args := make([]any, 0, 1+5*len(d.Alerts))
	args = append(args, opening)
	for i := range d.Alerts {
		a := &d.Alerts[i]
		body, err := json.Marshal(a)
		if err != nil {
			return Result{}, fmt.Errorf("dedupe: encode alert %s: %w", a, err)
		}
		args = append(args, a.Key(), string(a.Status), string(a.Severity), digest(body), body)
	}
	keys := []string{shard.KeyOf(redisx.Group, ghash), shard.Key(redisx.Seq), shard.Key(redisx.Incidents)}
	reply, err := ingestScript.Run(ctx, s.rdb, keys, h, args...)
	if err != nil {
		return Result{}, err
	}
	r := ingestScript.ReadReply(reply, 7)
	res := Result{
		IncidentID: r.Str(0),
		Outcome:    Outcome(r.Str(1)),
		New:        r.Int(2),
		Duplicates: r.Int(3),
		Changed:    r.Int(4),
		Stale:      r.Int(5),
		Status:     alertgate.IncidentStatus(r.Str(6)),
	}
	return res, r.Err()
}

// header starts the named arguments every script takes; "" gets a fresh
// request id.
func header(shard redisx.Shard, now time.Time, req, actor string) *redisx.Header {
	if req == "" {
		req = redisx.RequestID()
	}
	return redisx.NewHeader(shard, now, req, actor)
}

// IndexAlerts records which incident of route holds each alert, so a
// sender that names only an alert (PagerDuty's acknowledge) can find its
// incidents: one per route it took. It runs after Ingest committed and is
// idempotent; the index is a lookup aid, not state.
func (s *Store) IndexAlerts(ctx context.Context, route, incidentID string, alertKeys []string) error {
	if incidentID == "" || len(alertKeys) == 0 {
		return nil
	}
	var byShard [redisx.Shards][]any
	for _, k := range alertKeys {
		n := redisx.AlertShard(k)
		byShard[n] = append(byShard[n], k)
	}
	now := time.Now()
	for n, keys := range byShard {
		if len(keys) == 0 {
			continue
		}
		shard := s.layout.Shard(n)
		h := redisx.NewHeader(shard, now, redisx.RequestID(), "").Str("route", route).Str("id", incidentID)
		if _, err := alertIndexScript.Run(ctx, s.rdb, []string{shard.Key(redisx.AlertIndex)}, h, keys...); err != nil {
			return err
		}
	}
	return nil
}

// IncidentsForAlert returns the incidents that last held the alert, one
// per route it took (most alerts take one), or none.
func (s *Store) IncidentsForAlert(ctx context.Context, alertKey string) ([]string, error) {
	raw, err := s.rdb.HGet(ctx, s.layout.Shard(redisx.AlertShard(alertKey)).Key(redisx.AlertIndex), alertKey).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, redisx.Wrap("dedupe: alert index", err)
	}
	if !strings.HasPrefix(raw, "{") {
		return []string{raw}, nil // written before routes were kept
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
			Err: fmt.Errorf("dedupe: alert index entry of %q: %w", alertgate.Truncate(alertKey, 64), err)}
	}
	ids := slices.Sorted(maps.Values(m))
	return slices.Compact(ids), nil
}

// Action is a change a person (or a sender) makes to an incident.
type Action string

const (
	Acknowledge Action = "acknowledge"
	Resolve     Action = "resolve"
	Note        Action = "note"
)

// Change is what a person (or a sender) does to one incident.
type Change struct {
	Action Action
	Actor  string
	// Message is the note's text; optional for the other actions.
	Message string
	// Only, when set, makes the change conditional: what a signed link or
	// an SMS reply acts with (see Condition).
	Only *Condition
	// RequestID names the request: a repeated Transition with the same id
	// changes nothing. "" gets a fresh one.
	RequestID string
	Now       time.Time
}

// Condition limits a change to the incident as a page saw it: a link or
// reply code works once, and only while its page is current.
type Condition struct {
	// Epoch, when > 0, must be the incident's escalation epoch: a link of
	// a run before a reopen is superseded (ECONFLICT).
	Epoch int
	// Nonce, when set, may be used once: a second change with it is
	// refused (ECONFLICT). It is kept for NonceTTL.
	Nonce    string
	NonceTTL time.Duration
}

// Transition applies a change to one incident. Repeating a transition is
// a no-op; acknowledging a resolved incident is an ECONFLICT error.
// changed reports whether anything was written.
func (s *Store) Transition(ctx context.Context, id string, c Change) (changed bool, err error) {
	n, ok := redisx.IncidentShard(id)
	if !ok {
		return false, notFound(id)
	}
	shard := s.layout.Shard(n)
	h := header(shard, c.Now, c.RequestID, c.Actor).Str("action", string(c.Action)).Str("message", c.Message)
	if o := c.Only; o != nil {
		h.Bool("only", true).Int("epoch", int64(o.Epoch)).Str("nonce", o.Nonce).Int("nonce_ttl_ms", o.NonceTTL.Milliseconds())
	}
	reply, err := transitionScript.Run(ctx, s.rdb, []string{shard.KeyOf(redisx.Incident, id)}, h)
	if err != nil {
		return false, err
	}
	r := transitionScript.ReadReply(reply, 2)
	result, status := r.Str(0), r.Str(1)
	if err := r.Err(); err != nil {
		return false, err
	}
	switch result {
	case "done":
		return true, nil
	case "noop":
		return false, nil
	case "conflict":
		if c.Only != nil && (status == string(alertgate.IncidentResolved) && c.Action == Resolve || status == string(alertgate.Acknowledged) && c.Action == Acknowledge) {
			return false, alertgate.Errorf(alertgate.ECONFLICT, "incident %s is %s already", id, status)
		}
		return false, alertgate.Errorf(alertgate.ECONFLICT, "incident %s is %s and cannot be %sd", id, status, c.Action)
	case "notfound":
		return false, notFound(id)
	case "used":
		return false, &alertgate.Error{Code: alertgate.ECONFLICT, Err: ErrUsed,
			Message: "this link (or reply code) for incident " + id + " has been used already: each works once"}
	case "superseded":
		return false, &alertgate.Error{Code: alertgate.ECONFLICT, Err: ErrSuperseded,
			Message: "this link (or reply code) is from an earlier escalation of incident " + id + ": the incident fired again since, and newer pages carry their own"}
	}
	return false, &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error",
		Err: fmt.Errorf("dedupe: transition returned %q", result)}
}

func notFound(id string) error {
	return alertgate.Errorf(alertgate.ENOTFOUND, "incident %q not found", alertgate.Truncate(id, 64))
}

// digest lets the script tell a changed alert from a repeated one without
// comparing whole JSON documents.
func digest(b []byte) string {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return strconv.FormatUint(h.Sum64(), 36)
}
