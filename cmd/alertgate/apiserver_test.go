package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/alertgate/alertgate/dedupe"
	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/incident"
	"github.com/alertgate/alertgate/internal/metrics"
	"github.com/alertgate/alertgate/internal/redistest"
	"github.com/alertgate/alertgate/internal/testlog"
	"github.com/alertgate/alertgate/snapshot"
)

// apiServer serves the real API (token "api-token") over a test Redis,
// for the commands that talk to a running alertgate; it returns the
// server and the store behind it.
func apiServer(t *testing.T) (*httptest.Server, *dedupe.Store) {
	t.Helper()
	rdb, prefix := redistest.New(t)
	snap, err := snapshot.Load([]byte("api:\n  tokens: [api-token]\n"), "test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	store := dedupe.NewStore(rdb, prefix)
	logger := slog.New(slog.NewJSONHandler(testlog.NewLog(t), nil))
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{
		Logger:    logger,
		Snapshot:  func() *snapshot.Snapshot { return snap },
		Incidents: incident.NewService(store, incident.Options{Logger: logger}),
		Metrics:   metrics.New(nil),
		Ready:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
	}))
	t.Cleanup(srv.Close)
	return srv, store
}
