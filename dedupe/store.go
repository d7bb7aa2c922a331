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
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
)

var (
	//go:embed ingest.lua
	ingestSource string
	ingestScript = redis.NewScript(ingestSource)

	//go:embed transition.lua
	transitionSource string
	transitionScript = redis.NewScript(transitionSource)
)

// Store is the Redis store of groups and incidents.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewStore returns a store whose keys all start with prefix.
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix}
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

// Ingest applies alerts, all of one group, in one atomic step. It returns
// only after Redis committed them.
func (s *Store) Ingest(ctx context.Context, g Group, alerts []alertgate.Alert, truncated int, actor string, now time.Time) (Result, error) {
	if len(alerts) == 0 && truncated == 0 {
		return Result{Outcome: Stale}, nil
	}
	ghash, shard := groupHash(g.Route, g.Key)
	b := base(s.prefix, shard)
	service, title := g.Service, ""
	for i := range alerts {
		if alerts[i].Status == alertgate.Firing {
			if service == "" {
				service = alerts[i].Service
			}
			title = alerts[i].Summary
			break
		}
	}
	args := make([]any, 0, 13+5*len(alerts))
	args = append(args, b, now.UnixMilli(), shard, Shards, g.Route, g.Key, service,
		boolArg(g.Settings.AutoResolve), g.Settings.ReopenWindow.Milliseconds(),
		actor, truncated, title, ghash)
	for i := range alerts {
		a := &alerts[i]
		body, err := json.Marshal(a)
		if err != nil {
			return Result{}, fmt.Errorf("dedupe: encode alert %s: %w", a, err)
		}
		args = append(args, a.Key(), string(a.Status), string(a.Severity), digest(body), body)
	}
	keys := []string{b + "group:" + ghash, b + "seq", indexKey(b)}
	raw, err := ingestScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return Result{}, alertgate.Unavailable("redis unavailable", fmt.Errorf("dedupe: ingest group %s: %w", ghash, err))
	}
	if len(raw) != 7 {
		return Result{}, fmt.Errorf("dedupe: ingest returned %d values, want 7", len(raw))
	}
	r := Result{
		IncidentID: str(raw[0]),
		Outcome:    Outcome(str(raw[1])),
		New:        num(raw[2]),
		Duplicates: num(raw[3]),
		Changed:    num(raw[4]),
		Stale:      num(raw[5]),
		Status:     alertgate.IncidentStatus(str(raw[6])),
	}
	return r, nil
}

// IndexAlerts records which incident holds each alert, so a sender that
// names only an alert (PagerDuty's acknowledge) can find its incident. It
// runs after Ingest committed and is idempotent; the index is a lookup aid,
// not state.
func (s *Store) IndexAlerts(ctx context.Context, incidentID string, alertKeys []string) error {
	if incidentID == "" || len(alertKeys) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range alertKeys {
			p.HSet(ctx, alertIndexKey(base(s.prefix, alertShard(k))), k, incidentID)
		}
		return nil
	})
	if err != nil {
		return alertgate.Unavailable("redis unavailable", fmt.Errorf("dedupe: index alerts: %w", err))
	}
	return nil
}

// IncidentForAlert returns the incident that last held the alert, or "".
func (s *Store) IncidentForAlert(ctx context.Context, alertKey string) (string, error) {
	id, err := s.rdb.HGet(ctx, alertIndexKey(base(s.prefix, alertShard(alertKey))), alertKey).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", alertgate.Unavailable("redis unavailable", fmt.Errorf("dedupe: alert index: %w", err))
	}
	return id, nil
}

// Action is a change a person (or a sender) makes to an incident.
type Action string

const (
	Acknowledge Action = "acknowledge"
	Resolve     Action = "resolve"
	Note        Action = "note"
)

// Transition applies an action to one incident. Repeating a transition is
// a no-op; acknowledging a resolved incident is an ECONFLICT error.
// changed reports whether anything was written.
func (s *Store) Transition(ctx context.Context, id string, action Action, actor, message string, now time.Time) (changed bool, err error) {
	shard, ok := incidentShard(id)
	if !ok {
		return false, alertgate.Errorf(alertgate.ENOTFOUND, "incident %q not found", id)
	}
	b := base(s.prefix, shard)
	raw, err := transitionScript.Run(ctx, s.rdb, []string{incidentKey(b, id)},
		b, now.UnixMilli(), string(action), actor, message).StringSlice()
	if err != nil {
		return false, alertgate.Unavailable("redis unavailable", fmt.Errorf("dedupe: %s incident %s: %w", action, id, err))
	}
	switch raw[0] {
	case "done":
		return true, nil
	case "noop":
		return false, nil
	case "conflict":
		return false, alertgate.Errorf(alertgate.ECONFLICT, "incident %s is %s and cannot be %sd", id, raw[1], action)
	case "notfound":
		return false, alertgate.Errorf(alertgate.ENOTFOUND, "incident %q not found", id)
	}
	return false, fmt.Errorf("dedupe: transition returned %q", raw[0])
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// digest lets the script tell a changed alert from a repeated one without
// comparing whole JSON documents.
func digest(b []byte) string {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return strconv.FormatUint(h.Sum64(), 36)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) int {
	n, _ := v.(int64)
	return int(n)
}
