package routing_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/routing"
)

func ptr[T any](v T) *T { return &v }

func mustTree(t testing.TB, routes []config.Route) *routing.Tree {
	t.Helper()
	tree, err := routing.New(routes, "")
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func TestMatch(t *testing.T) {
	tree := mustTree(t, []config.Route{
		{Name: "db", Match: map[string]string{"service": "db"}, GroupBy: []string{"cluster", "alertname"}},
		{Name: "crit", MatchRE: map[string]string{"severity": "crit|critical"}, AutoResolve: ptr(false), ReopenWindow: ptr(time.Duration(0))},
		{Name: "dd-only", Integrations: []string{"datadog"}},
	})
	tests := []struct {
		source    string
		labels    map[string]string
		wantRoute string
	}{
		{"am", map[string]string{"service": "db", "severity": "critical"}, "db"},
		{"am", map[string]string{"service": "dbx", "severity": "critical"}, "crit"},
		{"am", map[string]string{"severity": "critical2"}, "default"}, // anchored
		{"am", map[string]string{"severity": "xcrit"}, "default"},
		{"datadog", map[string]string{}, "dd-only"},
		{"am", nil, "default"},
	}
	for _, tt := range tests {
		a := &alertgate.Alert{Source: tt.source, Labels: tt.labels, Fingerprint: "f"}
		if got := tree.Match(a).Name; got != tt.wantRoute {
			t.Errorf("Match(%s %v) = %s, want %s", tt.source, tt.labels, got, tt.wantRoute)
		}
	}
	crit := tree.Match(&alertgate.Alert{Labels: map[string]string{"severity": "crit"}})
	if crit.AutoResolve || crit.ReopenWindow != 0 {
		t.Errorf("crit settings: auto_resolve %v reopen %v, want false 0", crit.AutoResolve, crit.ReopenWindow)
	}
	dflt := tree.Match(&alertgate.Alert{})
	if !dflt.AutoResolve || dflt.ReopenWindow != 5*time.Minute {
		t.Errorf("default settings: auto_resolve %v reopen %v, want true 5m", dflt.AutoResolve, dflt.ReopenWindow)
	}
}

func TestGroupKey(t *testing.T) {
	tree := mustTree(t, []config.Route{
		{Name: "by", Match: map[string]string{"g": "by"}, GroupBy: []string{"b", "a"}},
		{Name: "all", Match: map[string]string{"g": "all"}, GroupBy: []string{"..."}},
	})
	key := func(source, fp, senderKey string, labels map[string]string) string {
		a := &alertgate.Alert{Source: source, Fingerprint: fp, GroupKey: senderKey, Labels: labels}
		return tree.Match(a).GroupKey(a)
	}
	tests := []struct {
		name      string
		x, y      string
		wantEqual bool
	}{
		{"group_by ignores other labels and order",
			key("am", "1", "", map[string]string{"g": "by", "a": "1", "b": "2", "c": "x"}),
			key("am", "2", "", map[string]string{"g": "by", "b": "2", "a": "1", "c": "y"}), true},
		{"group_by values differ",
			key("am", "1", "", map[string]string{"g": "by", "a": "1"}),
			key("am", "1", "", map[string]string{"g": "by", "a": "2"}), false},
		{"separator in a value cannot imitate another label set",
			key("am", "1", "", map[string]string{"g": "by", "a": `1",b="2`}),
			key("am", "1", "", map[string]string{"g": "by", "a": "1", "b": "2"}), false},
		{"... groups by every label",
			key("am", "1", "", map[string]string{"g": "all", "x": "1"}),
			key("am", "1", "", map[string]string{"g": "all", "x": "2"}), false},
		{"default route uses the sender's group key",
			key("am", "1", "{}:{alertname=\"X\"}", nil),
			key("am", "2", "{}:{alertname=\"X\"}", nil), true},
		{"the same sender key from two integrations is two groups",
			key("am", "1", "k", nil),
			key("grafana", "1", "k", nil), false},
		{"no group key: each alert alone",
			key("am", "1", "", nil),
			key("am", "2", "", nil), false},
	}
	for _, tt := range tests {
		if got := tt.x == tt.y; got != tt.wantEqual {
			t.Errorf("%s: keys %q and %q equal = %v, want %v", tt.name, tt.x, tt.y, got, tt.wantEqual)
		}
	}
}

func TestNewRejectsBadRegexp(t *testing.T) {
	// "a)|(b" compiles once anchored as "^(?:a)|(b)$", which escapes the
	// anchors; routing compiles with config.CompileAnchored, as Validate
	// does, and refuses it too.
	for _, expr := range []string{"(", "a)|(b"} {
		_, err := routing.New([]config.Route{{Name: "x", MatchRE: map[string]string{"a": expr}}}, "")
		if err == nil || !strings.Contains(err.Error(), "routes[0].match_re.a") {
			t.Errorf("New with match_re %q: %v, want an error naming routes[0].match_re.a", expr, err)
		}
	}
}

func BenchmarkMatch100Routes(b *testing.B) {
	routes := make([]config.Route, 100)
	for i := range routes {
		routes[i] = config.Route{Name: fmt.Sprintf("r%d", i), Match: map[string]string{"team": fmt.Sprintf("t%d", i)}, GroupBy: []string{"alertname"}}
	}
	tree := mustTree(b, routes)
	a := &alertgate.Alert{Source: "am", Labels: map[string]string{"team": "t99", "alertname": "X"}}
	for b.Loop() {
		r := tree.Match(a)
		_ = r.GroupKey(a)
	}
}
