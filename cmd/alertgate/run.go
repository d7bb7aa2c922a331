package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

// usageError marks a command line that makes no sense: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `usage:
  alertgate serve --config FILE [--listen ADDR] [--redis URL]
  alertgate serve --dev [--listen ADDR] [--redis URL]
  alertgate check-config FILE
  alertgate oncall --config FILE [--at TIME] [--json]
  alertgate oncall --config FILE --rotation ID --from TIME --to TIME [--json]
  alertgate schedule preview --config FILE [--days 90] [--from TIME] [--margin 20]
  alertgate silence add|list|expire …  (alertgate silence help)
  alertgate declare --title TEXT --severity SEV [--service S] [--commander U] [--policy ID|--rotation ID]
  alertgate export [--from TIME] [--to TIME] [--format jsonl|csv] [--status S] [-o FILE]
  alertgate explain --config FILE --integration NAME [--at TIME] [--json] PAYLOAD_FILE
  alertgate hash-password [--stdin] [--cost 12]
  alertgate version

TIME is RFC 3339: 2026-03-09T09:00:00-04:00 or 2026-03-09T13:00:00Z.
`

// run is the whole program; main only wires it to the process, so tests can
// run it in-process with their own arguments, environment and outputs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	switch cmd, rest := args[1], args[2:]; cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "check-config":
		return runCheckConfig(rest, getenv, stdout, stderr)
	case "oncall":
		return runOnCall(rest, getenv, stdout, stderr)
	case "schedule":
		return runSchedule(rest, getenv, stdout, stderr)
	case "silence":
		return runSilence(ctx, rest, getenv, stdout, stderr)
	case "declare":
		return runDeclare(ctx, rest, getenv, stdout, stderr)
	case "export":
		return runExport(ctx, rest, getenv, stdout, stderr)
	case "explain":
		return runExplain(ctx, rest, getenv, stdout, stderr)
	case "hash-password":
		return runHashPassword(rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "alertgate", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = strings.TrimSuffix(v, "(devel)") + s.Value[:12]
			}
		}
		if v != "" {
			return v
		}
	}
	return "devel"
}
