package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

const hashPasswordUsage = `usage: alertgate hash-password [--stdin] [--cost 12]

Prints a bcrypt hash for users[].password_hash (docs/access.md). On a
terminal it asks for the password twice without echoing it; with --stdin it
reads the first line of standard input, for scripts:
  printf '%s\n' "$PASSWORD" | alertgate hash-password --stdin
`

// Bounds of hash-password: the config refuses a cost below 10; bcrypt
// reads only 72 bytes of a password, and refuses more rather than cut it.
const (
	defaultHashCost = 12
	minHashCost     = 10
	maxHashCost     = 16
	maxPasswordLen  = 72
)

func runHashPassword(args []string, stdout, stderr io.Writer) error {
	return hashPassword(args, os.Stdin, stdout, stderr)
}

// hashPassword is runHashPassword reading from in.
func hashPassword(args []string, in *os.File, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hash-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { _, _ = io.WriteString(stderr, hashPasswordUsage) }
	fromStdin := fs.Bool("stdin", false, "read the password from the first line of standard input")
	cost := fs.Int("cost", defaultHashCost, "bcrypt cost, 10 to 16 (each step doubles the time a login takes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError{"hash-password takes no arguments (the password comes from the terminal or --stdin, never the command line, where ps shows it)"}
	case *cost < minHashCost || *cost > maxHashCost:
		return usageError{fmt.Sprintf("hash-password: --cost must be from %d to %d", minHashCost, maxHashCost)}
	}
	var password string
	if *fromStdin {
		line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("hash-password: reading standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		p, err := askTwice(in, stderr)
		if err != nil {
			return err
		}
		password = p
	}
	switch {
	case password == "":
		return errors.New("hash-password: the password is empty")
	case len(password) > maxPasswordLen:
		return fmt.Errorf("hash-password: the password is longer than %d bytes, all bcrypt can use", maxPasswordLen)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), *cost)
	if err != nil {
		return fmt.Errorf("hash-password: %w", err)
	}
	fmt.Fprintln(stdout, string(hash))
	return nil
}

// askTwice reads the password twice from the terminal in, echo off.
func askTwice(in *os.File, stderr io.Writer) (string, error) {
	restore, err := noEcho(in)
	if err != nil {
		return "", usageError{"hash-password: standard input is not a terminal whose echo can be turned off; pipe the password in with --stdin"}
	}
	defer restore()
	r := bufio.NewReader(in)
	read := func(prompt string) (string, error) {
		fmt.Fprint(stderr, prompt)
		line, err := r.ReadString('\n')
		fmt.Fprintln(stderr) // the newline the terminal did not echo
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("hash-password: reading the terminal: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	first, err := read("Password: ")
	if err != nil {
		return "", err
	}
	again, err := read("Again: ")
	if err != nil {
		return "", err
	}
	if first != again {
		return "", errors.New("hash-password: the passwords differ")
	}
	return first, nil
}
