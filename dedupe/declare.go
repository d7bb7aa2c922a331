package dedupe

import (
	"context"
	_ "embed"
	"encoding/json"
	"hash/fnv"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
)

var (
	//go:embed declare.lua
	declareSource string
	declareScript = redisx.NewScript("dedupe: declare", declareSource)

	//go:embed work.lua
	workSource string
	workScript = redisx.NewScript("dedupe: work", workSource)

	//go:embed remind.lua
	remindSource string
	remindScript = redisx.NewScript("dedupe: remind", remindSource)
)

// CheckWork loads the scripts of declared incidents and people's work on
// incidents, for a start-up check (Check covers ingest and transitions).
func (s *Store) CheckWork(ctx context.Context) error {
	for _, sc := range []*redisx.Script{declareScript, workScript, remindScript} {
		if err := sc.Load(ctx, s.rdb); err != nil {
			return err
		}
	}
	return nil
}

// Declaration is an incident a person opens by hand.
type Declaration struct {
	Title    string
	Service  string
	Severity alertgate.Severity
	// Commander holds the commander role from the start ("" for nobody).
	Commander string
	// Policy, when set, starts at once: its first step falls due
	// GroupWait after the declare.
	Policy    string
	GroupWait time.Duration
	// Quiet leaves out the "nobody is paged" entry of a declare without a
	// policy: the caller pages someone itself (a rotation).
	Quiet bool
	Actor string
	// RequestID names the request: a repeat with the same id returns the
	// incident the first declared. "" gets a fresh one.
	RequestID string
	Now       time.Time
}

// declareMarkTTL is how long a declare's request id is remembered: long
// enough for any client's retries.
const declareMarkTTL = 24 * time.Hour

// Declare opens a declared incident and returns its id; created is false
// when a repeat of the request found the incident it declared before.
func (s *Store) Declare(ctx context.Context, d Declaration) (id string, created bool, err error) {
	req := d.RequestID
	if req == "" {
		req = redisx.RequestID()
	}
	// The request picks the shard, so its repeat finds its own mark.
	h := fnv.New32a()
	_, _ = h.Write([]byte(req))
	n := int(h.Sum32() % redisx.Shards)
	shard := s.layout.Shard(n)
	var entries []any
	if d.Commander != "" {
		e, err := EntryJSON(d.Now, d.Actor, alertgate.TimelineEntry{
			Type: alertgate.EventRoleAssigned, Message: "commander: " + d.Commander,
			Role: &alertgate.RoleEntry{Role: alertgate.RoleCommander, User: d.Commander},
		})
		if err != nil {
			return "", false, err
		}
		entries = append(entries, e)
	}
	hd := header(shard, d.Now, req, d.Actor).
		Int("shard", int64(n)).
		Str("title", d.Title).Str("service", d.Service).Str("severity", string(d.Severity)).
		Str("commander", d.Commander).Str("policy", d.Policy).
		Int("group_wait_ms", d.GroupWait.Milliseconds()).Bool("quiet", d.Quiet).
		Int("mark_ttl_ms", declareMarkTTL.Milliseconds()).Int("entries", int64(len(entries)))
	keys := []string{shard.Key(redisx.Seq), shard.Key(redisx.Incidents), shard.KeyOf(redisx.Link, "declare."+req)}
	reply, err := declareScript.Run(ctx, s.rdb, keys, hd, entries...)
	if err != nil {
		return "", false, err
	}
	r := declareScript.ReadReply(reply, 2)
	id, outcome := r.Str(0), r.Str(1)
	if err := r.Err(); err != nil {
		return "", false, err
	}
	return id, outcome == "declared", nil
}

// storedEntry is a timeline entry as scripts store it: "at" in Unix ms.
type storedEntry struct {
	At         int64                      `json:"at"`
	Actor      string                     `json:"actor"`
	Type       string                     `json:"type"`
	Message    string                     `json:"message,omitempty"`
	Role       *alertgate.RoleEntry       `json:"role,omitempty"`
	Impact     *alertgate.ImpactEntry     `json:"impact,omitempty"`
	Postmortem *alertgate.PostmortemEntry `json:"postmortem,omitempty"`
	FollowUp   *alertgate.FollowUpEntry   `json:"follow_up,omitempty"`
}

// EntryJSON is e as a script appends it to a timeline, at now by actor.
func EntryJSON(now time.Time, actor string, e alertgate.TimelineEntry) ([]byte, error) {
	b, err := json.Marshal(storedEntry{
		At: now.UnixMilli(), Actor: actor, Type: e.Type, Message: e.Message,
		Role: e.Role, Impact: e.Impact, Postmortem: e.Postmortem, FollowUp: e.FollowUp,
	})
	if err != nil {
		// Only a time outside years 0-9999 fails.
		return nil, alertgate.Errorf(alertgate.EINVALID, "a time is out of range: %v", err)
	}
	return b, nil
}
