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
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
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
	if f.listen != "" {
		cfg.Listen = f.listen
	}
	if f.redisURL != "" {
		cfg.Redis.URL = config.Secret(f.redisURL)
	}
	return snapshot.Build(cfg)
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
	cfg := snap.Config // not yet published: start-up may still set it
	if getenv("GOGC") == "" {
		// Ingest allocates briskly and keeps little: the live heap stays
		// around ten megabytes, so collecting at 5× it instead of 2× costs
		// little memory and, measured with alertgate-load, gives ~30% more
		// alerts per second in 100-alert batches. GOGC overrides it.
		debug.SetGCPercent(400)
	}
	if f.dev && f.redisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		defer mr.Close()
		cfg.Redis.URL = config.Secret("redis://" + mr.Addr())
	}

	// go-redis prints its own complaints (failed dials while Redis is
	// down) with the standard logger; route them into ours so the log
	// stays one structured stream.
	redis.SetLogger(redisLog{logger})
	rdb, err := openRedis(cfg.Redis)
	if err != nil {
		return err
	}
	defer func() { _ = rdb.Close() }()
	checkRedis(ctx, rdb, logger)

	store := dedupe.NewStore(rdb, cfg.Redis.KeyPrefix)
	// A script that Redis refuses to compile is our bug and would fail
	// every delivery: refuse to start. An unreachable Redis only delays
	// the check to the first delivery (checkRedis warned).
	if err := store.Check(ctx); err != nil && alertgate.ErrorCode(err) == alertgate.EINTERNAL {
		return fmt.Errorf("redis: %w", err)
	}
	m := metrics.New(store.Counts)
	rdb.AddHook(m.RedisHook())
	svc := incident.NewService(store, incident.Options{Logger: logger, Observer: m})
	// The one pointer to the serving config: a reload swaps it whole.
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(snap)

	srv := &http.Server{
		Handler: httpapi.NewServer(httpapi.Deps{
			Logger:    logger,
			Snapshot:  current.Load,
			Incidents: svc,
			Metrics:   m,
			Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	addr := ln.Addr().String()
	logger.Info("alertgate started", "version", buildVersion(), "listen", addr, "dev", f.dev)
	fmt.Fprintf(stdout, "alertgate listening on http://%s\n", addr)
	if f.dev {
		printDevBanner(stdout, addr, f.redisURL != "")
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	for {
		select {
		case <-ctx.Done():
			logger.Info("shutting down: finishing in-flight requests", "timeout", shutdownTimeout)
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			logger.Info("stopped")
			return nil
		case err := <-serveErr:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("serve: %w", err)
		case <-hup:
			reload(func() (*snapshot.Snapshot, error) { return loadSnapshot(f, getenv) }, &current, m, logger)
		}
	}
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
	logger.Info("config reloaded", "integrations", len(cfg.Integrations), "routes", len(cfg.Routes))
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

Fire a test alert:
  curl -sS -H 'Authorization: Bearer dev' -H 'Content-Type: application/json' \
    -d '{"id":"disk-full-web-1","summary":"Disk full on web-1","severity":"critical","status":"firing","labels":{"host":"web-1"}}' \
    %[1]s/hooks/generic
Then look at it:
  curl -sS -H 'Authorization: Bearer dev' %[1]s/api/v1/incidents

`, base)
}
