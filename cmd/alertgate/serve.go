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
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/routing"
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

// loadConfig reads the config file, or the built-in one in dev mode, and
// applies the command line's overrides.
func loadConfig(f serveFlags, getenv func(string) string) (*config.Config, error) {
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
	return cfg, nil
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

	cfg, err := loadConfig(f, getenv)
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
	m := metrics.New(store.Counts)
	rdb.AddHook(m.RedisHook())
	tree, err := routing.New(cfg.Routes)
	if err != nil {
		return err
	}
	svc := incident.NewService(store, tree, incident.Options{Logger: logger, Observer: m})
	st, err := httpapi.NewState(cfg)
	if err != nil {
		return err
	}
	var state atomic.Pointer[httpapi.State]
	state.Store(st)

	srv := &http.Server{
		Handler: httpapi.NewServer(httpapi.Deps{
			Logger:    logger,
			State:     &state,
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
			reload(f, getenv, cfg, &state, svc, m, logger)
		}
	}
}

// reload re-reads the config on SIGHUP. An invalid file is refused and
// logged; the old config keeps serving. Settings that need a restart
// (listen address, Redis) are reported, not applied.
func reload(f serveFlags, getenv func(string) string, running *config.Config, state *atomic.Pointer[httpapi.State], svc *incident.Service, m *metrics.Metrics, logger *slog.Logger) {
	fail := func(err error) {
		m.ConfigReloaded(false)
		logger.Error("config reload refused; the previous config keeps serving", "err", err.Error())
	}
	cfg, err := loadConfig(f, getenv)
	if err != nil {
		fail(err)
		return
	}
	tree, err := routing.New(cfg.Routes)
	if err != nil {
		fail(err)
		return
	}
	st, err := httpapi.NewState(cfg)
	if err != nil {
		fail(err)
		return
	}
	if cfg.Listen != running.Listen || cfg.Redis.URL.Reveal() != running.Redis.URL.Reveal() || cfg.Redis.KeyPrefix != running.Redis.KeyPrefix {
		logger.Warn("config reload: listen and redis settings change only on restart")
		cfg.Listen, cfg.Redis = running.Listen, running.Redis
	}
	svc.SetRoutes(tree)
	state.Store(st)
	m.ConfigReloaded(true)
	logger.Info("config reloaded", "integrations", len(cfg.Integrations), "routes", len(cfg.Routes))
}

func openRedis(rc config.Redis) (redis.UniversalClient, error) {
	opts, err := rc.Options()
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	// One retry: a sender that gets 503 retries the whole delivery anyway,
	// and long retry loops here would only hold its connection open.
	opts.MaxRetries = 1
	return redis.NewUniversalClient(opts), nil
}

// checkRedis warns about a Redis that would lose state. It never stops
// start-up: Redis may come later, and /readyz says so meanwhile.
func checkRedis(ctx context.Context, rdb redis.UniversalClient, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		logger.Warn("redis is not reachable yet; ingest answers 503 until it is", "err", err.Error())
		return
	}
	settings, err := rdb.ConfigGet(ctx, "*").Result()
	if err != nil {
		return // not every Redis allows CONFIG (managed services, the embedded one)
	}
	if p := settings["maxmemory-policy"]; strings.HasPrefix(p, "allkeys-") {
		logger.Error("redis maxmemory-policy evicts keys alertgate needs; set it to noeviction", "maxmemory_policy", p)
	}
	if settings["appendonly"] == "no" && settings["save"] == "" {
		logger.Warn("redis keeps nothing on disk (no AOF, no snapshots): a Redis restart loses every incident")
	}
}

// redisLog adapts go-redis's logger to slog.
type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(_ context.Context, format string, v ...any) {
	r.l.Warn("redis client", "detail", fmt.Sprintf(format, v...))
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
