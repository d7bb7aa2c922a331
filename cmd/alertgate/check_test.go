package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/snapshot"
)

// testdataEnv is the environment config/testdata reads.
func testdataEnv(name string) string {
	return map[string]string{
		"ALERTGATE_TEST_TOKEN":          "env-token",
		"ALERTGATE_TEST_REDIS_PASSWORD": "redis-pass",
	}[name]
}

// TestCheckConfigProblems: check-config names each problem with its file
// and line, and exits 1.
func TestCheckConfigProblems(t *testing.T) {
	for _, tt := range []struct {
		file string
		want string
	}{
		// A label name of 300 bytes: check-config said OK, and serve then
		// refused it ("receivers: receivers: integration "am": labels: bad
		// label …").
		{"label_name_too_long.yml", ":8: integrations[0].labels." + strings.Repeat("x", 300) + ": name is 300 bytes, longer than the limit of 256"},
		{"route_bad_regexp.yml", ":8: routes[0].match_re.env: invalid regular expression"},
		{"signature_wrong_type.yml", ":5: integrations[0].signature: only for types grafana and generic"},
		{"duplicate_routing_key.yml", ":7: integrations[1].routing_keys[1]: duplicate routing key"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("..", "..", "config", "testdata", tt.file)
			var out, errb bytes.Buffer
			err := run(t.Context(), []string{"alertgate", "check-config", path}, testdataEnv, &out, &errb)
			if err == nil || exitCode(err) != 1 {
				t.Fatalf("check-config: err %v (exit %d), want exit 1\nstdout: %s", err, exitCode(err), out.String())
			}
			if !strings.Contains(errb.String(), path+tt.want) {
				t.Errorf("stderr\n%s\ndoes not contain\n%s", errb.String(), path+tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
			for _, bad := range []string{"receivers: receivers:", "bug in alertgate"} {
				if strings.Contains(errb.String(), bad) {
					t.Errorf("stderr says %q:\n%s", bad, errb.String())
				}
			}
		})
	}
}

// TestCheckConfigAgreesWithServe: for every file in config/testdata,
// check-config's verdict is serve's. A file check-config passes starts the
// server; a file it refuses makes serve exit with the same problems.
func TestCheckConfigAgreesWithServe(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "testdata", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	accepted := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var errb bytes.Buffer
			checkErr := run(t.Context(), []string{"alertgate", "check-config", file}, testdataEnv, io.Discard, &errb)
			serveErr, started := serveVerdict(t, file)
			switch {
			case checkErr == nil && !started:
				t.Fatalf("check-config says OK, serve refuses it: %v", serveErr)
			case checkErr != nil && started:
				t.Fatalf("check-config refuses it, serve starts:\n%s", errb.String())
			case checkErr != nil:
				if got, want := serveErr.Error(), strings.TrimSuffix(errb.String(), "\n"); got != want {
					t.Errorf("serve's problems\n%s\ndiffer from check-config's\n%s", got, want)
				}
			default:
				accepted++
			}
		})
	}
	if accepted == 0 {
		t.Error("no testdata file was accepted; valid.yml should be")
	}
}

// serveVerdict runs serve on file: started when it came up listening (it
// is stopped again), or the error it exited with.
func serveVerdict(t *testing.T, file string) (err error, started bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"alertgate", "serve", "--config", file, "--listen", "127.0.0.1:0", "--log-level", "error"}, testdataEnv, pw, io.Discard)
		_ = pw.Close()
	}()
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "alertgate listening on ") {
				close(listening)
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("serve exited 0 without listening")
		}
		return err, false
	case <-listening:
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve after shutdown: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop within 30s")
		}
		return nil, true
	case <-time.After(30 * time.Second):
		t.Fatal("serve neither listened nor exited within 30s")
	}
	return nil, false
}

// TestReloadRefuses: a reload that fails, by an invalid file or by a panic
// while loading or building (a bug), is refused with an ERROR log and
// counted, and the previous snapshot keeps serving; the process lives on.
func TestReloadRefuses(t *testing.T) {
	good, err := snapshot.Load([]byte("integrations:\n  - {name: am, type: alertmanager, tokens: [t]}\n"), "good.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	next, err := snapshot.Load([]byte("integrations:\n  - {name: am2, type: alertmanager, tokens: [t]}\n"), "good.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	var nilConfig *config.Config
	for _, tt := range []struct {
		name string
		load func() (*snapshot.Snapshot, error)
		want string
	}{
		{"invalid file", func() (*snapshot.Snapshot, error) {
			return snapshot.Load([]byte("listen: \"\"\n"), "bad.yaml", nil)
		}, "bad.yaml:1: listen: must not be empty"},
		{"panic", func() (*snapshot.Snapshot, error) { panic("injected failure") }, "panic while loading the config, a bug in alertgate: injected failure"},
		{"nil dereference", func() (*snapshot.Snapshot, error) { return snapshot.Build(nilConfig) }, "panic while loading the config"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var current atomic.Pointer[snapshot.Snapshot]
			current.Store(good)
			var logs bytes.Buffer
			m := metrics.New(nil)
			reload(tt.load, &current, m, slog.New(slog.NewJSONHandler(&logs, nil)))
			if current.Load() != good {
				t.Error("the refused reload replaced the serving snapshot")
			}
			if !strings.Contains(logs.String(), `"level":"ERROR","msg":"config reload refused; the previous config keeps serving"`) || !strings.Contains(logs.String(), tt.want) {
				t.Errorf("log\n%s\nwant an ERROR line with %q", logs.String(), tt.want)
			}
			if got := reloads(t, m, "failure"); got != 1 {
				t.Errorf("failed reloads counted %v, want 1", got)
			}
		})
	}

	t.Run("valid", func(t *testing.T) {
		var current atomic.Pointer[snapshot.Snapshot]
		current.Store(good)
		m := metrics.New(nil)
		reload(func() (*snapshot.Snapshot, error) { return next, nil }, &current, m, slog.New(slog.DiscardHandler))
		if current.Load() != next {
			t.Error("a valid reload did not swap the snapshot")
		}
		if got := reloads(t, m, "success"); got != 1 {
			t.Errorf("successful reloads counted %v, want 1", got)
		}
	})
}

// reloads reads alertgate_config_reloads_total{result}.
func reloads(t *testing.T, m *metrics.Metrics, result string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "alertgate_config_reloads_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return mt.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// Link keys without a public URL are valid but do nothing: check-config
// says so, and still passes.
func TestCheckConfigNotesLinksWithoutPublicURL(t *testing.T) {
	dir := t.TempDir()
	body := "redis:\n  url: redis://127.0.0.1:6379\nlinks:\n  keys:\n    - {id: k1, secret: " + strings.Repeat("s", 32) + "}\n"
	for _, c := range []struct {
		extra string
		note  bool
	}{{"", true}, {"public_url: https://alertgate.example.com\n", false}} {
		path := filepath.Join(dir, "c.yaml")
		writeFile(t, path, c.extra+body)
		var out, errs bytes.Buffer
		if err := runCheckConfig([]string{path}, func(string) string { return "" }, &out, &errs); err != nil {
			t.Fatalf("check-config: %v\n%s", err, errs.String())
		}
		if got := strings.Contains(out.String(), "public_url is not"); got != c.note {
			t.Errorf("public_url %q: output %q, note shown %v, want %v", c.extra, out.String(), got, c.note)
		}
	}
}
