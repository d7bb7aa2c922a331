package silence_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/silence"
)

func TestSetWithWindows(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := silence.Windows([]config.MaintenanceWindow{
		{Name: "db-backup", Matchers: []string{`service="db"`, `severity!="critical"`}, TimeZone: "Europe/London",
			Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "01:00", To: "03:00"},
		{Name: "weekend", Matchers: []string{`env="staging"`}, TimeZone: "UTC", Days: []string{"sat"}, From: "00:00", To: "00:00"},
	})
	if err != nil {
		t.Fatal(err)
	}
	sl := silence.Silence{ID: "sil-1", Matchers: []string{`service="db"`}, StartsAt: t0.Add(-time.Hour), EndsAt: t0.Add(20 * time.Hour)}

	// Monday 2 March 2026, 01:30 London (GMT): the backup window is open.
	at := time.Date(2026, 3, 2, 1, 30, 0, 0, london)
	set := silence.NewSet(at, nil).WithWindows(ws)
	db := map[string]string{"service": "db", "severity": "warning"}
	if got := set.InWindows(db); !slices.Equal(got, []string{"db-backup"}) || !set.Muted(db) {
		t.Errorf("InWindows(db warning) = %v, Muted %v; want db-backup", got, set.Muted(db))
	}
	crit := map[string]string{"service": "db", "severity": "critical"}
	if got := set.InWindows(crit); got != nil || set.Muted(crit) {
		t.Errorf("InWindows(db critical) = %v, want none", got)
	}
	if got, want := set.NextChange(), time.Date(2026, 3, 2, 3, 0, 0, 0, london); !got.Equal(want) {
		t.Errorf("NextChange = %s, want %s (the window closes)", got, want)
	}

	// At 03:00 it has closed; the silence (from t0 = 09:00) is still ahead.
	at = time.Date(2026, 3, 2, 3, 0, 0, 0, london)
	set = silence.NewSet(at, []silence.Silence{sl}).WithWindows(ws)
	if set.Muted(db) {
		t.Errorf("at 03:00 db is muted: %v %v", set.InWindows(db), ids(set.Silencing(db)))
	}
	if got, want := set.NextChange(), t0.Add(-time.Hour); !got.Equal(want) {
		t.Errorf("NextChange = %s, want %s (the silence starts)", got, want)
	}

	// Saturday 7 March: the all-day window, and the silence has ended.
	at = time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	set = silence.NewSet(at, []silence.Silence{sl}).WithWindows(ws)
	staging := map[string]string{"env": "staging"}
	if got := set.InWindows(staging); !slices.Equal(got, []string{"weekend"}) {
		t.Errorf("Saturday: InWindows(staging) = %v", got)
	}
	if got, want := set.NextChange(), time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Saturday: NextChange = %s, want %s", got, want)
	}
	if len(set.Silences()) != 0 {
		t.Errorf("Saturday: the ended silence is still in the set")
	}
}

func TestNewSetReportsUnreadableSilences(t *testing.T) {
	set := silence.NewSet(t0, []silence.Silence{
		{ID: "sil-ok", Matchers: []string{`a="b"`}, StartsAt: t0, EndsAt: t0.Add(time.Hour)},
		{ID: "sil-bad", Matchers: []string{`a=~"("`}, StartsAt: t0, EndsAt: t0.Add(time.Hour)},
		{ID: "sil-none", StartsAt: t0, EndsAt: t0.Add(time.Hour)},
	})
	if !slices.Equal(set.Invalid, []string{"sil-bad", "sil-none"}) {
		t.Errorf("Invalid = %v", set.Invalid)
	}
	if got := ids(set.Silencing(map[string]string{"a": "b"})); !slices.Equal(got, []string{"sil-ok"}) {
		t.Errorf("Silencing = %v", got)
	}
}

// A silence starts when it starts and ends when it ends: the instants of
// NextChange are the instants Silencing changes.
func TestSilencingAtItsBoundaries(t *testing.T) {
	sl := silence.Silence{ID: "sil-1", Matchers: []string{`a="b"`}, StartsAt: t0, EndsAt: t0.Add(time.Hour)}
	labels := map[string]string{"a": "b"}
	for _, tt := range []struct {
		at    time.Time
		muted bool
		next  time.Time
	}{
		{t0.Add(-time.Millisecond), false, t0},
		{t0, true, t0.Add(time.Hour)},
		{t0.Add(time.Hour - time.Millisecond), true, t0.Add(time.Hour)},
		{t0.Add(time.Hour), false, time.Time{}},
	} {
		set := silence.NewSet(tt.at, []silence.Silence{sl})
		if got := len(set.Silencing(labels)) > 0; got != tt.muted {
			t.Errorf("at %s: muted %v, want %v", tt.at, got, tt.muted)
		}
		if got := set.NextChange(); !got.Equal(tt.next) {
			t.Errorf("at %s: NextChange %s, want %s", tt.at, got, tt.next)
		}
	}
}

func TestParseMatchers(t *testing.T) {
	ms, err := silence.ParseMatchers([]string{`team=dba`, `severity=~"warning|info"`, `env!=""`})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ms.String(), `{team="dba",severity=~"warning|info",env!=""}`; got != want {
		t.Errorf("parsed %s, want %s", got, want)
	}
	for _, bad := range [][]string{
		{`team=~".*"`},
		{`a=""`, `b!~".+"`},
		{strings.Repeat("a", silence.MaxMatcherLen) + `="b"`},
		{`"unterminated`},
	} {
		if _, err := silence.ParseMatchers(bad); err == nil {
			t.Errorf("ParseMatchers(%q) accepted it", bad)
		}
	}
}

// A set read once answers for later instants exactly about what it holds.
func TestSetLater(t *testing.T) {
	sl := []silence.Silence{
		{ID: "sil-early", Matchers: []string{`a="b"`}, StartsAt: t0, EndsAt: t0.Add(time.Hour)},
		{ID: "sil-late", Matchers: []string{`a="b"`}, StartsAt: t0.Add(2 * time.Hour), EndsAt: t0.Add(3 * time.Hour)},
	}
	labels := map[string]string{"a": "b"}
	read := silence.NewSet(t0.Add(time.Minute), sl)
	for _, tt := range []struct {
		at   time.Time
		want []string
		next time.Time
		held int
	}{
		{t0.Add(time.Minute), []string{"sil-early"}, t0.Add(time.Hour), 2},
		{t0.Add(90 * time.Minute), nil, t0.Add(2 * time.Hour), 1},
		{t0.Add(150 * time.Minute), []string{"sil-late"}, t0.Add(3 * time.Hour), 1},
		{t0.Add(4 * time.Hour), nil, time.Time{}, 0},
	} {
		set := read.Later(tt.at)
		if got := ids(set.Silencing(labels)); !slices.Equal(got, append([]string{}, tt.want...)) || !set.At().Equal(tt.at) {
			t.Errorf("Later(%s): Silencing = %v, want %v", tt.at, got, tt.want)
		}
		if got := set.NextChange(); !got.Equal(tt.next) {
			t.Errorf("Later(%s): NextChange = %s, want %s", tt.at, got, tt.next)
		}
		if got := len(set.Silences()); got != tt.held {
			t.Errorf("Later(%s) holds %d silences, want %d", tt.at, got, tt.held)
		}
	}
	if got := len(read.Silences()); got != 2 {
		t.Errorf("Later changed the set it was called on: %d silences", got)
	}
}

// Whatever config.Validate accepts, Windows compiles.
func TestWindowsCompileWhatTheConfigAccepts(t *testing.T) {
	cfg, err := config.Load([]byte(`
maintenance_windows:
  - {name: a, matchers: ['service="db"', 'env!~"dev|test"'], time_zone: Europe/London, days: [mon, sun], from: "22:00", to: "02:00"}
  - {name: b, matchers: [team=web], time_zone: UTC, days: [sat], from: "00:00", to: "24:00"}
`), "cfg.yml")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := silence.Windows(cfg.MaintenanceWindows)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Name != "a" || ws[0].Matchers.String() != `{service="db",env!~"dev|test"}` || ws[1].Schedule.Location != time.UTC {
		t.Errorf("compiled %+v", ws)
	}
	// Sunday 8 March 2026, 23:00 GMT: window a, which runs into Monday.
	at := time.Date(2026, 3, 8, 23, 0, 0, 0, time.UTC)
	if !ws[0].Schedule.Active(at) || !ws[0].Matchers.Matches(map[string]string{"service": "db", "env": "prod"}) {
		t.Errorf("window a is not open for db at %s", at)
	}
}
