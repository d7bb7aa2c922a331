// Command alertgate-load drives a running alertgate server on this machine
// with Prometheus Alertmanager webhook notifications and reports throughput
// and latency.
//
//	alertgate-load -batch 100 -requests 1000 -groups 20 -verify
//
// sends a storm of 100,000 distinct alerts in 20 groups and then counts
// the triggered incidents. Run alertgate-load -h for every flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "alertgate-load:", err)
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}
