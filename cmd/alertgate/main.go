// Command alertgate is the alert-to-incident gateway.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	// Rotations and working hours name IANA zones: carry the zone
	// database, so a minimal container image without /usr/share/zoneinfo
	// computes the same schedules.
	_ "time/tzdata"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		// serve stops on the first SIGTERM or interrupt and exits 0 once
		// stopped; a second signal (a supervisor signalling again) is
		// ignored while it stops. This registration outlives serve's own,
		// so such a signal cannot kill the process by its default action
		// in the moment between serve returning and the process exiting.
		signal.Notify(make(chan os.Signal, 1), os.Interrupt, syscall.SIGTERM)
	}
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "alertgate:", err)
		os.Exit(exitCode(err))
	}
}
