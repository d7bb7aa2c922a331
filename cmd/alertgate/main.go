// Command alertgate is the alert-to-incident gateway.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "alertgate:", err)
		os.Exit(exitCode(err))
	}
}
