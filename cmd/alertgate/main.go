// Command alertgate is the alert-to-incident gateway.
package main

import (
	"context"
	"fmt"
	"os"
	// Rotations and working hours name IANA zones: carry the zone
	// database, so a minimal container image without /usr/share/zoneinfo
	// computes the same schedules.
	_ "time/tzdata"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "alertgate:", err)
		os.Exit(exitCode(err))
	}
}
