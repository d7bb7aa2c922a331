package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate"
	"github.com/alertgate/alertgate/explain"
	"github.com/alertgate/alertgate/receivers"
)

const explainUsage = `usage:
  alertgate explain --config FILE --integration NAME [--at TIME] [--json] PAYLOAD_FILE
  alertgate explain --url URL [--token TOKEN] --integration NAME [--at TIME] [--json] PAYLOAD_FILE

What posting PAYLOAD_FILE to the integration would do, changing nothing:
the alerts, their routes and groups, the incident each would open or
join, what holds its pages, and who each escalation step pages, when.
With --config alone it works from the file (no Redis: no silences, open
incidents or overrides). With --url (env ALERTGATE_URL) it asks that
running alertgate's API, which knows them all; --token (env
ALERTGATE_TOKEN) is one of api.tokens. --offline ignores ALERTGATE_URL.
`

// runExplain explains a payload: from the config alone, or through the
// API of a running alertgate.
func runExplain(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("alertgate explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, explainUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", getenv("ALERTGATE_CONFIG"), "configuration file (env ALERTGATE_CONFIG)")
	integration := fs.String("integration", "", "the integration that would receive the payload (required)")
	atFlag := fs.String("at", "", "the instant of the delivery, RFC 3339 (default now)")
	asJSON := fs.Bool("json", false, "print the JSON report (docs/explain.md)")
	api := &apiFlags{}
	fs.StringVar(&api.url, "url", getenv("ALERTGATE_URL"), "ask the alertgate at this URL instead of reading --config (env ALERTGATE_URL)")
	fs.StringVar(&api.token, "token", getenv("ALERTGATE_TOKEN"), "an API token, one of api.tokens (env ALERTGATE_TOKEN)")
	offline := fs.Bool("offline", false, "work from --config even when ALERTGATE_URL is set")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{"explain: " + err.Error()}
	}
	if *offline {
		api.url = ""
	}
	switch {
	case len(positional) != 1:
		return usageError{"explain: give one PAYLOAD_FILE, the body the integration would receive"}
	case *integration == "":
		return usageError{"explain: --integration NAME is required"}
	case api.url == "" && *cfgPath == "":
		return usageError{"explain: --config FILE is required (or --url URL to ask a running alertgate)"}
	}
	var at time.Time
	if *atFlag != "" {
		if at, err = parseInstant("--at", *atFlag); err != nil {
			return err
		}
	}
	payload, err := os.ReadFile(positional[0])
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}

	var rep explain.Report
	if api.url != "" {
		req := map[string]any{"integration": *integration, "payload": string(payload)}
		if !at.IsZero() {
			req["at"] = at.Format(time.RFC3339)
		}
		raw, err := callAPI(ctx, api, "POST", "/api/v1/explain", req, &rep)
		if err != nil {
			return fmt.Errorf("explain: %w", err)
		}
		if *asJSON {
			return writeRaw(stdout, raw)
		}
		return writeExplain(stdout, rep)
	}
	snap, err := loadSnapshot(serveFlags{configPath: *cfgPath}, getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return fmt.Errorf("%s: invalid configuration", *cfgPath)
	}
	if limit := snap.Config.Ingest.MaxBodyBytes; int64(len(payload)) > limit {
		return fmt.Errorf("explain: %s is %d bytes, over ingest.max_body_bytes (%d): alertgate would refuse it (413)", positional[0], len(payload), limit)
	}
	rep, err = explain.Explain(ctx, explain.Input{Integration: *integration, Payload: payload, At: at}, explain.Deps{Snapshot: snap})
	if err != nil {
		// The receiver's error: what alertgate would answer the sender.
		return fmt.Errorf("explain: %s would refuse the payload: %s", *integration, alertgate.ErrorMessage(err))
	}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	return writeExplain(stdout, rep)
}

// writeExplain prints the report as a tree: alert → route → group and
// incident → holds → steps with people.
func writeExplain(w io.Writer, rep explain.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s: %d alert%s\n", rep.Integration, stamp(rep.At), len(rep.Alerts), plural(len(rep.Alerts)))
	for _, a := range rep.Alerts {
		fmt.Fprintf(&b, "\nalert %s (%s, %s) %q\n", a.Fingerprint, a.Status, a.Severity, a.Summary)
		fmt.Fprintf(&b, "  labels       %s\n", labelString(a.Labels))
		fmt.Fprintf(&b, "  fingerprint  %s\n", fingerprintLine(a.FingerprintInputs))
		for _, r := range a.Routes {
			fmt.Fprintf(&b, "  route %s\n", strings.Join(r.Path, " → "))
			fmt.Fprintf(&b, "    group      %s\n", r.GroupKey)
			fmt.Fprintf(&b, "    incident   %s\n", incidentLine(r.Incident))
			for _, h := range holdLines(r.Holds) {
				fmt.Fprintf(&b, "    muted by   %s\n", h)
			}
			policy := cmp.Or(r.EscalationPolicy, "(none)")
			if r.Repeat > 0 {
				policy += fmt.Sprintf(", repeats %d time%s after its last step", r.Repeat, plural(r.Repeat))
			}
			fmt.Fprintf(&b, "    policy     %s; group_wait %s\n", policy, r.GroupWait)
			switch {
			case r.FirstPageAt == nil:
				fmt.Fprintf(&b, "    pages      nobody: %s\n", cmp.Or(r.Held, "no step runs"))
			case r.Held != "":
				fmt.Fprintf(&b, "    held       %s, until %s\n", r.Held, stamp(*r.FirstPageAt))
			}
			for _, st := range r.Steps {
				fmt.Fprintf(&b, "    %-10s %s", stepName(st), stamp(st.At))
				if st.SkippedReason != "" {
					fmt.Fprintf(&b, "  skipped: %s\n", st.SkippedReason)
					continue
				}
				b.WriteString("\n")
				for _, p := range st.Pages {
					who := p.User
					if who == "" {
						who = "#" + p.Notifier
					}
					fmt.Fprintf(&b, "               %s via %s %s (%s)\n", who, p.Notifier, p.Address, p.Reason)
				}
			}
		}
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func stamp(t time.Time) string { return t.UTC().Format("Mon 2006-01-02 15:04:05Z") }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func labelString(l map[string]string) string {
	parts := make([]string, 0, len(l))
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+strconv.Quote(l[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func fingerprintLine(in receivers.FingerprintInput) string {
	s := "from " + in.From
	if in.Field != "" {
		s += " (" + in.Field + ")"
	}
	s += ": " + in.Method
	if in.Labels != nil {
		s += " of " + labelString(in.Labels)
	}
	return s
}

func incidentLine(in explain.Incident) string {
	switch in.Action {
	case explain.ActionOpen:
		return "opens a new incident"
	case explain.ActionJoin:
		s := "joins open incident " + in.ID + " (" + string(in.Status) + ")"
		if in.Resolves {
			s += ", and resolves it"
		}
		return s
	case explain.ActionReopen:
		return "reopens incident " + in.ID + " (resolved within the route's reopen_window)"
	}
	return "none: a resolution with no incident open"
}

func holdLines(h explain.Holds) []string {
	var out []string
	for _, s := range h.Silences {
		out = append(out, fmt.Sprintf("silence %s (%q, %s) until %s", s.ID, s.Comment, s.CreatedBy, stamp(s.EndsAt)))
	}
	for _, w := range h.MaintenanceWindows {
		out = append(out, "maintenance window "+w)
	}
	for _, in := range h.InhibitedBy {
		out = append(out, fmt.Sprintf("inhibited by inhibit_rules[%d] (rule %d): %s", in.Rule-1, in.Rule, labelString(in.SourceLabels)))
	}
	if h.Flapping {
		out = append(out, "flapping")
	}
	if u := h.Urgency; u.Urgency != "" && u.Urgency != "high" {
		s := "urgency " + u.Urgency
		if !u.InSupportHours && u.PagesAt != nil {
			s += ", outside support hours: pages from " + stamp(*u.PagesAt)
		} else {
			s += ", in support hours"
		}
		out = append(out, s)
	}
	return out
}

func stepName(st explain.Step) string {
	if st.Fallback {
		return "fallback"
	}
	s := "step " + strconv.Itoa(st.Step)
	if st.Turn > 0 {
		s += "." + strconv.Itoa(st.Turn)
	}
	return s
}
