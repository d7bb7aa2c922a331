package dedupe

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/internal/redisx"
)

// GroupState is what a group looks like to explain ("what would ingest
// do with these alerts?"): read only, with the same fields ingest.lua
// decides by.
type GroupState struct {
	// Open is the group's open incident ("" none), Last its latest one.
	Open, Last string
	// Incident is Open's state, else Last's; zero ID when the group never
	// had one.
	Incident IncidentState
	// Status is, per alert key asked about, the alert's status in
	// Incident ("" when the incident does not hold it).
	Status map[string]alertgate.AlertStatus
	// Changes is, per alert key asked about, when it last changed state
	// (the group's "flap:<key>" field), for flap detection.
	Changes map[string][]time.Time
}

// IncidentState is the part of an incident's hash that decides what a new
// delivery does to it and when it pages next.
type IncidentState struct {
	ID         string
	Status     alertgate.IncidentStatus
	ResolvedAt time.Time
	// Policy and the escalation position: Next ("repeat|step|turn",
	// 0-based; "" when nothing is due) at NextAt; Held what holds it.
	Policy string
	Next   string
	NextAt time.Time
	Held   string
	// Flapping until FlapUntil; FlapPaged: its one flapping page went out.
	Flapping  bool
	FlapUntil time.Time
	FlapPaged bool
	// Firing holds the labels of its firing alerts by alert key (the
	// meta's status, which is current).
	Firing map[string]map[string]string
}

// ExplainGroup reads a group's state for explain; it changes nothing.
// alertKeys are the alerts (Alert.Key) whose status and changes to report.
func (s *Store) ExplainGroup(ctx context.Context, g Group, alertKeys []string) (GroupState, error) {
	ghash, n := redisx.GroupShard(g.Route, g.Key)
	shard := s.layout.Shard(n)
	st := GroupState{Status: map[string]alertgate.AlertStatus{}, Changes: map[string][]time.Time{}}
	fields := make([]string, 0, 2+len(alertKeys))
	fields = append(fields, "open", "last")
	for _, k := range alertKeys {
		fields = append(fields, "flap:"+k)
	}
	vals, err := s.rdb.HMGet(ctx, shard.KeyOf(redisx.Group, ghash), fields...).Result()
	if err != nil {
		return st, redisx.Wrap("dedupe: explain group", err)
	}
	str := func(v any) string { s, _ := v.(string); return s }
	st.Open, st.Last = str(vals[0]), str(vals[1])
	for i, k := range alertKeys {
		for _, t := range strings.Split(str(vals[2+i]), ",") {
			if t != "" {
				st.Changes[k] = append(st.Changes[k], msTime(t))
			}
		}
	}
	id := st.Open
	if id == "" {
		id = st.Last
	}
	if id == "" {
		return st, nil
	}
	p := s.rdb.Pipeline()
	inc := p.HMGet(ctx, shard.KeyOf(redisx.Incident, id), "id", "status", "resolved_at", "policy",
		"esc_next", "esc_due", "esc_held", "flapping", "flap_until", "flap_paged")
	alerts := p.HGetAll(ctx, shard.KeyOf(redisx.IncidentAlerts, id))
	metas := p.HGetAll(ctx, shard.KeyOf(redisx.AlertMeta, id))
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return st, redisx.Wrap("dedupe: explain incident "+id, err)
	}
	f := inc.Val()
	if str(f[0]) == "" {
		return st, nil // the group names an incident that is gone
	}
	st.Incident = IncidentState{
		ID: str(f[0]), Status: alertgate.IncidentStatus(str(f[1])), ResolvedAt: msTime(str(f[2])),
		Policy: str(f[3]), Next: str(f[4]), NextAt: msTime(str(f[5])), Held: str(f[6]),
		Flapping: str(f[7]) == "1", FlapUntil: msTime(str(f[8])), FlapPaged: str(f[9]) == "1",
	}
	statusOf := func(key string) alertgate.AlertStatus {
		status, _, _ := strings.Cut(metas.Val()[key], "|")
		return alertgate.AlertStatus(status)
	}
	for _, k := range alertKeys {
		st.Status[k] = statusOf(k)
	}
	for key, body := range alerts.Val() {
		if statusOf(key) != alertgate.Firing {
			continue
		}
		var a alertgate.Alert
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return st, corrupt(errors.New("dedupe: incident " + id + " alert " + strconv.Quote(key) + ": " + err.Error()))
		}
		if st.Incident.Firing == nil {
			st.Incident.Firing = map[string]map[string]string{}
		}
		st.Incident.Firing[key] = a.Labels
	}
	return st, nil
}
