package escalation_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/escalation"
	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/snapshot"
)

// burstSize is how many incidents' first steps fall due together.
const burstSize = 10_000

// benchConfig pages whoever is on call in a weekly rotation of three, the
// way the dev config's first step does; the second step is an hour away,
// so a burst commits exactly one step per incident.
const benchConfig = `
integrations:
  - {name: am, type: alertmanager, tokens: [t]}
users:
  - {id: alice, contacts: [{notifier: console, address: alice}]}
  - {id: bob, contacts: [{notifier: console, address: bob}]}
  - {id: carol, contacts: [{notifier: console, address: carol}]}
teams:
  - {id: ops, members: [alice, bob, carol]}
rotations:
  - id: primary
    team: ops
    time_zone: Europe/London
    layers:
      - {name: weekly, participants: [alice, bob, carol], start: "2026-01-05T09:00", shift: 1w}
escalation_policies:
  - id: p
    steps:
      - {targets: [{rotation: primary}], delay: 1h}
      - {targets: [{team: ops}], delay: 1h}
`

// BenchmarkEngineBurst: 10,000 open incidents whose first steps are all
// due, and 1 or 3 engines (replicas) over one Redis, each run the way
// serve runs it (a lifecycle.Loop at the default poll interval, poked at
// once after a pass that paged, passes bounded by the lease), until every
// step is committed. The steps became due when the engines start (they
// were ingested with a due time in the past and the loops are poked at
// start), so lag is real time from then to each commit.
//
// Redis is a redis-server of the benchmark's own, so its command counts
// and CPU time are the engines' alone. Reported per burst: lag p50 and
// p99, steps/s, process CPU per 1,000 steps (the engines' side, go-redis
// included), Redis CPU per 1,000 steps, commands sent per 1,000 steps
// (counted by a go-redis hook: round trips, as no engine call pipelines)
// and the commands Redis ran per 1,000 steps (INFO commandstats: the
// scripts' own redis.call included).
//
//	go test -run '^$' -bench EngineBurst -benchtime 1x -count 5 ./escalation/
func BenchmarkEngineBurst(b *testing.B) {
	cfg, err := config.Load([]byte(benchConfig), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	snap, err := snapshot.Build(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, engines := range []int{1, 3} {
		b.Run(fmt.Sprintf("engines=%d", engines), func(b *testing.B) {
			srv := redistest.StartServer(b)
			var total burstResult
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				prefix := fmt.Sprintf("bench:%d", i)
				admin := newClient(b, srv.Addr, nil)
				ingestBurst(b, admin, prefix)
				b.StartTimer()
				r := runBurst(b, srv.Addr, prefix, snap.Escalation, engines)
				b.StopTimer()
				redistest.DeletePrefix(b, admin, prefix)
				total.add(r)
			}
			total.report(b)
		})
	}
}

// ingestBurst opens burstSize incidents, one alert each, due an hour ago.
func ingestBurst(b *testing.B, rdb redis.UniversalClient, prefix string) {
	b.Helper()
	store := dedupe.NewStore(rdb, prefix)
	at := time.Now().Add(-time.Hour)
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= burstSize {
					return
				}
				fp := "burst-" + strconv.FormatInt(i, 10)
				_, err := store.Ingest(context.Background(), dedupe.Group{Route: "r", Key: fp,
					Settings: dedupe.Settings{AutoResolve: true, Policy: "p"}},
					dedupe.Delivery{Alerts: []alertgate.Alert{{Fingerprint: fp, Status: alertgate.Firing, Source: "am",
						Summary: "Down " + fp, Severity: alertgate.SeverityCritical, Labels: map[string]string{"instance": fp}}},
						Actor: "integration:am", Now: at})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// burstResult is what one or more bursts measured.
type burstResult struct {
	steps, refused  int
	lags            []time.Duration
	elapsed         time.Duration // start to last commit, summed over bursts
	cpu, redisCPU   time.Duration
	sent, redisRuns int64
}

func (t *burstResult) add(r burstResult) {
	t.steps += r.steps
	t.refused += r.refused
	t.lags = append(t.lags, r.lags...)
	t.elapsed += r.elapsed
	t.cpu += r.cpu
	t.redisCPU += r.redisCPU
	t.sent += r.sent
	t.redisRuns += r.redisRuns
}

func (t *burstResult) report(b *testing.B) {
	slices.Sort(t.lags)
	q := func(f float64) time.Duration { return t.lags[min(len(t.lags)-1, int(f*float64(len(t.lags))))] }
	per1k := func(v float64) float64 { return v * 1000 / float64(t.steps) }
	b.ReportMetric(float64(q(0.5).Milliseconds()), "lag-p50-ms")
	b.ReportMetric(float64(q(0.99).Milliseconds()), "lag-p99-ms")
	b.ReportMetric(float64(t.steps)/t.elapsed.Seconds(), "steps/s")
	b.ReportMetric(per1k(float64(t.cpu.Milliseconds())), "cpu-ms/1k-steps")
	b.ReportMetric(per1k(float64(t.redisCPU.Milliseconds())), "redis-cpu-ms/1k-steps")
	b.ReportMetric(per1k(float64(t.sent)), "cmds-sent/1k-steps")
	b.ReportMetric(per1k(float64(t.redisRuns)), "redis-cmds/1k-steps")
	b.ReportMetric(float64(t.refused), "refused")
}

// stepClock records when each step committed, in real time.
type stepClock struct {
	mu      sync.Mutex
	commits []time.Time
	refused int
	done    chan struct{} // closed at the burstSize-th commit
}

func (s *stepClock) StepCommitted(time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits = append(s.commits, time.Now())
	if len(s.commits) == burstSize {
		close(s.done)
	}
}

func (s *stepClock) CommitRefused() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused++
}

// runBurst runs engines until every step of the burst committed.
func runBurst(b *testing.B, addr, prefix string, dir *escalation.Directory, engines int) burstResult {
	b.Helper()
	var sent atomic.Int64
	var logBytes byteCounter
	clock := &stepClock{done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	loops := make([]*lifecycle.Loop, engines)
	pokes := make([]chan struct{}, engines)
	logger := slog.New(failOnError{b, slog.NewJSONHandler(&logBytes, nil)})
	for i := range engines {
		rdb := newClient(b, addr, &sent)
		poke := make(chan struct{}, 1)
		e := escalation.New(rdb, prefix, escalation.Options{
			Directory: func() *escalation.Directory { return dir },
			Overrides: oncall.NewStore(rdb, prefix),
			Lease:     config.DefaultEscalationLease,
			Logger:    logger,
			Observer:  clock,
			Committed: func() {
				select {
				case poke <- struct{}{}:
				default:
				}
			},
		})
		if err := e.Check(ctx); err != nil {
			b.Fatal(err)
		}
		pokes[i] = poke
		loops[i] = &lifecycle.Loop{Name: "escalation", Interval: config.DefaultEscalationPoll, Trigger: poke,
			Work: e.Pass, Timeout: config.DefaultEscalationLease, Logger: logger}
	}
	sent.Store(0) // the scripts' loading is not part of the burst
	admin := newClient(b, addr, nil)
	redisBefore := redisStats(b, admin)
	cpuBefore := processCPU(b)
	start := time.Now()
	for i := range engines {
		pokes[i] <- struct{}{} // the steps are due: look now, not at the first tick
		wg.Go(func() { _ = loops[i].Run(ctx) })
	}
	select {
	case <-clock.done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("after 5 minutes %d of %d steps committed", len(clock.commits), burstSize)
	}
	cpu := processCPU(b) - cpuBefore
	sentN := sent.Load()
	redisAfter := redisStats(b, admin)
	logCommands(b, redisBefore, redisAfter)
	b.Logf("log written: %.0f bytes per step", float64(logBytes.n.Load())/burstSize)
	cancel()
	wg.Wait()

	clock.mu.Lock()
	defer clock.mu.Unlock()
	if n := len(clock.commits); n != burstSize {
		b.Fatalf("%d steps committed, want %d (each once)", n, burstSize)
	}
	r := burstResult{steps: burstSize, refused: clock.refused, cpu: cpu, sent: sentN,
		redisCPU:  redisAfter.cpu - redisBefore.cpu,
		redisRuns: redisAfter.calls - redisBefore.calls,
	}
	for _, at := range clock.commits {
		r.lags = append(r.lags, at.Sub(start))
	}
	r.elapsed = slices.Max(r.lags)
	return r
}

// newClient is a client of its own (a replica's pool); sent, when not
// nil, counts every command it sends.
func newClient(b *testing.B, addr string, sent *atomic.Int64) redis.UniversalClient {
	b.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	b.Cleanup(func() { _ = c.Close() })
	if sent != nil {
		c.AddHook(countHook{sent})
	}
	return c
}

// countHook counts commands, each command of a pipeline too.
type countHook struct{ n *atomic.Int64 }

func (h countHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// processCPU is the CPU time this process used so far, user and system.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type redisCounters struct {
	cpu   time.Duration
	calls int64 // every command Redis ran but INFO, scripts' calls included
	// per command: calls and time inside Redis (a script's time includes
	// its calls')
	byCommand map[string][2]int64
}

var (
	cpuLine   = regexp.MustCompile(`(?m)^used_cpu_(?:sys|user):([0-9.]+)`)
	callsLine = regexp.MustCompile(`(?m)^cmdstat_([^:]+):calls=(\d+),usec=(\d+)`)
)

// redisStats reads the server's CPU time and command counts; the INFO
// calls that read them are left out.
func redisStats(b *testing.B, c redis.UniversalClient) redisCounters {
	b.Helper()
	r := redisCounters{byCommand: map[string][2]int64{}}
	cpu, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range cpuLine.FindAllStringSubmatch(cpu, -1) {
		s, _ := strconv.ParseFloat(m[1], 64)
		r.cpu += time.Duration(s * float64(time.Second))
	}
	stats, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range callsLine.FindAllStringSubmatch(stats, -1) {
		if m[1] == "info" {
			continue
		}
		calls, _ := strconv.ParseInt(m[2], 10, 64)
		usec, _ := strconv.ParseInt(m[3], 10, 64)
		r.calls += calls
		r.byCommand[m[1]] = [2]int64{calls, usec}
	}
	return r
}

// logCommands logs what Redis ran during a burst, per command: calls and
// microseconds per step, the most expensive first (go test -v).
func logCommands(b *testing.B, before, after redisCounters) {
	b.Helper()
	type row struct {
		name        string
		calls, usec int64
	}
	var rows []row
	for name, a := range after.byCommand {
		p := before.byCommand[name]
		if a[0] > p[0] {
			rows = append(rows, row{name, a[0] - p[0], a[1] - p[1]})
		}
	}
	slices.SortFunc(rows, func(x, y row) int { return int(y.usec - x.usec) })
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %.2f calls %.1f µs", r.name, float64(r.calls)/burstSize, float64(r.usec)/burstSize))
	}
	b.Logf("redis per step: %s", strings.Join(out, ", "))
}

// byteCounter is where the engine's log goes: it counts the bytes and
// keeps none.
type byteCounter struct{ n atomic.Int64 }

func (c *byteCounter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// failOnError formats every record as serve does (JSON; the engine logs
// each page at INFO) and fails the benchmark on ERROR: a pass that failed
// or timed out would make the numbers meaningless.
type failOnError struct {
	b *testing.B
	slog.Handler
}

func (h failOnError) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.b.Errorf("engine logged an error: %s", r.Message)
	}
	return h.Handler.Handle(ctx, r)
}

func (h failOnError) WithAttrs(attrs []slog.Attr) slog.Handler {
	return failOnError{h.b, h.Handler.WithAttrs(attrs)}
}

func (h failOnError) WithGroup(name string) slog.Handler {
	return failOnError{h.b, h.Handler.WithGroup(name)}
}
