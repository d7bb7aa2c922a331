package redistest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process of the test's own, for tests of Redis
// faults (pauses, restarts) that must not disturb the shared server.
type Server struct {
	Addr string
	cmd  *exec.Cmd
}

// StartServer starts redis-server on a free loopback port, without
// persistence, and waits until it answers. It is stopped when the test
// ends. Without redis-server the test skips locally and fails under
// CI=true.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redis-server not found: %v (.ci/run installs it)", err)
		}
		tb.Skipf("redis-server not found: %v", err)
	}
	port := freePort(tb)
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port)}
	s.cmd = exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", tb.TempDir())
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	tb.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	})
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redis-server on %s did not answer PING within 10 s: %v", s.Addr, err)
		}
		// Polling a process that is starting: nothing to wait on but time.
		time.Sleep(20 * time.Millisecond)
	}
}

// Pause stops the server (SIGSTOP): connections stay open and commands
// queue up unanswered, as with a Redis stalled by a slow disk or a fork.
func (s *Server) Pause(tb testing.TB) {
	tb.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		tb.Fatalf("pause redis-server: %v", err)
	}
}

// Resume continues a paused server (SIGCONT); it then runs every command
// that queued up meanwhile.
func (s *Server) Resume(tb testing.TB) {
	tb.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		tb.Fatalf("resume redis-server: %v", err)
	}
}

// ClosedAddr returns a loopback address where nothing listens.
func ClosedAddr(tb testing.TB) string {
	tb.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePort(tb))
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer func() { _ = ln.Close() }()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		tb.Fatalf("free port: unexpected address %v", ln.Addr())
	}
	return addr.Port
}

// Calls returns how many times the server ran command (lower case, as in
// INFO commandstats: "evalsha").
func (s *Server) Calls(tb testing.TB, command string) int64 {
	tb.Helper()
	info := s.info(tb, "commandstats")
	m := regexp.MustCompile(`cmdstat_` + regexp.QuoteMeta(command) + `:calls=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// WaitCalls waits until the server ran command at least n times in all.
func (s *Server) WaitCalls(tb testing.TB, command string, n int64) {
	tb.Helper()
	s.waitFor(tb, func() bool { return s.Calls(tb, command) >= n },
		func() string { return fmt.Sprintf("%s ran %d times, want %d", command, s.Calls(tb, command), n) })
}

// WarmPool leaves n initialised connections idle in c's pool, as a busy
// server's pool has (go-redis resends a command on another pooled
// connection; a new one cannot finish its handshake while Redis stalls).
// n commands blocked at once need n connections: they block on one list
// until the server has n blocked clients, then are released.
func (s *Server) WarmPool(tb testing.TB, c redis.UniversalClient, n int) {
	tb.Helper()
	const list = "redistest:warm"
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := c.BLPop(context.Background(), 0, list).Err(); err != nil {
				tb.Error(err)
			}
		})
	}
	s.waitFor(tb, func() bool { return s.blocked(tb) >= n },
		func() string { return fmt.Sprintf("%d of %d clients blocked", s.blocked(tb), n) })
	admin := s.admin()
	defer func() { _ = admin.Close() }()
	for range n {
		admin.RPush(context.Background(), list, "go")
	}
	wg.Wait()
	if got := c.PoolStats().IdleConns; got < uint32(n) {
		tb.Fatalf("pool has %d idle connections, want %d", got, n)
	}
}

func (s *Server) blocked(tb testing.TB) int {
	m := regexp.MustCompile(`blocked_clients:(\d+)`).FindStringSubmatch(s.info(tb, "clients"))
	if m == nil {
		tb.Fatalf("no blocked_clients in INFO clients")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func (s *Server) info(tb testing.TB, section string) string {
	tb.Helper()
	admin := s.admin()
	defer func() { _ = admin.Close() }()
	info, err := admin.Info(context.Background(), section).Result()
	if err != nil {
		tb.Fatalf("INFO %s: %v", section, err)
	}
	return info
}

func (s *Server) admin() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
}

// waitFor polls the server's own counters until ok or 10 s pass: there is
// nothing to wait on but time.
func (s *Server) waitFor(tb testing.TB, ok func() bool, state func() string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			tb.Fatalf("after 10 s: %s", state())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// CountSent counts the times c writes command to the wire, resends
// included (go-redis retries below its process hooks, but every
// connection comes through the dial hook). Add it before c's first
// command.
func CountSent(c redis.UniversalClient, command string) *atomic.Int64 {
	n := new(atomic.Int64)
	c.AddHook(sendCounter{n: n, word: []byte(strings.ToLower(command))})
	return n
}

type sendCounter struct {
	n    *atomic.Int64
	word []byte
}

func (h sendCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, h: h}, nil
	}
}

func (h sendCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h sendCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

type countingConn struct {
	net.Conn
	h sendCounter
}

func (c countingConn) Write(p []byte) (int, error) {
	c.h.n.Add(int64(bytes.Count(bytes.ToLower(p), c.h.word)))
	return c.Conn.Write(p)
}
