package e2e

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/redistest"
)

// TestConcurrentReplicas: two alertgate processes over one Redis prefix
// act as one. Sixteen senders deliver the same two groups (50 alerts and
// 7 alerts) to both replicas at once; each group opens exactly one
// incident, every alert is counted once, and every delivery of every
// alert is counted in its received count.
func TestConcurrentReplicas(t *testing.T) {
	t.Parallel()
	needBinary(t)
	_, prefix := redistest.New(t)
	replicas := []*gate{
		startGate(t, gateOptions{prefix: prefix}),
		startGate(t, gateOptions{prefix: prefix}),
	}

	type group struct {
		name   string
		alerts int
		body   []byte
	}
	startsAt := time.Now().Add(-time.Minute)
	groups := []*group{{name: "E2EReplicasBig", alerts: 50}, {name: "E2EReplicasSmall", alerts: 7}}
	for _, gr := range groups {
		gr.body = amWebhook(t, gr.name, firingAlerts(gr.name, gr.alerts, startsAt))
	}

	const senders, perSender = 16, 6 // each sender alternates groups and replicas
	type result struct {
		group   int
		replica int
		status  int
		resp    ingestResponse
		body    string
	}
	results := make(chan result, senders*perSender)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			<-start
			for i := range perSender {
				gi, ri := i%2, (s+i/2)%2
				var r result
				r.group, r.replica = gi, ri
				status, body := replicas[ri].postHook(t, "am", amToken, groups[gi].body)
				r.status, r.body = status, string(body)
				if status == http.StatusOK {
					// Not t.Fatal in a goroutine: a bad body leaves a
					// zero response, which the checks below reject.
					_ = json.Unmarshal(body, &r.resp)
				}
				results <- r
			}
		})
	}
	close(start)
	wg.Wait()
	close(results)

	deliveries := make([]int, len(groups))
	duplicates := make([]int, len(groups))
	perReplica := make([]int, len(replicas))
	ids := make([]map[string]bool, len(groups))
	for i := range ids {
		ids[i] = make(map[string]bool)
	}
	for r := range results {
		if r.status != http.StatusOK {
			t.Errorf("delivery of %s to replica %d: %d %s", groups[r.group].name, r.replica, r.status, r.body)
			continue
		}
		if r.resp.Status != "ok" || r.resp.Alerts != groups[r.group].alerts || len(r.resp.Incidents) != 1 {
			t.Errorf("delivery of %s: response %+v, want status ok, %d alerts, one incident", groups[r.group].name, r.resp, groups[r.group].alerts)
			continue
		}
		deliveries[r.group]++
		duplicates[r.group] += r.resp.Duplicates
		perReplica[r.replica]++
		ids[r.group][r.resp.Incidents[0]] = true
	}
	if t.Failed() {
		t.FailNow()
	}
	if perReplica[0] == 0 || perReplica[1] == 0 {
		t.Fatalf("deliveries per replica %v: both must take some", perReplica)
	}

	list := replicas[0].incidents(t)
	if len(list) != len(groups) {
		t.Fatalf("%d incidents, want %d (one per group): %+v", len(list), len(groups), list)
	}
	for gi, gr := range groups {
		if len(ids[gi]) != 1 {
			t.Errorf("group %s: deliveries answered incidents %v, want one", gr.name, ids[gi])
			continue
		}
		id := ""
		for k := range ids[gi] {
			id = k
		}
		// Both replicas read the same incident.
		inc := replicas[gi%2].incident(t, id)
		if other := replicas[(gi+1)%2].incident(t, id); other.AlertCount != inc.AlertCount || other.Status != inc.Status {
			t.Errorf("replicas disagree on incident %s: %+v vs %+v", id, inc, other)
		}
		if inc.AlertCount != gr.alerts || inc.Firing != gr.alerts || inc.Status != "triggered" || len(inc.Alerts) != gr.alerts {
			t.Errorf("group %s: incident alert_count %d firing %d status %s alerts %d, want %d %d triggered %d",
				gr.name, inc.AlertCount, inc.Firing, inc.Status, len(inc.Alerts), gr.alerts, gr.alerts, gr.alerts)
		}
		sum := 0
		for fp, r := range inc.received() {
			sum += r
			if r != deliveries[gi] {
				t.Errorf("group %s: alert %s received %d times, want %d (every delivery)", gr.name, fp, r, deliveries[gi])
			}
		}
		if want := deliveries[gi] * gr.alerts; sum != want {
			t.Errorf("group %s: received counts sum to %d, want %d deliveries × %d alerts = %d", gr.name, sum, deliveries[gi], gr.alerts, want)
		}
		// The first delivery to commit found every alert new, every other
		// one found every alert a duplicate, whichever replica took it.
		if want := (deliveries[gi] - 1) * gr.alerts; duplicates[gi] != want {
			t.Errorf("group %s: responses report %d duplicates, want %d", gr.name, duplicates[gi], want)
		}
	}
	hits := replicas[0].metric(t, "alertgate_dedupe_hits_total", `integration="am"`) +
		replicas[1].metric(t, "alertgate_dedupe_hits_total", `integration="am"`)
	if want := duplicates[0] + duplicates[1]; hits != float64(want) {
		t.Errorf("alertgate_dedupe_hits_total over both replicas = %v, want %d", hits, want)
	}
	t.Logf("%d deliveries (%v per replica), incidents %v", deliveries[0]+deliveries[1], perReplica, ids)
}
