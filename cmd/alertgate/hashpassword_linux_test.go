package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0) // nonblocking: read deadlines work
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// On a terminal the password is asked twice and never echoed, and the
// terminal's echo is back on afterwards.
func TestHashPasswordTerminalNoEcho(t *testing.T) {
	master, tty := openPTY(t)
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- hashPassword([]string{"--cost", "10"}, tty, &out, &errOut) }()

	// Type only once the echo is off, as a person at the prompt would.
	deadline := time.Now().Add(10 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("echo never turned off")
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
	if _, err := master.WriteString("s3cret pass\ns3cret pass\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("hash-password did not finish")
	}
	if err := bcrypt.CompareHashAndPassword(bytes.TrimSpace(out.Bytes()), []byte("s3cret pass")); err != nil {
		t.Errorf("hash does not match: %v", err)
	}
	if !strings.Contains(errOut.String(), "Password: ") || !strings.Contains(errOut.String(), "Again: ") {
		t.Errorf("prompts: %q", errOut.String())
	}
	// Whatever the terminal echoed is readable at the master: nothing of
	// the password.
	_ = master.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	echoed := make([]byte, 256)
	n, _ := master.Read(echoed)
	if strings.Contains(string(echoed[:n]), "s3cret") {
		t.Errorf("the terminal echoed %q", echoed[:n])
	}
	tio, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if tio.Lflag&unix.ECHO == 0 {
		t.Error("echo was left off")
	}
}
