package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/dedupe"
)

func TestExportCommand(t *testing.T) {
	srv, store := apiServer(t)
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i, title := range []string{"first", "second"} {
		id, _, err := store.Declare(t.Context(), dedupe.Declaration{Title: title, Severity: alertgate.SeverityWarning,
			Actor: "user:alice", Now: day.Add(time.Duration(i+1) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rng := []string{"--from", "2026-11-02T00:00:00Z", "--to", "2026-11-03T00:00:00Z"}

	out, _, err := runCLI(t, srv.URL, append([]string{"export"}, rng...)...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("jsonl output %q, want two lines", out)
	}
	var inc alertgate.Incident
	if err := json.Unmarshal([]byte(lines[0]), &inc); err != nil || inc.ID != ids[1] || inc.Title != "second" || len(inc.Timeline) == 0 {
		t.Errorf("first line %s (%v), want the newest incident in full", lines[0], err)
	}

	file := filepath.Join(t.TempDir(), "out.csv")
	if _, _, err := runCLI(t, srv.URL, append([]string{"export", "--format", "csv", "-o", file}, rng...)...); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "id" || rows[1][0] != ids[1] || rows[2][0] != ids[0] {
		t.Errorf("csv file %q (%v)", rows, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".out.csv.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--format", "xml"}, `--format "xml"`},
		{[]string{"export", "--from", "yesterday"}, "--from"},
		{[]string{"export", "extra"}, "unexpected argument"},
		{[]string{"export", "--url", "ftp://x"}, "--url"},
		{[]string{"export", "--token", ""}, "no API token"},
	} {
		_, _, err := runCLI(t, srv.URL, c.args...)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error saying %q", c.args, err, c.want)
		}
	}
	// The API's refusal comes back with its message, and -o leaves no file.
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	_, _, err = runCLI(t, srv.URL, "export", "--status", "open", "-o", bad)
	if err == nil || !strings.Contains(err.Error(), `"open" is not one of`) || !strings.Contains(err.Error(), "400") {
		t.Errorf("bad status: %v, want the API's 400 message", err)
	}
	if _, err := os.Stat(bad); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed export left %s: %v", bad, err)
	}
}

// TestExportCommandBrokenOff: an answer cut off midway is an error, not a
// short export that looks complete.
func TestExportCommandBrokenOff(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = w.Write([]byte(`{"id":"1"}` + "\n"))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "out.jsonl")
	_, _, err := runCLI(t, srv.URL, "export", "-o", file)
	if err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("broken-off answer: %v, want an error saying the export is incomplete", err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a broken-off export left %s: %v", file, err)
	}
}
