package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// usageError marks a command line that makes no sense: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Bodies are built before the clock starts, up to a memory budget; the
// senders build the bodies of requests past it (≈1µs per alert). A run
// bounded by time only gets a smaller budget, since its end is unknown.
const (
	prebuildBudget         = 128 << 20
	prebuildBudgetDuration = 16 << 20
)

type options struct {
	url         string
	integration string
	token       string
	apiToken    string
	spec        payloadSpec
	concurrency int
	requests    int64
	duration    time.Duration
	rate        float64
	timeout     time.Duration
	jsonOut     bool
	allowErrors bool
	verify      bool
}

const usageText = `usage: alertgate-load [flags]

Sends Prometheus Alertmanager webhook notifications (payload version 4) to a
running alertgate server on this machine: POST {url}/hooks/{integration}.
Request k goes to group Load<k mod groups> and carries -batch alerts. It
stops after -requests requests, or after -duration (10s when neither is
given), whichever comes first. It exits non-zero when any request gets a
transport error or a non-2xx answer, unless -allow-errors.

Latency is the time from just before sending a request to having read and
closed the whole answer, for 2xx answers only. With -rate it does not
include the time a request waited for its turn.

flags:
`

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("alertgate-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "alertgate base URL (loopback hosts only)")
	fs.StringVar(&o.integration, "integration", "alertmanager", "integration `name` in /hooks/{name}")
	fs.StringVar(&o.token, "token", "dev", "bearer token of the integration")
	fs.StringVar(&o.apiToken, "api-token", "dev", "bearer token of /api/v1, for -verify")
	fs.IntVar(&o.spec.Batch, "batch", 1, "alerts per request")
	fs.IntVar(&o.concurrency, "concurrency", 4, "concurrent senders")
	fs.Int64Var(&o.requests, "requests", 0, "total requests to send (0: until -duration is up)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send; ignored when only -requests is given")
	fs.IntVar(&o.spec.Groups, "groups", 20, "distinct alert groups (Load0, Load1, …)")
	fs.IntVar(&o.spec.Alerts, "alerts", 0, "distinct alerts to cycle through, at least batch×groups (0: every alert distinct, i.e. batch×requests)")
	fs.Float64Var(&o.spec.Resolve, "resolve", 0, "fraction of requests that resolve the alerts their group last fired, 0..1")
	fs.Float64Var(&o.rate, "rate", 0, "max requests per second over the run (0: as fast as the server answers)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as JSON")
	fs.BoolVar(&o.allowErrors, "allow-errors", false, "exit 0 even if some requests failed")
	fs.BoolVar(&o.verify, "verify", false, "after the run, count triggered incidents and their alerts through /api/v1/incidents")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err.Error()}
	}
	durationSet := false
	fs.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
	if o.requests > 0 && !durationSet {
		o.duration = 0
	}
	bad := func(format string, a ...any) (options, error) {
		return o, usageError{fmt.Sprintf(format, a...)}
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case o.concurrency < 1:
		return bad("-concurrency must be at least 1")
	case o.requests < 0:
		return bad("-requests must not be negative")
	case o.duration < 0:
		return bad("-duration must not be negative")
	case o.requests == 0 && o.duration == 0:
		return bad("the run must end: give -requests or a -duration above 0")
	case !(o.rate >= 0) || o.rate > 1e9:
		return bad("-rate must be from 0 to 1e9 requests per second")
	case o.timeout <= 0:
		return bad("-timeout must be above 0")
	case o.integration == "":
		return bad("-integration must not be empty")
	}
	if err := o.spec.validate(); err != nil {
		return bad("%v", err)
	}
	base, err := checkBaseURL(o.url)
	if err != nil {
		return bad("-url: %v", err)
	}
	o.url = base
	if o.requests > 0 && int64(o.concurrency) > o.requests {
		o.concurrency = int(o.requests)
	}
	return o, nil
}

// checkBaseURL accepts an http URL of a loopback host and returns it
// without a trailing slash.
func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q: want an http:// or https:// URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q: want a base URL without user, query or fragment", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%q: the load generator only targets loopback hosts (127.0.0.1, ::1, localhost)", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// report is the result of a run, also the -json output.
type report struct {
	URL             string           `json:"url"`
	Batch           int              `json:"batch"`
	Concurrency     int              `json:"concurrency"`
	Groups          int              `json:"groups"`
	DistinctAlerts  int              `json:"distinct_alerts"` // 0: every alert distinct
	ResolveFraction float64          `json:"resolve_fraction"`
	Rate            float64          `json:"rate,omitempty"`
	PrebuiltBodies  int              `json:"prebuilt_bodies"`
	PrebuiltBytes   int64            `json:"prebuilt_bytes"`
	PrebuildSeconds float64          `json:"prebuild_seconds"`
	Requests        int64            `json:"requests"`
	ByStatus        map[string]int64 `json:"by_status"`
	TransportErrors int64            `json:"transport_errors"`
	Canceled        int64            `json:"canceled"`
	Successful      int64            `json:"successful"`
	Failed          int64            `json:"failed"`
	AlertsSent      int64            `json:"alerts_sent_ok"`
	ServerAnswers   int64            `json:"server_answers_parsed"`
	ServerAlerts    int64            `json:"server_alerts"`
	ServerDups      int64            `json:"server_duplicates"`
	WallSeconds     float64          `json:"wall_seconds"`
	RequestsPerSec  float64          `json:"requests_per_sec"`
	AlertsPerSec    float64          `json:"alerts_per_sec"`
	LatencyMS       latencyMS        `json:"latency_ms"`
	Errors          []string         `json:"error_samples,omitempty"`
	Interrupted     bool             `json:"interrupted,omitempty"`
	Verify          *verifyResult    `json:"verify,omitempty"`
	VerifyError     string           `json:"verify_error,omitempty"`
}

type latencyMS struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	bodies, err := newPayloads(o.spec)
	if err != nil {
		return usageError{err.Error()}
	}

	// Build what fits the budget before the clock starts.
	buildStart := time.Now()
	budget := int64(prebuildBudget)
	if o.requests == 0 {
		budget = prebuildBudgetDuration
	}
	n := o.requests
	if n == 0 && o.rate > 0 {
		n = int64(o.rate*o.duration.Seconds()) + 1 // the most a paced run sends
	}
	prebuilt, prebuiltBytes := prebuild(ctx, bodies, n, budget)
	buildTime := time.Since(buildStart)

	client := newClient(o.concurrency, o.timeout)
	defer client.CloseIdleConnections()
	out := generate(ctx, loadConfig{
		hookURL:     o.url + "/hooks/" + url.PathEscape(o.integration),
		token:       o.token,
		concurrency: o.concurrency,
		requests:    o.requests,
		duration:    o.duration,
		rate:        o.rate,
		bodies:      bodies,
		prebuilt:    prebuilt,
		client:      client,
	})
	lat := summarize(out.durations)

	rep := report{
		URL:             o.url + "/hooks/" + url.PathEscape(o.integration),
		Batch:           o.spec.Batch,
		Concurrency:     o.concurrency,
		Groups:          o.spec.Groups,
		DistinctAlerts:  o.spec.Alerts,
		ResolveFraction: o.spec.Resolve,
		Rate:            o.rate,
		PrebuiltBodies:  len(prebuilt),
		PrebuiltBytes:   prebuiltBytes,
		PrebuildSeconds: buildTime.Seconds(),
		Requests:        out.sent(),
		ByStatus:        map[string]int64{},
		TransportErrors: out.transportErrors,
		Canceled:        out.canceled,
		Successful:      out.okRequests,
		Failed:          out.failed(),
		AlertsSent:      out.okAlerts,
		ServerAnswers:   out.parsedBodies,
		ServerAlerts:    out.serverAlerts,
		ServerDups:      out.serverDuplicates,
		WallSeconds:     out.wall.Seconds(),
		LatencyMS: latencyMS{
			N: lat.N, P50: ms(lat.P50), P90: ms(lat.P90), P99: ms(lat.P99), Max: ms(lat.Max), Mean: ms(lat.Mean),
		},
		Errors:      out.samples,
		Interrupted: ctx.Err() != nil,
	}
	for s, c := range out.byStatus {
		rep.ByStatus[strconv.Itoa(s)] = c
	}
	if secs := out.wall.Seconds(); secs > 0 {
		rep.RequestsPerSec = float64(out.okRequests) / secs
		rep.AlertsPerSec = float64(out.okAlerts) / secs
	}

	var verifyErr error
	if o.verify && !rep.Interrupted {
		v, err := verify(ctx, client, o.url, o.apiToken)
		if err != nil {
			verifyErr = err
			rep.VerifyError = err.Error()
		} else {
			rep.Verify = &v
		}
	}

	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, &rep)
		if len(rep.Errors) > 0 {
			fmt.Fprintln(stderr, "first failures:")
			for _, s := range rep.Errors {
				fmt.Fprintln(stderr, "  "+s)
			}
		}
	}

	switch {
	case rep.Interrupted:
		return errors.New("interrupted")
	case rep.Failed > 0 && !o.allowErrors:
		return fmt.Errorf("%d of %d requests failed (non-2xx or transport error); -allow-errors accepts that", rep.Failed, rep.Requests)
	case verifyErr != nil:
		return verifyErr
	}
	return nil
}

func printReport(w io.Writer, r *report) {
	distinct := "every alert distinct"
	if r.DistinctAlerts > 0 {
		distinct = fmt.Sprintf("%d distinct alerts cycled", r.DistinctAlerts)
	}
	rate := ""
	if r.Rate > 0 {
		rate = fmt.Sprintf(", rate ≤ %g/s", r.Rate)
	}
	fmt.Fprintf(w, "target      POST %s\n", r.URL)
	fmt.Fprintf(w, "load        batch %d, concurrency %d, groups %d, %s, resolve %g%s\n",
		r.Batch, r.Concurrency, r.Groups, distinct, r.ResolveFraction, rate)
	fmt.Fprintf(w, "bodies      %d prebuilt (%.1f MiB) in %s\n",
		r.PrebuiltBodies, float64(r.PrebuiltBytes)/(1<<20), fmtDur(time.Duration(r.PrebuildSeconds*float64(time.Second))))
	fmt.Fprintf(w, "sent        %d requests in %s wall time\n", r.Requests, fmtDur(time.Duration(r.WallSeconds*float64(time.Second))))
	codes := make([]string, 0, len(r.ByStatus))
	for c := range r.ByStatus {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		fmt.Fprintf(w, "  status %s  %d\n", c, r.ByStatus[c])
	}
	fmt.Fprintf(w, "  transport errors  %d\n", r.TransportErrors)
	if r.Canceled > 0 {
		fmt.Fprintf(w, "  canceled  %d\n", r.Canceled)
	}
	fmt.Fprintf(w, "throughput  %.1f requests/s, %.1f alerts/s (successful only: %d requests, %d alerts)\n",
		r.RequestsPerSec, r.AlertsPerSec, r.Successful, r.AlertsSent)
	if r.ServerAnswers > 0 {
		fmt.Fprintf(w, "server      %d alerts accepted, %d of them duplicates (from %d answers)\n",
			r.ServerAlerts, r.ServerDups, r.ServerAnswers)
	}
	l := r.LatencyMS
	if l.N > 0 {
		fmt.Fprintf(w, "latency     p50 %s  p90 %s  p99 %s  max %s  mean %s  (%d successful requests)\n",
			fmtMS(l.P50), fmtMS(l.P90), fmtMS(l.P99), fmtMS(l.Max), fmtMS(l.Mean), l.N)
	} else {
		fmt.Fprintln(w, "latency     no successful requests")
	}
	if r.Verify != nil {
		fmt.Fprintf(w, "verify      %d triggered incidents, %d alerts (%d API pages)\n", r.Verify.Incidents, r.Verify.Alerts, r.Verify.Pages)
	}
	if r.VerifyError != "" {
		fmt.Fprintf(w, "verify      failed: %s\n", r.VerifyError)
	}
	if r.Failed > 0 {
		fmt.Fprintf(w, "FAILED      %d requests\n", r.Failed)
	}
}

func fmtMS(v float64) string { return fmtDur(time.Duration(v * float64(time.Millisecond))) }

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
}

// prebuild renders the bodies of requests 0, 1, … until n of them (n > 0)
// or budget bytes. Bodies share large chunks, to spare the allocator and
// the garbage collector.
func prebuild(ctx context.Context, p *payloads, n, budget int64) (bodies [][]byte, size int64) {
	const chunkSize = 4 << 20
	var chunk, scratch []byte
	for k := int64(0); (n == 0 || k < n) && size < budget && ctx.Err() == nil; k++ {
		scratch = p.appendBody(scratch[:0], k)
		if cap(chunk)-len(chunk) < len(scratch) {
			chunk = make([]byte, 0, max(chunkSize, len(scratch)))
		}
		start := len(chunk)
		chunk = append(chunk, scratch...)
		bodies = append(bodies, chunk[start:len(chunk):len(chunk)])
		size += int64(len(scratch))
	}
	return bodies, size
}
