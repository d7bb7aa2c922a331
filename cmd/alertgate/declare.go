package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
)

const declareUsage = `usage:
  alertgate declare --title TEXT --severity critical|error|warning|info [--service NAME]
                    [--commander USER] [--policy ID | --rotation ID] [--actor NAME] [--json]

Declares an incident by hand through the API of a running alertgate
(POST /api/v1/incidents): --url URL (env ALERTGATE_URL, default http://localhost:8080),
--token TOKEN (env ALERTGATE_TOKEN). --policy starts that escalation policy now;
--rotation pages the rotation's on-call person now.
`

// runDeclare declares an incident and prints its id and URL.
func runDeclare(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("alertgate declare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, declareUsage) }
	api := &apiFlags{}
	fs.StringVar(&api.url, "url", cmp.Or(getenv("ALERTGATE_URL"), defaultAPIURL), "alertgate's URL (env ALERTGATE_URL)")
	fs.StringVar(&api.token, "token", getenv("ALERTGATE_TOKEN"), "an API token (env ALERTGATE_TOKEN; the environment keeps it out of ps)")
	fs.BoolVar(&api.json, "json", false, "print the API's JSON answer")
	title := fs.String("title", "", "what is wrong, in one line (required)")
	severity := fs.String("severity", "", "critical, error, warning or info (required)")
	service := fs.String("service", "", "the service affected")
	commander := fs.String("commander", "", "the incident commander")
	policy := fs.String("policy", "", "an escalation policy to start now")
	rotation := fs.String("rotation", "", "a rotation whose on-call person is paged now")
	actor := fs.String("actor", getenv("USER"), "who declares (default $USER)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{"declare: " + err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("declare: unexpected argument %q: quote the title: --title 'Checkout fails'", fs.Arg(0))}
	case strings.TrimSpace(*title) == "":
		return usageError{"declare: --title is required: what is wrong, in one line"}
	case *severity == "":
		return usageError{"declare: --severity is required: critical, error, warning or info"}
	case *policy != "" && *rotation != "":
		return usageError{"declare: --policy or --rotation, not both"}
	}
	body := map[string]string{"title": *title, "severity": *severity, "service": *service,
		"commander": *commander, "escalation_policy": *policy, "rotation": *rotation, "actor": *actor}
	var inc struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	raw, err := callAPI(ctx, api, http.MethodPost, "/api/v1/incidents", body, &inc)
	if err != nil {
		return fmt.Errorf("declare: %w", err)
	}
	if api.json {
		return writeRaw(stdout, raw)
	}
	_, err = fmt.Fprintf(stdout, "declared incident %s (%s): %s/api/v1/incidents/%s\n", inc.ID, inc.Status, strings.TrimSuffix(api.url, "/"), inc.ID)
	return err
}
