// Package testlog gives tests a logger that writes every record to the
// test's own log (shown with -v or when the test fails) and fails the test
// on any record at ERROR or above, since an ERROR line is a bug or a page:
// a test that logs one and passes hides it.
//
// A test that provokes an ERROR on purpose names it, by message:
// AllowError tolerates it, ExpectError also fails the test if it never
// came. NewLog returns a *Log that also keeps what was logged, for
// assertions, and is an io.Writer of slog JSON lines, for code that builds
// its own logger over a writer (a command's stderr).
package testlog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Option configures New and NewLog.
type Option func(*config)

type config struct {
	allowed  []string // ERROR messages that do not fail the test
	expected []string // ERROR messages that must be logged
}

// AllowError lets ERROR (and higher) records whose message is exactly msg
// pass without failing the test.
func AllowError(msg string) Option {
	return func(c *config) { c.allowed = append(c.allowed, msg) }
}

// ExpectError allows ERROR records with message msg, like AllowError, and
// fails the test when it ends if none was logged.
func ExpectError(msg string) Option {
	return func(c *config) {
		c.allowed = append(c.allowed, msg)
		c.expected = append(c.expected, msg)
	}
}

// Entry is one logged record, kept for assertions.
type Entry struct {
	Level   slog.Level
	Message string
	// Attrs holds every attribute, those added with With included, as
	// text; attributes in groups are keyed "group.key".
	Attrs map[string]string
}

// Log is where a test's records go; it is safe for concurrent use.
type Log struct {
	tb  testing.TB
	cfg config

	mu      sync.Mutex
	done    bool // the test has ended: tb may not be used any more
	entries []Entry
	partial []byte // an unfinished line given to Write
}

// New returns a logger that writes to tb.Log and fails tb on any record at
// ERROR or above not allowed by opts.
func New(tb testing.TB, opts ...Option) *slog.Logger {
	tb.Helper()
	return NewLog(tb, opts...).Logger()
}

// NewLog is New for a test that also inspects what was logged (Entries,
// Count), or hands a writer of JSON log lines to code that makes its own
// logger.
func NewLog(tb testing.TB, opts ...Option) *Log {
	tb.Helper()
	l := &Log{tb: tb}
	for _, o := range opts {
		o(&l.cfg)
	}
	// Registered when the log is made, so it runs after the cleanups of
	// whatever the test builds with the logger later (servers and the
	// like), which may still log while they stop.
	tb.Cleanup(l.finish)
	return l
}

// Logger returns a logger writing to l, at every level.
func (l *Log) Logger() *slog.Logger {
	return slog.New(&handler{log: l, text: slog.NewTextHandler(lineWriter{l}, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000000"))
			}
			return a
		},
	})})
}

// Entries returns a copy of every record logged so far.
func (l *Log) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// Count returns how many records with message msg were logged, at any
// level.
func (l *Log) Count(msg string) int {
	n := 0
	for _, e := range l.Entries() {
		if e.Message == msg {
			n++
		}
	}
	return n
}

// Write takes the output of a slog JSON handler, one record a line: each
// line goes to the test's log and is checked like a record given to
// Logger. A line that is not a JSON record is only logged.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.partial = append(l.partial, p...)
	var lines [][]byte
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, bytes.Clone(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	l.mu.Unlock()
	for _, line := range lines {
		l.print(string(line))
		if e, ok := parseJSONLine(line); ok {
			l.record(e)
		}
	}
	return len(p), nil
}

var _ io.Writer = (*Log)(nil)

// print writes one line to the test's log, or to stderr once the test has
// ended (tb.Log would panic then).
func (l *Log) print(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		fmt.Fprintf(os.Stderr, "testlog: after %s ended: %s\n", l.tb.Name(), line)
		return
	}
	l.tb.Log(line)
}

// record keeps e and fails the test if it is an ERROR nobody allowed.
func (l *Log) record(e Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
	if e.Level < slog.LevelError || slices.Contains(l.cfg.allowed, e.Message) {
		return
	}
	if l.done {
		fmt.Fprintf(os.Stderr, "testlog: after %s ended: unexpected %s record %q %s\n", l.tb.Name(), e.Level, e.Message, formatAttrs(e.Attrs))
		return
	}
	l.tb.Errorf("testlog: unexpected %s record %q %s", e.Level, e.Message, formatAttrs(e.Attrs))
}

func (l *Log) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rest := bytes.TrimSpace(l.partial); len(rest) > 0 {
		l.tb.Log(string(rest))
	}
	for _, msg := range l.cfg.expected {
		if !slices.ContainsFunc(l.entries, func(e Entry) bool { return e.Message == msg && e.Level >= slog.LevelError }) {
			l.tb.Errorf("testlog: expected an ERROR record %q; none was logged", msg)
		}
	}
	l.done = true
}

func formatAttrs(attrs map[string]string) string {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%q", k, attrs[k])
	}
	return b.String()
}

// handler formats each record with a slog.TextHandler for the test's log
// and keeps it as an Entry.
type handler struct {
	log    *Log
	text   slog.Handler
	prefix string     // the open groups, "a.b."
	attrs  []flatAttr // from WithAttrs, already prefixed
}

type flatAttr struct{ key, value string }

func (h *handler) Enabled(context.Context, slog.Level) bool { return true }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.text.Handle(ctx, r)
	e := Entry{Level: r.Level, Message: r.Message, Attrs: make(map[string]string, len(h.attrs)+r.NumAttrs())}
	for _, a := range h.attrs {
		e.Attrs[a.key] = a.value
	}
	r.Attrs(func(a slog.Attr) bool {
		flatten(h.prefix, a, func(k, v string) { e.Attrs[k] = v })
		return true
	})
	h.log.record(e)
	return err
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.text = h.text.WithAttrs(attrs)
	h2.attrs = slices.Clone(h.attrs)
	for _, a := range attrs {
		flatten(h.prefix, a, func(k, v string) { h2.attrs = append(h2.attrs, flatAttr{k, v}) })
	}
	return &h2
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.text = h.text.WithGroup(name)
	h2.prefix = h.prefix + name + "."
	return &h2
}

// flatten calls emit for a, and for each attribute inside it when it is a
// group, with keys prefixed by their groups.
func flatten(prefix string, a slog.Attr, emit func(key, value string)) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			flatten(p, g, emit)
		}
		return
	}
	if a.Key == "" {
		return
	}
	emit(prefix+a.Key, v.String())
}

// lineWriter hands each write of the text handler, one record, to the
// test's log.
type lineWriter struct{ log *Log }

func (w lineWriter) Write(p []byte) (int, error) {
	w.log.print(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// parseJSONLine reads one line of slog's JSON handler.
func parseJSONLine(line []byte) (Entry, bool) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		return Entry{}, false
	}
	levelText, ok1 := m[slog.LevelKey].(string)
	msg, ok2 := m[slog.MessageKey].(string)
	var level slog.Level
	if !ok1 || !ok2 || level.UnmarshalText([]byte(levelText)) != nil {
		return Entry{}, false
	}
	e := Entry{Level: level, Message: msg, Attrs: map[string]string{}}
	for k, v := range m {
		if k != slog.LevelKey && k != slog.MessageKey && k != slog.TimeKey {
			flattenJSON(k, v, e.Attrs)
		}
	}
	return e, true
}

func flattenJSON(key string, v any, into map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, vv := range v {
			flattenJSON(key+"."+k, vv, into)
		}
	case string:
		into[key] = v
	default:
		b, _ := json.Marshal(v)
		into[key] = string(b)
	}
}
