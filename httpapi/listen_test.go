package httpapi_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/alertgate/alertgate/httpapi"
	"github.com/alertgate/alertgate/internal/testlog"
)

// serveLimited runs h behind NewHTTPServer on a limited listener of
// 127.0.0.1:0, as serve does; inner, if not nil, wraps the TCP listener
// under the limit.
func serveLimited(t *testing.T, h http.Handler, maxConns int, inner func(net.Listener) net.Listener) (addr string) {
	t.Helper()
	var ln net.Listener
	var err error
	if inner == nil {
		ln, err = httpapi.Listen("127.0.0.1:0", maxConns)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		ln = httpapi.LimitListener(inner(ln), maxConns)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.NewHTTPServer(h, testlog.New(t))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ln.Addr().String()
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

// Defect 8: headers are read before any token is checked, so their cap is
// what an anonymous client can make us hold per connection.
func TestHeaderCap(t *testing.T) {
	addr := serveLimited(t, ok, 8, nil)
	for _, tt := range []struct {
		size int
		want int
	}{
		{32 << 10, http.StatusOK}, // far more than any sender needs
		{100 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Padding", strings.Repeat("a", tt.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d bytes of header: %v", tt.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%d bytes of header: status %d, want %d", tt.size, resp.StatusCode, tt.want)
		}
	}
}

func TestNewHTTPServer(t *testing.T) {
	srv := httpapi.NewHTTPServer(ok, testlog.New(t))
	if srv.MaxHeaderBytes != 64<<10 || srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != time.Minute ||
		srv.WriteTimeout != time.Minute || srv.IdleTimeout != 2*time.Minute || srv.ErrorLog == nil || srv.Handler == nil {
		t.Fatalf("server limits: %+v", srv)
	}
}

func TestListen(t *testing.T) {
	ln, err := httpapi.Listen("127.0.0.1:0", 0) // 0: DefaultMaxConns
	if err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
	}
	if _, err := httpapi.Listen("127.0.0.1:notaport", 1); err == nil {
		t.Fatal("Listen on a bad address succeeded")
	}
}

// chanListener is an in-memory listener: the test hands it connections.
type chanListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newChanListener() *chanListener {
	return &chanListener{conns: make(chan net.Conn, 16), closed: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }

type fakeConn struct{ net.Conn }

func (fakeConn) Close() error { return nil }

// The (n+1)th connection waits until one of the n open ones closes.
// synctest.Wait returns once every goroutine of the test is blocked, so
// "Accept is still waiting" is a fact, not a guess after a sleep.
func TestLimitListenerHoldsAtMostN(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := newChanListener()
		ln := httpapi.LimitListener(inner, 2)
		for range 4 {
			inner.conns <- fakeConn{}
		}
		c0, err0 := ln.Accept()
		c1, err1 := ln.Accept() // both open from here
		if err0 != nil || err1 != nil {
			t.Fatal(err0, err1)
		}

		type accepted struct {
			c   net.Conn
			err error
		}
		got := make(chan accepted, 1)
		accept := func() { c, err := ln.Accept(); got <- accepted{c, err} }
		go accept()
		synctest.Wait()
		select {
		case a := <-got:
			t.Fatalf("a third connection (%v) was accepted while two were open", a)
		default:
		}
		if n := len(inner.conns); n != 2 {
			t.Fatalf("%d connections left in the accept queue, want 2: the waiting Accept took one", n)
		}

		// Closing one, even twice, frees exactly one slot.
		_ = c0.Close()
		_ = c0.Close()
		synctest.Wait()
		select {
		case a := <-got:
			if a.err != nil {
				t.Fatalf("the waiting Accept: %v", a.err)
			}
		default:
			t.Fatal("the waiting Accept did not return after a connection closed")
		}
		go accept()
		synctest.Wait()
		select {
		case a := <-got:
			t.Fatalf("a fourth connection (%v) was accepted with two open: a double Close freed two slots", a)
		default:
		}

		// Closing the listener ends the wait.
		_ = ln.Close()
		synctest.Wait()
		select {
		case a := <-got:
			if !errors.Is(a.err, net.ErrClosed) {
				t.Fatalf("waiting Accept after Close: %v, %v; want net.ErrClosed", a.c, a.err)
			}
		default:
			t.Fatal("closing the listener did not end a waiting Accept")
		}
		_ = c1.Close()
	})
}

// countingListener tracks how many of its connections are open, and the
// most ever open at once.
type countingListener struct {
	net.Listener
	mu       sync.Mutex
	open     int
	max      int
	accepted chan struct{}
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.open++
	l.max = max(l.max, l.open)
	l.mu.Unlock()
	l.accepted <- struct{}{}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countingConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// The same over real TCP with the real server: clients that stall
// mid-header hold their connections, the rest wait, and the server never
// holds more than the limit.
func TestLimitOverTCP(t *testing.T) {
	const limit, clients = 2, 5
	counting := &countingListener{accepted: make(chan struct{}, clients+1)}
	addr := serveLimited(t, ok, limit, func(ln net.Listener) net.Listener { counting.Listener = ln; return counting })

	var conns []net.Conn
	for range clients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n") // and stalls
		conns = append(conns, c)
	}
	deadline := time.After(20 * time.Second) // bounds the test; no step waits on it otherwise
	waitAccepted := func(n int) {
		t.Helper()
		for range n {
			select {
			case <-counting.accepted:
			case <-deadline:
				t.Fatal("the server did not accept the connections expected within 20s")
			}
		}
	}
	waitAccepted(limit)
	// One stalled client gives up: its slot goes to a waiting one.
	_ = conns[0].Close()
	waitAccepted(1)
	for _, c := range conns[1:] {
		_ = c.Close()
	}
	waitAccepted(clients - limit - 1)

	// Everything closed: the server serves again.
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the stalled clients left: %d", resp.StatusCode)
	}
	counting.mu.Lock()
	defer counting.mu.Unlock()
	if counting.max > limit {
		t.Fatalf("%d connections were open at once, over the limit of %d", counting.max, limit)
	}
}
