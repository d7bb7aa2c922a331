package testlog_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/alertgate/alertgate/internal/testlog"
)

// fakeTB records what the package does to a test. The embedded nil
// testing.TB makes any other method panic: the package must use only
// these.
type fakeTB struct {
	testing.TB

	mu       sync.Mutex
	logs     []string
	errors   []string
	cleanups []func()
	ended    bool
}

func (f *fakeTB) Helper()      {}
func (f *fakeTB) Name() string { return "TestFake" }

func (f *fakeTB) Log(args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		panic("Log after the test ended")
	}
	f.logs = append(f.logs, fmt.Sprintln(args...))
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		panic("Errorf after the test ended")
	}
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// end runs the cleanups, last first, as testing does.
func (f *fakeTB) end() {
	f.mu.Lock()
	fns := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
	f.mu.Lock()
	f.ended = true
	f.mu.Unlock()
}

func (f *fakeTB) snapshot() (logs, errors []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.logs...), append([]string(nil), f.errors...)
}

func TestEveryRecordGoesToTheTestLog(t *testing.T) {
	tb := &fakeTB{}
	logger := testlog.New(tb)
	logger.Debug("debugging", "k", 1)
	logger.Info("started", "listen", "127.0.0.1:1")
	logger.Warn("ingest rejected", "status", 401)
	tb.end()
	logs, errs := tb.snapshot()
	if len(errs) != 0 {
		t.Fatalf("records below ERROR failed the test: %q", errs)
	}
	if len(logs) != 3 {
		t.Fatalf("got %d log lines, want 3: %q", len(logs), logs)
	}
	for i, want := range []string{"level=DEBUG msg=debugging k=1", "level=INFO msg=started listen=127.0.0.1:1", "level=WARN msg=\"ingest rejected\" status=401"} {
		if !strings.Contains(logs[i], want) {
			t.Errorf("line %d is %q, want it to contain %q", i, logs[i], want)
		}
	}
}

func TestErrorFailsTheTest(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelError, slog.LevelError + 4} {
		tb := &fakeTB{}
		logger := testlog.New(tb)
		logger.Log(t.Context(), level, "redis went away", "err", "connection refused")
		logs, errs := tb.snapshot()
		if len(errs) != 1 || !strings.Contains(errs[0], `"redis went away"`) || !strings.Contains(errs[0], `err="connection refused"`) {
			t.Errorf("%s record: errors %q, want one naming the message and its attributes", level, errs)
		}
		if len(logs) != 1 {
			t.Errorf("%s record: logs %q, want the record logged too", level, logs)
		}
		tb.end()
	}
}

func TestAllowError(t *testing.T) {
	tb := &fakeTB{}
	logger := testlog.New(tb, testlog.AllowError("handler panic"))
	logger.Error("handler panic", "panic", "boom")
	logger.Error("handler panic")
	logger.Error("something else")
	tb.end()
	_, errs := tb.snapshot()
	if len(errs) != 1 || !strings.Contains(errs[0], "something else") {
		t.Fatalf("errors %q, want exactly one, for the record not allowed", errs)
	}
}

func TestExpectError(t *testing.T) {
	t.Run("seen", func(t *testing.T) {
		tb := &fakeTB{}
		logger := testlog.New(tb, testlog.ExpectError("config reload refused"))
		logger.Error("config reload refused", "err", "bad yaml")
		tb.end()
		if _, errs := tb.snapshot(); len(errs) != 0 {
			t.Fatalf("an expected ERROR that came failed the test: %q", errs)
		}
	})
	t.Run("missing", func(t *testing.T) {
		tb := &fakeTB{}
		logger := testlog.New(tb, testlog.ExpectError("config reload refused"))
		logger.Warn("config reload refused") // a WARN is not the ERROR expected
		if _, errs := tb.snapshot(); len(errs) != 0 {
			t.Fatalf("failed before the test ended: %q", errs)
		}
		tb.end()
		if _, errs := tb.snapshot(); len(errs) != 1 || !strings.Contains(errs[0], `expected an ERROR record "config reload refused"`) {
			t.Fatalf("errors %q, want one saying the expected ERROR never came", errs)
		}
	})
}

func TestEntriesKeepAttributes(t *testing.T) {
	tb := &fakeTB{}
	log := testlog.NewLog(tb)
	logger := log.Logger().With("integration", "am").WithGroup("req")
	logger.Warn("ingest body unreadable", "status", 503, slog.Group("conn", "remote", "1.2.3.4:5"))
	logger.WithGroup("").With("extra", true).Info("ingest body unreadable")
	log.Logger().Info("other")
	tb.end()

	if n := log.Count("ingest body unreadable"); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	es := log.Entries()
	if len(es) != 3 {
		t.Fatalf("%d entries, want 3", len(es))
	}
	e := es[0]
	want := map[string]string{"integration": "am", "req.status": "503", "req.conn.remote": "1.2.3.4:5"}
	if e.Level != slog.LevelWarn || e.Message != "ingest body unreadable" || fmt.Sprint(e.Attrs) != fmt.Sprint(want) {
		t.Errorf("entry %+v, want WARN with %v", e, want)
	}
	if got := es[1].Attrs["req.extra"]; got != "true" {
		t.Errorf("second entry attrs %v, want req.extra=true", es[1].Attrs)
	}
	logs, _ := tb.snapshot()
	if !strings.Contains(logs[0], "integration=am req.status=503 req.conn.remote=1.2.3.4:5") {
		t.Errorf("log line %q lacks the attributes", logs[0])
	}
}

// A command builds its own JSON logger over a writer: the Log takes its
// lines, even split across writes.
func TestWriterOfJSONLines(t *testing.T) {
	tb := &fakeTB{}
	log := testlog.NewLog(tb, testlog.AllowError("allowed"))
	logger := slog.New(slog.NewJSONHandler(log, nil))
	logger.Info("alertgate started", "listen", "127.0.0.1:1", slog.Group("redis", "db", 0))
	logger.Error("allowed")
	_, _ = log.Write([]byte(`{"time":"2026-01-01T00:00:00Z","level":"ERROR","msg":"split`))
	_, _ = log.Write([]byte(` line","err":"x"}` + "\n" + "not json at all\n"))
	_, _ = log.Write([]byte("a last line without a newline"))
	tb.end()

	logs, errs := tb.snapshot()
	if len(errs) != 1 || !strings.Contains(errs[0], `"split line"`) || !strings.Contains(errs[0], `err="x"`) {
		t.Errorf("errors %q, want one for the split ERROR line", errs)
	}
	if len(logs) != 5 || !strings.Contains(logs[3], "not json at all") || !strings.Contains(logs[4], "a last line") {
		t.Errorf("logs %q, want every line, the unfinished one at the end", logs)
	}
	es := log.Entries()
	if len(es) != 3 || es[0].Attrs["listen"] != "127.0.0.1:1" || es[0].Attrs["redis.db"] != "0" || es[0].Level != slog.LevelInfo {
		t.Errorf("entries %+v", es)
	}
}

// Servers log while they stop, sometimes after the test ended; that must
// neither panic (testing forbids Log then) nor go unnoticed.
func TestAfterTheTestEnded(t *testing.T) {
	tb := &fakeTB{}
	log := testlog.NewLog(tb)
	tb.end()
	log.Logger().Error("late")
	_, _ = log.Write([]byte(`{"level":"INFO","msg":"late too"}` + "\n"))
	logs, errs := tb.snapshot()
	if len(logs) != 0 || len(errs) != 0 {
		t.Fatalf("used the test after it ended: logs %q errors %q", logs, errs)
	}
	if log.Count("late") != 1 {
		t.Fatal("a late record was not kept")
	}
}

func TestConcurrentUse(t *testing.T) {
	tb := &fakeTB{}
	log := testlog.NewLog(tb)
	logger := log.Logger()
	jsonLogger := slog.New(slog.NewJSONHandler(log, nil))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				logger.With("g", i).Info("tick", "j", j)
				jsonLogger.Info("tock", "j", j)
			}
		})
	}
	wg.Wait()
	tb.end()
	if log.Count("tick") != 400 || log.Count("tock") != 400 {
		t.Fatalf("counts %d %d, want 400 each", log.Count("tick"), log.Count("tock"))
	}
}

// And with a real test.
func TestWithARealTest(t *testing.T) {
	logger := testlog.New(t, testlog.ExpectError("expected"))
	logger.Info("hello", "from", t.Name())
	logger.Error("expected")
}
