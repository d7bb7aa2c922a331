package snapshot_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/snapshot"
)

// env is what config/testdata and examples/alertgate.yaml read.
func env(name string) string {
	switch name {
	case "ALERTGATE_TEST_TOKEN", "ALERTGATE_TEST_REDIS_PASSWORD":
		return "test-" + strings.ToLower(name)
	}
	switch {
	case strings.HasPrefix(name, "ALERTGATE_") && strings.HasSuffix(name, "_URL"):
		return "https://example.com/api/webhooks/123/example"
	case strings.HasPrefix(name, "ALERTGATE_") && strings.HasSuffix(name, "_BOT_TOKEN"):
		return "123456:example"
	case strings.HasPrefix(name, "ALERTGATE_"):
		return "example-" + strings.ToLower(name)
	}
	return ""
}

// TestLoadedConfigsBuild: every config that loads (and so passed
// config.Validate) builds, and every config that does not is refused with
// the loader's problems, each with its file and line. Before snapshot,
// a file could load and then fail to build, so check-config said OK to a
// config serve refused.
func TestLoadedConfigsBuild(t *testing.T) {
	files, err := filepath.Glob("../config/testdata/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	files = append(files, "../examples/alertgate.yaml")
	built := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, loadErr := config.LoadEnv(data, file, env)
			snap, err := snapshot.Load(data, file, env)
			switch {
			case loadErr == nil && err != nil:
				if !channelProblems(err) {
					t.Fatalf("loads but does not build: %v", err)
				}
				return // a channel's own check, with its line
			case loadErr != nil && err == nil:
				t.Fatalf("builds but does not load: %v", loadErr)
			case err != nil:
				var le *config.LoadError
				if !errors.As(err, &le) || err.Error() != loadErr.Error() {
					t.Fatalf("Load error %v, want the loader's problems %v", err, loadErr)
				}
				for _, p := range le.Problems {
					if p.File != file || p.Line == 0 {
						t.Errorf("problem without file and line: %+v", p)
					}
				}
				return
			}
			built++
			if len(snap.Config.Integrations) != len(cfg.Integrations) || snap.Receivers == nil || snap.Routes == nil {
				t.Fatalf("snapshot %+v", snap)
			}
			for _, in := range cfg.Integrations {
				if _, got, ok := snap.Receivers.Get(in.Name); !ok || got.Name != in.Name {
					t.Errorf("no receiver for integration %q", in.Name)
				}
			}
		})
	}
	if built < 2 {
		t.Errorf("only %d files built; the valid ones should", built)
	}
}

func TestBuild(t *testing.T) {
	cfg := &config.Config{
		Integrations: []config.Integration{{Name: "am", Type: config.TypeAlertmanager, Tokens: []config.Secret{"t"}}},
		Routes:       []config.Route{{Name: "db", Match: map[string]string{"team": "db"}, MatchRE: map[string]string{"env": "prod|staging"}}},
	}
	cfg.ApplyDefaults()
	snap, err := snapshot.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Config != cfg {
		t.Error("Config is not the config built")
	}
	if r, _, ok := snap.Receivers.Get("am"); !ok || r.Type() != config.TypeAlertmanager {
		t.Errorf("Receivers.Get(am) = %v, %v", r, ok)
	}
	for labels, want := range map[string]string{"db/prod": "db", "db/prod2": config.DefaultRouteName, "web/prod": config.DefaultRouteName} {
		team, envName, _ := strings.Cut(labels, "/")
		a := &alertgate.Alert{Source: "am", Labels: map[string]string{"team": team, "env": envName}}
		if got := snap.Routes.Match(a); got.Name != want {
			t.Errorf("%s routes to %q, want %q", labels, got.Name, want)
		}
	}
	// The built-in route has the defaults of a configured route.
	dflt := snap.Routes.Match(&alertgate.Alert{})
	if dflt.AutoResolve != config.DefaultAutoResolve || dflt.ReopenWindow != config.DefaultReopenWindow {
		t.Errorf("built-in route: auto_resolve %v reopen %v", dflt.AutoResolve, dflt.ReopenWindow)
	}
}

// Build validates: a config made in code (or changed after loading, as
// the command line's overrides do) gets the same problems as a file.
func TestBuildValidates(t *testing.T) {
	cfg := &config.Config{
		Integrations: []config.Integration{{Name: "am", Type: config.TypeAlertmanager, Tokens: []config.Secret{"t"},
			Labels: map[string]string{strings.Repeat("x", 300): "v"}}},
		Routes: []config.Route{{Name: "r", MatchRE: map[string]string{"a": "a)|(b"}}},
	}
	cfg.ApplyDefaults()
	_, err := snapshot.Build(cfg)
	var le *config.LoadError
	if !errors.As(err, &le) || len(le.Problems) != 2 {
		t.Fatalf("Build = %v, want a *config.LoadError with 2 problems", err)
	}
	if got := err.Error(); strings.Contains(got, "bug") || !strings.Contains(got, "integrations[0].labels.xxx") || !strings.Contains(got, "routes[0].match_re.a") {
		t.Errorf("Build error:\n%s", got)
	}
}

// FuzzLoadedConfigsBuild: whatever config loads also builds. Build failing
// after config.Validate passed would be a rule missing from Validate, and
// check-config would say OK to a config serve refuses.
func FuzzLoadedConfigsBuild(f *testing.F) {
	files, err := filepath.Glob("../config/testdata/*.yml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range append(files, "../examples/alertgate.yaml") {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Named inside testdata, so relative *_file paths find the seeds'
		// secret files.
		cfg, err := config.LoadEnv(data, "../config/testdata/fuzz.yml", env)
		if err != nil {
			return
		}
		if _, err := snapshot.Build(cfg); err != nil && !channelProblems(err) {
			t.Fatalf("loaded but did not build: %v", err)
		}
	})
}

// The rotations are compiled once, in the config's order, with their zones
// and layers, so requests never parse them again.
func TestBuildRotations(t *testing.T) {
	data, err := os.ReadFile("../config/testdata/valid.yml")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Load(data, "../config/testdata/valid.yml", env)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range snap.Config.Rotations {
		want = append(want, r.ID)
	}
	if len(want) < 2 || !slices.Equal(snap.RotationIDs, want) {
		t.Fatalf("RotationIDs %v, want the config's %v", snap.RotationIDs, want)
	}
	if len(snap.Rotations) != len(want) {
		t.Errorf("%d rotations by id, want %d", len(snap.Rotations), len(want))
	}
	for i, rot := range snap.RotationList() {
		cr := snap.Config.Rotations[i]
		if rot == nil || rot != snap.Rotations[cr.ID] || rot.ID != cr.ID {
			t.Fatalf("RotationList()[%d] = %+v, want rotation %s", i, rot, cr.ID)
		}
		if rot.Location == nil || rot.Location.String() != cr.TimeZone {
			t.Errorf("rotation %s: zone %v, want %s", cr.ID, rot.Location, cr.TimeZone)
		}
		if len(rot.Layers) != len(cr.Layers) {
			t.Errorf("rotation %s: %d layers, want %d", cr.ID, len(rot.Layers), len(cr.Layers))
		}
		for j, l := range rot.Layers {
			if !slices.Equal(l.Participants, cr.Layers[j].Participants) || l.Start.String() != cr.Layers[j].Start || l.Shift.String() != cr.Layers[j].Shift {
				t.Errorf("rotation %s layer %d: %+v, want %+v", cr.ID, j, l, cr.Layers[j])
			}
		}
	}
}

// A channel's own checks (a Slack URL must be https) are problems of the
// config, with the line of the notifier, not "a bug in alertgate".
func TestNotifierProblemsHaveLines(t *testing.T) {
	_, err := snapshot.Load([]byte(`
notifiers:
  - id: ok
    type: slack
    url: https://hooks.slack.com/services/T/B/x
  - id: chat
    type: slack
    url: http://hooks.slack.com/services/T/B/secret-token
`), "n.yaml", env)
	var le *config.LoadError
	if !errors.As(err, &le) || len(le.Problems) != 1 {
		t.Fatalf("Load = %v, want one config problem", err)
	}
	p := le.Problems[0]
	if p.File != "n.yaml" || p.Line != 6 || p.Field != "notifiers[1]" || !strings.Contains(p.Message, "https") ||
		strings.Contains(err.Error(), "secret-token") || strings.Contains(err.Error(), "bug") {
		t.Errorf("problem %+v (%v), want n.yaml:6 notifiers[1] about https, without the URL", p, err)
	}
}

// channelProblems reports whether err is config problems that only the
// channels know (notifiers[…]: a Slack URL that is not https): Build, not
// Validate, finds those, and reports them with their lines like the
// loader's own. Anything else failing after Validate passed is a bug.
func channelProblems(err error) bool {
	var le *config.LoadError
	if !errors.As(err, &le) || len(le.Problems) == 0 {
		return false
	}
	for _, p := range le.Problems {
		if !strings.HasPrefix(p.Field, "notifiers[") || p.Line == 0 {
			return false
		}
	}
	return true
}
