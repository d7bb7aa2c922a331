package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/auth"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/console"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/explain"
	"github.com/alertgate/alertgate/heartbeat"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/lifecycle"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/mute"
	"github.com/alertgate/alertgate/oncall"
	"github.com/alertgate/alertgate/silence"
	"github.com/alertgate/alertgate/smsreply"
	"github.com/alertgate/alertgate/snapshot"
)

//go:embed dev.yaml
var devConfig []byte

// shutdownTimeout bounds how long in-flight requests may take to finish.
const shutdownTimeout = 25 * time.Second

type serveFlags struct {
	configPath string
	dev        bool
	listen     string
	redisURL   string
	logLevel   string
	logFormat  string
}

func parseServeFlags(args []string, getenv func(string) string, stderr io.Writer) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("alertgate serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.configPath, "config", getenv("ALERTGATE_CONFIG"), "configuration file (env ALERTGATE_CONFIG)")
	fs.BoolVar(&f.dev, "dev", false, "development mode: embedded Redis, built-in config, nothing persists")
	fs.StringVar(&f.listen, "listen", getenv("ALERTGATE_LISTEN"), "listen address, overriding the config's (env ALERTGATE_LISTEN)")
	fs.StringVar(&f.redisURL, "redis", getenv("ALERTGATE_REDIS_URL"), "Redis URL, overriding the config's (env ALERTGATE_REDIS_URL)")
	fs.StringVar(&f.logLevel, "log-level", envOr(getenv, "ALERTGATE_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", getenv("ALERTGATE_LOG_FORMAT"), "json or text (default json; text with --dev)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{"serve: " + err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return f, usageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	case f.dev && f.configPath != "":
		return f, usageError{"serve: --dev uses the built-in config; drop --config (or ALERTGATE_CONFIG)"}
	case !f.dev && f.configPath == "":
		return f, usageError{"serve: --config FILE is required (or --dev to try alertgate out)"}
	}
	if f.logFormat == "" {
		f.logFormat = "json"
		if f.dev {
			f.logFormat = "text"
		}
	}
	return f, nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("log level %q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("log format %q: want json or text", format)}
}

// loadSnapshot reads the config file, or the built-in one in dev mode,
// applies the command line's overrides and builds the snapshot that serves
// it. check-config, start-up and a SIGHUP reload all go through here, so
// check-config accepts exactly what serve accepts.
func loadSnapshot(f serveFlags, getenv func(string) string) (*snapshot.Snapshot, error) {
	var cfg *config.Config
	var err error
	if f.dev {
		cfg, err = config.LoadEnv(devConfig, "built-in dev config", getenv)
	} else {
		cfg, err = config.LoadFileEnv(f.configPath, getenv)
	}
	if err != nil {
		return nil, err
	}
	if f.dev {
		withDevLinkKey(cfg) // links.go: one random key per process
	}
	if f.listen != "" {
		cfg.Listen = f.listen
		if f.dev {
			// The dev config's links (iCal feed URLs, later the links in
			// pages) must point where it listens.
			if u := devPublicURL(f.listen); u != "" {
				cfg.PublicURL = u
			}
		}
	}
	if f.redisURL != "" {
		cfg.Redis.URL = config.Secret(f.redisURL)
	}
	return snapshot.Build(cfg)
}

// devPublicURL is the URL of a dev server listening on addr, "" when addr
// names no fixed port.
func devPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f, err := parseServeFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Registered before anything is served, so a SIGHUP never kills us.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	snap, err := loadSnapshot(f, getenv)
	if err != nil {
		return err
	}
	if getenv("GOGC") == "" {
		// Ingest allocates briskly and keeps little: the live heap stays
		// around ten megabytes, so collecting at 5× it instead of 2× costs
		// little memory and, measured with alertgate-load, gives ~30% more
		// alerts per second in 100-alert batches. GOGC overrides it.
		debug.SetGCPercent(400)
	}
	if limit, source := setDefaultMemoryLimit(getenv); limit > 0 {
		logger.Info("memory limit set", "bytes", limit, "source", source)
	}
	// go-redis prints its own complaints (failed dials while Redis is
	// down) with the standard logger; route them into ours so the log
	// stays one structured stream.
	redis.SetLogger(redisLog{logger})

	s := &server{flags: f, getenv: getenv, stdout: stdout, logger: logger, hup: hup}
	s.current.Store(snap)
	sup := lifecycle.New(logger)
	for _, c := range s.components() {
		sup.Add(c)
	}
	logger.Info("alertgate starting", "version", buildVersion(), "dev", f.dev)
	if err := sup.Run(ctx); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// server is one running alertgate: what its components share.
type server struct {
	flags  serveFlags
	getenv func(string) string
	stdout io.Writer
	logger *slog.Logger
	hup    <-chan os.Signal

	// current is the one pointer to the serving config: a reload swaps
	// it whole.
	current atomic.Pointer[snapshot.Snapshot]

	embedded *miniredis.Miniredis
	rdb      redis.UniversalClient
	metrics  *metrics.Metrics
	paging   paging
	srv      *http.Server
	ln       net.Listener

	// smsReplies keeps the SMS reply codes (smsreply.go).
	smsReplies *smsreply.Store
	// heartbeats records pings and checks for missed ones (heartbeat.go).
	heartbeats *heartbeat.Checker
}

// components are the parts of a running alertgate, in start order; they
// stop in reverse. Each Start readies what the next one uses:
//
//  1. embedded redis (--dev only): the in-process Redis;
//  2. redis: the client, the start-up checks, the store, the pipeline and
//     the HTTP handler over them;
//  3. config reload: SIGHUP swaps the snapshot;
//  4. escalation: runs due steps into the outbox (paging.go);
//  5. delivery: hands outbox pages to notifiers;
//  6. http: binds the port, serves; stops first, finishing requests in
//     flight while everything they use still runs.
//
// A component whose Run ends on its own takes the process down (exit 1).
func (s *server) components() []lifecycle.Component {
	var cs []lifecycle.Component
	if s.flags.dev && s.flags.redisURL == "" {
		cs = append(cs, lifecycle.Component{
			Name: "embedded redis",
			Start: func(context.Context) error {
				s.embedded = miniredis.NewMiniRedis()
				if err := s.embedded.Start(); err != nil {
					return fmt.Errorf("start embedded redis: %w", err)
				}
				// Not published yet: nothing reads the snapshot before
				// the next components start.
				s.current.Load().Config.Redis.URL = config.Secret("redis://" + s.embedded.Addr())
				return nil
			},
			Stop: func(context.Context) error { s.embedded.Close(); return nil },
		})
	}
	cs = append(cs,
		lifecycle.Component{Name: "redis", Start: s.startRedis, Stop: func(context.Context) error { return s.rdb.Close() }},
		lifecycle.Component{Name: "config reload", Run: s.reloadOnHUP},
	)
	cs = append(cs, s.pagingComponents()...)
	cs = append(cs, s.heartbeatComponent())
	cs = append(cs, s.reminderComponent())  // reminders.go
	cs = append(cs, s.retentionComponent()) // retention.go
	cs = append(cs,
		lifecycle.Component{
			Name:  "http",
			Start: s.listen,
			Run: func(context.Context) error {
				if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
					return fmt.Errorf("serve: %w", err)
				}
				return nil
			},
			Stop: func(ctx context.Context) error {
				s.logger.Info("shutting down: finishing in-flight requests", "timeout", shutdownTimeout)
				if err := s.srv.Shutdown(ctx); err != nil {
					_ = s.srv.Close()
					return fmt.Errorf("shutdown: %w", err)
				}
				return nil
			},
			StopTimeout: shutdownTimeout,
		},
	)
	return cs
}

// startRedis opens the Redis client, checks Redis, and builds the store,
// the pipeline and the HTTP handler over it.
func (s *server) startRedis(ctx context.Context) error {
	cfg := s.current.Load().Config
	rdb, err := openRedis(cfg.Redis)
	if err != nil {
		return err
	}
	s.rdb = rdb
	checkRedis(ctx, rdb, s.logger)
	store := dedupe.NewStore(rdb, cfg.Redis.KeyPrefix)
	// A script that Redis refuses to compile is our bug and would fail
	// every delivery: refuse to start. An unreachable Redis only delays
	// the check to the first delivery (checkRedis warned).
	if err := store.Check(ctx); err != nil && alertgate.ErrorCode(err) == alertgate.EINTERNAL {
		return fmt.Errorf("redis: %w", err)
	}
	s.metrics = metrics.New(store.Counts)
	rdb.AddHook(s.metrics.RedisHook())
	overrides := oncall.NewStore(rdb, cfg.Redis.KeyPrefix)
	// The API keeps silences; the engine's gate holds back the pages they
	// (and maintenance windows, inhibition, flapping, low urgency) mute.
	silences := silence.NewStore(rdb, cfg.Redis.KeyPrefix, silence.Options{})
	if err := silences.Check(ctx); err != nil && alertgate.ErrorCode(err) == alertgate.EINTERNAL {
		return fmt.Errorf("redis: %w", err)
	}
	gate := mute.New(mute.Options{Silences: silences.Active, Snapshot: s.current.Load, Sources: store.FiringAlerts})
	// Before paging: delivery assigns reply codes. A code works as long as
	// a link of the same page does (links.ttl; read at start).
	s.smsReplies = smsreply.New(rdb, cfg.Redis.KeyPrefix, smsreply.Options{TTL: cfg.Links.TTL})
	if err := s.startPaging(ctx, rdb, cfg, overrides, gate); err != nil {
		return err
	}
	svc := incident.NewService(store, incident.Options{Logger: s.logger, Observer: s.metrics, Escalator: s.paging.engine,
		Scheduled: s.paging.escalate.poke}) // a first page due at once goes out now, not at the next poll
	if err := s.startHeartbeats(ctx, rdb, cfg, svc); err != nil {
		return err
	}
	// The logins (docs/access.md): POST /login makes them, the API and
	// the web console (docs/console.md) read them.
	consoleSessions := auth.NewStore(rdb, cfg.Redis.KeyPrefix, auth.Options{})
	web := console.New(console.Deps{Incidents: svc, Counts: store.Counts, Snapshot: s.current.Load,
		Overrides: overrides, Silences: silences, Sessions: consoleSessions, Logger: s.logger,
		Explain: &explain.Deps{Store: store, Gate: gate, Overrides: overrides}})
	s.srv = httpapi.NewHTTPServer(httpapi.NewServer(httpapi.Deps{
		Console:   web,
		Sessions:  consoleSessions, // /login and the console share the logins
		Logger:    s.logger,
		Snapshot:  s.current.Load,
		Incidents: svc,
		Metrics:   s.metrics,
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Overrides: overrides,
		Delivery:  s.paging.deliverer,
		LinkState: store.LinkState,

		SMSReplies: s.smsReplies,
		Heartbeats: s.heartbeats,
		Silences:   silences,
		Explain:    explain.Deps{Store: store, Gate: gate, Overrides: overrides},
	}), s.logger)
	return nil
}

// reloadOnHUP reloads the config on every SIGHUP until ctx ends.
func (s *server) reloadOnHUP(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.hup:
			reload(func() (*snapshot.Snapshot, error) { return loadSnapshot(s.flags, s.getenv) }, &s.current, s.metrics, s.logger)
		}
	}
}

// listen binds the listen address and says where alertgate listens.
func (s *server) listen(context.Context) error {
	ln, err := httpapi.Listen(s.current.Load().Config.Listen, httpapi.DefaultMaxConns)
	if err != nil {
		return err
	}
	s.ln = ln
	addr := ln.Addr().String()
	s.logger.Info("alertgate started", "version", buildVersion(), "listen", addr, "dev", s.flags.dev)
	fmt.Fprintf(s.stdout, "alertgate listening on http://%s\n", addr)
	if s.flags.dev {
		printDevBanner(s.stdout, addr, s.flags.redisURL != "")
	}
	return nil
}

// reload re-reads the config on SIGHUP, builds a new snapshot with load
// and swaps it in whole: requests that started before keep the snapshot
// they started with. An invalid file is refused and logged, and so is a
// panic while loading or building (a bug: it must not take the process
// down); the previous config keeps serving. Settings that need a restart
// (listen address, Redis) are reported, not applied.
func reload(load func() (*snapshot.Snapshot, error), current *atomic.Pointer[snapshot.Snapshot], m *metrics.Metrics, logger *slog.Logger) {
	snap, err := loadRecovering(load)
	if err != nil {
		m.ConfigReloaded(false)
		logger.Error("config reload refused; the previous config keeps serving", "err", err.Error())
		return
	}
	running, cfg := current.Load().Config, snap.Config
	if cfg.Listen != running.Listen || cfg.Redis.URL.Reveal() != running.Redis.URL.Reveal() || cfg.Redis.KeyPrefix != running.Redis.KeyPrefix {
		logger.Warn("config reload: listen and redis settings change only on restart")
		cfg.Listen, cfg.Redis = running.Listen, running.Redis
	}
	current.Store(snap)
	m.ConfigReloaded(true)
	logger.Info("config reloaded", "integrations", len(cfg.Integrations), "routes", len(cfg.AllRoutes()))
}

// loadRecovering calls load, turning a panic into an error.
func loadRecovering(load func() (*snapshot.Snapshot, error)) (snap *snapshot.Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			snap, err = nil, fmt.Errorf("panic while loading the config, a bug in alertgate: %v\n%s", r, debug.Stack())
		}
	}()
	return load()
}

func printDevBanner(w io.Writer, addr string, externalRedis bool) {
	base := "http://" + addr
	if !externalRedis {
		fmt.Fprintln(w, "\nWARNING: dev mode runs an embedded in-memory Redis. Nothing persists: every incident is gone when alertgate stops.")
	}
	fmt.Fprintf(w, `
Webhook URLs (every token is "dev"):
  Alertmanager  %[1]s/hooks/alertmanager
  Grafana       %[1]s/hooks/grafana
  Datadog       %[1]s/hooks/datadog
  Generic JSON  %[1]s/hooks/generic
  PagerDuty     %[1]s/v2/enqueue   (routing_key "dev")
API: %[1]s/api/v1/incidents (Authorization: Bearer dev)
Log in: %[1]s/login as user "dev", password "dev"

Fire a test alert:
  curl -sS -H 'Authorization: Bearer dev' -H 'Content-Type: application/json' \
    -d '{"id":"disk-full-web-1","summary":"Disk full on web-1","severity":"critical","status":"firing","labels":{"host":"web-1"}}' \
    %[1]s/hooks/generic
It opens an incident and pages whoever is on call in rotation dev-weekly
at once: the page prints here, as a line starting PAGE, with its links.
Open its acknowledge link in a browser and press the button (opening it
changes nothing: link previews cannot acknowledge). Five minutes without
an acknowledgement, the whole team "dev" (alice and bob) is paged.
Or look at it, and acknowledge it through the API (ID from the answer above):
  curl -sS -H 'Authorization: Bearer dev' %[1]s/api/v1/incidents
  curl -sS -H 'Authorization: Bearer dev' -X POST %[1]s/api/v1/incidents/ID/acknowledge
Who is on call, and the next two weeks:
  curl -sS -H 'Authorization: Bearer dev' %[1]s/api/v1/oncall
  curl -sS -H 'Authorization: Bearer dev' %[1]s/api/v1/rotations/dev-weekly/shifts

`, base)
}
