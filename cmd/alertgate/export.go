package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const exportUsage = `usage:
  alertgate export [--from TIME] [--to TIME] [--format jsonl|csv] [--status STATUS] [-o FILE]

Exports the incidents triggered in [--from, --to) through the API of a running
alertgate (GET /api/v1/export; docs/export.md): --url URL (env ALERTGATE_URL,
default http://localhost:8080), --token TOKEN (env ALERTGATE_TOKEN). The default
range is the last 30 days; one export spans a year at most. The answer goes to
stdout, or to FILE, which appears only once the export is complete.
`

// runExport streams GET /api/v1/export to stdout or a file.
func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("alertgate export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, exportUsage) }
	api := &apiFlags{}
	fs.StringVar(&api.url, "url", cmp.Or(getenv("ALERTGATE_URL"), defaultAPIURL), "alertgate's URL (env ALERTGATE_URL)")
	fs.StringVar(&api.token, "token", getenv("ALERTGATE_TOKEN"), "an API token (env ALERTGATE_TOKEN; the environment keeps it out of ps)")
	from := fs.String("from", "", "the first instant, RFC 3339 (default 30 days before --to)")
	to := fs.String("to", "", "the instant after the last, RFC 3339 (default now)")
	format := fs.String("format", "jsonl", "jsonl (one incident's JSON per line) or csv")
	status := fs.String("status", "", "only incidents in this status: triggered, acknowledged or resolved")
	outFile := fs.String("o", "", "write to FILE instead of stdout")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{"export: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("export: unexpected argument %q", fs.Arg(0))}
	}
	if *format != "jsonl" && *format != "csv" {
		return usageError{fmt.Sprintf("export: --format %q is not one of jsonl, csv", *format)}
	}
	q := url.Values{"format": {*format}}
	for _, p := range []struct{ flag, param, value string }{{"--from", "from", *from}, {"--to", "to", *to}} {
		if p.value == "" {
			continue
		}
		t, err := parseInstant("export: "+p.flag, p.value)
		if err != nil {
			return err
		}
		q.Set(p.param, t.Format(time.RFC3339Nano))
	}
	if *status != "" {
		q.Set("status", *status)
	}
	if api.token == "" {
		return usageError{"export: no API token: set ALERTGATE_TOKEN (or --token) to one of the config's api.tokens"}
	}
	base, err := url.Parse(api.url)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return usageError{fmt.Sprintf("export: --url %q is not an http:// or https:// URL, such as %s", api.url, defaultAPIURL)}
	}
	target := strings.TrimSuffix(base.String(), "/") + "/api/v1/export?" + q.Encode()
	if *outFile == "" {
		return fetchExport(ctx, api.token, target, stdout)
	}
	return exportToFile(ctx, api.token, target, *outFile)
}

// exportToFile writes the export to a temporary file beside path and
// renames it once complete, so a failed export never leaves a file that
// looks whole.
func exportToFile(ctx context.Context, token, target, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // after a rename, there is nothing to remove
	if err := fetchExport(ctx, token, target, tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// fetchExport copies the API's answer to w as it arrives.
func fetchExport(ctx context.Context, token, target string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	// The answer may take long to stream; only its start is bounded.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = silenceTimeout
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("export: %w", err) // names the URL, never the token
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("export: %s (%d %s)", e.Error.Message, resp.StatusCode, e.Error.Code)
		}
		return fmt.Errorf("export: GET %s: %s", target, resp.Status)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		// The server cuts the connection when an export fails midway.
		return fmt.Errorf("export: the answer broke off, the export is incomplete: %w", err)
	}
	return nil
}
