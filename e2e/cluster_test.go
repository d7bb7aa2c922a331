package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/internal/redistest"
)

// TestClusterIngestListAcknowledge runs alertgate against a real 3-primary
// Redis Cluster: twenty groups (their hash tags land on different masters)
// are ingested in one delivery each, listed, one incident is acknowledged
// and another resolved, and the keys are found on more than one master.
// A script or command that touched keys of two slots would fail here with
// CROSSSLOT, and the harness fails the test on any ERROR log line.
//
// It needs a cluster, so it runs only with ALERTGATE_TEST_REDIS_CLUSTER
// set; .ci/run does that in its cluster pass.
func TestClusterIngestListAcknowledge(t *testing.T) {
	if len(redistest.ClusterAddrs()) == 0 {
		t.Skip("needs a Redis Cluster: ALERTGATE_TEST_REDIS_CLUSTER=$(scripts/redis-cluster start) go test -run TestCluster ./e2e/ (.ci/run runs it)")
	}
	t.Parallel()
	needBinary(t)
	rdb, prefix := redistest.New(t)
	cluster, ok := rdb.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("redistest.New returned %T in cluster mode, want *redis.ClusterClient", rdb)
	}
	if u := testRedisURL(); !strings.HasPrefix(u, "redis+cluster://") {
		t.Fatalf("alertgate would run against %s, not the cluster", u)
	}
	g := startGate(t, gateOptions{prefix: prefix})

	const groups, perGroup = 20, 3
	startsAt := time.Now().Add(-time.Minute)
	names := make([]string, groups)
	ids := make(map[string]string, groups) // alertname → incident id
	for i := range names {
		names[i] = fmt.Sprintf("E2ECluster%02d", i)
		status, body := g.postHook(t, "am", amToken, amWebhook(t, names[i], firingAlerts(names[i], perGroup, startsAt)))
		if status != http.StatusOK {
			t.Fatalf("delivery of %s: %d %s", names[i], status, body)
		}
		var resp ingestResponse
		decodeJSON(t, body, &resp)
		if resp.Status != "ok" || resp.Alerts != perGroup || resp.Duplicates != 0 || len(resp.Incidents) != 1 {
			t.Fatalf("delivery of %s: response %+v, want ok, %d alerts, no duplicates, one incident", names[i], resp, perGroup)
		}
		ids[names[i]] = resp.Incidents[0]
	}
	byID := make(map[string]string, groups) // incident id → alertname
	for name, id := range ids {
		if other, dup := byID[id]; dup {
			t.Fatalf("groups %s and %s share incident %s", other, name, id)
		}
		byID[id] = name
	}

	// Every delivery was committed before its 200, so the listing (which
	// reads all sixteen shards) has all of them now.
	listed := g.incidents(t)
	seen := make(map[string]bool, len(listed))
	for _, inc := range listed {
		if _, ours := byID[inc.ID]; !ours {
			t.Errorf("listing has incident %s (%s) that no delivery opened", inc.ID, inc.Title)
			continue
		}
		if seen[inc.ID] {
			t.Errorf("listing has incident %s twice", inc.ID)
		}
		seen[inc.ID] = true
		if inc.Status != "triggered" || inc.AlertCount != perGroup {
			t.Errorf("listed incident %s (%s): status %q, %d alerts; want triggered, %d", inc.ID, byID[inc.ID], inc.Status, inc.AlertCount, perGroup)
		}
	}
	if len(seen) != groups {
		t.Fatalf("listing has %d of the %d incidents", len(seen), groups)
	}

	// Acknowledge the first group's incident, resolve the second's.
	ackID, resID := ids[names[0]], ids[names[1]]
	for _, a := range []struct{ id, action, want string }{
		{ackID, "acknowledge", "acknowledged"},
		{resID, "resolve", "resolved"},
	} {
		status, _, body := g.do(t, http.MethodPost, "/api/v1/incidents/"+a.id+"/"+a.action, jsonHeader(apiToken), []byte(`{"actor":"e2e"}`))
		if status != http.StatusOK {
			t.Fatalf("POST %s %s: %d %s", a.action, a.id, status, body)
		}
		var inc incident
		decodeJSON(t, body, &inc)
		if inc.Status != a.want {
			t.Errorf("POST %s %s answered status %q, want %q", a.action, a.id, inc.Status, a.want)
		}
		got := g.incident(t, a.id)
		if got.Status != a.want || !got.hasEvent(a.want) {
			t.Errorf("GET %s after %s: status %q, timeline %+v; want %q with a %q event", a.id, a.action, got.Status, got.Timeline, a.want, a.want)
		}
		if len(got.Alerts) != perGroup {
			t.Errorf("GET %s: %d alerts, want %d", a.id, len(got.Alerts), perGroup)
		}
	}
	if got := g.incident(t, resID); got.ResolvedAt.IsZero() {
		t.Errorf("resolved incident %s has no resolved_at", resID)
	}

	// The status indexes agree, across shards.
	for status, want := range map[string]int{"acknowledged": 1, "resolved": 1, "triggered": groups - 2} {
		path := "/api/v1/incidents?limit=100&status=" + status
		code, _, body := g.do(t, http.MethodGet, path, jsonHeader(apiToken), nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		var page struct {
			Incidents []incident `json:"incidents"`
		}
		decodeJSON(t, body, &page)
		if len(page.Incidents) != want {
			t.Errorf("GET %s: %d incidents, want %d", path, len(page.Incidents), want)
		}
		for _, inc := range page.Incidents {
			if inc.Status != status {
				t.Errorf("GET %s: incident %s has status %q", path, inc.ID, inc.Status)
			}
		}
	}

	// The state is spread: keys under the prefix live on at least two masters.
	var mu sync.Mutex
	perMaster := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := cluster.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n := 0
		iter := m.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			n++
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("%s: %w", m.Options().Addr, err)
		}
		mu.Lock()
		perMaster[m.Options().Addr] = n
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatalf("scanning the masters: %v", err)
	}
	var spread []string
	withKeys := 0
	for addr, n := range perMaster {
		spread = append(spread, fmt.Sprintf("%s=%d", addr, n))
		if n > 0 {
			withKeys++
		}
	}
	sort.Strings(spread)
	t.Logf("keys under %s per master: %s", prefix, strings.Join(spread, " "))
	if withKeys < 2 {
		t.Errorf("keys on %d of %d masters (%s), want at least 2: the hash tags do not spread", withKeys, len(perMaster), strings.Join(spread, " "))
	}
	// The harness stops alertgate with SIGTERM and fails the test on any
	// ERROR log line (a CROSSSLOT from a script would be one).
}
