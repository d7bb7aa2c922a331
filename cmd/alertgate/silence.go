package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate/matchers"
	"github.com/alertgate/alertgate/silence"
)

const silenceUsage = `usage:
  alertgate silence add --comment TEXT [--author NAME] (--duration 2h | --ends TIME) [--starts TIME] MATCHER...
  alertgate silence list [--state active|pending|expired]
  alertgate silence expire ID...

Every command takes --url URL (env ALERTGATE_URL, default http://localhost:8080),
--token TOKEN (env ALERTGATE_TOKEN: one of api.tokens) and --json.
A MATCHER is Alertmanager's: alertname=DiskFull, 'instance=~"db-.*"', 'severity!="info"',
or several at once in braces: '{team="dba",env="prod"}'. TIME is RFC 3339.
`

// defaultAPIURL is where silence commands look for alertgate without
// --url or ALERTGATE_URL: the default listen address on this machine.
const defaultAPIURL = "http://localhost:8080"

// silenceTimeout bounds one request to the API.
const silenceTimeout = 30 * time.Second

// runSilence manages silences through the API of a running alertgate, as
// amtool does Alertmanager's.
func runSilence(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, silenceUsage)
		return usageError{"silence: add, list or expire?"}
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add":
		return runSilenceAdd(ctx, rest, getenv, stdout, stderr)
	case "list", "ls":
		return runSilenceList(ctx, rest, getenv, stdout, stderr)
	case "expire", "rm":
		return runSilenceExpire(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, silenceUsage)
		return nil
	default:
		fmt.Fprint(stderr, silenceUsage)
		return usageError{fmt.Sprintf("silence: unknown command %q: add, list or expire", sub)}
	}
}

// apiFlags are the flags every silence command has.
type apiFlags struct {
	url, token string
	json       bool
}

func newSilenceFlags(name string, getenv func(string) string, stderr io.Writer) (*flag.FlagSet, *apiFlags) {
	fs := flag.NewFlagSet("alertgate silence "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	a := &apiFlags{}
	fs.StringVar(&a.url, "url", cmp.Or(getenv("ALERTGATE_URL"), defaultAPIURL), "alertgate's URL (env ALERTGATE_URL)")
	fs.StringVar(&a.token, "token", getenv("ALERTGATE_TOKEN"), "an API token, one of api.tokens (env ALERTGATE_TOKEN; the environment keeps it out of ps)")
	fs.BoolVar(&a.json, "json", false, "print the API's JSON answer")
	return fs, a
}

// parseInterleaved parses flags wherever they are among the arguments
// (`add alertname=X --comment y`), as amtool allows; "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func flagError(cmd string, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{"silence " + cmd + ": " + err.Error()}
}

func runSilenceAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, api := newSilenceFlags("add", getenv, stderr)
	comment := fs.String("comment", "", "why the alerts are silenced (required)")
	author := fs.String("author", getenv("USER"), "who silences them (default $USER)")
	duration := fs.String("duration", "", "how long the silence lasts from its start: 90m, 2h, 1d, 1w")
	endsFlag := fs.String("ends", "", "when the silence ends, RFC 3339 (instead of --duration)")
	startsFlag := fs.String("starts", "", "when the silence starts, RFC 3339 (default now)")
	args, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError("add", err)
	}
	switch {
	case len(args) == 0:
		return usageError{`silence add: no matchers: name the alerts to silence, such as alertname=DiskFull 'instance=~"db-.*"'`}
	case strings.TrimSpace(*comment) == "":
		return usageError{"silence add: --comment is required: say why, for whoever sees the silence"}
	case strings.TrimSpace(*author) == "":
		return usageError{"silence add: --author is required (it defaults to $USER, which is not set)"}
	case (*duration == "") == (*endsFlag == ""):
		return usageError{"silence add: give one of --duration (such as 2h) or --ends TIME"}
	}
	var ms []string
	for _, a := range args {
		set, err := matchers.ParseSet(a)
		if err != nil {
			return usageError{fmt.Sprintf("silence add: %q is not a matcher such as alertname=DiskFull or 'severity=~\"warning|info\"': %v", a, err)}
		}
		for _, m := range set {
			ms = append(ms, m.String())
		}
	}
	start := time.Now()
	req := map[string]any{"matchers": ms, "comment": *comment, "created_by": *author}
	if *startsFlag != "" {
		if start, err = parseInstant("--starts", *startsFlag); err != nil {
			return err
		}
		req["starts_at"] = start.Format(time.RFC3339Nano)
	}
	end := time.Time{}
	if *duration != "" {
		d, err := parseSilenceDuration(*duration)
		if err != nil {
			return usageError{"silence add: --duration: " + err.Error()}
		}
		end = start.Add(d)
	} else if end, err = parseInstant("--ends", *endsFlag); err != nil {
		return err
	}
	req["ends_at"] = end.Format(time.RFC3339Nano)

	var sl silence.Silence
	raw, err := callAPI(ctx, api, http.MethodPost, "/api/v1/silences", req, &sl)
	if err != nil {
		return fmt.Errorf("silence add: %w", err)
	}
	if api.json {
		return writeRaw(stdout, raw)
	}
	// The id alone, so that a script can keep it: ID=$(alertgate silence add …).
	fmt.Fprintln(stdout, sl.ID)
	return nil
}

// parseSilenceDuration reads a Go duration (90m, 2h30m) or whole days or
// weeks (1d, 2w), which Go's durations lack.
func parseSilenceDuration(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if n, unit := strings.TrimRight(s, "dw"), strings.TrimLeft(s, "0123456789"); (unit == "d" || unit == "w") && n != "" {
		k, perr := strconv.Atoi(n)
		if perr != nil || k > 1000 {
			return 0, fmt.Errorf("%q is not a duration such as 2h, 90m or 1d", s)
		}
		d = time.Duration(k) * 24 * time.Hour
		if unit == "w" {
			d *= 7
		}
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 2h, 90m or 1d", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
}

func runSilenceList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, api := newSilenceFlags("list", getenv, stderr)
	state := fs.String("state", "", "only silences in this state: active, pending or expired")
	if err := fs.Parse(args); err != nil {
		return flagError("list", err)
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("silence list: unexpected argument %q", fs.Arg(0))}
	}
	if *state != "" && !silence.State(*state).Valid() {
		return usageError{fmt.Sprintf("silence list: --state %q is not one of active, pending, expired", *state)}
	}
	path := "/api/v1/silences"
	if *state != "" {
		path += "?state=" + url.QueryEscape(*state)
	}
	var resp struct {
		Silences []silence.Silence `json:"silences"`
	}
	raw, err := callAPI(ctx, api, http.MethodGet, path, nil, &resp)
	if err != nil {
		return fmt.Errorf("silence list: %w", err)
	}
	if api.json {
		return writeRaw(stdout, raw)
	}
	if len(resp.Silences) == 0 {
		if *state != "" {
			fmt.Fprintf(stdout, "no %s silences\n", *state)
		} else {
			fmt.Fprintln(stdout, "no silences")
		}
		return nil
	}
	tw := newTable(stdout)
	fmt.Fprintln(tw, "ID\tSTATE\tSTARTS\tENDS\tCREATED BY\tMATCHERS\tCOMMENT")
	for _, s := range resp.Silences {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.State, localTime(s.StartsAt, time.UTC), localTime(s.EndsAt, time.UTC),
			oneLine(s.CreatedBy, 32), strings.Join(s.Matchers, " "), oneLine(s.Comment, 60))
	}
	return tw.Flush()
}

// oneLine fits text into a table cell: newlines and tabs as spaces, cut
// at n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func runSilenceExpire(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, api := newSilenceFlags("expire", getenv, stderr)
	ids, err := parseInterleaved(fs, args)
	if err != nil {
		return flagError("expire", err)
	}
	if len(ids) == 0 {
		return usageError{"silence expire: name the silences to expire, by id (alertgate silence list shows them)"}
	}
	var errs []error
	for _, id := range ids {
		var sl silence.Silence
		raw, err := callAPI(ctx, api, http.MethodDelete, "/api/v1/silences/"+url.PathEscape(id), nil, &sl)
		if err != nil {
			errs = append(errs, fmt.Errorf("silence expire %s: %w", id, err))
			continue
		}
		if api.json {
			if err := writeRaw(stdout, raw); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(stdout, "%s expired (ended %s)\n", sl.ID, localTime(sl.EndsAt, time.UTC))
	}
	return errors.Join(errs...)
}

// callAPI sends one request to the API and decodes a 2xx answer into out;
// it returns the answer's body as sent. Any other answer is an error with
// the API's message.
func callAPI(ctx context.Context, api *apiFlags, method, path string, body, out any) ([]byte, error) {
	if api.token == "" {
		return nil, usageError{"no API token: set ALERTGATE_TOKEN (or --token) to one of the config's api.tokens"}
	}
	base, err := url.Parse(api.url)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, usageError{fmt.Sprintf("--url %q is not an http:// or https:// URL, such as %s", api.url, defaultAPIURL)}
	}
	var reqBody io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		reqBody = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, silenceTimeout)
	defer cancel()
	target := strings.TrimSuffix(base.String(), "/") + path
	req, err := http.NewRequestWithContext(ctx, method, target, reqBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+api.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err // names the method and URL, never the token
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, target, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("%s (%d %s)", e.Error.Message, resp.StatusCode, e.Error.Code)
		}
		return nil, fmt.Errorf("%s %s: %s", method, target, resp.Status)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("%s %s: the answer is not the API's JSON: %w", method, target, err)
	}
	return raw, nil
}

// writeRaw prints an API answer indented, as writeJSON does.
func writeRaw(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
