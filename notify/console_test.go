package notify_test

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/notify"
)

func TestConsoleLine(t *testing.T) {
	tests := []struct {
		name string
		page func(p *notify.Page)
		want string
	}{
		{"a step's page", func(*notify.Page) {},
			`PAGE alice | incident 42 [critical] "Disk full on db-42" | service db, 2 alerts | policy payments step 1 repeat 0 | on call in rotation payments-primary | key=42.1.0.0.alice` + "\n"},
		{"a repeat, one alert, no service", func(p *notify.Page) {
			p.Step, p.Repeat, p.AlertCount, p.Service = 3, 2, 1, ""
		}, `PAGE alice | incident 42 [critical] "Disk full on db-42" | 1 alert | policy payments step 3 repeat 2 | on call in rotation payments-primary | key=42.1.0.0.alice` + "\n"},
		{"a reassignment to a channel", func(p *notify.Page) {
			p.Step, p.Policy, p.User, p.Address, p.Reason, p.Key = 0, "", "", "#ops", "reassigned by api", "42.r1.#ops"
		}, `PAGE #ops | incident 42 [critical] "Disk full on db-42" | service db, 2 alerts | not a policy step | reassigned by api | key=42.r1.#ops` + "\n"},
		{"sender text cannot break the line or drive the terminal", func(p *notify.Page) {
			p.Title = "disk\nfull \x1b[31mred\x1b[0m \"quoted\""
			p.Service = "db\r\nFAKE PAGE"
			p.Severity = alertgate.SeverityWarning
		}, `PAGE alice | incident 42 [warning] "disk\nfull \x1b[31mred\x1b[0m \"quoted\"" | service db??FAKE PAGE, 2 alerts | policy payments step 1 repeat 0 | on call in rotation payments-primary | key=42.1.0.0.alice` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := page("42", "alice")
			tt.page(&p)
			if got := notify.ConsoleLine(p); got != tt.want {
				t.Errorf("line\n got %q\nwant %q", got, tt.want)
			}
			if got := strings.Count(notify.ConsoleLine(p), "\n"); got != 1 {
				t.Errorf("%d newlines, want 1", got)
			}
		})
	}
}

// overlapWriter is a writer that is not safe for concurrent use and says
// when it was used so.
type overlapWriter struct {
	inFlight, overlaps atomic.Int32
	b                  strings.Builder
}

func (w *overlapWriter) Write(p []byte) (int, error) {
	if w.inFlight.Add(1) > 1 {
		w.overlaps.Add(1)
	}
	defer w.inFlight.Add(-1)
	runtime.Gosched() // let another writer in, if it can get in
	return w.b.Write(p)
}

func (w *overlapWriter) String() string { return w.b.String() }

// Lines of concurrent pages never interleave: Console writes one at a
// time, whatever the writer.
func TestConsoleIsSafeForConcurrentUse(t *testing.T) {
	var out overlapWriter
	c := notify.NewConsole(&out)
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := page(strconv.Itoa(i+1), "u"+strconv.Itoa(i))
			p.Title = strings.Repeat("long title ", 50)
			if retry, err := c.Notify(t.Context(), p); err != nil || retry {
				t.Errorf("Notify: %v, %v", retry, err)
			}
		})
	}
	wg.Wait()
	if n := out.overlaps.Load(); n > 0 {
		t.Fatalf("%d writes overlapped", n)
	}
	counts := keyCounts(t, out.String())
	if len(counts) != n {
		t.Errorf("%d distinct keys, want %d", len(counts), n)
	}
	for line := range strings.Lines(out.String()) {
		if !strings.HasPrefix(line, "PAGE ") || strings.Count(line, "PAGE ") != 1 {
			t.Errorf("mangled line %q", line)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// A write error is the one way Console fails, and it is retryable.
func TestConsoleWriteErrorIsRetryable(t *testing.T) {
	retry, err := notify.NewConsole(failingWriter{}).Notify(t.Context(), page("1", "a"))
	if err == nil || !retry {
		t.Errorf("Notify = %v, %v; want a retryable error", retry, err)
	}
	if err != nil && !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("error %q does not say why", err)
	}
}

// countingWriter counts Write calls.
type countingWriter struct {
	writes int
	b      strings.Builder
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.b.Write(p)
}

func TestConsoleKinds(t *testing.T) {
	linked := chatPage()
	pageLine := `PAGE alice | incident 42 [critical] "Disk full on db-42" | service db, 2 alerts | policy payments step 1 repeat 0 | on call in rotation payments-primary | key=42.1.0.0.alice` + "\n"
	tests := []struct {
		name string
		page notify.Page
		want string
	}{
		{"a page with links: the line as ever, then each link", linked, pageLine +
			"  acknowledge: https://alertgate.example.com/a/ack-token\n" +
			"  resolve: https://alertgate.example.com/a/resolve-token\n" +
			"  open: https://alertgate.example.com/i/42\n"},
		{"a page with one link", func() notify.Page { p := page("42", "alice"); p.Links.Open = "http://127.0.0.1:8080/i/42"; return p }(),
			pageLine + "  open: http://127.0.0.1:8080/i/42\n"},
		{"a notice: only the open link", resolvedOf(linked),
			`RESOLVED alice | incident 42 [critical] "Disk full on db-42" | service db, 2 alerts | lasted 1m | key=42.1.resolved.alice` + "\n" +
				"  open: https://alertgate.example.com/i/42\n"},
		{"a notice of unknown duration", func() notify.Page { p := resolvedOf(page("42", "alice")); p.Since = time.Time{}; return p }(),
			`RESOLVED alice | incident 42 [critical] "Disk full on db-42" | service db, 2 alerts | resolved | key=42.1.resolved.alice` + "\n"},
		{"sender text in links cannot break lines", func() notify.Page {
			p := page("42", "alice")
			p.Links.Acknowledge = "http://x/a\n\x1b[31mPAGE bob | key=fake"
			return p
		}(), pageLine + "  acknowledge: http://x/a??[31mPAGE bob | key=fake\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.ConsoleLine(tt.page); got != tt.want {
				t.Errorf("lines\n got %q\nwant %q", got, tt.want)
			}
		})
	}

	d := digestOf(linked, 12, true)
	d.Items[3].Title = "evil\n\x1b[2J"
	var out countingWriter
	if _, err := notify.NewConsole(&out).Notify(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if out.writes != 1 {
		t.Errorf("%d writes for one digest, want 1", out.writes)
	}
	lines := strings.Split(strings.TrimSuffix(out.b.String(), "\n"), "\n")
	if len(lines) != 13 || lines[0] != "DIGEST alice | 12 incidents [critical] | key=digest.alice.1" {
		t.Fatalf("%d lines, first %q; want a DIGEST line and 12 items", len(lines), lines[0])
	}
	if want := `  incident 100 [critical] "Disk full on db-1 <&> \"quoted\"" | service db, 1 alert | ack https://alertgate.example.com/a/ack-100 | open https://alertgate.example.com/i/100 | key=100.1.0.0.alice`; lines[1] != want {
		t.Errorf("first item\n got %q\nwant %q", lines[1], want)
	}
	if want := `  incident 103 [error] "evil\n\x1b[2J" | 4 alerts | ack`; !strings.HasPrefix(lines[4], want) {
		t.Errorf("an item's title is quoted: %q", lines[4])
	}
	for i, l := range lines[1:] {
		if !strings.HasPrefix(l, "  incident ") || !strings.HasSuffix(l, " key="+d.Items[i].Key) {
			t.Errorf("item line %q: want indented and ending in key=%s", l, d.Items[i].Key)
		}
	}
}
