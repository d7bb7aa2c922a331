// Package e2e runs the real alertgate binary against a real Redis, and
// against the real Prometheus Alertmanager, as an operator would.
//
// TestMain builds cmd/alertgate once (with -race when the tests run with
// -race, so the server's own data races fail the run too). Every server a
// test starts gets its own Redis key prefix, is stopped with SIGTERM when
// the test ends and must exit 0, and must not log at level ERROR unless the
// test said it expects that line. Nothing here sleeps to synchronise:
// every wait polls a condition against a deadline.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/internal/redistest"
)

// Shared by every test: the routing key of integration "pd" and the tokens.
const (
	pdRoutingKey = "0123456789abcdef0123456789abcdef"
	amToken      = "t-am"
	apiToken     = "t-api"
)

// Deadlines. Generous: a 2-core CI machine running the race detector is slow.
const (
	startTimeout = 20 * time.Second // a process prints its address / gets ready
	stopTimeout  = 30 * time.Second // alertgate's own drain limit is 25 s
	pollEvery    = 25 * time.Millisecond
)

// alertgateBin is the binary TestMain built; empty in -short mode.
var alertgateBin string

// moduleRoot is the directory of go.mod, set by TestMain.
var moduleRoot string

// raceEnabled is set by race_test.go when the tests run with -race.
var raceEnabled bool

// dumpAlways dumps every process's output even when the test passed:
// E2E_DUMP_LOGS=1 go test -v ./e2e/
var dumpAlways = os.Getenv("E2E_DUMP_LOGS") != ""

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "alertgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if !testing.Short() {
		start := time.Now()
		if alertgateBin, err = buildAlertgate(dir); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building alertgate:", err)
			return 1
		}
		if testing.Verbose() {
			fmt.Printf("e2e: built %s (race=%v) in %v\n", alertgateBin, raceEnabled, time.Since(start).Round(time.Millisecond))
		}
	}
	return m.Run()
}

// buildAlertgate runs go build ./cmd/alertgate from the module root.
func buildAlertgate(dir string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	moduleRoot = filepath.Dir(strings.TrimSpace(string(gomod)))
	if f := strings.TrimSpace(string(gomod)); f == "" || f == os.DevNull {
		moduleRoot = ".."
	}
	bin := filepath.Join(dir, "alertgate")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/alertgate")
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, out)
	}
	return bin, nil
}

// needBinary skips in -short mode, where TestMain built nothing.
func needBinary(t *testing.T) {
	t.Helper()
	if alertgateBin == "" {
		t.Skip("e2e tests run real processes; skipped with -short")
	}
}

// needTool finds a program the test runs. Missing, it skips locally but
// fails under CI=true: a skipped end-to-end test in CI is a hidden red.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (CI must run this test; .ci/run installs it): %v", name, err)
	}
	t.Skipf("%s is not installed: %v", name, err)
	return ""
}

// ---------------------------------------------------------------------------
// Processes and their output

// lineLog collects what a process writes, line by line, and lets tests
// wait for a line.
type lineLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	changed chan struct{} // closed and replaced whenever a line arrives
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

func (l *lineLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, b...)
	added := false
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
		added = true
	}
	if added {
		close(l.changed)
		l.changed = make(chan struct{})
	}
	return len(b), nil
}

// flush ends an unterminated last line; called once the process exited.
func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.lines = append(l.lines, string(l.partial))
		l.partial = nil
	}
}

// Lines returns a copy of the lines so far.
func (l *lineLog) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// find returns the first line from index from on that matches, or the
// number of lines scanned and a channel that is closed on the next line.
func (l *lineLog) find(from int, match func(string) bool) (line string, ok bool, next int, changed <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := from; i < len(l.lines); i++ {
		if match(l.lines[i]) {
			return l.lines[i], true, i + 1, nil
		}
	}
	return "", false, len(l.lines), l.changed
}

// proc is a child process with its output captured.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdout *lineLog
	stderr *lineLog
	done   chan struct{} // closed once the process exited and output is in
	err    error         // Wait's result, valid after done
}

// startProc starts a program. It is killed at the end of the test if the
// test did not stop it, and its output is dumped if the test failed.
func startProc(t *testing.T, name, path string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, stdout: newLineLog(), stderr: newLineLog(), done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = childEnv()
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.stdout.flush()
		p.stderr.flush()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() || dumpAlways {
			p.dump(t)
		}
	})
	return p
}

// childEnv is this process's environment without alertgate's own
// variables, so a developer's shell cannot change what a test runs. A
// race-enabled binary waits 1 s at exit by default; 50 ms is plenty here.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ALERTGATE_") && !strings.HasPrefix(kv, "ALERTGATE_TEST_") {
			continue
		}
		env = append(env, kv)
	}
	if _, set := os.LookupEnv("GORACE"); !set {
		env = append(env, "GORACE=atexit_sleep_ms=50")
	}
	return env
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) dump(t *testing.T) {
	t.Helper()
	for _, s := range []struct {
		stream string
		log    *lineLog
	}{{"stdout", p.stdout}, {"stderr", p.stderr}} {
		lines := s.log.Lines()
		if len(lines) == 0 {
			continue
		}
		t.Logf("---- %s %s (pid %d), %d lines ----\n%s", p.name, s.stream, p.cmd.Process.Pid, len(lines), strings.Join(lines, "\n"))
	}
}

// waitLine waits until the process wrote a matching line to log.
func (p *proc) waitLine(t *testing.T, log *lineLog, timeout time.Duration, what string, match func(string) bool) string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	from := 0
	for {
		line, ok, next, changed := log.find(from, match)
		if ok {
			return line
		}
		from = next
		select {
		case <-changed:
		case <-p.done:
			if line, ok, _, _ := log.find(from, match); ok {
				return line
			}
			t.Fatalf("%s exited (%v) before %s", p.name, p.err, what)
		case <-deadline.C:
			t.Fatalf("%s: no %s within %v", p.name, what, timeout)
		}
	}
}

// stop sends sig and waits for the exit; it returns the exit code (-1 when
// killed by a signal).
func (p *proc) stop(t *testing.T, sig os.Signal, timeout time.Duration) int {
	t.Helper()
	if !p.exited() {
		if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("signal %s: %v", p.name, err)
		}
		select {
		case <-p.done:
		case <-time.After(timeout):
			_ = p.cmd.Process.Kill()
			<-p.done
			t.Errorf("%s did not exit within %v of %v; killed", p.name, timeout, sig)
		}
	}
	return p.cmd.ProcessState.ExitCode()
}

// ---------------------------------------------------------------------------
// alertgate servers

// gateOptions say how to start one alertgate.
type gateOptions struct {
	// prefix is redis.key_prefix; required.
	prefix string
	// redisURL is passed as --redis; "" uses the test Redis.
	redisURL string
	// configPath is a config file to use as it is; "" writes gateConfig.
	configPath string
}

// gate is one running alertgate process.
type gate struct {
	URL        string // http://127.0.0.1:PORT
	ConfigPath string
	proc       *proc
	client     *http.Client

	mu       sync.Mutex
	expected []string // ERROR-level messages the test expects
	killed   bool     // the test killed it (kill): no exit code to check
}

// testRedisURL is the Redis every test shares (each with its own prefix):
// the single test server, or the Redis Cluster of
// $ALERTGATE_TEST_REDIS_CLUSTER when that is set.
func testRedisURL() string { return redistest.URL() }

// gateConfig is the config the tests run with: integrations am
// (Alertmanager) and pd (PagerDuty Events v2), API token t-api.
// Integrations come last, so a test can append one.
func gateConfig(prefix, redisURL string) string {
	return fmt.Sprintf(`# written by the e2e tests
listen: 127.0.0.1:0
redis:
  url: %q
  key_prefix: %q
  timeout: 2s
ingest:
  retry_after: 2s
api:
  tokens: [%s]
integrations:
  - name: am
    type: alertmanager
    tokens: [%s]
  - name: pd
    type: pagerduty
    routing_keys: [%q]
`, redisURL, prefix, apiToken, amToken, pdRoutingKey)
}

// writeFile replaces path atomically, so a reload never reads half a file.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// startGate starts alertgate serve, waits until /readyz answers 200, and
// registers its stop: SIGTERM, exit 0, no unexpected ERROR log line.
func startGate(t *testing.T, o gateOptions) *gate {
	t.Helper()
	needBinary(t)
	if o.prefix == "" {
		t.Fatal("startGate: no key prefix")
	}
	redisURL := o.redisURL
	if redisURL == "" {
		redisURL = testRedisURL()
	}
	path := o.configPath
	if path == "" {
		path = filepath.Join(t.TempDir(), "alertgate.yaml")
		writeFile(t, path, gateConfig(o.prefix, redisURL))
	}
	g := &gate{ConfigPath: path, client: newClient()}
	args := []string{"serve", "--config", path, "--listen", "127.0.0.1:0"}
	if o.redisURL != "" {
		args = append(args, "--redis", o.redisURL)
	}
	g.proc = startProc(t, "alertgate", alertgateBin, args...)
	// Registered after startProc's cleanup, so it runs first: stop the
	// server and judge its logs before the output is dumped.
	t.Cleanup(func() { g.stop(t) })

	const banner = "alertgate listening on http://"
	line := g.proc.waitLine(t, g.proc.stdout, startTimeout, "listening line on stdout", func(s string) bool {
		return strings.HasPrefix(s, banner)
	})
	addr := strings.TrimSpace(strings.TrimPrefix(line, banner))
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatalf("alertgate printed %q: not host:port: %v", line, err)
	}
	g.URL = "http://" + addr
	g.waitReady(t, startTimeout)
	return g
}

// waitReady polls /readyz until it answers 200.
func (g *gate) waitReady(t *testing.T, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "alertgate /readyz 200", func() (bool, string) {
		if g.proc.exited() {
			t.Fatalf("alertgate exited: %v", g.proc.err)
		}
		status, _, body, err := g.try(http.MethodGet, "/readyz", nil, nil)
		if err != nil {
			return false, err.Error()
		}
		return status == http.StatusOK, fmt.Sprintf("%d %s", status, body)
	})
}

// expectError tells the log check that an ERROR line whose message or err
// contains substr is expected.
func (g *gate) expectError(substr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expected = append(g.expected, substr)
}

// stop ends the server with SIGTERM and checks exit code and logs.
func (g *gate) stop(t *testing.T) {
	t.Helper()
	g.client.CloseIdleConnections()
	code := g.proc.stop(t, syscall.SIGTERM, stopTimeout)
	g.mu.Lock()
	killed := g.killed
	g.mu.Unlock()
	if code != 0 && !killed {
		t.Errorf("alertgate exited with code %d after SIGTERM (%v), want 0", code, g.proc.err)
	}
	g.checkLogs(t)
}

// kill ends the server with SIGKILL, as a crash would, and waits for it.
// Its stop at the end of the test then checks only its logs.
func (g *gate) kill(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	g.killed = true
	g.mu.Unlock()
	g.proc.stop(t, syscall.SIGKILL, stopTimeout)
}

// logLine is the part of a slog JSON line the checks read.
type logLine struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
	Err   string `json:"err"`
}

// checkLogs fails the test on any ERROR line it was not told to expect,
// and on a data race report or a panic.
func (g *gate) checkLogs(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	expected := append([]string(nil), g.expected...)
	g.mu.Unlock()
	var plain []string
	for _, line := range g.proc.stderr.Lines() {
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			if strings.Contains(line, "DATA RACE") || strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") {
				t.Errorf("alertgate stderr: %s", line)
			}
			plain = append(plain, line)
			continue
		}
		if l.Level != "ERROR" {
			continue
		}
		ok := false
		for _, e := range expected {
			if strings.Contains(l.Msg, e) || strings.Contains(l.Err, e) {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("unexpected ERROR log line: %s", line)
		}
	}
	if len(plain) > 0 {
		// Not fatal (go-redis logs this way while Redis is down), but
		// worth seeing: log shippers expect JSON only.
		t.Logf("alertgate wrote %d stderr lines that are not JSON, first: %s", len(plain), plain[0])
	}
}

// errorLogged reports whether an ERROR line containing substr was written.
func (g *gate) errorLogged(substr string) (string, bool) {
	for _, line := range g.proc.stderr.Lines() {
		var l logLine
		if json.Unmarshal([]byte(line), &l) == nil && l.Level == "ERROR" && (strings.Contains(l.Msg, substr) || strings.Contains(l.Err, substr)) {
			return line, true
		}
	}
	return "", false
}

// ---------------------------------------------------------------------------
// HTTP

func newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	tr.DisableCompression = true // the tests set Content-Encoding themselves
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// try sends one request; hdr may be nil. Errors are transport errors.
func (g *gate) try(method, path string, hdr http.Header, body io.Reader) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, g.URL+path, body)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, b, nil
}

// do is try that fails the test on a transport error. Safe to call from
// any goroutine: it reports with t.Errorf, and returns status 0 then.
func (g *gate) do(t *testing.T, method, path string, hdr http.Header, body []byte) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	status, h, b, err := g.try(method, path, hdr, r)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
	}
	return status, h, b
}

func jsonHeader(token string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

// postHook delivers body to /hooks/{integration} with a bearer token.
func (g *gate) postHook(t *testing.T, integration, token string, body []byte) (int, []byte) {
	t.Helper()
	status, _, b := g.do(t, http.MethodPost, "/hooks/"+integration, jsonHeader(token), body)
	return status, b
}

// ingestResponse is the 200 answer of /hooks/{integration}.
type ingestResponse struct {
	Status     string   `json:"status"`
	Alerts     int      `json:"alerts"`
	Duplicates int      `json:"duplicates"`
	Incidents  []string `json:"incidents"`
}

// errorResponse is every non-PagerDuty error body.
type errorResponse struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// incident is the API's incident, as far as the tests read it.
type incident struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Service    string    `json:"service"`
	Severity   string    `json:"severity"`
	Status     string    `json:"status"`
	Route      string    `json:"route"`
	GroupKey   string    `json:"group_key"`
	AlertCount int       `json:"alert_count"`
	Firing     int       `json:"firing"`
	Reopened   int       `json:"reopened"`
	ResolvedAt time.Time `json:"resolved_at"`
	Alerts     []struct {
		Fingerprint string            `json:"fingerprint"`
		Status      string            `json:"status"`
		Source      string            `json:"source"`
		Labels      map[string]string `json:"labels"`
		Summary     string            `json:"summary"`
		GroupKey    string            `json:"group_key"`
		Received    int               `json:"received"`
	} `json:"alerts"`
	Timeline []struct {
		Type  string `json:"type"`
		Actor string `json:"actor"`
		Alert string `json:"alert"`
	} `json:"timeline"`
}

// received maps alert fingerprint → deliveries of it.
func (inc incident) received() map[string]int {
	m := make(map[string]int, len(inc.Alerts))
	for _, a := range inc.Alerts {
		m[a.Fingerprint] = a.Received
	}
	return m
}

func (inc incident) hasEvent(typ string) bool {
	for _, e := range inc.Timeline {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// incidents lists every incident under the server's prefix, following
// next_cursor. Use it from the test goroutine only.
func (g *gate) incidents(t *testing.T) []incident {
	t.Helper()
	var all []incident
	cursor := ""
	for range 100 {
		page, next := g.incidentPage(t, 100, cursor)
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
	t.Fatal("incident listing did not end after 100 pages")
	return nil
}

// incidentPage fetches one page of the incident listing.
func (g *gate) incidentPage(t *testing.T, limit int, cursor string) ([]incident, string) {
	t.Helper()
	path := "/api/v1/incidents?limit=" + strconv.Itoa(limit)
	if cursor != "" {
		path += "&cursor=" + url.QueryEscape(cursor)
	}
	status, _, body := g.do(t, http.MethodGet, path, jsonHeader(apiToken), nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	var page struct {
		Incidents  []incident `json:"incidents"`
		NextCursor string     `json:"next_cursor"`
	}
	decodeJSON(t, body, &page)
	if page.Incidents == nil {
		t.Fatalf("GET %s: no incidents array in %s", path, body)
	}
	if len(page.Incidents) > limit {
		t.Fatalf("GET %s: %d incidents, want at most %d", path, len(page.Incidents), limit)
	}
	return page.Incidents, page.NextCursor
}

// incident fetches one incident with its alerts and timeline.
func (g *gate) incident(t *testing.T, id string) incident {
	t.Helper()
	status, _, body := g.do(t, http.MethodGet, "/api/v1/incidents/"+id, jsonHeader(apiToken), nil)
	if status != http.StatusOK {
		t.Fatalf("GET incident %s: %d %s", id, status, body)
	}
	var inc incident
	decodeJSON(t, body, &inc)
	if inc.ID != id {
		t.Fatalf("GET incident %s: got id %q", id, inc.ID)
	}
	return inc
}

// metric reads one of alertgate's metrics; see scrape.
func (g *gate) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	return scrape(t, g.client, g.URL+"/metrics", name, labels...)
}

// scrape sums the samples of a counter or gauge at a Prometheus /metrics
// URL whose label set contains every name="value" pair in labels (e.g.
// `integration="am"`). A metric not exposed yet counts as 0.
func scrape(t *testing.T, c *http.Client, url, name string, labels ...string) float64 {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // a longer name
		}
		matched := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				matched = false
			}
		}
		if !matched {
			continue
		}
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

func decodeJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, truncate(body, 2000), err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + fmt.Sprintf("… (%d bytes)", len(b))
}

// eventually polls cond until it holds; on timeout it fails with the last
// state cond described. Call it from the test goroutine.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	failedBefore := t.Failed()
	for {
		ok, state := cond()
		if ok {
			return
		}
		if !failedBefore && t.Failed() {
			t.FailNow() // cond reported an error: polling on would only repeat it
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last: %s", timeout, what, state)
		}
		<-tick.C
	}
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before ours binds it; on this single-user test machine that
// window is harmless.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ---------------------------------------------------------------------------
// Alertmanager webhook bodies

// amAlert is one alert of an Alertmanager webhook body (payload version 4).
type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// amWebhook builds a firing webhook body for one group, the way
// Alertmanager does: groupKey from the group labels, every alert of the
// group in it.
func amWebhook(t *testing.T, alertname string, alerts []amAlert) []byte {
	t.Helper()
	groupKey := fmt.Sprintf(`{}:{alertname=%q}`, alertname)
	return mustJSON(t, map[string]any{
		"version":           "4",
		"groupKey":          groupKey,
		"truncatedAlerts":   0,
		"status":            "firing",
		"receiver":          "gate",
		"groupLabels":       map[string]string{"alertname": alertname},
		"commonLabels":      map[string]string{"alertname": alertname},
		"commonAnnotations": map[string]string{},
		"externalURL":       "http://alertmanager.invalid:9093",
		"alerts":            alerts,
	})
}

// firingAlerts returns n firing alerts of one alertname, with instance
// labels i0…i(n-1) and fixed fingerprints, so every copy is identical.
func firingAlerts(alertname string, n int, startsAt time.Time) []amAlert {
	out := make([]amAlert, n)
	for i := range out {
		out[i] = amAlert{
			Status:       "firing",
			Labels:       map[string]string{"alertname": alertname, "instance": fmt.Sprintf("i%d", i), "severity": "critical"},
			Annotations:  map[string]string{"summary": fmt.Sprintf("%s on i%d", alertname, i)},
			StartsAt:     startsAt.UTC().Format(time.RFC3339Nano),
			EndsAt:       "0001-01-01T00:00:00Z",
			GeneratorURL: "http://prometheus.invalid:9090/graph",
			Fingerprint:  fingerprint(alertname, i),
		}
	}
	return out
}

// fingerprint is a stable 16-hex-digit alert identity, as Alertmanager sends.
func fingerprint(alertname string, i int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\xff%d", alertname, i)
	return fmt.Sprintf("%016x", h.Sum64())
}

// ---------------------------------------------------------------------------
// Redis servers of a test's own

// redisServer is a redis-server process on a port of its own.
type redisServer struct {
	port int
	path string
	proc *proc
}

// startRedis starts redis-server on port without persistence and waits
// until it answers PING.
func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	path := needTool(t, "redis-server")
	r := &redisServer{port: port, path: path}
	r.start(t)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start(t *testing.T) {
	t.Helper()
	r.proc = startProc(t, "redis-server", r.path,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer func() { _ = c.Close() }()
	eventually(t, startTimeout, "redis-server on "+r.addr()+" to answer PING", func() (bool, string) {
		if r.proc.exited() {
			t.Fatalf("redis-server exited: %v", r.proc.err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// kill stops the server the hard way, as a crash would, and waits for it.
func (r *redisServer) kill(t *testing.T) {
	t.Helper()
	r.proc.stop(t, syscall.SIGKILL, stopTimeout)
}
