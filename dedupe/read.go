package dedupe

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
)

// Get returns one incident with its alerts and timeline.
func (s *Store) Get(ctx context.Context, id string) (*alertgate.Incident, error) {
	n, ok := redisx.IncidentShard(id)
	if !ok {
		return nil, notFound(id)
	}
	shard := s.layout.Shard(n)
	p := s.rdb.Pipeline()
	fields := p.HMGet(ctx, shard.KeyOf(redisx.Incident, id), incidentFields...)
	alerts := p.HGetAll(ctx, shard.KeyOf(redisx.IncidentAlerts, id))
	meta := p.HGetAll(ctx, shard.KeyOf(redisx.AlertMeta, id))
	timeline := p.LRange(ctx, shard.KeyOf(redisx.Timeline, id), 0, -1)
	if _, err := p.Exec(ctx); err != nil {
		return nil, redisx.Wrap("dedupe: get incident "+id, err)
	}
	inc, ok := decodeIncident(fields.Val())
	if !ok {
		return nil, notFound(id)
	}
	for key, body := range alerts.Val() {
		var a alertgate.IncidentAlert
		if err := json.Unmarshal([]byte(body), &a.Alert); err != nil {
			return nil, corrupt(fmt.Errorf("dedupe: incident %s alert %q: %w", id, key, err))
		}
		decodeAlertMeta(&a, meta.Val()[key])
		inc.Alerts = append(inc.Alerts, a)
	}
	slices.SortFunc(inc.Alerts, func(x, y alertgate.IncidentAlert) int {
		return cmp.Or(x.FirstSeen.Compare(y.FirstSeen), cmp.Compare(x.Key(), y.Key()))
	})
	for _, raw := range timeline.Val() {
		var e struct {
			At      int64                `json:"at"`
			Type    string               `json:"type"`
			Actor   string               `json:"actor"`
			Alert   string               `json:"alert"`
			Message string               `json:"message"`
			Page    *alertgate.PageEntry `json:"page"`
			// People's work (declare.go).
			Role       *alertgate.RoleEntry       `json:"role"`
			Impact     *alertgate.ImpactEntry     `json:"impact"`
			Postmortem *alertgate.PostmortemEntry `json:"postmortem"`
			FollowUp   *alertgate.FollowUpEntry   `json:"follow_up"`
		}
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, corrupt(fmt.Errorf("dedupe: incident %s timeline: %w", id, err))
		}
		inc.Timeline = append(inc.Timeline, alertgate.TimelineEntry{
			At: time.UnixMilli(e.At).UTC(), Type: e.Type, Actor: e.Actor, Alert: e.Alert, Message: e.Message, Page: e.Page,
			Role: e.Role, Impact: e.Impact, Postmortem: e.Postmortem, FollowUp: e.FollowUp,
		})
	}
	inc.FillWork()
	return inc, nil
}

// decodeAlertMeta reads "status|first|last|count|digest|req" (see
// ingest.lua; metas written before request ids lack "|req"). The stored
// JSON keeps the status the alert had when its content last changed; the
// meta field has the current one.
func decodeAlertMeta(a *alertgate.IncidentAlert, meta string) {
	parts := strings.SplitN(meta, "|", 6)
	if len(parts) < 5 {
		return
	}
	a.Status = alertgate.AlertStatus(parts[0])
	a.FirstSeen = msTime(parts[1])
	a.LastSeen = msTime(parts[2])
	a.Received, _ = strconv.Atoi(parts[3])
}

// corrupt marks stored data that does not decode: our bug, never the
// client's, and no retry will help.
func corrupt(err error) error {
	return &alertgate.Error{Code: alertgate.EINTERNAL, Message: "internal error", Err: err}
}

// incidentFields are the fields of an incident's hash that make an
// alertgate.Incident; the hash holds others (ghash, reqs) that do not.
var incidentFields = []string{
	"id", "title", "service", "severity", "status", "route", "group_key",
	"triggered_at", "acknowledged_at", "resolved_at", "updated_at",
	"alert_count", "firing", "reopened",
	"policy", "esc_last", "esc_next", "esc_due", "esc_held",
	"declared", "reduced",
}

// decodeIncident reads the values of incidentFields, in order; ok is false
// when the incident does not exist.
func decodeIncident(vals []any) (inc *alertgate.Incident, ok bool) {
	f := make(map[string]string, len(incidentFields))
	for i, v := range vals {
		if s, isStr := v.(string); isStr && i < len(incidentFields) {
			f[incidentFields[i]] = s
		}
	}
	if f["id"] == "" {
		return nil, false
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(f[k]); return n }
	return &alertgate.Incident{
		ID:             f["id"],
		Title:          f["title"],
		Service:        f["service"],
		Severity:       alertgate.Severity(f["severity"]),
		Status:         alertgate.IncidentStatus(f["status"]),
		Route:          f["route"],
		GroupKey:       f["group_key"],
		TriggeredAt:    msTime(f["triggered_at"]),
		AcknowledgedAt: msTime(f["acknowledged_at"]),
		ResolvedAt:     msTime(f["resolved_at"]),
		UpdatedAt:      msTime(f["updated_at"]),
		AlertCount:     atoi("alert_count"),
		Firing:         atoi("firing"),
		Reopened:       atoi("reopened"),
		ReducedAt:      msTime(f["reduced"]),

		EscalationPolicy: f["policy"],
		Escalation:       decodeEscalation(f),
		IncidentWork:     alertgate.IncidentWork{Declared: f["declared"] == "1"},
	}, true
}

// decodeEscalation reads the escalation fields of an incident's hash (see
// the prelude's startEscalation): positions are "repeat|step|turn",
// 0-based; the JSON counts steps from 1.
func decodeEscalation(f map[string]string) *alertgate.Escalation {
	if f["policy"] == "" {
		return nil
	}
	e := &alertgate.Escalation{}
	if r, st, ok := position(f["esc_last"]); ok {
		e.Repeat, e.Step = r, st+1
	}
	if _, st, ok := position(f["esc_next"]); ok {
		e.NextStep = st + 1
		e.NextAt = msTime(f["esc_due"])
		e.Held = f["esc_held"]
	}
	return e
}

func position(s string) (repeat, step int, ok bool) {
	parts := strings.Split(s, "|")
	if len(parts) < 2 {
		return 0, 0, false
	}
	r, err1 := strconv.Atoi(parts[0])
	st, err2 := strconv.Atoi(parts[1])
	return r, st, err1 == nil && err2 == nil
}

func msTime(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || s == "" {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// List returns incidents newest first. Each shard keeps its own index, so a
// page is the merge of the newest matches of every shard.
func (s *Store) List(ctx context.Context, f alertgate.IncidentFilter) (alertgate.IncidentPage, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, alertgate.MaxListLimit)
	maxScore, maxID, err := parseCursor(f.Cursor)
	if err != nil {
		return alertgate.IncidentPage{}, err
	}
	if !f.Until.IsZero() && f.Until.UnixMilli() < maxScore {
		maxScore, maxID = f.Until.UnixMilli(), math.MaxInt64
	}
	minScore := "-inf"
	if !f.Since.IsZero() {
		minScore = strconv.FormatInt(f.Since.UnixMilli(), 10)
	}
	var all []alertgate.Incident
	for shard := range redisx.Shards {
		got, err := s.listShard(ctx, shard, f, maxScore, maxID, minScore)
		if err != nil {
			return alertgate.IncidentPage{}, err
		}
		all = append(all, got...)
	}
	slices.SortFunc(all, newestFirst)
	var page alertgate.IncidentPage
	if len(all) > f.Limit {
		all = all[:f.Limit]
		last := all[len(all)-1]
		page.NextCursor = fmt.Sprintf("%d-%s", last.TriggeredAt.UnixMilli(), last.ID)
	}
	page.Incidents = all
	return page, nil
}

func newestFirst(x, y alertgate.Incident) int {
	if c := y.TriggeredAt.Compare(x.TriggeredAt); c != 0 {
		return c
	}
	xi, _ := strconv.ParseInt(x.ID, 10, 64)
	yi, _ := strconv.ParseInt(y.ID, 10, 64)
	return cmp.Compare(yi, xi)
}

// listShard returns up to f.Limit+1 matches of one shard, newest first,
// strictly older than the cursor (maxScore, maxID).
func (s *Store) listShard(ctx context.Context, shard int, f alertgate.IncidentFilter, maxScore, maxID int64, minScore string) ([]alertgate.Incident, error) {
	sh := s.layout.Shard(shard)
	index := sh.Key(redisx.Incidents)
	if f.Status != "" {
		index = sh.KeyOf(redisx.Status, string(f.Status))
	}
	const chunk = 100
	var out []alertgate.Incident
	max := strconv.FormatInt(maxScore, 10)
	for offset := int64(0); len(out) <= f.Limit; offset += chunk {
		ids, err := s.rdb.ZRevRangeByScoreWithScores(ctx, index, &redis.ZRangeBy{
			Max: max, Min: minScore, Offset: offset, Count: chunk,
		}).Result()
		if err != nil {
			return nil, redisx.Wrap("dedupe: list", err)
		}
		if len(ids) == 0 {
			break
		}
		p := s.rdb.Pipeline()
		cmds := make([]*redis.SliceCmd, 0, len(ids))
		for _, z := range ids {
			id, _ := z.Member.(string)
			n, _ := strconv.ParseInt(id, 10, 64)
			if int64(z.Score) == maxScore && n >= maxID {
				continue
			}
			cmds = append(cmds, p.HMGet(ctx, sh.KeyOf(redisx.Incident, id), incidentFields...))
		}
		if len(cmds) > 0 {
			if _, err := p.Exec(ctx); err != nil {
				return nil, redisx.Wrap("dedupe: list", err)
			}
		}
		for _, c := range cmds {
			inc, ok := decodeIncident(c.Val())
			if !ok {
				continue
			}
			if f.Service != "" && inc.Service != f.Service {
				continue
			}
			out = append(out, *inc)
		}
		if len(ids) < chunk {
			break
		}
	}
	return out, nil
}

func parseCursor(c string) (score, id int64, err error) {
	if c == "" {
		return math.MaxInt64, math.MaxInt64, nil
	}
	a, b, ok := strings.Cut(c, "-")
	score, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, alertgate.FieldErrorf("cursor", "%q is not a cursor this server returned", c)
	}
	return score, id, nil
}

// Counts returns how many incidents are in each status.
func (s *Store) Counts(ctx context.Context) (map[alertgate.IncidentStatus]int64, error) {
	statuses := alertgate.IncidentStatuses
	p := s.rdb.Pipeline()
	cmds := make(map[alertgate.IncidentStatus][]*redis.IntCmd)
	for n := range redisx.Shards {
		sh := s.layout.Shard(n)
		for _, st := range statuses {
			cmds[st] = append(cmds[st], p.ZCard(ctx, sh.KeyOf(redisx.Status, string(st))))
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, redisx.Wrap("dedupe: counts", err)
	}
	out := make(map[alertgate.IncidentStatus]int64, len(statuses))
	for st, cs := range cmds {
		for _, c := range cs {
			out[st] += c.Val()
		}
	}
	return out, nil
}

// OpenIncident returns the id of the group's open incident, "" when it
// has none: the incident an alert of the group would join (explain asks,
// changing nothing).
func (s *Store) OpenIncident(ctx context.Context, g Group) (string, error) {
	ghash, n := redisx.GroupShard(g.Route, g.Key)
	id, err := s.rdb.HGet(ctx, s.layout.Shard(n).KeyOf(redisx.Group, ghash), "open").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", redisx.Wrap("dedupe: open incident", err)
	}
	return id, nil
}
