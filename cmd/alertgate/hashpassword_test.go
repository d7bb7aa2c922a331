package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// pipeWith returns a file from which s can be read, as standard input.
func pipeWith(t *testing.T, s string) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := w.WriteString(s); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return r
}

func TestHashPasswordStdin(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := hashPassword([]string{"--stdin", "--cost", "10"}, pipeWith(t, "correct horse\nignored\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	hash := strings.TrimSpace(out.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse")); err != nil {
		t.Errorf("hash %q does not match the first line: %v", hash, err)
	}
	if cost, _ := bcrypt.Cost([]byte(hash)); cost != 10 {
		t.Errorf("cost %d, want 10", cost)
	}
	if strings.Contains(out.String()+errOut.String(), "correct horse") {
		t.Error("the password was printed")
	}
}

func TestHashPasswordDefaultCost(t *testing.T) {
	var out bytes.Buffer
	if err := hashPassword([]string{"--stdin"}, pipeWith(t, "pw"), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if cost, _ := bcrypt.Cost(bytes.TrimSpace(out.Bytes())); cost != 12 {
		t.Errorf("cost %d, want 12", cost)
	}
}

func TestHashPasswordRefusals(t *testing.T) {
	for name, c := range map[string]struct {
		args  []string
		input string
		want  string
		usage bool
	}{
		"empty":          {[]string{"--stdin"}, "\n", "the password is empty", false},
		"too long":       {[]string{"--stdin"}, strings.Repeat("x", 73), "longer than 72 bytes", false},
		"low cost":       {[]string{"--stdin", "--cost", "9"}, "pw", "--cost must be from 10 to 16", true},
		"argument":       {[]string{"secret"}, "", "takes no arguments", true},
		"not a terminal": {nil, "pw\npw\n", "--stdin", true},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := hashPassword(c.args, pipeWith(t, c.input), &out, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) || (exitCode(err) == 2) != c.usage || out.Len() > 0 {
				t.Errorf("err = %v (exit %d), out %q; want %q", err, exitCode(err), out.String(), c.want)
			}
		})
	}
}

func TestHashPasswordDispatch(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"alertgate", "hash-password", "--cost", "3"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "--cost") {
		t.Errorf("run hash-password --cost 3: %v", err)
	}
}
