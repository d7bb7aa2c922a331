package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/explain"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/snapshot"
)

const (
	explainConfig  = "testdata/explain.yml"
	explainPayload = "testdata/explain-payload.json"
	explainAt      = "2026-03-03T22:00:00Z" // a Tuesday night
)

func TestExplainOfflineTree(t *testing.T) {
	out, stderr, err := runCmd(t, "explain", "--config", explainConfig, "--integration", "am", "--at", explainAt, explainPayload)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{
		"am at Tue 2026-03-03 22:00:00Z: 3 alerts",
		"alert aaaa000000000001 (firing, critical) \"cluster c1 is down\"",
		"  fingerprint  from sender (alerts[0].fingerprint): as is",
		"  fingerprint  from labels (alerts[1].labels): ",
		"  route default → audit-critical\n    group      am|{}:{cluster=\"c1\"}\n    incident   opens a new incident\n    policy     audit; group_wait 0s\n    step 1     Tue 2026-03-03 22:00:00Z\n               carol via console carol (named in the step)\n",
		"    muted by   maintenance window nightly\n    muted by   inhibited by inhibit_rules[0] (rule 1): {alertname=\"ClusterDown\"",
		"    policy     ops, repeats 2 times after its last step; group_wait 1m0s\n    step 1     Tue 2026-03-03 22:01:00Z\n               alice via console alice (on call in rotation primary)\n",
		"    held       low urgency, outside support hours, until Wed 2026-03-04 09:00:00Z\n    step 1     Wed 2026-03-04 09:00:00Z\n               bob via console bob",
		"  - " + explain.NoteNoStore,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// The offline --json report and the API's (asked through --url) agree,
// but for the notes: the API reads Redis, where nothing is open.
func TestExplainJSONOfflineAndOnline(t *testing.T) {
	offline, stderr, err := runCmd(t, "explain", "--config", explainConfig, "--integration", "am", "--at", explainAt, "--json", explainPayload)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var rep explain.Report
	if err := json.Unmarshal([]byte(offline), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Alerts) != 3 || len(rep.Notes) != 3 {
		t.Fatalf("report %s", offline)
	}

	url := explainAPI(t)
	online, stderr, err := runCLI(t, url, "explain", "--integration", "am", "--at", explainAt, "--json", explainPayload)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var onRep explain.Report
	if err := json.Unmarshal([]byte(online), &onRep); err != nil {
		t.Fatal(err)
	}
	if len(onRep.Notes) != 2 { // no gate and no overrides in this server; a store
		t.Errorf("online notes %q", onRep.Notes)
	}
	rep.Notes, onRep.Notes = nil, nil
	a, _ := json.Marshal(rep)
	b, _ := json.Marshal(onRep)
	if !bytes.Equal(a, b) {
		t.Errorf("offline and online differ:\n%s\n%s", a, b)
	}
	// --offline ignores ALERTGATE_URL (runCLI sets it).
	out, _, err := runCLI(t, url, "explain", "--offline", "--config", explainConfig, "--integration", "am", "--at", explainAt, explainPayload)
	if err != nil || !strings.Contains(out, explain.NoteNoStore) {
		t.Errorf("--offline: %v\n%s", err, out)
	}
}

// explainAPI serves the explain API over the test Redis with the test
// config; its URL.
func explainAPI(t *testing.T) string {
	t.Helper()
	rdb, prefix := redistest.New(t)
	raw, err := os.ReadFile(explainConfig)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Load(raw, explainConfig, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{
		Logger:   slog.New(slog.NewJSONHandler(testlog.NewLog(t), nil)),
		Snapshot: func() *snapshot.Snapshot { return snap },
		Metrics:  metrics.New(nil),
		Ready:    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Explain:  explain.Deps{Store: dedupe.NewStore(rdb, prefix)},
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestExplainErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version":"4","alerts":[{"status":"burning","labels":{"a":"b"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"no payload file", []string{"--config", explainConfig, "--integration", "am"}, true, "one PAYLOAD_FILE"},
		{"no integration", []string{"--config", explainConfig, explainPayload}, true, "--integration NAME is required"},
		{"no config", []string{"--integration", "am", explainPayload}, true, "--config FILE is required"},
		{"bad at", []string{"--config", explainConfig, "--integration", "am", "--at", "tonight", explainPayload}, true, "not an RFC 3339 time"},
		{"missing file", []string{"--config", explainConfig, "--integration", "am", filepath.Join(dir, "nope.json")}, false, "no such file"},
		{"unknown integration", []string{"--config", explainConfig, "--integration", "nope", explainPayload}, false, `no integration named "nope"`},
		{"bad payload", []string{"--config", explainConfig, "--integration", "am", bad}, false, `am would refuse the payload: alerts[0].status: want firing or resolved, got "burning"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCmd(t, append([]string{"explain"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if got := exitCode(err) == 2; got != tc.usage {
				t.Errorf("usage error %v, want %v", got, tc.usage)
			}
		})
	}
}
