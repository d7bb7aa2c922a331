package main

import (
	"fmt"
	"io"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/routing"
)

// runCheckConfig validates a config file: exit 0 and a summary when it is
// good, non-zero and every problem (file:line: field: message) when not.
func runCheckConfig(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprint(stderr, usage)
		return usageError{"check-config: give exactly one FILE"}
	}
	cfg, err := config.LoadFileEnv(args[0], getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return fmt.Errorf("%s: invalid configuration", args[0])
	}
	if _, err := routing.New(cfg.Routes); err != nil {
		fmt.Fprintln(stderr, err)
		return fmt.Errorf("%s: invalid configuration", args[0])
	}
	fmt.Fprintf(stdout, "%s: OK (%d integrations, %d routes)\n", args[0], len(cfg.Integrations), len(cfg.Routes))
	return nil
}
