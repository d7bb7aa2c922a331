package e2e

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alertgate/alertgate/internal/redistest"
)

// am2 is the integration the reload adds.
const am2 = `  - name: am2
    type: alertmanager
    tokens: [t-am2]
`

// TestReloadOnSIGHUP: SIGHUP applies a changed config without a restart;
// an invalid one is refused with an ERROR log line and the running config
// keeps serving.
func TestReloadOnSIGHUP(t *testing.T) {
	t.Parallel()
	needBinary(t)
	_, prefix := redistest.New(t)
	path := filepath.Join(t.TempDir(), "alertgate.yaml")
	good := gateConfig(prefix, testRedisURL())
	writeFile(t, path, good)
	g := startGate(t, gateOptions{prefix: prefix, configPath: path})

	body := amWebhook(t, "E2EReload", firingAlerts("E2EReload", 1, time.Now().Add(-time.Minute)))
	if status, resp := g.postHook(t, "am2", "t-am2", body); status != http.StatusNotFound {
		t.Fatalf("am2 before the reload: %d %s, want 404", status, resp)
	}

	writeFile(t, path, good+am2)
	if err := g.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "/hooks/am2 to exist after SIGHUP", func() (bool, string) {
		status, resp := g.postHook(t, "am2", "t-am2", body)
		return status != http.StatusNotFound, string(resp)
	})
	if status, resp := g.postHook(t, "am2", "t-am2", body); status != http.StatusOK {
		t.Fatalf("am2 after the reload: %d %s, want 200", status, resp)
	}
	if n := g.metric(t, "alertgate_config_reloads_total", `result="success"`); n != 1 {
		t.Errorf("alertgate_config_reloads_total{result=\"success\"} = %v, want 1", n)
	}

	// An unknown key: the reload is refused, loudly.
	g.expectError("config reload refused")
	writeFile(t, path, good+am2+"bogus_key: 1\n")
	if err := g.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var line string
	eventually(t, 10*time.Second, `an ERROR "config reload refused" log line`, func() (bool, string) {
		var ok bool
		line, ok = g.errorLogged("config reload refused")
		return ok, "not logged yet"
	})
	if !strings.Contains(line, "bogus_key") {
		t.Errorf("the refusal does not name the problem (bogus_key): %s", line)
	}
	if n := g.metric(t, "alertgate_config_reloads_total", `result="failure"`); n != 1 {
		t.Errorf("alertgate_config_reloads_total{result=\"failure\"} = %v, want 1", n)
	}
	for _, in := range []struct{ name, token string }{{"am2", "t-am2"}, {"am", amToken}} {
		if status, resp := g.postHook(t, in.name, in.token, body); status != http.StatusOK {
			t.Errorf("%s after a refused reload: %d %s, want 200 (the previous config keeps serving)", in.name, status, resp)
		}
	}
	g.waitReady(t, 5*time.Second)
}

// TestCheckConfig: check-config exits 0 on a good file, and non-zero on a
// bad one, naming every problem with its line.
func TestCheckConfig(t *testing.T) {
	t.Parallel()
	needBinary(t)
	dir := t.TempDir()

	run := func(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(alertgateBin, args...)
		cmd.Env = append(childEnv(), env...)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("run alertgate %v: %v", args, err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
	}

	t.Run("valid", func(t *testing.T) {
		path := filepath.Join(dir, "good.yaml")
		writeFile(t, path, gateConfig("e2e-check", "redis://127.0.0.1:6379/0"))
		code, stdout, stderr := run(t, nil, "check-config", path)
		if code != 0 {
			t.Fatalf("check-config on a valid file: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "OK") {
			t.Errorf("check-config stdout %q: want OK", stdout)
		}
	})

	t.Run("two problems", func(t *testing.T) {
		path := filepath.Join(dir, "bad.yaml")
		writeFile(t, path, `listen: 127.0.0.1:0
redis:
  url: redis://127.0.0.1:6379/0
  key_prefix: e2e-check
api:
  tokens: [t-api]
integrations:
  - name: am
    type: alertmanagr
    tokens: [t-am]
  - name: pd
    type: pagerduty
    routing_keys: ["0123456789abcdef0123456789abcdef"]
    colour: blue
`)
		code, stdout, stderr := run(t, nil, "check-config", path)
		if code == 0 {
			t.Fatalf("check-config on a bad file: exit 0\nstdout: %s\nstderr: %s", stdout, stderr)
		}
		for _, want := range []string{
			path + ":9: integrations[0].type:",    // the misspelt type
			path + ":14: integrations[1].colour:", // the unknown key
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not name %q:\n%s", want, stderr)
			}
		}
		if strings.Contains(stdout, "OK") {
			t.Errorf("stdout says OK for a bad file: %s", stdout)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		code, _, stderr := run(t, nil, "check-config", filepath.Join(dir, "nope.yaml"))
		if code == 0 || !strings.Contains(stderr, "nope.yaml") {
			t.Errorf("check-config on a missing file: exit %d, stderr %q; want non-zero naming the file", code, stderr)
		}
	})

	t.Run("usage", func(t *testing.T) {
		if code, _, stderr := run(t, nil, "check-config"); code != 2 {
			t.Errorf("check-config without FILE: exit %d, want 2 (usage)\n%s", code, stderr)
		}
	})

	t.Run("example", func(t *testing.T) {
		// The example shipped in the repository must always pass, given
		// the environment variables it reads its secrets from.
		path := filepath.Join(moduleRoot, "examples", "alertgate.yaml")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Skipf("no example config yet: %v", err)
		}
		var env []string
		for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllSubmatch(data, -1) {
			env = append(env, string(m[1])+"="+placeholder(string(m[1])))
		}
		if code, stdout, stderr := run(t, env, "check-config", path); code != 0 {
			t.Errorf("check-config %s: exit %d\nstdout: %s\nstderr: %s", path, code, stdout, stderr)
		}
	})
}

// placeholder is a value for an environment variable the example config
// reads, shaped as the field it fills must be: URLs for *_URL, a Telegram
// token for *_BOT_TOKEN.
func placeholder(name string) string {
	switch {
	case strings.HasSuffix(name, "_URL"):
		return "https://example.com/api/webhooks/123/e2e-placeholder"
	case strings.HasSuffix(name, "_BOT_TOKEN"):
		return "123456:e2e-placeholder"
	}
	return "e2e-placeholder-" + strings.ToLower(name)
}
