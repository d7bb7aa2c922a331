package main

import (
	"fmt"
	"io"
)

// runCheckConfig validates a config file: exit 0 and a summary when it is
// good, non-zero and every problem (file:line: field: message) when not.
// It loads and builds the config as serve does (loadSnapshot), so it
// accepts exactly what serve accepts.
func runCheckConfig(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprint(stderr, usage)
		return usageError{"check-config: give exactly one FILE"}
	}
	snap, err := loadSnapshot(serveFlags{configPath: args[0]}, getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return fmt.Errorf("%s: invalid configuration", args[0])
	}
	fmt.Fprintf(stdout, "%s: OK (%d integrations, %d routes)\n", args[0], len(snap.Config.Integrations), len(snap.Config.AllRoutes()))
	// Valid, but probably not what was meant: say so, without failing.
	if len(snap.Config.Links.Keys) > 0 && snap.Config.PublicURL == "" {
		fmt.Fprintf(stdout, "%s: note: links.keys is set but public_url is not: pages carry no acknowledge links (and SMS no reply codes) until it is\n", args[0])
	}
	return nil
}
