//go:build !linux

package main

import (
	"errors"
	"os"
)

// noEcho is not built for this system: hash-password then needs --stdin.
func noEcho(*os.File) (func(), error) {
	return nil, errors.New("turning off a terminal's echo is not supported here")
}
