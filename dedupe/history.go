package dedupe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
)

// historyBatch is how many incidents one pipeline reads (four commands
// each): large enough that round trips do not dominate, small enough that
// one reply stays a few megabytes.
const historyBatch = 500

// History returns every incident triggered in [from, to] (by the index's
// millisecond score, both ends included: the caller cuts the window
// exactly) with what reports compute from, and only that (Get has the
// whole incident): its id, service, severity, status, route and
// triggered_at; its timeline entries without their alert and message; of
// its alerts, only when each started. It is read-only and reads in pipelined batches. More than limit
// incidents in the window is an EINVALID error naming the count, so that
// a report over years cannot hold the server for minutes.
//
// types, when not nil, keeps only the timeline entries of those types;
// the others are not even decoded, which is most of a report's time.
func (s *Store) History(ctx context.Context, from, to time.Time, limit int, types []string) ([]alertgate.Incident, error) {
	var keep map[string]bool
	if types != nil {
		keep = make(map[string]bool, len(types))
		for _, t := range types {
			keep[t] = true
		}
	}
	type ref struct {
		shard int
		id    string
	}
	p := s.rdb.Pipeline()
	ranges := make([]*redis.StringSliceCmd, redisx.Shards)
	by := &redis.ZRangeBy{Min: strconv.FormatInt(from.UnixMilli(), 10), Max: strconv.FormatInt(to.UnixMilli(), 10)}
	for n := range redisx.Shards {
		ranges[n] = p.ZRangeByScore(ctx, s.layout.Shard(n).Key(redisx.Incidents), by)
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, redisx.Wrap("dedupe: history", err)
	}
	var refs []ref
	for n, c := range ranges {
		for _, id := range c.Val() {
			refs = append(refs, ref{n, id})
		}
	}
	if len(refs) > limit {
		return nil, alertgate.Errorf(alertgate.EINVALID,
			"the window holds %d incidents, more than the %d one report covers: narrow from and to", len(refs), limit)
	}

	chunks := slices.Collect(slices.Chunk(refs, historyBatch))
	results := make([][]alertgate.Incident, len(chunks))
	// A few batches in flight at once: Redis answers one while Go decodes
	// another.
	errs := make([]error, len(chunks))
	sem := make(chan struct{}, historyParallel)
	var wg sync.WaitGroup
	for c, chunk := range chunks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ids := make([]string, len(chunk))
			shards := make([]int, len(chunk))
			for i, r := range chunk {
				ids[i], shards[i] = r.id, r.shard
			}
			results[c], errs[c] = s.historyBatch(ctx, shards, ids, keep)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]alertgate.Incident, 0, len(refs))
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

// historyParallel is how many batches History reads at once.
const historyParallel = 4

// historyBatch reads one batch of incidents: fields, timeline, and of
// each alert only when it started (the alert's starts_at, and when it
// first arrived), which is what the default impact window needs; decoding
// whole alerts would double a report's time.
func (s *Store) historyBatch(ctx context.Context, shards []int, ids []string, keep map[string]bool) ([]alertgate.Incident, error) {
	p := s.rdb.Pipeline()
	fields := make([]*redis.SliceCmd, len(ids))
	timelines := make([]*redis.StringSliceCmd, len(ids))
	alerts := make([]*redis.MapStringStringCmd, len(ids))
	metas := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		sh := s.layout.Shard(shards[i])
		fields[i] = p.HMGet(ctx, sh.KeyOf(redisx.Incident, id), historyFields...)
		timelines[i] = p.LRange(ctx, sh.KeyOf(redisx.Timeline, id), 0, -1)
		alerts[i] = p.HGetAll(ctx, sh.KeyOf(redisx.IncidentAlerts, id))
		metas[i] = p.HGetAll(ctx, sh.KeyOf(redisx.AlertMeta, id))
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, redisx.Wrap("dedupe: history", err)
	}
	out := make([]alertgate.Incident, 0, len(ids))
	for i := range ids {
		inc, ok := decodeHistoryIncident(fields[i].Val())
		if !ok {
			continue // deleted between the index read and this one
		}
		tl, err := decodeTimeline(inc.ID, timelines[i].Val(), keep)
		if err != nil {
			return nil, err
		}
		inc.Timeline = tl
		meta := metas[i].Val()
		for key, body := range alerts[i].Val() {
			startsAt, err := alertStartsAt(body)
			if err != nil {
				return nil, corrupt(fmt.Errorf("dedupe: incident %s alert %q: %w", inc.ID, key, err))
			}
			a := alertgate.IncidentAlert{Alert: alertgate.Alert{StartsAt: startsAt}}
			decodeAlertMeta(&a, meta[key])
			inc.Alerts = append(inc.Alerts, a)
		}
		out = append(out, *inc)
	}
	return out, nil
}

// historyFields are the fields of an incident's hash that reports read,
// in the order decodeHistoryIncident reads them.
var historyFields = []string{"id", "service", "severity", "status", "route", "triggered_at"}

// decodeHistoryIncident reads the values of historyFields; ok is false
// when the incident does not exist. It builds no map, unlike
// decodeIncident: ten thousand of them are a report.
func decodeHistoryIncident(vals []any) (*alertgate.Incident, bool) {
	str := func(i int) string {
		if i < len(vals) {
			s, _ := vals[i].(string)
			return s
		}
		return ""
	}
	if str(0) == "" {
		return nil, false
	}
	return &alertgate.Incident{
		ID: str(0), Service: str(1), Severity: alertgate.Severity(str(2)),
		Status: alertgate.IncidentStatus(str(3)), Route: str(4), TriggeredAt: msTime(str(5)),
	}, true
}

// historyEntry is what reports read of a timeline entry as the timeline
// list keeps it: "at" in Unix ms (see the prelude's addEntry), the rest as
// alertgate.TimelineEntry, but no alert or message (text for people;
// leaving them out saves a string per entry).
type historyEntry struct {
	At         int64                      `json:"at"`
	Type       string                     `json:"type"`
	Actor      string                     `json:"actor"`
	Page       *alertgate.PageEntry       `json:"page"`
	Role       *alertgate.RoleEntry       `json:"role"`
	Impact     *alertgate.ImpactEntry     `json:"impact"`
	Postmortem *alertgate.PostmortemEntry `json:"postmortem"`
	FollowUp   *alertgate.FollowUpEntry   `json:"follow_up"`
}

// decodeTimeline decodes a timeline's entries, those of the types in keep
// only (all when keep is nil).
func decodeTimeline(id string, raw []string, keep map[string]bool) ([]alertgate.TimelineEntry, error) {
	out := make([]alertgate.TimelineEntry, 0, len(raw))
	for _, r := range raw {
		if typ, ok := entryType(r); ok && keep != nil && !keep[typ] {
			continue
		}
		var e historyEntry
		if err := json.Unmarshal([]byte(r), &e); err != nil {
			return nil, corrupt(fmt.Errorf("dedupe: incident %s timeline: %w", id, err))
		}
		if keep != nil && !keep[e.Type] {
			continue
		}
		out = append(out, alertgate.TimelineEntry{
			At: time.UnixMilli(e.At).UTC(), Type: e.Type, Actor: e.Actor,
			Page: e.Page, Role: e.Role, Impact: e.Impact, Postmortem: e.Postmortem, FollowUp: e.FollowUp,
		})
	}
	return out, nil
}

// entryType finds an entry's type without decoding it. Every writer puts
// the type among the first keys, before any nested object (the prelude's
// addEntry, escalation's and declare's entry JSON), and a quote inside a
// JSON string is escaped, so the first `"type":"` is the entry's own.
// ok is false when there is none, and the entry is decoded to find out.
func entryType(raw string) (typ string, ok bool) {
	const key = `"type":"`
	i := strings.Index(raw, key)
	if i < 0 {
		return "", false
	}
	rest := raw[i+len(key):]
	j := strings.IndexAny(rest, `"\`)
	if j < 0 || rest[j] != '"' {
		return "", false // an escaped type: let the decoder read it
	}
	return rest[:j], true
}

// alertStartsAt reads the top-level "starts_at" of a stored alert's JSON
// (zero when it has none) without decoding the rest: labels, annotations
// and details are most of an alert and reports need none of them. It
// walks the text once, keeping track of strings (with their escapes) and
// nesting, so a label named "starts_at" or a value containing the words
// is not taken for it.
func alertStartsAt(body string) (time.Time, error) {
	const key = `"starts_at"`
	var found time.Time // the last one wins, as in encoding/json
	depth := 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			end, ok := stringEnd(body, i)
			if !ok {
				return time.Time{}, errors.New("unterminated string")
			}
			str := body[i:end]
			i = end - 1
			if depth != 1 || str != key {
				continue
			}
			// Past the key: optional space, a colon, optional space.
			j := skipSpace(body, end)
			if j >= len(body) || body[j] != ':' {
				continue // a string value "starts_at", not the key
			}
			j = skipSpace(body, j+1)
			switch {
			case strings.HasPrefix(body[j:], "null"):
				found, i = time.Time{}, j+3
			case j < len(body) && body[j] == '"':
				vend, ok := stringEnd(body, j)
				if !ok {
					return time.Time{}, errors.New("unterminated string")
				}
				var t time.Time
				if err := t.UnmarshalJSON([]byte(body[j:vend])); err != nil {
					return time.Time{}, fmt.Errorf("starts_at: %w", err)
				}
				found, i = t, vend-1
			default:
				return time.Time{}, errors.New("starts_at is not a string")
			}
		}
	}
	return found, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string that starts at
// s[i] (a quote).
func stringEnd(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}
