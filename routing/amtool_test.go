package routing_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/routing"
)

var update = flag.Bool("update", false, "rewrite the golden files of routing's tests")

const amtoolDir = "testdata/amtool"

// labelSet is one line of the corpus.
type labelSet struct {
	line   string
	labels map[string]string
}

func loadCorpus(t *testing.T) []labelSet {
	t.Helper()
	f, err := os.Open(filepath.Join(amtoolDir, "corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelSet
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ls := labelSet{line: line, labels: map[string]string{}}
		for _, pair := range strings.Fields(line) {
			name, value, ok := strings.Cut(pair, "=")
			if !ok {
				t.Fatalf("corpus: %q is not name=value", pair)
			}
			ls.labels[name] = value
		}
		out = append(out, ls)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func amtoolTree(t *testing.T) *routing.Tree {
	t.Helper()
	cfg, err := config.LoadFile(filepath.Join(amtoolDir, "alertgate.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := routing.New(cfg.Routes, cfg.DefaultEscalationPolicy)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// TestRoutesGolden routes the corpus through the tree of alertgate.yml
// and compares, per label set, each route's path and the settings it
// inherited with routes.golden. go test ./routing/ -run Golden -update
// rewrites it.
func TestRoutesGolden(t *testing.T) {
	tree := amtoolTree(t)
	var b strings.Builder
	for _, ls := range loadCorpus(t) {
		a := &alertgate.Alert{Source: "prometheus", Fingerprint: "f", Labels: ls.labels}
		fmt.Fprintln(&b, ls.line)
		routes := tree.Routes(a)
		for i, path := range tree.Explain(a) {
			r := routes[i]
			fmt.Fprintf(&b, "  %-40s group %s, group_wait %v, policy %q\n", strings.Join(path, " > "), r.GroupKey(a), r.GroupWait, r.Policy)
		}
	}
	golden := filepath.Join(amtoolDir, "routes.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("routes differ from %s (run with -update to accept):\n%s", golden, got)
	}
}

// TestRoutesAgreeWithAmtool asks Alertmanager's own amtool which
// receivers each label set of the corpus reaches in alertmanager.yml (the
// same tree, each receiver named after its alertgate route) and checks
// that alertgate takes the same routes, in the same order.
func TestRoutesAgreeWithAmtool(t *testing.T) {
	amtool, err := exec.LookPath("amtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("amtool not found, and CI is set: install Debian's prometheus-alertmanager (.ci/run does)")
		}
		t.Skip("amtool not found: apt-get install prometheus-alertmanager to compare routes with Alertmanager's")
	}
	tree := amtoolTree(t)
	cfg := filepath.Join(amtoolDir, "alertmanager.yml")
	for _, ls := range loadCorpus(t) {
		args := append([]string{"config", "routes", "test", "--config.file=" + cfg}, strings.Fields(ls.line)...)
		cmd := exec.CommandContext(t.Context(), amtool, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("amtool %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		want := strings.Split(strings.TrimSpace(string(out)), ",")
		got := names(tree.Routes(&alertgate.Alert{Source: "prometheus", Labels: ls.labels}))
		if !slices.Equal(got, want) {
			t.Errorf("%s: alertgate routes %v, amtool receivers %v", ls.line, got, want)
		}
	}
}
