package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/snapshot"
)

// silenceAPI serves the real API with a silence store over the test Redis
// and returns its URL.
func silenceAPI(t *testing.T) (string, *silence.Store) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte("api:\n  tokens: [api-token]\n"), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	store := silence.NewStore(rdb, prefix, silence.Options{})
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{
		Logger:   slog.New(slog.NewJSONHandler(testlog.NewLog(t), nil)),
		Snapshot: func() *snapshot.Snapshot { return snap },
		Metrics:  metrics.New(nil),
		Ready:    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Silences: store,
	}))
	t.Cleanup(srv.Close)
	return srv.URL, store
}

// runCLI runs alertgate with args against url; env ALERTGATE_TOKEN is the
// API's token and USER is alice.
func runCLI(t *testing.T, url string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	env := map[string]string{"ALERTGATE_URL": url, "ALERTGATE_TOKEN": "api-token", "USER": "alice"}
	var out, errOut bytes.Buffer
	err = run(t.Context(), append([]string{"alertgate"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestSilenceCommands(t *testing.T) {
	url, store := silenceAPI(t)

	before := time.Now()
	out, _, err := runCLI(t, url, "silence", "add", "alertname=DiskFull", "--comment", "disk swap", `{instance=~"db-.*", env="prod"}`, "--duration", "2h")
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(out)
	sl, err := store.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("add printed %q, which is no silence: %v", out, err)
	}
	if got, want := strings.Join(sl.Matchers, " "), `alertname="DiskFull" instance=~"db-.*" env="prod"`; got != want {
		t.Errorf("matchers %s, want %s", got, want)
	}
	if sl.CreatedBy != "alice" || sl.Comment != "disk swap" || sl.State != silence.Active {
		t.Errorf("stored %+v", sl)
	}
	if d := sl.EndsAt.Sub(before); d < 2*time.Hour-time.Second || d > 2*time.Hour+10*time.Second {
		t.Errorf("ends %s after the command started, want 2h", d)
	}

	// A pending one, by --starts and --ends, as JSON.
	starts := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	out, _, err = runCLI(t, url, "silence", "add", "--json", "--author", "bob", "--comment", "deploy",
		"--starts", starts.Format(time.RFC3339), "--ends", starts.Add(time.Hour).Format(time.RFC3339), "team=web")
	if err != nil {
		t.Fatal(err)
	}
	var pending silence.Silence
	if err := json.Unmarshal([]byte(out), &pending); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	if pending.State != silence.Pending || !pending.StartsAt.Equal(starts) || pending.CreatedBy != "bob" {
		t.Errorf("pending = %+v", pending)
	}

	out, _, err = runCLI(t, url, "silence", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.HasPrefix(lines[1], id+"  active") || !strings.Contains(lines[1], `alertname="DiskFull" instance=~"db-.*" env="prod"`) ||
		!strings.HasPrefix(lines[2], pending.ID+"  pending") || !strings.HasSuffix(lines[2], "deploy") {
		t.Errorf("list printed\n%s", out)
	}
	out, _, err = runCLI(t, url, "silence", "list", "--state", "pending", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var listed struct{ Silences []silence.Silence }
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed.Silences) != 1 || listed.Silences[0].ID != pending.ID {
		t.Errorf("list --state pending --json printed %s (%v)", out, err)
	}

	out, _, err = runCLI(t, url, "silence", "expire", id, pending.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, id+" expired (ended ") || strings.Count(out, " expired ") != 2 {
		t.Errorf("expire printed %q", out)
	}
	out, _, err = runCLI(t, url, "silence", "list", "--state", "active")
	if err != nil || strings.TrimSpace(out) != "no active silences" {
		t.Errorf("list --state active after expiring: %q, %v", out, err)
	}

	// The API's refusals reach the user with its message.
	_, _, err = runCLI(t, url, "silence", "expire", "sil-nope")
	if err == nil || !strings.Contains(err.Error(), `no silence "sil-nope"`) || !strings.Contains(err.Error(), "404") || exitCode(err) != 1 {
		t.Errorf("expire of an unknown id: %v", err)
	}
	_, _, err = runCLI(t, url, "silence", "add", "--comment", "c", "--ends", "2020-01-01T00:00:00Z", "a=b")
	if err == nil || !strings.Contains(err.Error(), "ends_at") || exitCode(err) != 1 {
		t.Errorf("add ending in the past: %v", err)
	}
	env := map[string]string{"ALERTGATE_URL": url, "ALERTGATE_TOKEN": "wrong"}
	err = run(t.Context(), []string{"alertgate", "silence", "list"}, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a wrong token: %v", err)
	}
}

func TestSilenceUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"silence"}, "add, list or expire"},
		{[]string{"silence", "mute"}, `unknown command "mute"`},
		{[]string{"silence", "add", "--comment", "c", "--duration", "1h"}, "no matchers"},
		{[]string{"silence", "add", "--duration", "1h", "a=b"}, "--comment is required"},
		{[]string{"silence", "add", "--comment", "c", "a=b"}, "one of --duration"},
		{[]string{"silence", "add", "--comment", "c", "--duration", "1h", "--ends", "2030-01-01T00:00:00Z", "a=b"}, "one of --duration"},
		{[]string{"silence", "add", "--comment", "c", "--duration", "soon", "a=b"}, `"soon" is not a duration`},
		{[]string{"silence", "add", "--comment", "c", "--duration", "-1h", "a=b"}, "not a positive duration"},
		{[]string{"silence", "add", "--comment", "c", "--ends", "tomorrow", "a=b"}, `--ends "tomorrow" is not an RFC 3339 time`},
		{[]string{"silence", "add", "--comment", "c", "--duration", "1h", `a=~"("`}, "is not a matcher"},
		{[]string{"silence", "add", "--colour", "red"}, "flag provided but not defined"},
		{[]string{"silence", "list", "--state", "muted"}, `--state "muted"`},
		{[]string{"silence", "list", "extra"}, `unexpected argument "extra"`},
		{[]string{"silence", "expire"}, "name the silences"},
		{[]string{"silence", "list", "--url", "localhost:8080"}, "is not an http:// or https:// URL"},
	} {
		var out, errOut bytes.Buffer
		env := map[string]string{"ALERTGATE_TOKEN": "t", "USER": "alice"}
		err := run(t.Context(), append([]string{"alertgate"}, tt.args...), func(k string) string { return env[k] }, &out, &errOut)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v (exit %d), want a usage error containing %q", tt.args, err, exitCode(err), tt.want)
		}
	}
	// Without a token nothing is sent.
	err := run(t.Context(), []string{"alertgate", "silence", "list"}, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "ALERTGATE_TOKEN") {
		t.Errorf("no token: %v", err)
	}
}

func TestParseSilenceDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90m": 90 * time.Minute, "2h30m": 150 * time.Minute, "1d": 24 * time.Hour, "2w": 14 * 24 * time.Hour,
	} {
		if got, err := parseSilenceDuration(in); err != nil || got != want {
			t.Errorf("parseSilenceDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "0d", "1.5d", "1dw", "-2d", "5000d", "0s"} {
		if _, err := parseSilenceDuration(bad); err == nil {
			t.Errorf("parseSilenceDuration(%q) accepted it", bad)
		}
	}
}
